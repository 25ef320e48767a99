"""Start-up cost of the ray-casting kernels: a fresh process's first 128x128 frame, with numba's
on-disk cache empty (the kernels are compiled) and then warm (they are loaded), side by side.

    python benchmarks/kernel_startup.py [--rounds 3]

Each round runs two processes with a new, empty ``NUMBA_CACHE_DIR``: the first compiles and saves
the kernels, the second finds them. Printed: median seconds of the first render and of the whole
process (interpreter start, imports, house load, simulator, render).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, time
import numpy as np
from navgym.scenes.sources import load_prochouse
from navgym.sims.base import AgentState, CameraSpec
from navgym.sims.embedded.simulator import EmbeddedSimulator
sim = EmbeddedSimulator(load_prochouse(1000000))
point = sim.sample_navigable_point(np.random.default_rng(0))
began = time.perf_counter()
sim.render([(AgentState.from_yaw(point, 0.3), CameraSpec(128, 128, 90.0, 1.25))])
print(json.dumps({"first_render_s": time.perf_counter() - began}))
"""


def run(cache: str) -> dict[str, float]:
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                         env={**os.environ, "NUMBA_CACHE_DIR": cache, "TQDM_DISABLE": "1"})
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "process_s": time.perf_counter() - began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="navgym_numba_") as cache:
            cold.append(run(cache))
            warm.append(run(cache))
    print(f"{'numba cache':<12}{'first render s':>16}{'process s':>11}")
    for name, rows in (("empty", cold), ("warm", warm)):
        print(f"{name:<12}{statistics.median(r['first_render_s'] for r in rows):>16.3f}{statistics.median(r['process_s'] for r in rows):>11.2f}")


if __name__ == "__main__":
    main()
