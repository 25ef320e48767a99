"""Draw the simulator gallery: egocentric RGB, depth, semantic and a top-down map of a few houses.

    python scripts/draw_gallery.py --seeds 1000000 1000001 1000002 --out docs/images/gallery.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pictures import labelled_row, save  # noqa: E402


def _colorize_depth(depth: np.ndarray, max_depth: float) -> np.ndarray:
    scaled = np.clip(depth[..., 0] / max_depth, 0, 1)
    return (np.stack([1 - scaled, 1 - scaled * 0.8, 0.4 + 0.6 * scaled], -1) * 255).astype(np.uint8)


def _colorize_ids(ids: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(7)
    palette = rng.integers(40, 255, size=(int(ids.max()) + 1, 3), dtype=np.uint8)
    palette[0] = 0
    return palette[ids]


def _best_view(sim, rng, spec, tries: int = 40):
    """A pose whose view sees the most distinct instances (a furnished corner, not a blank wall)."""
    from navgym.sims.base import AgentState

    best, best_count = None, -1
    for _ in range(tries):
        pose = AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 2 * np.pi)))
        frame = sim.render([(pose, spec)])[0]
        count = len(np.unique(frame["semantic"]))
        if count > best_count:
            best, best_count = (pose, frame), count
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1_000_000, 1_000_001, 1_000_002])
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--out", type=Path, default=Path("docs/images/gallery.png"))
    args = parser.parse_args()

    from navgym.envs.visualize import draw_topdown
    from navgym.scenes.sources import load_prochouse
    from navgym.sims.base import CameraSpec
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    spec = CameraSpec(args.size, args.size, 90.0, 1.25, outputs=("rgb", "depth", "semantic"), max_depth=8.0)
    rows = []
    for seed in args.seeds:
        scene = load_prochouse(seed)
        sim = EmbeddedSimulator(scene)
        pose, frame = _best_view(sim, np.random.default_rng(seed), spec)
        top = draw_topdown(sim.topdown_map(), [], None, pose, size=args.size)
        tiles = [frame["rgb"], _colorize_depth(frame["depth"], spec.max_depth), _colorize_ids(frame["semantic"]), top]
        labels = ["rgb", "depth", "semantic", f"top-down, house {seed}"]
        row = labelled_row(tiles, labels)
        rows.append(row)
    save(rows, args.out)


if __name__ == "__main__":
    main()
