"""What :func:`navgym.training.train` needs to know about RSRNav: its config, its network, its
checkpoints (safe loading) and which envs it trains on. Registered as the ``"rsrnav"`` trainer."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import gymnasium as gym


class RSRNavTrainer:
    """RSRNav with sb3-contrib's recurrent PPO (see :mod:`navgym.agents.rsrnav.model`)."""

    name = "rsrnav"
    #: Settings a run started from another run's weights (``init_from``) may change: how PPO
    #: optimises, not the network (``initial_stop_probability`` only sets a fresh network's bias;
    #: ``privileged_critic`` only widens the critic's input, see :meth:`init_weights`).
    fine_tuning_settings = frozenset({
        "learning_rate", "n_steps", "batch_size", "n_epochs", "gamma", "gae_lambda", "clip_range",
        "ent_coef", "vf_coef", "max_grad_norm", "initial_stop_probability", "privileged_critic",
    })

    @staticmethod
    def require() -> None:
        from navgym.agents.rsrnav.agent import require_rl

        require_rl("navgym train")

    @staticmethod
    def config(head: str, model: dict[str, Any]):
        """The :class:`~navgym.agents.rsrnav.model.RSRNavConfig` of a run (validates it)."""
        from navgym.agents.rsrnav.model import RSRNavConfig

        if "head" in model:
            raise ValueError("pass the head as TrainArgs.head, not inside model=")
        return RSRNavConfig.from_dict({"head": head, **model})

    @staticmethod
    def config_dict(config) -> dict[str, Any]:
        return asdict(config)

    @staticmethod
    def check_env(env: gym.Env, env_id: str) -> None:
        if "imagegoal" not in env.observation_space.spaces:
            raise ValueError(f"env_id={env_id!r} has no 'imagegoal' observation; RSRNav trains on ImageNav ids")
        if not isinstance(env.action_space, gym.spaces.Discrete):
            # The policy picks one of n discrete actions (checkpoints record n).
            body = getattr(getattr(env.unwrapped, "embodiment", None), "name", None)
            raise ValueError(
                f"env_id={env_id!r}{f' with embodiment={body!r}' if body else ''} has continuous actions ({env.action_space}); RSRNav trains "
                "a policy over discrete actions: leave embodiment= out (the task's discrete agent) or use embodiment='habitat'"
            )

    @staticmethod
    def build_model(config, vec_env, seed: int, tensorboard_log: str, device: str = "cpu"):
        from navgym.agents.rsrnav.model import build_model

        return build_model(config, vec_env, seed=seed, tensorboard_log=tensorboard_log, device=device)

    @staticmethod
    def save(model, path: Path, config, extra: dict[str, Any]) -> dict[str, Any]:
        from navgym.agents.rsrnav.model import save_checkpoint

        return save_checkpoint(model, path, config, extra=extra)

    @staticmethod
    def read_meta(path: Path) -> dict[str, Any]:
        from navgym.agents.rsrnav.model import read_checkpoint_meta

        return read_checkpoint_meta(path)

    @staticmethod
    def restore(model, path: Path) -> int:
        """Load weights and optimiser state; returns the checkpoint's step count."""
        from navgym.agents.rsrnav.model import restore_training_state

        return int(restore_training_state(model, path)["num_timesteps"])

    #: What of a checkpoint ``init_from`` may load (``TrainArgs.init_parts``).
    INIT_PARTS = ("all", "encoder")

    @staticmethod
    def init_weights(model, path: Path, config, parts: str = "all") -> None:
        """Start ``model`` from the policy weights of checkpoint ``path`` (``weights_only`` loads;
        optimiser and step count stay fresh). :func:`navgym.training.train` has checked that the
        checkpoint has ``config``'s settings. ``parts="encoder"`` loads only the encoder (trunk,
        relationship head and input layer, shared by actor and critic); the recurrent cores and
        the action and value layers keep the weights the model was built with (``parts`` is
        checked by :class:`~navgym.training.TrainArgs` against :attr:`INIT_PARTS`)."""
        from navgym.agents.rsrnav.model import read_state_dicts
        from navgym.errors import InvalidArgumentError

        state = read_state_dicts(path)
        if "policy" not in state:
            raise InvalidArgumentError(f"init_from={str(path)!r} has no policy.pth")
        weights = widen_critic_input(state["policy"], model.policy)
        if parts == "all":
            model.policy.load_state_dict(weights, strict=True)
            return
        encoder = {k: v for k, v in weights.items() if _is_encoder_key(k)}
        expected = {k for k in model.policy.state_dict() if _is_encoder_key(k)}
        if set(encoder) != expected:
            raise InvalidArgumentError(f"init_from={str(path)!r}: its encoder's weights do not match the run's encoder; use a checkpoint of the same head and network settings")
        model.policy.load_state_dict(encoder, strict=False)

    @staticmethod
    def wrap_env(env: gym.Env, config) -> gym.Env:
        """A training env as ``config`` needs it: with ``privileged_critic`` the critic's
        observation (:class:`~navgym.wrappers.privileged.CriticObservation`) is added."""
        if getattr(config, "privileged_critic", False):
            from navgym.wrappers.privileged import CriticObservation

            return CriticObservation(env)
        return env

    @staticmethod
    def freeze_parts() -> tuple[str, ...]:
        """The values of ``TrainArgs.ppo_freeze`` (:data:`~navgym.agents.rsrnav.encoders.FREEZE_PARTS`)."""
        from navgym.agents.rsrnav.encoders import FREEZE_PARTS

        return FREEZE_PARTS

    @staticmethod
    def encoder(model):
        """The policy's encoder (:class:`~navgym.agents.rsrnav.encoders.RSRNavEncoder`, shared
        by the actor and the critic): what goal-pose pretraining trains
        (:func:`navgym.training.goal_pose.pretrain_goal_pose`)."""
        return model.policy.features_extractor

    @staticmethod
    def freeze(model, part: str, rollout_size: int | None = None) -> None:
        """Hold ``part`` of the policy's encoder fixed during PPO or cloning (``"trunk"``,
        ``"encoder"`` or ``"none"``; :meth:`~navgym.agents.rsrnav.encoders.RSRNavEncoder.freeze`),
        its feature cache sized for ``rollout_size`` inputs (default: a rollout of ``model``;
        cloning passes its demonstration states)."""
        policy = model.policy
        if rollout_size is None:
            rollout_size = int(model.n_steps) * int(model.n_envs)
        extractors = (policy.features_extractor, getattr(policy, "pi_features_extractor", None), getattr(policy, "vf_features_extractor", None))
        for extractor in {id(e): e for e in extractors if e is not None}.values():
            extractor.freeze(part, rollout_size=rollout_size)

    @staticmethod
    def agent(policy):
        """An :class:`~navgym.agents.Agent` acting with ``policy`` (for periodic evaluation)."""
        from navgym.agents.rsrnav.agent import RSRNavAgent

        return RSRNavAgent(policy, deterministic=True)


def widen_critic_input(state: dict[str, Any], policy) -> dict[str, Any]:
    """``state`` (a policy state dict) fitted to ``policy`` when only the critic LSTM's first input
    layer is narrower (a checkpoint without ``privileged_critic`` loaded into a policy with it):
    the privileged inputs' new columns start at zero, so the critic first computes what the
    checkpoint's did. Anything else is left for ``load_state_dict`` to check."""
    key = "lstm_critic.weight_ih_l0"
    target = policy.state_dict().get(key)
    weight = state.get(key)
    if target is None or weight is None or weight.shape == target.shape:
        return state
    if weight.shape[0] != target.shape[0] or weight.shape[1] > target.shape[1]:
        return state
    import torch

    wide = torch.zeros(target.shape, dtype=weight.dtype)
    wide[:, : weight.shape[1]] = weight
    return {**state, key: wide}


def _is_encoder_key(key: str) -> bool:
    """A state-dict key of the policy's encoder (SB3 names the one shared module three ways:
    ``features_extractor``, ``pi_features_extractor``, ``vf_features_extractor``)."""
    return key.split(".", 1)[0].endswith("features_extractor")
