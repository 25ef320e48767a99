"""CPU ray casting of a :class:`~navgym.scenes.scene.Scene` with Intel Embree (``embreex``).

One :class:`RayCaster` holds the Embree scene and per-triangle lookup tables (unit normals, UVs,
materials, instance ids, a texture atlas) so that a frame is one Embree call plus a few vectorised
numpy gathers. Several cameras are rendered in one batch of rays.
"""

from __future__ import annotations

import hashlib
import math
from typing import Sequence

import numpy as np

from navgym.scenes.scene import Scene
from navgym.sims.embedded import packets

#: Side of every texture in the atlas; textures are resampled to it once at load time.
ATLAS_SIZE = 64
_UP = np.array([0.0, 1.0, 0.0], dtype=np.float32)
#: Ray length when none is given (embreex's default, so both backends return the same ``t`` on a miss).
_NO_LIMIT = np.float32(1e37)
#: Ray-casting backends of :class:`RayCaster`.
BACKENDS = ("auto", "packets", "embreex", "raster")
_LIGHT = np.array([0.35, 0.85, 0.4], dtype=np.float32) / np.linalg.norm([0.35, 0.85, 0.4])


def _resize_texture(texture: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    if texture.shape[0] == size and texture.shape[1] == size:
        return texture
    return np.asarray(Image.fromarray(texture[..., :3]).resize((size, size), Image.BILINEAR))


def focal_length(width: int, hfov_deg: float) -> float:
    """A pinhole camera's focal length in pixels."""
    return (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)


def pixel_directions(width: int, height: int, hfov_deg: float) -> np.ndarray:
    """(H*W, 3) camera-frame ray directions with z = -1, so a hit's ``t`` is its z-depth."""
    focal = focal_length(width, hfov_deg)
    cols = (np.arange(width) + 0.5 - width / 2.0) / focal
    rows = -(np.arange(height) + 0.5 - height / 2.0) / focal
    xs, ys = np.meshgrid(cols, rows)
    return np.stack([xs, ys, -np.ones_like(xs)], axis=-1).reshape(-1, 3)


def _origins(positions, counts) -> np.ndarray:
    """Each camera's position repeated for each of its rays."""
    return np.repeat(np.stack(positions), counts, axis=0)


class RayCaster:
    """Ray casting, texturing and shading of one scene.

    Args:
        scene: The scene to cast rays against.
    """

    def __init__(self, scene: Scene, backend: str = "auto"):
        if backend not in BACKENDS:
            raise ValueError(
                f"backend={backend!r} is not one of {BACKENDS}: 'auto' takes Embree packets when they load, "
                "'raster' rasterises camera frames (faster; not byte-identical to the ray-cast frames)"
            )
        try:
            from embreex import mesh_construction, rtcore_scene
        except ImportError as exc:  # pragma: no cover - embreex is a core dependency
            from gymnasium.error import DependencyNotInstalled

            raise DependencyNotInstalled(
                "The embedded simulator needs `embreex` (Intel Embree bindings): pip install embreex"
            ) from exc
        self.scene = scene
        triangles = scene.vertices[scene.faces].astype(np.float32)
        self._packets = None
        self._embree = None
        self._raster = None
        if backend == "raster":
            from navgym.sims.embedded.raster import RasterScene

            try:
                self._raster = RasterScene(triangles)
            except RuntimeError as exc:
                raise RuntimeError(f"backend='raster' cannot run here: {exc}; use backend='auto' or 'embreex'") from exc
        if backend != "embreex":
            reason = packets.unavailable_reason()
            if reason is None:
                self._packets = packets.PacketScene(triangles)
            elif backend == "packets":
                raise RuntimeError(f"backend='packets' cannot run here: {reason}; use backend='auto' or 'embreex'")
        if self._packets is None:
            self._embree = rtcore_scene.EmbreeScene()
            if len(triangles):
                mesh_construction.TriangleMesh(self._embree, triangles)
        #: A digest of the triangles and of how other casts run (Embree packets or embreex): two
        #: casters with the same key give the same hits, so what is derived from casts alone (a
        #: navigation grid) can be shared between them (:mod:`navgym.sims.embedded.navgrid`).
        digest = hashlib.sha256(b"packets" if self._packets is not None else b"embreex")
        digest.update(np.ascontiguousarray(triangles).tobytes())
        self.geometry_key = digest.digest()
        #: How camera frames are made: "packets" (Embree packets and compiled shading), "embreex"
        #: (single rays, numpy shading) or "raster" (rasterised, compiled shading). Other casts
        #: use Embree's packets where they load, else embreex.
        self.backend = "raster" if self._raster is not None else "packets" if self._packets is not None else "embreex"
        #: Threads one :meth:`render` call may use (packet backend): 1 unless asked for.
        self.threads = 1
        normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
        lengths = np.linalg.norm(normals, axis=1, keepdims=True)
        self.face_normals = (normals / np.maximum(lengths, 1e-12)).astype(np.float32)
        face_uvs = scene.uvs[scene.faces].astype(np.float32)  # (F, 3, 2)
        # Per face: uv at corner 0 and the uv edges, so a hit's uv is uv0 + u*du + v*dv (one gather).
        self._face_uv = np.concatenate(
            [face_uvs[:, 0], face_uvs[:, 1] - face_uvs[:, 0], face_uvs[:, 2] - face_uvs[:, 0]], axis=1
        ).astype(np.float32)
        self.face_material = scene.face_material
        self.face_instance = scene.face_instance
        # Per face: normal and the constant part of the shading (ambient + sun).
        sun = np.abs(self.face_normals @ _LIGHT)
        self._face_shade = np.concatenate([self.face_normals, (0.35 + 0.25 * sun)[:, None]], axis=1).astype(np.float32)
        self._directions: dict[tuple[int, int, float], tuple[np.ndarray, np.ndarray]] = {}
        atlas = np.empty((len(scene.materials), ATLAS_SIZE, ATLAS_SIZE, 3), dtype=np.uint8)
        for index, material in enumerate(scene.materials):
            if material.texture is None:
                atlas[index] = np.asarray(material.color, dtype=np.uint8)
            else:
                atlas[index] = _resize_texture(np.asarray(material.texture, dtype=np.uint8), ATLAS_SIZE)
        self.atlas = atlas
        # Flat (M*T*T, 3) view of the atlas, indexed by (material * T + row) * T + col.
        self._atlas_flat = atlas.reshape(-1, 3)
        self._tables = packets.ShadeTables(self._face_uv, self.face_material, self._face_shade, self.face_instance, self._atlas_flat, ATLAS_SIZE)

    def _pixel_directions(self, width: int, height: int, hfov: float) -> tuple[np.ndarray, np.ndarray]:
        key = (width, height, float(hfov))
        if key not in self._directions:
            local = pixel_directions(width, height, hfov).astype(np.float32)
            unit = local / np.linalg.norm(local, axis=1, keepdims=True)
            self._directions[key] = (local, unit)
        return self._directions[key]

    def cast(self, origins: np.ndarray, directions: np.ndarray, max_distance: np.ndarray | float | None = None):
        """Closest hits: returns ``(t, prim, u, v)``; ``prim`` is -1 where nothing is hit."""
        origins = np.ascontiguousarray(origins, dtype=np.float32)
        directions = np.ascontiguousarray(directions, dtype=np.float32)
        dists = None
        if max_distance is not None:
            dists = np.ascontiguousarray(np.broadcast_to(max_distance, (len(origins),)), dtype=np.float32)
        if len(self.scene.faces) == 0:
            n = len(origins)
            return np.full(n, np.inf, np.float32), np.full(n, -1, np.int32), np.zeros(n, np.float32), np.zeros(n, np.float32)
        if self._packets is not None:
            tfar = dists if dists is not None else np.full(len(directions), _NO_LIMIT, np.float32)
            return self._packets.cast(origins, np.arange(len(origins), dtype=np.int32), directions, tfar)
        out = self._embree.run(origins, directions, dists=dists, output=1)
        return out["tfar"], out["primID"], out["u"], out["v"]

    def render(
        self,
        cameras: Sequence[tuple[np.ndarray, np.ndarray, int, int, float]],
        outputs: Sequence[Sequence[str]],
        depth_ranges: Sequence[tuple[float, float]],
        bodies: Sequence = (),
        threads: int | None = None,
    ) -> list[dict[str, np.ndarray]]:
        """Render cameras given as ``(position, world_from_camera rotation, width, height, hfov)``.

        All rays of all cameras are cast in one batch. ``bodies``: other agents' solids
        (:class:`navgym.sims.embedded.bodies.SolidBody`) drawn over the scene where closer.
        ``threads``: render threads for this batch (default :attr:`threads`; used by the packet
        and raster backends).
        """
        positions, rotations, local_chunks, unit_chunks, sizes, lenses = [], [], [], [], [], []
        for position, rotation, width, height, hfov in cameras:
            lenses.append((width, height, float(hfov)))
            local, local_unit = self._pixel_directions(width, height, hfov)
            rotations.append(np.asarray(rotation, dtype=np.float32))
            local_chunks.append(local)
            unit_chunks.append(local_unit)
            positions.append(np.asarray(position, dtype=np.float32))
            sizes.append((height, width))
        counts = [height * width for height, width in sizes]
        ranges = np.asarray(depth_ranges, dtype=np.float64).reshape(-1, 2)
        want_rgb = np.array(["rgb" in o for o in outputs], dtype=np.bool_)
        origins = directions = units = None
        threads = self.threads if threads is None else threads
        if self._raster is not None and len(self.scene.faces):
            rays = self._raster.render(
                self._tables,
                np.stack(positions),
                np.stack(rotations),
                lenses,
                np.concatenate(local_chunks),
                np.concatenate(unit_chunks),
                ranges,
                want_rgb,
                threads=threads,
            )
        elif self._packets is not None and len(self.scene.faces):
            rays = self._packets.render(
                self._tables,
                np.stack(positions),
                np.stack(rotations),
                np.repeat(np.arange(len(positions), dtype=np.int32), counts),
                np.concatenate(local_chunks),
                np.concatenate(unit_chunks),
                ranges,
                want_rgb,
                threads=threads,
            )
        else:
            origins, (directions, units) = _origins(positions, counts), self._world_rays(rotations, local_chunks, unit_chunks)
            rays = self._reference_rays(origins, counts, directions, units, ranges, want_rgb)
        if bodies:
            if origins is None:
                origins, (directions, units) = _origins(positions, counts), self._world_rays(rotations, local_chunks, unit_chunks)
            self._draw_bodies(rays, origins, counts, directions, units, ranges, want_rgb, bodies)
        results, start = [], 0
        for (height, width), wanted in zip(sizes, outputs):
            stop = start + height * width
            frame: dict[str, np.ndarray] = {}
            if "depth" in wanted:
                frame["depth"] = rays["depth"][start:stop].reshape(height, width, 1)
            if "semantic" in wanted:
                frame["semantic"] = rays["semantic"][start:stop].reshape(height, width)
            if "rgb" in wanted:
                frame["rgb"] = rays["rgb"][start:stop].reshape(height, width, 3)
            results.append(frame)
            start = stop
        return results

    @staticmethod
    def _world_rays(rotations, local_chunks, unit_chunks) -> tuple[np.ndarray, np.ndarray]:
        """World-frame ray directions and their unit vectors, all cameras concatenated: the
        compiled product the packet kernel computes inline (bit-identical to OpenBLAS's on FMA
        CPUs), or numpy's matmul where numba is missing."""
        if packets.can_compile():
            rotate = packets.rotate
        else:
            def rotate(local, rotation):
                return local @ rotation.T
        directions = np.concatenate([rotate(local, r) for local, r in zip(local_chunks, rotations)])
        units = np.concatenate([rotate(unit, r) for unit, r in zip(unit_chunks, rotations)])
        return directions, units

    def _reference_rays(self, origins, counts, directions, units, ranges, want_rgb) -> dict[str, np.ndarray]:
        """Per-ray outputs with ``embreex``'s single-ray casts and numpy: the reference the packet
        backend reproduces byte for byte (tests/sims/test_raycast_backends.py)."""
        t, prim, u, v = self.cast(origins, directions)
        hit = prim >= 0
        safe_prim = np.where(hit, prim, 0)
        near = np.repeat(ranges[:, 0].astype(np.float32), counts)
        far = np.repeat(ranges[:, 1].astype(np.float32), counts)
        rgb = self._shade(units, safe_prim, u, v, hit, t) if want_rgb.any() else np.zeros((len(t), 3), np.uint8)
        return {
            "t": t,
            "prim": prim,
            "rgb": rgb,
            "depth": np.clip(np.where(hit, t, far), near, far).astype(np.float32),
            "semantic": np.where(hit, self.face_instance.take(safe_prim), 0).astype(np.int32),
        }

    def _draw_bodies(self, rays, origins, counts, directions, units, ranges, want_rgb, bodies) -> None:
        """Other agents' solids over the scene where they are closer (in place)."""
        from navgym.sims.embedded import bodies as solids

        hit = rays["prim"] >= 0
        body_t, body_index, body_normal = solids.intersect(origins, directions, list(bodies))
        body_hit = body_t < np.where(hit, rays["t"], np.inf)
        if not body_hit.any():
            return
        t = body_t[body_hit].astype(np.float32)
        rays["t"][body_hit] = t
        near = np.repeat(ranges[:, 0].astype(np.float32), counts)[body_hit]
        far = np.repeat(ranges[:, 1].astype(np.float32), counts)[body_hit]
        rays["depth"][body_hit] = np.clip(t, near, far)
        ids = np.array([solids.AGENT_SEMANTIC_BASE + b.agent_id for b in bodies], dtype=np.int64)
        rays["semantic"][body_hit] = ids[body_index[body_hit]]
        if want_rgb.any():
            rays["rgb"][body_hit] = solids.shade(list(bodies), body_index[body_hit], body_normal[body_hit], units[body_hit], body_t[body_hit])

    def _shade(self, directions, prim, u, v, hit, t) -> np.ndarray:
        """Texture lookup through barycentric UVs, then Lambert shading with a head light."""
        size = ATLAS_SIZE
        corners = self._face_uv.take(prim, axis=0).reshape(-1, 3, 2)  # uv0, du, dv per hit
        weights = np.stack([np.ones_like(u), u, v], axis=1)
        uv = np.einsum("nk,nkj->nj", weights, corners)
        texel = np.floor(uv * size).astype(np.int32) & (size - 1)
        index = (self.face_material.take(prim) * size + (size - 1 - texel[:, 1])) * size + texel[:, 0]
        color = self._atlas_flat.take(index, axis=0)
        shade_info = self._face_shade.take(prim, axis=0)  # (N, 4): normal, ambient + sun
        facing = np.abs(np.einsum("ij,ij->i", shade_info[:, :3], directions))
        shade = (shade_info[:, 3] + 0.45 * facing) / (1.0 + 0.04 * np.minimum(t, 50.0))
        shade[~hit] = 0.0
        rgb = color * shade[:, None]
        np.clip(rgb, 0, 255, out=rgb)
        return rgb.astype(np.uint8)
