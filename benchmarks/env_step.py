"""Env steps/s through the public Gymnasium API only (so any two versions of navgym compare).

    python benchmarks/env_step.py [--steps 1500] [--tasks ObjectNav ImageNav] [--dataset ProcHouseHard]

Prints one line per task: steps/s of random non-stop actions at 128x128 with the task's default
sensors, after a warm-up; ``navgym`` is whatever ``import navgym`` finds (set PYTHONPATH to compare
two checkouts side by side, e.g. with an A/B process timer).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import navgym  # noqa: F401


def steps_per_second(env_id: str, steps: int) -> float:
    env = gym.make(env_id, num_scenes=1, episodes_per_scene=5)
    rng = np.random.default_rng(0)
    n = env.action_space.n
    env.reset(seed=0)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--tasks", nargs="*", default=["ObjectNav", "ImageNav"])
    parser.add_argument("--dataset", default="ProcHouse", choices=["ProcHouse", "ProcHouseHard"])
    args = parser.parse_args()
    for task in args.tasks:
        env_id = f"{task}-{args.dataset}-v0"
        print(f"{env_id} {steps_per_second(env_id, args.steps):.1f} steps/s", flush=True)


if __name__ == "__main__":
    main()
