"""Measure RAGNav / NaiveRAG / any agent on MultiGoalVLN-ProcHouse-v0 val episodes: success,
progress, steps, CPU seconds per episode and (agents with ``last_retrieval``) top-1 retrieval
accuracy, scored against the episode's goals *after* the episode (evaluation, not the agent)::

    OMP_NUM_THREADS=1 python -m navgym.agents.ragnav.run ragnav 5 [option=value ...]
"""

from __future__ import annotations

import sys
import time

import gymnasium as gym
import numpy as np


def main(argv: list[str]) -> None:
    import torch

    import navgym  # noqa: F401
    from navgym.agents import make

    torch.set_num_threads(1)
    name, n = argv[0], int(argv[1])
    options = dict(a.split("=", 1) for a in argv[2:])
    env = gym.make("MultiGoalVLN-ProcHouse-v0", split="val", resolution=64, sensors=("rgb", "depth", "semantic", "gps", "compass", "instruction"))
    agent = make(name, env=env, **options)
    rows, hits, queries = [], 0, 0
    for episode in env.unwrapped.dataset.episodes[:n]:
        obs, info = env.reset(options={"episode_id": episode.episode_id})
        agent.reset()
        start, steps, done = time.process_time(), 0, False
        while not done:
            obs, _, term, trunc, info = env.step(agent.policy(obs))
            steps += 1
            done = term or trunc
        seconds = time.process_time() - start
        retrieved = [r.instance for r in getattr(agent, "last_retrieval", [])]
        if retrieved:
            hits += sum(r == g.object_id for r, g in zip(retrieved, episode.goals))
            queries += len(episode.goals)
        rows.append((float(info["success"]), float(info["progress"]), steps, seconds))
        print(f"{episode.episode_id} success {info['success']:.0f} progress {info['progress']:.2f} steps {steps} cpu_s {seconds:.1f} "
              f"retrieved {retrieved} goals {[g.object_id for g in episode.goals]}", flush=True)
    mean = np.array(rows).mean(axis=0)
    accuracy = f" retrieval_acc {hits / queries:.2f}" if queries else ""
    print(f"{name} {options} n={n}: SR {mean[0]:.2f} progress {mean[1]:.2f} steps {mean[2]:.0f} cpu_s/episode {mean[3]:.1f}{accuracy}")


if __name__ == "__main__":
    main(sys.argv[1:])
