"""The trained RSRNav policy as a navgym :class:`~navgym.agents.base.Agent` (``make("rsrnav", checkpoint=...)``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym

from navgym.agents.base import SB3Agent
from navgym.errors import InvalidArgumentError


def require_rl(what: str = "RSRNav") -> None:
    """Raise ``DependencyNotInstalled`` naming the ``rl`` extra when torch or sb3-contrib is missing."""
    import importlib.util

    missing = [name for name in ("torch", "stable_baselines3", "sb3_contrib") if importlib.util.find_spec(name) is None]
    if missing:
        raise gym.error.DependencyNotInstalled(
            f"{what} needs {', '.join(missing)}: pip install torch==2.13.0 && pip install 'navgym[rl]' "
            "(install the CPU torch first, or pip pulls the CUDA build)"
        )


#: The observations RSRNav reads; others (e.g. ``gps``) are dropped before the policy sees them.
RSRNAV_SENSORS = ("rgb", "imagegoal")


class RSRNavAgent(SB3Agent):
    """An RSRNav policy (from :func:`~navgym.agents.rsrnav.model.load_policy`) acting step by step.

    Args:
        policy: A ``RecurrentActorCriticPolicy`` (or a ``RecurrentPPO`` model).
        deterministic: Take the most likely action instead of sampling.
    """

    #: The checkpoint the policy was loaded from (``None`` for a policy passed in); an evaluation's
    #: ``run.json`` records it with its sha256.
    checkpoint: str | None = None

    def __init__(self, policy: Any, deterministic: bool = True):
        super().__init__(policy, deterministic=deterministic)

    def policy(self, obs: dict[str, Any]) -> int:
        return super().policy({key: obs[key] for key in RSRNAV_SENSORS})


def make_rsrnav_agent(
    env: gym.Env | None = None, checkpoint: str | Path | None = None, deterministic: bool = True, device: str = "cpu", threads: int | None = 1,
    precision: str | None = None,
) -> RSRNavAgent:
    """Load a trained RSRNav agent from a checkpoint written by :func:`navgym.training.train`.

    The checkpoint is read without unpickling (state dicts with ``torch.load(weights_only=True)``,
    the architecture from JSON); see :mod:`navgym.agents.rsrnav.model`.

    Args:
        env: The env the agent will act in; checked against the checkpoint's spaces when given.
        checkpoint: Path of ``checkpoint.zip``.
        deterministic: Take the most likely action (default) instead of sampling.
        device: Torch device.
        threads: Torch CPU threads of this process, set here (``torch.set_num_threads``). One
            (the default) is fastest for one-observation policy calls and keeps several processes
            from oversubscribing the cores (under load, torch's default took ~500 ms a call
            against 6-9 ms with one); ``None`` leaves torch's setting alone.
        precision: ``None`` (default) computes as the policy was trained; ``"float32"`` runs a
            bfloat16-trained policy in float32 (on any CPU; its steps then match the bfloat16
            ones in most episodes, not all), ``"bfloat16"`` the other way round. On the command
            line: ``--agent-option precision=float32``.
    """
    if checkpoint is None:
        raise InvalidArgumentError("agent 'rsrnav' needs checkpoint=<path to checkpoint.zip> (train one with `navgym train`)")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise InvalidArgumentError(f"threads={threads!r} must be an integer >= 1, or None (torch's setting)")
    require_rl("agent 'rsrnav'")
    import torch

    from navgym.agents.rsrnav.model import load_policy

    if threads is not None:
        torch.set_num_threads(threads)
    policy, meta = load_policy(checkpoint, device=device, precision=precision)
    if env is not None:
        _check_env(env, meta, checkpoint)
    agent = RSRNavAgent(policy, deterministic=deterministic)
    agent.checkpoint = str(checkpoint)
    return agent


def _check_env(env: gym.Env, meta: dict[str, Any], checkpoint: str | Path) -> None:
    space = env.observation_space
    if not isinstance(space, gym.spaces.Dict):
        raise InvalidArgumentError(f"agent 'rsrnav' needs a Dict observation space with {list(RSRNAV_SENSORS)}; got {space}")
    for key in RSRNAV_SENSORS:
        if key not in space.spaces:
            raise InvalidArgumentError(f"agent 'rsrnav' needs observation {key!r}; the env has {list(space.spaces)} (an ImageNav env?)")
        expected = tuple(meta["observation_shapes"][key])
        if tuple(space[key].shape) != expected:
            raise InvalidArgumentError(
                f"observation {key!r} is {tuple(space[key].shape)} but checkpoint={str(checkpoint)!r} was trained on {expected}; "
                f"make the env with resolution={expected[0]}"
            )
    if getattr(env.action_space, "n", None) != meta["n_actions"]:
        raise InvalidArgumentError(f"the env has {env.action_space} actions but the checkpoint has {meta['n_actions']}")
