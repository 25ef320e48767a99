"""Env steps/s through the public Gymnasium API only (so any two versions of navgym compare).

    python benchmarks/env_step.py [--steps 1500] [--tasks ObjectNav ImageNav] [--dataset ProcHouseHard]
                                  [--size 128] [--processes 2] [--render-threads 2] [--render-backend raster]

Prints one line per task: steps/s of random non-stop actions at ``--size`` (default 128x128) with
the task's default sensors, after a warm-up; ``navgym`` is whatever ``import navgym`` finds (set
PYTHONPATH to compare two checkouts side by side, e.g. with an A/B process timer).
``--processes N`` runs N processes at once (each its own env and house) and prints their total;
``--render-threads`` / ``--render-backend`` are the embedded simulator's ``render_threads`` /
``render_backend`` (omitted: the defaults).
``--vector N`` steps N envs in this one process, as Gymnasium's ``SyncVectorEnv`` and as navgym's
``ThreadedVectorEnv`` (``--vector-threads``, default 2) in turn, and prints both totals.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import gymnasium as gym
import numpy as np

import navgym  # noqa: F401


def _make_kwargs(size: int, render_threads: int | None = None, render_backend: str | None = None) -> dict:
    """``gym.make`` keywords for a camera side and the embedded simulator's options (omitted: defaults)."""
    kwargs: dict = {"num_scenes": 1, "episodes_per_scene": 5}
    if size != 128:
        kwargs["resolution"] = size
    sim_options = {k: v for k, v in (("render_threads", render_threads), ("render_backend", render_backend)) if v is not None}
    if sim_options:
        kwargs["sim_options"] = sim_options
    return kwargs


def steps_per_second(env_id: str, steps: int, size: int = 128, render_threads: int | None = None, seed: int = 0, render_backend: str | None = None) -> float:
    env = gym.make(env_id, **_make_kwargs(size, render_threads, render_backend))
    rng = np.random.default_rng(seed)
    n = env.action_space.n
    env.reset(seed=seed)
    for _ in range(50):  # warm-up: navigation grid, distance fields
        env.step(int(rng.integers(1, n)))
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(1, n)))
        if terminated or truncated:
            env.reset()
    rate = steps / (time.perf_counter() - t0)
    env.close()
    return rate


def vector_steps_per_second(env_id: str, steps: int, num_envs: int, threads: int, size: int = 128, render_backend: str | None = None) -> float:
    """Env steps/s (all sub-envs together) of ``num_envs`` envs in one process; threads=1 is
    Gymnasium's SyncVectorEnv, more is navgym's ThreadedVectorEnv."""
    from gymnasium.vector import SyncVectorEnv

    from navgym.envs.vector import ThreadedVectorEnv

    kwargs = _make_kwargs(size, render_backend=render_backend)
    fns = [lambda: gym.make(env_id, **kwargs) for _ in range(num_envs)]
    envs = SyncVectorEnv(fns) if threads == 1 else ThreadedVectorEnv(fns, threads=threads)
    rng = np.random.default_rng(0)
    n = envs.single_action_space.n
    envs.reset(seed=0)
    for _ in range(50):
        envs.step(rng.integers(1, n, size=num_envs))
    t0 = time.perf_counter()
    for _ in range(steps // num_envs):
        envs.step(rng.integers(1, n, size=num_envs))
    rate = (steps // num_envs) * num_envs / (time.perf_counter() - t0)
    envs.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--tasks", nargs="*", default=["ObjectNav", "ImageNav"])
    parser.add_argument("--dataset", default="ProcHouse", choices=["ProcHouse", "ProcHouseHard"])
    parser.add_argument("--size", type=int, default=128, help="camera side in pixels")
    parser.add_argument("--processes", type=int, default=1, help="processes stepping at once (their total is printed)")
    parser.add_argument("--render-threads", type=int, default=None, help="sim_options render_threads of the embedded simulator")
    parser.add_argument("--render-backend", default=None, help="sim_options render_backend of the embedded simulator (e.g. raster)")
    parser.add_argument("--vector", type=int, default=0, help="N envs in one process: SyncVectorEnv against ThreadedVectorEnv")
    parser.add_argument("--vector-threads", type=int, default=2)
    args = parser.parse_args()
    for task in args.tasks:
        env_id = f"{task}-{args.dataset}-v0"
        if args.vector:
            sync = vector_steps_per_second(env_id, args.steps, args.vector, 1, args.size, args.render_backend)
            threaded = vector_steps_per_second(env_id, args.steps, args.vector, args.vector_threads, args.size, args.render_backend)
            print(f"{env_id} {args.vector} envs in one process: SyncVectorEnv {sync:.1f} steps/s, "
                  f"ThreadedVectorEnv({args.vector_threads} threads) {threaded:.1f} steps/s ({threaded / sync:.2f}x)", flush=True)
            continue
        if args.processes == 1:
            rate = steps_per_second(env_id, args.steps, args.size, args.render_threads, 0, args.render_backend)
            print(f"{env_id} {rate:.1f} steps/s", flush=True)
            continue
        jobs = [(env_id, args.steps, args.size, args.render_threads, seed, args.render_backend) for seed in range(args.processes)]
        with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
            rates = pool.starmap(steps_per_second, jobs)
        print(f"{env_id} {sum(rates):.1f} steps/s in total from {args.processes} processes ({', '.join(f'{r:.1f}' for r in rates)})", flush=True)


if __name__ == "__main__":
    main()
