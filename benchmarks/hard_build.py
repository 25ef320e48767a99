"""ProcHouseHard building generation and cached loading times (issue 20 "Speed").

    python benchmarks/hard_build.py --seeds 20 --out docs/results/prochousehard_build.json

Generates the first ``--seeds`` test buildings (timed, no cache), writes them to a fresh cache
folder, then loads each back from it (timed, median of 3 loads per building), with ProcHouse's
houses of the same seeds beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ["NAVGYM_CACHE"] = tempfile.mkdtemp(prefix="navgym-bench-")
    from navgym.scenes.prochouse import SPLITS, generate_hard_house, generate_house
    from navgym.scenes.sources import load_prochouse

    seeds = list(SPLITS["test"][: args.seeds])
    result = {"machine": platform.platform(), "python": platform.python_version(), "seeds": len(seeds)}
    for name, hard, generate in (("ProcHouseHard", True, generate_hard_house), ("ProcHouse", False, generate_house)):
        build, load, faces = [], [], []
        for seed in seeds:
            t = time.perf_counter()
            scene = generate(seed)
            build.append(time.perf_counter() - t)
            faces.append(len(scene.faces))
            load_prochouse(seed, hard=hard)  # writes the cache
            times = []
            for _ in range(3):
                t = time.perf_counter()
                load_prochouse(seed, hard=hard)
                times.append(time.perf_counter() - t)
            load.append(statistics.median(times))
        result[name] = {
            "generate_s": {"median": statistics.median(build), "max": max(build)},
            "cached_load_s": {"median": statistics.median(load), "max": max(load)},
            "triangles_median": statistics.median(faces),
        }
        print(name, json.dumps(result[name]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
