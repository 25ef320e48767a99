"""What one ray costs Embree here: 16,384 rays (one 128x128 frame) cast by both backends into
scenes from one far triangle to a furnished house, side by side.

    python benchmarks/raycast_cost.py [--repeats 50]

Prints ns per ray for ``embreex`` (single rays, ``RayCaster(backend="embreex").cast``) and
``packets`` (``rtcIntersect4`` from numba, ``backend="packets"``), for rays that all miss a one-
triangle scene (the fixed cost of a ray), identical rays in an 84-triangle room, random rays in the
room, and the primary rays of a ProcHouse house's camera. Machine-dependent; compare columns.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from navgym.scenes.builder import SceneBuilder
from navgym.scenes.sources import load_prochouse
from navgym.sims.base import AgentState, CameraSpec
from navgym.sims.embedded.raycast import RayCaster
from navgym.sims.embedded.simulator import EmbeddedSimulator

N = 128 * 128


def _room():
    b = SceneBuilder("room")
    m = b.material("paint", "paint", (200, 200, 200))
    b.add_box((-0.1, -0.1, -0.1), (4.1, 0.0, 3.1), m, category="floor")
    b.add_box((-0.1, 2.5, -0.1), (4.1, 2.6, 3.1), m, category="ceiling")
    for lo, hi in (((-0.1, 0, -0.1), (4.1, 2.5, 0)), ((-0.1, 0, 3), (4.1, 2.5, 3.1)), ((-0.1, 0, 0), (0, 2.5, 3)), ((4, 0, 0), (4.1, 2.5, 3))):
        b.add_box(lo, hi, m, category="wall")
    b.add_box((1.5, 0.0, 1.0), (2.5, 0.75, 1.6), m, category="table")
    return b.build()


def _far():
    b = SceneBuilder("far")
    b.add_box((100.0, 100.0, 100.0), (100.1, 100.1, 100.1), b.material("m", "m", (9, 9, 9)))
    return b.build()


def _ns_per_ray(caster: RayCaster, origins: np.ndarray, directions: np.ndarray, repeats: int) -> float:
    caster.cast(origins, directions)  # warm-up (and numba's first call)
    t0 = time.perf_counter()
    for _ in range(repeats):
        caster.cast(origins, directions)
    return (time.perf_counter() - t0) / repeats / len(directions) * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = []
    origin = np.tile(np.array([[2.0, 1.2, 1.5]], np.float32), (N, 1))
    forward = np.tile(np.array([[0.0, 0.0, -1.0]], np.float32), (N, 1))
    cases.append(("all miss a 12-triangle box 100 m away", _far(), origin, forward))
    room = _room()
    cases.append(("identical rays, 84-triangle room", room, origin, forward))
    cases.append(("random rays, 84-triangle room", room, origin, rng.normal(size=(N, 3)).astype(np.float32)))
    house = load_prochouse(1)
    sim = EmbeddedSimulator(house)
    pose = AgentState.from_yaw(sim.sample_navigable_point(rng), 0.7)
    spec = CameraSpec(128, 128, 90.0, 1.25)
    local, _ = sim.caster._pixel_directions(128, 128, 90.0)
    from navgym.core.geometry import camera_rotation

    rotation = camera_rotation(pose.yaw, 0.0, 0.0).astype(np.float32)
    eye = np.asarray(pose.position, np.float32) + [0.0, spec.camera_height, 0.0]
    cases.append((f"a camera's primary rays, ProcHouse house ({len(house.faces)} triangles)", house, np.tile(eye, (N, 1)).astype(np.float32), local @ rotation.T))
    print(f"{'case':<62}{'embreex ns/ray':>16}{'packets ns/ray':>16}")
    for label, scene, origins, directions in cases:
        single = RayCaster(scene, backend="embreex")
        packed = RayCaster(scene, backend="packets")
        a = _ns_per_ray(single, origins, directions, args.repeats)
        b = _ns_per_ray(packed, origins, directions, args.repeats)
        print(f"{label:<62}{a:>16.1f}{b:>16.1f}", flush=True)


if __name__ == "__main__":
    main()
