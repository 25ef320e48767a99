"""What one training env's step, reset and change of house cost, on one thread: the env side of
``experiments/rollout_parts.py``.

    python experiments/env_step_parts.py [--env-id ImageNav-ProcHouseNear-v0] [--num-scenes 4] [--steps 1000]
        [--resets 100] [--render-backend raster] [--json parts.json]

The env is the one PPO trains in (``make_training_env``: RSRNav reward, SB3 ``Monitor``). Steps
take random moves (never ``stop``) and reset only at the time limit; the camera's share of a step
is the simulator's ``render`` timed inside it. Resets draw episodes as training does (after a
warm-up of as many resets, so most goals' distance fields are cached, as in a long run), and
"house load" builds each house's simulator afresh (its walkable grid cast), what the env pays
the first time it moves to a house (every ``scene_repeat_episodes`` episodes it may move), and
"house load again" the same once the process holds the house's grid (navgym.sims.embedded.navgrid
keeps the grids a process has cast, for all its envs).
Prints milliseconds (median and 90th percentile where there are many).
"""

from __future__ import annotations

import argparse
import collections
import json
import time
import warnings
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default="ImageNav-ProcHouseNear-v0", help="Training env id.")
    parser.add_argument("--num-scenes", type=int, default=4, help="ProcHouse houses.")
    parser.add_argument("--steps", type=int, default=1000, help="Timed steps.")
    parser.add_argument("--resets", type=int, default=100, help="Timed resets (after as many untimed).")
    parser.add_argument("--render-backend", default="raster", help="sim_options render_backend.")
    parser.add_argument("--seed", type=int, default=0, help="Reset seed and action stream.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the numbers to this JSON file.")
    options = parser.parse_args()
    for name in ("num_scenes", "steps", "resets"):
        if getattr(options, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} {getattr(options, name)} must be at least 1")
    warnings.filterwarnings("ignore", message=".*starts off the navigable area.*")
    import torch

    from navgym.training import make_training_env
    from rollout_parts import _timed  # this folder is on sys.path when the script runs

    torch.set_num_threads(1)
    env = make_training_env(options.env_id, "train", monitor=True, num_scenes=options.num_scenes,
                            sim_options={"render_backend": options.render_backend})
    rng = np.random.default_rng(options.seed)
    env.reset(seed=options.seed)
    core = env.unwrapped
    for _ in range(50):  # warm-up: compiled kernels, caches
        _, _, terminated, truncated, _ = env.step(int(rng.integers(1, 4)))
        if terminated or truncated:
            env.reset()
    # The camera's time inside the steps: the simulator class's render, timed while stepping.
    render_seconds: collections.Counter = collections.Counter()
    simulator = type(core.sim)
    render = simulator.render
    _timed(render_seconds, collections.Counter(), simulator, "render", "render")
    step_seconds = 0.0
    steps = 0
    try:
        while steps < options.steps:
            began = time.perf_counter()
            _, _, terminated, truncated, _ = env.step(int(rng.integers(1, 4)))
            step_seconds += time.perf_counter() - began
            steps += 1
            if terminated or truncated:
                before = render_seconds["render"]
                env.reset()
                render_seconds["render"] = before  # a reset's renders are not a step's
    finally:
        simulator.render = render
    resets = []
    for k in range(2 * options.resets):
        began = time.perf_counter()
        env.reset()
        if k >= options.resets:
            resets.append(time.perf_counter() - began)
    scenes = sorted({episode.scene_id for episode in core.dataset.episodes})
    from navgym.sims.embedded import navgrid, simulator as embedded

    navgrid._PROBES.clear()  # the first load casts the house's grid; the process keeps it for the next
    embedded._STOREYS.clear()
    loads: dict[str, list[float]] = {"first": [], "again": []}
    for kind in ("first", "again"):
        for scene in scenes:
            began = time.perf_counter()
            core.sim_factory(scene).close()
            loads[kind].append(time.perf_counter() - began)
    env.close()
    result = {
        "step_ms": 1000 * step_seconds / steps,
        "render_ms_per_step": 1000 * render_seconds["render"] / steps,
        "reset_ms_median": 1000 * float(np.median(resets)),
        "reset_ms_p90": 1000 * float(np.percentile(resets, 90)),
        "house_load_ms_median": 1000 * float(np.median(loads["first"])),
        "house_reload_ms_median": 1000 * float(np.median(loads["again"])),
        "houses": len(scenes),
    }
    print(f"{options.env_id}, {options.render_backend} backend, one thread")
    print(f"step (no stop, no reset)   {result['step_ms']:7.2f} ms, of it rendering {result['render_ms_per_step']:.2f} ms "
          f"({100 * result['render_ms_per_step'] / result['step_ms']:.0f} %)")
    print(f"reset                      {result['reset_ms_median']:7.2f} ms median, {result['reset_ms_p90']:.2f} ms 90th percentile ({options.resets} resets)")
    print(f"house load                 {result['house_load_ms_median']:7.2f} ms median ({len(scenes)} houses)")
    print(f"house load again           {result['house_reload_ms_median']:7.2f} ms median (its grid and storeys kept by the process)")
    if options.json is not None:
        options.json.write_text(json.dumps({"options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()}, **result}, indent=2) + "\n")


if __name__ == "__main__":
    main()
