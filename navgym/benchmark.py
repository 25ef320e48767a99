"""Speed measurements, side by side in one run: env steps/s against the simulator alone.

Reported numbers in the docs come from ``navgym benchmark`` and ``benchmarks/sim_speed.py``.
"""

from __future__ import annotations

import time

import numpy as np


def _moving_actions(env, count: int, rng: np.random.Generator) -> list:
    """``count`` random actions of ``env`` that never call ``stop``: a ``Discrete`` index whose
    name (``env.unwrapped.actions``) is not ``stop``, or a ``Box`` velocity command within its
    bounds whose last (``stop``) component is its lowest value (the continuous bodies'
    convention: ``stop`` at or above 0.5)."""
    from gymnasium import spaces

    space, names = env.action_space, tuple(getattr(env.unwrapped, "actions", ()))
    if isinstance(space, spaces.Discrete):
        moving = [int(space.start) + i for i in range(int(space.n)) if i >= len(names) or names[i] != "stop"]
        if not moving:
            raise ValueError(f"benchmark: the action space {space} has no action besides stop")
        return [moving[i] for i in rng.integers(len(moving), size=count)]
    if isinstance(space, spaces.Box):
        low, high = space.low.astype(np.float64), space.high.astype(np.float64)
        actions = low + rng.random((count, *space.shape)) * (high - low)
        actions[..., -1] = low[..., -1]
        return [a.astype(space.dtype) for a in actions]
    raise TypeError(f"benchmark: cannot draw moving actions from a {type(space).__name__} action space")


def _sim_alone_speed(env, steps: int) -> float:
    """Steps/s of the env's own simulator doing what the env does per step: move, then render."""
    nav = env.unwrapped
    sim, camera, embodiment = nav.sim, nav._camera, nav.embodiment
    actions = _moving_actions(env, steps, np.random.default_rng(0))
    start = sim.get_agent_state()
    t0 = time.perf_counter()
    for action in actions:
        embodiment.apply(sim, action)
        sim.render([(sim.get_agent_state(), camera)])
    elapsed = time.perf_counter() - t0
    sim.set_agent_state(start)
    return steps / elapsed


def _env_speed(env, steps: int) -> float:
    actions = _moving_actions(env, steps, np.random.default_rng(0))  # never stop: measure steps
    env.reset(seed=0)
    t0 = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - t0)


def env_speed_table(tasks: list[str], steps: int = 300, resolution: int = 128, render_backend: str = "auto") -> str:
    """A table of steps/s per task: the env, the simulator alone, and their ratio (``render_backend``:
    the embedded simulator's, see :class:`~navgym.sims.embedded.simulator.EmbeddedSimulator`)."""
    import gymnasium as gym

    import navgym  # noqa: F401

    rows = [f"{'env':<30}{'env steps/s':>13}{'sim alone':>11}{'env/sim':>9}", "-" * 63]
    for task in tasks:
        env_id = f"{task}-ProcHouse-v0"
        env = gym.make(env_id, resolution=resolution, num_scenes=1, episodes_per_scene=5, sim_options={"render_backend": render_backend})
        env.reset(seed=0)
        _env_speed(env, 20)  # warm-up: caches, distance fields
        env_fps = _env_speed(env, steps)
        env.reset(seed=0)
        sim_fps = _sim_alone_speed(env, steps)
        rows.append(f"{env_id:<30}{env_fps:>13.0f}{sim_fps:>11.0f}{env_fps / sim_fps:>9.2f}")
        env.close()
    return "\n".join(rows)
