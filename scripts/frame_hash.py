"""One sha256 over 80 embedded-simulator frames, to check that a change keeps frames byte-identical.

    python scripts/frame_hash.py                      # this checkout
    PYTHONPATH=/path/to/other/checkout python scripts/frame_hash.py

Two ProcHouse houses (seeds 1 and 5), 20 random navigable poses each with a random camera tilt, each
rendered at 128x128 RGB-D-semantic (hfov 90) and at 256x192 RGB-D (hfov 79, max depth 5 m). Equal
hashes from two checkouts mean equal frames on this machine.
"""

from __future__ import annotations

import hashlib

import numpy as np

from navgym.scenes.sources import load_prochouse
from navgym.sims.base import AgentState, CameraSpec
from navgym.sims.embedded.simulator import EmbeddedSimulator

SPECS = (
    CameraSpec(128, 128, 90.0, 1.25, outputs=("rgb", "depth", "semantic")),
    CameraSpec(256, 192, 79.0, 0.88, outputs=("rgb", "depth"), max_depth=5.0),
)


def main() -> None:
    digest = hashlib.sha256()
    for seed in (1, 5):
        sim = EmbeddedSimulator(load_prochouse(seed))
        rng = np.random.default_rng(seed)
        for _ in range(20):
            pose = AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 6.28)))
            pose.tilt = float(rng.uniform(-30, 30))
            for spec in SPECS:
                for frame in sim.render([(pose, spec)]):
                    for key in sorted(frame):
                        digest.update(key.encode())
                        digest.update(frame[key].tobytes())
    print(digest.hexdigest())


if __name__ == "__main__":
    main()
