"""CPU ray casting of a :class:`~navgym.scenes.scene.Scene` with Intel Embree (``embreex``).

One :class:`RayCaster` holds the Embree scene and per-triangle lookup tables (unit normals, UVs,
materials, instance ids, a texture atlas) so that a frame is one Embree call plus a few vectorised
numpy gathers. Several cameras are rendered in one batch of rays.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from navgym.scenes.scene import Scene

#: Side of every texture in the atlas; textures are resampled to it once at load time.
ATLAS_SIZE = 64
_UP = np.array([0.0, 1.0, 0.0], dtype=np.float32)
_LIGHT = np.array([0.35, 0.85, 0.4], dtype=np.float32) / np.linalg.norm([0.35, 0.85, 0.4])


def _resize_texture(texture: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    if texture.shape[0] == size and texture.shape[1] == size:
        return texture
    return np.asarray(Image.fromarray(texture[..., :3]).resize((size, size), Image.BILINEAR))


def pixel_directions(width: int, height: int, hfov_deg: float) -> np.ndarray:
    """(H*W, 3) camera-frame ray directions with z = -1, so a hit's ``t`` is its z-depth."""
    focal = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
    cols = (np.arange(width) + 0.5 - width / 2.0) / focal
    rows = -(np.arange(height) + 0.5 - height / 2.0) / focal
    xs, ys = np.meshgrid(cols, rows)
    return np.stack([xs, ys, -np.ones_like(xs)], axis=-1).reshape(-1, 3)


class RayCaster:
    """Ray casting, texturing and shading of one scene.

    Args:
        scene: The scene to cast rays against.
    """

    def __init__(self, scene: Scene):
        try:
            from embreex import mesh_construction, rtcore_scene
        except ImportError as exc:  # pragma: no cover - embreex is a core dependency
            from gymnasium.error import DependencyNotInstalled

            raise DependencyNotInstalled(
                "The embedded simulator needs `embreex` (Intel Embree bindings): pip install embreex"
            ) from exc
        self.scene = scene
        triangles = scene.vertices[scene.faces].astype(np.float32)
        self._embree = rtcore_scene.EmbreeScene()
        if len(triangles):
            mesh_construction.TriangleMesh(self._embree, triangles)
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
        out = self._embree.run(origins, directions, dists=dists, output=1)
        return out["tfar"], out["primID"], out["u"], out["v"]

    def render(
        self,
        cameras: Sequence[tuple[np.ndarray, np.ndarray, int, int, float]],
        outputs: Sequence[Sequence[str]],
        depth_ranges: Sequence[tuple[float, float]],
        bodies: Sequence = (),
    ) -> list[dict[str, np.ndarray]]:
        """Render cameras given as ``(position, world_from_camera rotation, width, height, hfov)``.

        All rays of all cameras go to Embree in one call. ``bodies``: other agents' solids
        (:class:`navgym.sims.embedded.bodies.SolidBody`) drawn over the scene where closer.
        """
        origin_chunks, direction_chunks, unit_chunks, sizes = [], [], [], []
        for position, rotation, width, height, hfov in cameras:
            local, local_unit = self._pixel_directions(width, height, hfov)
            rotation = rotation.astype(np.float32)
            direction_chunks.append(local @ rotation.T)
            unit_chunks.append(local_unit @ rotation.T)
            origin_chunks.append(np.broadcast_to(np.asarray(position, dtype=np.float32), local.shape))
            sizes.append((height, width))
        origins = np.concatenate(origin_chunks)
        directions = np.concatenate(direction_chunks)
        t, prim, u, v = self.cast(origins, directions)
        hit = prim >= 0
        safe_prim = np.where(hit, prim, 0)
        want_rgb = any("rgb" in o for o in outputs)
        rgb_all = self._shade(np.concatenate(unit_chunks), safe_prim, u, v, hit, t) if want_rgb else None
        body_hit = None
        if bodies:
            from navgym.sims.embedded import bodies as solids

            body_t, body_index, body_normal = solids.intersect(origins, directions, list(bodies))
            body_hit = body_t < np.where(hit, t, np.inf)
            if body_hit.any():
                t = np.where(body_hit, body_t, t).astype(np.float32)
                hit = hit | body_hit
                if rgb_all is not None:
                    units = np.concatenate(unit_chunks)[body_hit]
                    rgb_all[body_hit] = solids.shade(list(bodies), body_index[body_hit], body_normal[body_hit], units, body_t[body_hit])
                body_ids = np.array([solids.AGENT_SEMANTIC_BASE + b.agent_id for b in bodies], dtype=np.int64)[np.maximum(body_index, 0)]
            else:
                body_hit = None

        results, start = [], 0
        for (height, width), wanted, (min_depth, max_depth) in zip(sizes, outputs, depth_ranges):
            stop = start + height * width
            frame: dict[str, np.ndarray] = {}
            if "depth" in wanted:
                depth = np.where(hit[start:stop], t[start:stop], max_depth)
                frame["depth"] = np.clip(depth, min_depth, max_depth).astype(np.float32).reshape(height, width, 1)
            if "semantic" in wanted:
                ids = np.where(hit[start:stop], self.face_instance.take(safe_prim[start:stop]), 0)
                if body_hit is not None:
                    ids = np.where(body_hit[start:stop], body_ids[start:stop], ids)
                frame["semantic"] = ids.astype(np.int32).reshape(height, width)
            if "rgb" in wanted:
                frame["rgb"] = rgb_all[start:stop].reshape(height, width, 3)
            results.append(frame)
            start = stop
        return results

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
