"""Fine-tuning a cloned policy with PPO without losing it: PIRLNav's critic warm-up and actor
step-size ramp (Ramrakhya et al., "PIRLNav: Pretraining with Imitation and RL Finetuning for
ObjectNav", CVPR 2023).

A policy from behaviour cloning comes with a critic that never saw a return (BC trains the
actor only), so PPO's first advantages are noise and its first updates move the actor away
from what it imitated. PIRLNav first trains the critic alone with the actor held fixed, then
raises the actor's step size from 0 to its full value. :class:`ActorWarmup` does both on an
SB3 policy's one optimiser: around each optimiser step taken inside a PPO update it scales the
change of every actor parameter (the encoder, the actor's recurrent core and its action layer)
by ``scale(num_timesteps)``: 0 during the critic warm-up (the actor's weights are restored
exactly), then linearly up to 1. With Adam, scaling a parameter's step is scaling its step size,
so this is the per-group learning-rate schedule of PIRLNav without a second parameter group
(checkpoints and their optimiser state keep SB3's layout and resume exactly).

The same hooks scale the critic's steps by a constant ``critic_scale`` (``ppo_critic_lr_scale``):
a critic with a larger step size than the actor, as in PPO implementations with separate
optimisers. A critic that must learn a new input (``privileged_critic``) or a new return scale
fits it in fewer updates, while the actor keeps PPO's step size.

And the encoder's (every parameter under :data:`ENCODER_PREFIXES`, shared by the actor and the
critic) by ``encoder_scale`` on top of the actor's scale (``ppo_encoder_lr_scale``): PPO that
trains a cloned encoder at the actor's step size unlearned the comparison the cloning had built
(docs/results/rsrnav_log.md, "Training speed"); a smaller step lets it adapt without being rewritten.
"""

from __future__ import annotations

from typing import Any

from navgym.errors import InvalidArgumentError

#: Parameter-name prefixes of the critic in SB3's (recurrent) actor-critic policies: the critic's
#: LSTM, its MLP and the value layer (``critic`` is the linear layer of ``shared_lstm`` policies).
#: A critic's own features extractor (SB3's ``share_features_extractor=False``) is the critic's too; a
#: shared one is listed once, under ``features_extractor.``.
CRITIC_PREFIXES = ("lstm_critic.", "mlp_extractor.value_net.", "value_net.", "critic.", "vf_features_extractor.")

#: Parameter-name prefixes of the actor's features extractor (the encoder; shared with the critic
#: unless the policy has its own ``vf_features_extractor``).
ENCODER_PREFIXES = ("features_extractor.", "pi_features_extractor.")


def actor_parameters(policy) -> list[Any]:
    """The parameters of ``policy`` that are not the critic's (:data:`CRITIC_PREFIXES`)."""
    return split_parameters(policy)[0]


def split_parameters(policy) -> tuple[list[Any], list[Any]]:
    """``(actor, critic)``: the parameters of ``policy`` outside and inside :data:`CRITIC_PREFIXES`."""
    named = list(policy.named_parameters())
    critic = [p for name, p in named if name.startswith(CRITIC_PREFIXES)]
    if not critic:
        raise InvalidArgumentError(f"{type(policy).__name__} has no critic parameters named {list(CRITIC_PREFIXES)}; the PPO warm-up needs SB3's actor-critic layout")
    return [p for name, p in named if not name.startswith(CRITIC_PREFIXES)], critic


class ActorWarmup:
    """Scales the actor's PPO steps: 0 for the first ``critic_steps`` env steps of the run, then
    rising linearly to 1 over ``ramp_steps`` more; the critic's by ``critic_scale`` (a
    positive number; 1: unchanged); and the encoder's by the actor's scale times
    ``encoder_scale`` (a positive number; 1: the actor's). Only steps taken between :meth:`begin_update` and
    :meth:`end_update` are scaled (behaviour-cloning steps between updates are not). The scales
    depend on the step count alone, so a resumed run continues the same schedule."""

    def __init__(self, policy, critic_steps: int = 0, ramp_steps: int = 0, critic_scale: float = 1.0, encoder_scale: float = 1.0):
        self.critic_steps, self.ramp_steps = int(critic_steps), int(ramp_steps)
        actor, self.critic_params = split_parameters(policy)
        encoder = {id(p) for name, p in policy.named_parameters() if name.startswith(ENCODER_PREFIXES)}
        self.encoder_params = [p for p in actor if id(p) in encoder]
        self.params = [p for p in actor if id(p) not in encoder]
        self.critic_scale, self.encoder_scale = float(critic_scale), float(encoder_scale)
        if self.encoder_scale != 1.0 and not self.encoder_params:
            raise InvalidArgumentError(
                f"encoder_scale={self.encoder_scale!r} scales the encoder's steps, but {type(policy).__name__} has no parameters "
                f"named {list(ENCODER_PREFIXES)}; leave it at 1")
        self.active_scale: float | None = None
        self._saved: list[Any] | None = None
        optimiser = policy.optimizer
        self._handles = [optimiser.register_step_pre_hook(self._before_step), optimiser.register_step_post_hook(self._after_step)]

    def scale(self, num_timesteps: int) -> float:
        """The actor's step scale for an update after ``num_timesteps`` env steps."""
        n = int(num_timesteps)
        if n < self.critic_steps:
            return 0.0
        if self.ramp_steps <= 0:
            return 1.0
        return min(1.0, (n - self.critic_steps) / self.ramp_steps)

    def begin_update(self, num_timesteps: int) -> float:
        """Scale the optimiser steps from now on (a PPO update follows); returns the scale."""
        self.active_scale = self.scale(num_timesteps)
        return self.active_scale

    def step_scales(self) -> dict[str, float]:
        """The scales of the update begun by :meth:`begin_update`, by part: ``actor`` always, ``encoder``
        (the actor's times ``encoder_scale``) where the policy has an encoder that trains (not all
        frozen), ``critic`` where ``critic_scale`` is not 1; empty between updates."""
        if self.active_scale is None:
            return {}
        scales = {"actor": float(self.active_scale)}
        if any(p.requires_grad for p in self.encoder_params):
            scales["encoder"] = float(self.active_scale) * self.encoder_scale
        if self.critic_scale != 1.0:
            scales["critic"] = self.critic_scale
        return scales

    def end_update(self) -> None:
        self.active_scale = None

    def close(self) -> None:
        """Remove the optimiser hooks."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _scaled(self) -> list[tuple[list[Any], float]]:
        """The parameter lists whose step this update scales, with their scales."""
        if self.active_scale is None:
            return []
        actor = float(self.active_scale)
        scaled = [(self.params, actor)] if actor < 1.0 else []
        if actor * self.encoder_scale != 1.0:
            scaled.append((self.encoder_params, actor * self.encoder_scale))
        if self.critic_scale != 1.0:
            scaled.append((self.critic_params, self.critic_scale))
        return scaled

    def _before_step(self, optimiser, args, kwargs) -> None:
        # Only parameters this step changes (those with a gradient; the optimiser skips the rest):
        # writing back the others, e.g. a frozen encoder's, would bump their version counters and
        # so empty the encoder's frozen-feature cache every update.
        scaled = [([p for p in params if p.grad is not None], s) for params, s in self._scaled()]
        self._saved = [(params, s, [p.detach().clone() for p in params]) for params, s in scaled if params] or None

    def _after_step(self, optimiser, args, kwargs) -> None:
        if self._saved is None:
            return
        import torch

        with torch.no_grad():
            for params, s, saved in self._saved:
                for p, old in zip(params, saved):
                    if s == 0.0:
                        p.copy_(old)
                    else:  # old + s * (new - old)
                        p.mul_(s).add_(old, alpha=1.0 - s)
        self._saved = None
