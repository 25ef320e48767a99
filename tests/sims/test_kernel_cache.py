"""The compiled ray-casting kernels come from numba's on-disk cache from the second process on
(issue 16: every process used to compile them again, 2-3 s, and add a cache entry on disk)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

RENDER_ONCE = """
import json, numpy as np
from navgym.scenes.sources import load_prochouse
from navgym.sims.base import AgentState, CameraSpec
from navgym.sims.embedded.simulator import EmbeddedSimulator
from navgym.sims.embedded import _kernels
sim = EmbeddedSimulator(load_prochouse(1000000))
point = sim.sample_navigable_point(np.random.default_rng(0))
sim.render([(AgentState.from_yaw(point, 0.3), CameraSpec(32, 32, 90.0, 1.25))])
sim.caster.cast(point[None] + [0.0, 0.5, 0.0], np.array([[0.0, -1.0, 0.0]]))
print(json.dumps({name: [sum(getattr(k.stats, kind).values()) for kind in ("cache_hits", "cache_misses")]
                  for name, k in (("frame", _kernels.frame), ("cast", _kernels.cast))}))
"""


def test_a_second_process_loads_the_kernels_from_numbas_cache(tmp_path):
    pytest.importorskip("embreex")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "TQDM_DISABLE": "1"}
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", RENDER_ONCE], capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert first["frame"][1] >= 1  # compiled (and saved) the first time
    for name in ("frame", "cast"):
        hits, misses = second[name]
        assert hits >= 1 and misses == 0, (name, second)
    assert len(list((tmp_path / "numba").rglob("*.nbc"))) <= 3  # frame, cast, and nothing per process
