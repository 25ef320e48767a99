"""Draw the ProcHouseHard gallery: per building, the top-down map of every storey with one
shortest path from the ground floor to the top floor, and egocentric views up and down a flight.

    python scripts/draw_hard_gallery.py --seeds 2000000 2000001 2000004 --out docs/images/prochousehard_gallery.png
"""

from __future__ import annotations

import argparse
import sys
import math
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pictures import labelled_row, save  # noqa: E402


def _stair_views(sim, flight: dict, spec):
    """RGB from the lower landing looking up the flight, and from the upper landing looking down
    (an L-shaped flight: down its second run, towards the quarter landing)."""
    from navgym.sims.base import AgentState

    x0, z0, x1, z1 = flight["strip"]
    d = flight["direction"]
    lower, upper = sim.storey_heights()[flight["storeys"][0]], sim.storey_heights()[flight["storeys"][1]]
    # Forward is (-sin yaw, -cos yaw): +x is yaw -pi/2, +z is yaw pi.
    up_yaw = -math.pi / 2 if d > 0 else math.pi / 2
    if flight.get("shape") == "L":
        inward, w = flight["inward"], flight["width"]
        zc = z0 + w / 2 if inward > 0 else z1 - w / 2
        foot = sim.snap_point([flight["start"] - d * 0.9, lower, zc])
        xc = x1 - w / 2 if d > 0 else x0 + w / 2
        head = sim.snap_point([xc, upper, flight["end"] + inward * 0.9])
        down_yaw = 0.0 if inward > 0 else math.pi  # towards -z (inward +1) or +z
        poses = ((foot, up_yaw), (head, down_yaw))
    else:
        zc = (z0 + z1) / 2
        foot = sim.snap_point([flight["start"] - d * 0.9, lower, zc])
        head = sim.snap_point([flight["end"] + d * 0.9, upper, zc])
        poses = ((foot, up_yaw), (head, up_yaw + math.pi))
    return [sim.render([(AgentState.from_yaw(point, yaw), spec)])[0]["rgb"] for point, yaw in poses]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2_000_000, 2_000_001, 2_000_004])
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--flights", type=int, default=1, help="Flights per building to show views of.")
    parser.add_argument("--out", type=Path, default=Path("docs/images/prochousehard_gallery.png"))
    args = parser.parse_args()

    from navgym.envs.visualize import draw_topdown
    from navgym.scenes.sources import load_prochouse
    from navgym.sims.base import CameraSpec
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    spec = CameraSpec(args.size, args.size, 90.0, 1.25, outputs=("rgb",), max_depth=10.0)
    rows = []
    for seed in args.seeds:
        scene = load_prochouse(seed, hard=True)
        sim = EmbeddedSimulator(scene)
        heights = sim.storey_heights()
        rng = np.random.default_rng(seed)
        tiles, labels = [], []
        path = np.zeros((0, 3))
        if len(heights) > 1:
            links = sim.storey_links()
            start = next(p for p in (links.grids[0].sample(rng) for _ in range(200)) if abs(p[1] - heights[0]) < 1e-6)
            goal = next(p for p in (links.grids[-1].sample(rng) for _ in range(200)) if abs(p[1] - heights[-1]) < 1e-6)
            path = sim.shortest_path(start, goal)
        for k, h in enumerate(heights):
            # The part of the path nearest this storey.
            on = path[[min(range(len(heights)), key=lambda j: abs(heights[j] - p[1])) == k for p in path]] if len(path) else path
            tiles.append(draw_topdown(sim.topdown_map(h), list(on), None, None, size=args.size))
            rooms = sum(1 for r in scene.rooms if abs(r.floor_height - h) < 1e-6)
            labels.append((f"{seed}: " if k == 0 else "") + f"floor {k}, {rooms} rooms")
        for flight in scene.metadata["stairs"][: args.flights]:
            up, down = _stair_views(sim, flight, spec)
            tiles += [up, down]
            kind = "L-shaped " if flight.get("shape") == "L" else ""
            labels += [f"up the {kind}stairs {flight['storeys'][0]}-{flight['storeys'][1]}", "down from the landing"]
        if len(path):
            length = float(np.sum(np.hypot(np.diff(path[:, 0]), np.diff(path[:, 2]))))
            labels[len(heights)] += f" (blue path: {length:.1f} m)"
        row = labelled_row(tiles, labels)
        rows.append(row)
    save(rows, args.out)


if __name__ == "__main__":
    main()
