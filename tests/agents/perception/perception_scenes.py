"""Hand-built scenes shared by the perception tests (a helper module, not a test file)."""

from __future__ import annotations

import numpy as np

from navgym.core.specs import CameraSpec
from navgym.scenes.builder import SceneBuilder

CAMERA = CameraSpec(width=128, height=128, hfov=90.0, camera_height=1.25, outputs=("rgb", "depth", "semantic"))


def room_with_furniture():
    """A 4 x 3 m room (x in [0, 4], z in [0, 3]) with a table, a box 'chair' and a 'vase' on the table."""
    b = SceneBuilder("furnished_room")
    paint = b.material("paint", "paint", (200, 200, 220))
    wood = b.material("wood", "wood", (150, 100, 60), np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8))
    b.add_box((-0.1, -0.1, -0.1), (4.1, 0.0, 3.1), wood, category="floor")
    b.add_box((-0.1, 2.5, -0.1), (4.1, 2.6, 3.1), paint, category="ceiling")
    b.add_box((-0.1, 0.0, -0.1), (4.1, 2.5, 0.0), paint, category="wall")
    b.add_box((-0.1, 0.0, 3.0), (4.1, 2.5, 3.1), paint, category="wall")
    b.add_box((-0.1, 0.0, 0.0), (0.0, 2.5, 3.0), paint, category="wall")
    b.add_box((4.0, 0.0, 0.0), (4.1, 2.5, 3.0), paint, category="wall")
    ids = {
        "table": b.add_box((1.5, 0.0, 0.6), (2.5, 0.75, 1.2), wood, category="table", attributes={"color": "brown"}),
        "chair": b.add_box((0.5, 0.0, 0.7), (0.95, 0.9, 1.15), wood, category="chair", attributes={"color": "red"}),
        "vase": b.add_box((1.9, 0.75, 0.8), (2.1, 1.05, 1.0), paint, category="vase"),
        "behind": b.add_box((3.2, 0.0, 2.6), (3.6, 0.5, 2.9), wood, category="cabinet"),
    }
    return b.build(), ids
