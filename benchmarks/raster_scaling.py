"""Frame time of the ray-cast (``packets``) and ``raster`` backends as a scene grows.

    python benchmarks/raster_scaling.py [--triangles 10000 100000 400000] [--frames 10]

A scene of N small random triangles spread over 60 x 6 x 60 m (a quarter of them in the view,
little occlusion: the rasteriser's worst case), one 128x128 RGB-D camera at its centre; prints
milliseconds per frame of each backend, side by side. The rasteriser visits every triangle each
frame, Embree's ray casts only what a ray's path meets, so past some size the ray caster wins.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triangles", type=int, nargs="+", default=[10_000, 100_000, 400_000])
    parser.add_argument("--frames", type=int, default=10)
    args = parser.parse_args()

    from navgym.scenes.scene import Material, Scene
    from navgym.sims.embedded.raycast import RayCaster

    rng = np.random.default_rng(0)
    camera = [(np.zeros(3), np.eye(3), 128, 128, 90.0)]
    print(f"{'triangles':>10} {'packets ms':>11} {'raster ms':>10} {'raster/packets':>15}")
    for count in args.triangles:
        centres = rng.uniform([-30, -3, -30], [30, 3, 30], (count, 1, 3))
        vertices = (centres + rng.normal(scale=0.1, size=(count, 3, 3))).reshape(-1, 3).astype(np.float32)
        scene = Scene(
            vertices=vertices, faces=np.arange(3 * count, dtype=np.int32).reshape(-1, 3), uvs=np.zeros((3 * count, 2), np.float32),
            face_material=np.zeros(count, np.int32), face_instance=np.ones(count, np.int32),
            materials=[Material("paint", "paint", (90, 160, 220))], annotated=False,
        )
        ms = {}
        for name in ("packets", "raster"):
            caster = RayCaster(scene, backend=name)
            caster.render(camera, [("rgb", "depth")], [(0.0, 50.0)])  # warm-up
            t0 = time.perf_counter()
            for _ in range(args.frames):
                caster.render(camera, [("rgb", "depth")], [(0.0, 50.0)])
            ms[name] = (time.perf_counter() - t0) / args.frames * 1e3
        print(f"{count:>10,} {ms['packets']:>11.2f} {ms['raster']:>10.2f} {ms['raster'] / ms['packets']:>14.2f}x", flush=True)


if __name__ == "__main__":
    main()
