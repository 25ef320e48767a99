"""The ``"raster"`` backend of :class:`~navgym.sims.embedded.raycast.RayCaster`: camera frames by
rasterisation (numba, :mod:`._raster`) instead of one Embree ray per pixel.

Each pixel still gets its ray's exact closest hit (a ray-triangle test per covered pixel, in float64)
and the same texturing and shading as the other backends (the same compiled code), so a frame
differs from the ray-cast one only where two surfaces are at the same distance (coplanar faces,
shared edges: a different but equally near triangle wins) and in the last bits of depth and
barycentrics. It is opt-in (``EmbeddedSimulator(render_backend="raster")``, or
``sim_options={"render_backend": "raster"}``): the registered ids keep the ray-cast frames they
were released with. Only camera frames are rasterised; other casts (navigation grids, lidar) stay
with Embree. Every frame visits every triangle, so past about 50,000 triangles (Habitat's scanned
meshes) the ray caster is faster (benchmarks/raster_scaling.py). See docs/simulator.md, "Speed".
"""

from __future__ import annotations

import numpy as np

from navgym.sims.embedded import packets
from navgym.sims.embedded._raster import TILE
from navgym.sims.embedded.raycast import focal_length

#: Below this many rows per thread a camera is rasterised on the calling thread alone.
MIN_ROWS_PER_THREAD = 32


class RasterScene:
    """The triangles of one scene, ready to rasterise.

    Args:
        triangles: ``(F, 3, 3)`` float32 corners; triangle ``i`` is primitive ``i``.
    """

    def __init__(self, triangles: np.ndarray):
        reason = packets._numba_reason()
        if reason is not None:
            raise RuntimeError(f"the raster backend needs numba: {reason}")
        self.triangles = np.ascontiguousarray(triangles, dtype=np.float32).reshape(-1, 3, 3)
        from navgym.sims.embedded import _raster

        self._kernel = _raster.camera

    def render(
        self,
        tables: packets.ShadeTables,
        origins: np.ndarray,
        rotations: np.ndarray,
        cameras: list[tuple[int, int, float]],
        local: np.ndarray,
        local_unit: np.ndarray,
        depth_ranges: np.ndarray,
        want_rgb: np.ndarray,
        threads: int = 1,
    ) -> dict[str, np.ndarray]:
        """The per-ray outputs :meth:`packets.PacketScene.render` returns, for cameras given as
        ``(width, height, hfov)`` (rays in :func:`~navgym.sims.embedded.raycast.pixel_directions`'
        order, camera after camera; ``local`` and ``local_unit`` are those rays and their unit
        vectors). ``threads`` > 1 splits each camera's rows between threads."""
        out, near, far = packets.ray_outputs(len(local_unit), depth_ranges)
        origins = np.ascontiguousarray(origins, dtype=np.float32)
        rotations = np.ascontiguousarray(rotations, dtype=np.float32)
        jobs, offset = [], 0
        for index, (width, height, hfov) in enumerate(cameras):
            focal = focal_length(width, hfov)
            # The pixels' own (float32) ray components: x of each column, y of each row.
            pixels = local[offset : offset + width * height]
            cols = pixels[:width, 0].astype(np.float64)
            rows = pixels[::width, 1].astype(np.float64)
            parts = max(1, min(int(threads), height // MIN_ROWS_PER_THREAD))
            bounds = [min(height, round(height * i / parts / TILE) * TILE) for i in range(parts)] + [height]
            for lo, hi in zip(bounds[:-1], bounds[1:]):
                if hi > lo:
                    jobs.append((index, width, height, focal, cols, rows, lo, hi, offset))
            offset += width * height

        def run(job) -> None:
            index, width, height, focal, cols, rows, lo, hi, start = job
            self._kernel(
                self.triangles, index, origins, rotations, width, height, focal, cols, rows, lo, hi, start, near, far, want_rgb, local_unit,
                tables.face_uv, tables.face_material, tables.face_shade, tables.face_instance, tables.atlas, tables.size,
                out["t"], out["prim"], out["rgb"], out["depth"], out["semantic"],
            )

        def run_all(group) -> None:
            for job in group:
                run(job)

        threads = max(1, min(int(threads), len(jobs)))
        groups = [jobs[i::threads] for i in range(threads)]
        futures = [packets._pool(threads - 1).submit(run_all, group) for group in groups[1:]]
        run_all(groups[0])
        for future in futures:
            future.result()
        return out
