"""How far the raster backend's frames are from the ray-cast ones (docs/simulator.md, "Speed").

    python scripts/raster_agreement.py [--houses 5] [--poses 40] [--size 128] [--hard] [--out FILE.json]

Renders the same random navigable poses (random yaw, camera tilt in [-45, 45] degrees, RGB, depth
and semantics) with ``RayCaster(backend="packets")`` (the registered ids' frames) and with
``backend="raster"`` in each house (the first ProcHouse val seeds, or ProcHouseHard's with
``--hard``), and prints per output the share of pixels that differ, and the largest depth difference.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--houses", type=int, default=5)
    parser.add_argument("--poses", type=int, default=40, help="poses per house")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--hard", action="store_true", help="ProcHouseHard houses (val seeds)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from navgym.sims.base import AgentState, CameraSpec
    from navgym.sims.embedded.raycast import RayCaster
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    from navgym.scenes.prochouse import SPLITS
    from navgym.scenes.sources import load_prochouse
    spec = CameraSpec(args.size, args.size, 90.0, 1.25, outputs=("rgb", "depth", "semantic"))
    totals = {"pixels": 0, "semantic_differs": 0, "rgb_differs": 0, "depth_max_abs_m": 0.0, "depth_over_1mm": 0}
    for seed in list(SPLITS["val"])[: args.houses]:
        sim = EmbeddedSimulator(load_prochouse(seed, hard=args.hard))
        casters = [RayCaster(sim.scene, backend=name) for name in ("packets", "raster")]
        rng = np.random.default_rng(seed)
        for _ in range(args.poses):
            pose = AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 2 * np.pi)))
            pose.tilt = float(rng.uniform(-45, 45))
            frames = []
            for caster in casters:
                sim._caster = caster
                frames.append(sim.render([(pose, spec)])[0])
            ray, raster = frames
            gap = np.abs(ray["depth"].astype(np.float64) - raster["depth"])
            totals["pixels"] += ray["semantic"].size
            totals["semantic_differs"] += int((ray["semantic"] != raster["semantic"]).sum())
            totals["rgb_differs"] += int((ray["rgb"] != raster["rgb"]).any(axis=-1).sum())
            totals["depth_max_abs_m"] = max(totals["depth_max_abs_m"], float(gap.max()))
            totals["depth_over_1mm"] += int((gap > 1e-3).sum())
    result = {
        "command": "python scripts/raster_agreement.py" + (" --hard" if args.hard else "") + f" --houses {args.houses} --poses {args.poses} --size {args.size}",
        **totals,
        "semantic_share": totals["semantic_differs"] / totals["pixels"],
        "rgb_share": totals["rgb_differs"] / totals["pixels"],
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
