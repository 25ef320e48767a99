"""Embedded simulator speed: frames/s at 128x128 and 256x256 for each backend, one
process (one or two render threads) and two processes; house generation time; memory per
simulator. All numbers of one run are printed side by side.

    python benchmarks/sim_speed.py [--frames 400] [--houses 5] [--repeats 3] [--out docs/results/sim_speed.json]

Each process renders its own ProcHouse house from random navigable poses. Columns: ``embreex``
(single rays + numpy shading, the reference), ``packets`` (Embree packets + compiled shading, the
default) and ``raster`` (rasterised, opt-in) on one thread and on two (``render_threads=2``), and each backend in two processes at once
(one thread each, the same house) to show the scaling on a 2-core machine. Every column is timed
``--repeats`` times, interleaved, and the table shows the medians (all runs go to ``--out``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

OUTPUTS = {"RGB-D": ("rgb", "depth"), "RGB-D+semantic": ("rgb", "depth", "semantic"), "depth only": ("depth",)}


def _render_fps(seed: int, size: int, outputs: tuple[str, ...], frames: int, backend: str = "auto", threads: int = 1, barrier=None) -> float:
    from navgym.scenes.sources import load_prochouse
    from navgym.sims.base import AgentState, CameraSpec
    from navgym.sims.embedded.raycast import RayCaster
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    sim = EmbeddedSimulator(load_prochouse(seed))
    sim._caster = RayCaster(sim.scene, backend=backend)
    sim._caster.threads = threads
    rng = np.random.default_rng(seed)
    poses = [AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 2 * np.pi))) for _ in range(64)]
    spec = CameraSpec(size, size, 90.0, 1.25, outputs=outputs)
    for pose in poses[:10]:  # warm-up
        sim.render([(pose, spec)])
    if barrier is not None:  # processes timed together start timing together
        barrier.wait()
    t0 = time.perf_counter()
    for i in range(frames):
        sim.render([(poses[i % len(poses)], spec)])
    return frames / (time.perf_counter() - t0)


def _timed_together(args: tuple, processes: int = 2) -> float:
    """Total frames/s of ``processes`` processes rendering at once (each starts timing when all
    have loaded their house and warmed up)."""
    context = mp.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_worker, args=(args, barrier, results)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    rates = [results.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join()
    return float(sum(rates))


def _worker(args, barrier, results):
    results.put(_render_fps(*args, barrier=barrier))


def _memory_per_simulator(seed: int) -> float:
    """Peak resident memory (MB) of a fresh process that loads one house, builds its grid and renders."""
    from navgym.scenes.sources import load_prochouse
    from navgym.sims.base import CameraSpec
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    sim = EmbeddedSimulator(load_prochouse(seed))
    sim.render_agent(CameraSpec(256, 256, outputs=("rgb", "depth", "semantic")))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--houses", type=int, default=5, help="houses timed for generation")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; the table shows medians")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--backends", nargs="+", default=["embreex", "packets", "raster"], choices=["embreex", "packets", "raster"],
                        help="RayCaster backends timed (default: all three)")
    args = parser.parse_args()

    from navgym.scenes.prochouse import SPLITS, generate_house

    seeds = list(SPLITS["val"][: args.houses])
    gen_times, triangles = [], []
    for seed in seeds:
        t0 = time.perf_counter()
        scene = generate_house(seed)
        gen_times.append(time.perf_counter() - t0)
        triangles.append(len(scene.faces))
    from navgym.scenes.sources import load_prochouse

    for seed in seeds[:2]:
        load_prochouse(seed)  # fill the cache so workers only load
    t0 = time.perf_counter()
    load_prochouse(seeds[0])  # reads the .glb + JSON written above
    cached_load = time.perf_counter() - t0

    rows = []
    for size in (128, 256):
        for label, outputs in OUTPUTS.items():
            runs: dict[str, list[float]] = {}
            for _ in range(args.repeats):  # interleaved: each repeat times every column once
                for backend in args.backends:
                    runs.setdefault(f"{backend}_1_process", []).append(_render_fps(seeds[0], size, outputs, args.frames, backend))
                    if backend != "embreex":
                        runs.setdefault(f"{backend}_1_process_2_threads", []).append(_render_fps(seeds[0], size, outputs, args.frames, backend, 2))
                    two = _timed_together((seeds[0], size, outputs, args.frames, backend))  # the same house in both
                    runs.setdefault(f"{backend}_2_processes_total", []).append(two)
            row = {"size": size, "outputs": label, **{k: float(np.median(v)) for k, v in runs.items()}, "runs": runs}
            rows.append(row)
            print({k: v for k, v in row.items() if k != "runs"}, flush=True)
    with mp.get_context("spawn").Pool(1) as pool:
        memory = pool.apply(_memory_per_simulator, (seeds[0],))

    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "command": "python benchmarks/sim_speed.py " + " ".join(sys.argv[1:]),
        "house_generation_s": {"median": float(np.median(gen_times)), "max": float(np.max(gen_times))},
        "house_load_from_cache_s": cached_load,
        "triangles_per_house": {"median": int(np.median(triangles)), "max": int(np.max(triangles))},
        "memory_per_simulator_mb": memory,
        "render": rows,
    }
    print(f"machine: {result['machine']}")
    print(f"house generation: median {result['house_generation_s']['median']:.3f} s, max {result['house_generation_s']['max']:.3f} s "
          f"({result['triangles_per_house']['median']} triangles median); load from cache {cached_load:.3f} s")
    print(f"peak memory of a process with one simulator: {memory:.0f} MB")
    columns = [f"{b}_1_process" for b in args.backends] + [f"{b}_1_process_2_threads" for b in args.backends if b != "embreex"]
    columns += [f"{b}_2_processes_total" for b in args.backends]
    print(f"{'size':>6} {'outputs':<16}" + "".join(f"{c:>30}" for c in columns) + "   (frames/s)")
    for r in rows:
        print(f"{r['size']:>6} {r['outputs']:<16}" + "".join(f"{r[c]:>30.0f}" for c in columns))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
