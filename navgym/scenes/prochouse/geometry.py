"""Closed primitives (axis-aligned boxes, cylinders) and their vectorised triangulation.

Every primitive is a closed volume whose triangles are wound counter-clockwise seen from outside,
so normals point outwards. Each face owns its vertices, which carry UVs in metres divided by the
material's tile size (or fitted once across the face for pictures and screens).

Models are built in a local frame and placed with quarter turns about +y (:class:`Pose`), which
keep boxes axis-aligned: a 90 degree turn maps an axis-aligned box onto another one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Cylinder tessellation: segments around the axis.
CYLINDER_SEGMENTS = 12

#: Unit front vectors (x, z) of the four quarter turns; turn 0 faces +z.
FRONTS = ((0.0, 1.0), (1.0, 0.0), (0.0, -1.0), (-1.0, 0.0))


@dataclass(frozen=True)
class Box:
    """An axis-aligned box.

    Attributes:
        lo, hi: Opposite corners (x, y, z), metres; ``hi`` exceeds ``lo`` on every axis.
        material: Material index.
        fit_uv: Map the texture exactly once across every face (pictures, screens) instead of
            tiling it at the material's density.
    """

    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    material: int
    fit_uv: bool = False

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.lo, dtype=np.float64), np.asarray(self.hi, dtype=np.float64)


@dataclass(frozen=True)
class Cylinder:
    """A closed cylinder along a coordinate axis.

    Attributes:
        center: Centre of the axis segment (x, y, z), metres.
        radius: Radius, metres.
        half_length: Half the length along ``axis``, metres.
        axis: 0, 1 or 2 for x, y (vertical) or z.
        material: Material index.
    """

    center: tuple[float, float, float]
    radius: float
    half_length: float
    axis: int
    material: int

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        extent = np.full(3, self.radius)
        extent[self.axis] = self.half_length
        center = np.asarray(self.center, dtype=np.float64)
        return center - extent, center + extent


Part = Box | Cylinder


@dataclass(frozen=True)
class Pose:
    """A placement: ``turns`` quarter turns about +y, then a translation.

    A local point (x, y, z) goes to ``R @ (x, z) + (x0, z0)`` horizontally and ``y + y0``
    vertically, where ``R`` turns the local front (+z) onto ``FRONTS[turns]``.
    """

    turns: int
    x: float
    z: float
    y: float = 0.0

    @property
    def front(self) -> tuple[float, float]:
        return FRONTS[self.turns % 4]

    def apply_xz(self, x: float, z: float) -> tuple[float, float]:
        fx, fz = self.front
        return (fz * x + fx * z + self.x, -fx * x + fz * z + self.z)

    def compose(self, inner: Pose) -> Pose:
        """The pose of something placed with ``inner`` in the frame this pose places."""
        x, z = self.apply_xz(inner.x, inner.z)
        return Pose((self.turns + inner.turns) % 4, x, z, self.y + inner.y)

    def apply(self, part: Part) -> Part:
        if isinstance(part, Box):
            (x0, z0), (x1, z1) = self.apply_xz(part.lo[0], part.lo[2]), self.apply_xz(part.hi[0], part.hi[2])
            lo = (min(x0, x1), part.lo[1] + self.y, min(z0, z1))
            hi = (max(x0, x1), part.hi[1] + self.y, max(z0, z1))
            return Box(lo, hi, part.material, part.fit_uv)
        cx, cz = self.apply_xz(part.center[0], part.center[2])
        axis = part.axis if part.axis == 1 or self.turns % 2 == 0 else 2 - part.axis
        return Cylinder((cx, part.center[1] + self.y, cz), part.radius, part.half_length, axis, part.material)


def lift(part: Part, dy: float) -> Part:
    """The part moved ``dy`` metres up (a storey's things are built at y = 0, then lifted)."""
    if dy == 0.0:
        return part
    if isinstance(part, Box):
        return Box((part.lo[0], part.lo[1] + dy, part.lo[2]), (part.hi[0], part.hi[1] + dy, part.hi[2]), part.material, part.fit_uv)
    return Cylinder((part.center[0], part.center[1] + dy, part.center[2]), part.radius, part.half_length, part.axis, part.material)


def parts_bounds(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds (lo, hi) of several parts."""
    los, his = zip(*(p.bounds() for p in parts))
    return np.min(los, axis=0), np.max(his, axis=0)


def embed_touching(parts: list[Part], depth: float = 0.001) -> list[Part]:
    """Sink parts that touch face to face ``depth`` into each other.

    Two closed parts sharing a plane with opposite normals give a ray two equally near faces, one
    of them a back face; a ray grazing the seam may then look as if it started inside a solid.
    Moving the smaller face ``depth`` into the other part leaves one visible face per plane.
    """
    lo = np.array([p.bounds()[0] for p in parts])
    hi = np.array([p.bounds()[1] for p in parts])
    planar = np.array([[isinstance(p, Box) or p.axis == k for k in range(3)] for p in parts])
    moves: list[tuple[int, int, float]] = []  # (part, axis, signed growth of its face)
    for k in range(3):
        a, b = [(k + 1) % 3, (k + 2) % 3]
        touching = np.abs(hi[:, None, k] - lo[None, :, k]) < 1e-7
        touching &= planar[:, None, k] & planar[None, :, k]
        for m in (a, b):
            overlap = np.minimum(hi[:, None, m], hi[None, :, m]) - np.maximum(lo[:, None, m], lo[None, :, m])
            touching &= overlap > 1e-7
        area = (hi[:, a] - lo[:, a]) * (hi[:, b] - lo[:, b])
        for i, j in zip(*np.nonzero(touching)):
            moves.append((int(i), k, depth) if area[i] <= area[j] else (int(j), k, -depth))
    result = list(parts)
    for index, k, growth in moves:
        result[index] = _grow(result[index], k, growth)
    return result


def _grow(part: Part, axis: int, growth: float) -> Part:
    """Move the part's face on the +axis side (growth > 0) or -axis side (growth < 0) outwards."""
    if isinstance(part, Box):
        lo, hi = list(part.lo), list(part.hi)
        if growth > 0:
            hi[axis] += growth
        else:
            lo[axis] += growth
        return Box(tuple(lo), tuple(hi), part.material, part.fit_uv)
    center = list(part.center)
    center[axis] += growth / 2
    return Cylinder(tuple(center), part.radius, part.half_length + abs(growth) / 2, part.axis, part.material)


def _box_face_frames() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per box face: 4 unit-cube corners (counter-clockwise from outside), and its u and v axes.

    A face with normal n has v = +y and u = y x n when vertical (textures upright, not mirrored,
    seen from outside) and u = +x, v = n x u when horizontal, so that u x v = n.
    """
    corners, u_axes, v_axes = [], [], []
    up = np.array([0.0, 1.0, 0.0])
    for axis in range(3):
        for sign in (1.0, -1.0):
            normal = np.zeros(3)
            normal[axis] = sign
            u = np.cross(up, normal) if axis != 1 else np.array([1.0, 0.0, 0.0])
            v = np.cross(normal, u)
            centre = 0.5 + 0.5 * normal
            quad = [centre + 0.5 * su * u + 0.5 * sv * v for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            corners.append(quad)
            u_axes.append(u)
            v_axes.append(v)
    return np.round(corners), np.array(u_axes), np.array(v_axes)


_BOX_CORNERS, _BOX_U, _BOX_V = _box_face_frames()
_QUAD_TRIANGLES = np.array([[0, 1, 2], [0, 2, 3]])
# Cyclic axis frames (i, j, k) with e_i x e_j = e_k, indexed by the cylinder axis k.
_CYLINDER_FRAMES = {0: (1, 2), 1: (2, 0), 2: (0, 1)}


@dataclass
class MeshArrays:
    """A triangle soup with per-vertex UVs and per-face material and instance ids."""

    vertices: np.ndarray
    faces: np.ndarray
    uvs: np.ndarray
    face_material: np.ndarray
    face_instance: np.ndarray


class MeshBuilder:
    """Collects primitives and triangulates them all at once.

    Args:
        tile_sizes: Metres per texture repeat for every material index.
    """

    def __init__(self, tile_sizes: list[float]):
        self.tile_sizes = tile_sizes
        self._boxes: list[tuple] = []
        self._cylinders: list[tuple] = []

    def add(self, part: Part, instance: int) -> None:
        if isinstance(part, Box):
            lo, hi = part.bounds()
            if np.any(hi <= lo):
                raise ValueError(f"Box lo={part.lo} hi={part.hi}: hi must exceed lo on every axis")
            self._boxes.append((*lo, *hi, part.material, instance, float(part.fit_uv)))
        else:
            if part.radius <= 0 or part.half_length <= 0:
                raise ValueError(f"Cylinder radius={part.radius} half_length={part.half_length} must be > 0")
            self._cylinders.append((*part.center, part.radius, part.half_length, part.axis, part.material, instance))

    def build(self) -> MeshArrays:
        chunks = [self._triangulate_boxes(), self._triangulate_cylinders()]
        chunks = [c for c in chunks if c is not None]
        if not chunks:
            raise ValueError("MeshBuilder.build: add at least one primitive first")
        offset, faces = 0, []
        for chunk in chunks:
            faces.append(chunk.faces + offset)
            offset += len(chunk.vertices)
        return MeshArrays(
            vertices=np.concatenate([c.vertices for c in chunks]).astype(np.float32),
            faces=np.concatenate(faces).astype(np.int32),
            uvs=np.concatenate([c.uvs for c in chunks]).astype(np.float32),
            face_material=np.concatenate([c.face_material for c in chunks]).astype(np.int32),
            face_instance=np.concatenate([c.face_instance for c in chunks]).astype(np.int32),
        )

    def _triangulate_boxes(self) -> MeshArrays | None:
        if not self._boxes:
            return None
        rows = np.array(self._boxes, dtype=np.float64)
        lo, hi = rows[:, 0:3], rows[:, 3:6]
        material, instance, fit = rows[:, 6].astype(np.int64), rows[:, 7].astype(np.int64), rows[:, 8] > 0
        size = hi - lo
        vertices = lo[:, None, None, :] + _BOX_CORNERS[None] * size[:, None, None, :]  # (N, 6, 4, 3)
        tiles = np.asarray(self.tile_sizes, dtype=np.float64)[material]
        # Tiled faces measure from the world origin; fitted faces from the box corner, per axis.
        origin = np.where(fit[:, None], lo, 0.0)
        scale = np.where(fit[:, None], size, tiles[:, None])
        local = (vertices - origin[:, None, None, :]) / scale[:, None, None, :]
        uvs = np.stack(
            [np.einsum("nfcx,fx->nfc", local, _BOX_U), np.einsum("nfcx,fx->nfc", local, _BOX_V)], axis=-1
        )
        n = len(rows)
        quad_base = 4 * np.arange(6 * n)
        faces = (quad_base[:, None, None] + _QUAD_TRIANGLES[None]).reshape(-1, 3)
        return MeshArrays(
            vertices=vertices.reshape(-1, 3),
            faces=faces,
            uvs=uvs.reshape(-1, 2),
            face_material=np.repeat(material, 12),
            face_instance=np.repeat(instance, 12),
        )

    def _triangulate_cylinders(self) -> MeshArrays | None:
        if not self._cylinders:
            return None
        rows = np.array(self._cylinders, dtype=np.float64)
        parts = [self._triangulate_cylinder_axis(rows[rows[:, 5] == axis], axis) for axis in range(3)]
        parts = [p for p in parts if p is not None]
        offset, faces = 0, []
        for p in parts:
            faces.append(p.faces + offset)
            offset += len(p.vertices)
        return MeshArrays(
            vertices=np.concatenate([p.vertices for p in parts]),
            faces=np.concatenate(faces),
            uvs=np.concatenate([p.uvs for p in parts]),
            face_material=np.concatenate([p.face_material for p in parts]),
            face_instance=np.concatenate([p.face_instance for p in parts]),
        )

    def _triangulate_cylinder_axis(self, rows: np.ndarray, axis: int) -> MeshArrays | None:
        """Cylinders along one axis: a quad per side segment and a fan per cap."""
        if len(rows) == 0:
            return None
        s = CYLINDER_SEGMENTS
        n = len(rows)
        centre, radius, half = rows[:, 0:3], rows[:, 3], rows[:, 4]
        material, instance = rows[:, 6].astype(np.int64), rows[:, 7].astype(np.int64)
        tiles = np.asarray(self.tile_sizes, dtype=np.float64)[material]
        i, j = _CYLINDER_FRAMES[axis]
        theta = 2.0 * np.pi * np.arange(s + 1) / s
        cos, sin = np.cos(theta), np.sin(theta)

        def ring(height_sign: float) -> np.ndarray:
            pts = np.repeat(centre[:, None, :], s + 1, axis=1)
            pts[:, :, i] += radius[:, None] * cos[None]
            pts[:, :, j] += radius[:, None] * sin[None]
            pts[:, :, axis] += height_sign * half[:, None]
            return pts  # (N, s + 1, 3)

        bottom, top = ring(-1.0), ring(1.0)
        # Side: quad m = (bottom m, bottom m+1, top m+1, top m), counter-clockwise from outside.
        side = np.stack([bottom[:, :-1], bottom[:, 1:], top[:, 1:], top[:, :-1]], axis=2)  # (N, s, 4, 3)
        arc = (radius[:, None] * theta[None]) / tiles[:, None]
        side_u = np.stack([arc[:, :-1], arc[:, 1:], arc[:, 1:], arc[:, :-1]], axis=2)
        side_v = side[..., axis] / tiles[:, None, None]
        side_uv = np.stack([side_u, side_v], axis=-1)
        # Caps: centre vertex followed by s ring vertices.
        caps, cap_uv = [], []
        for height_sign, rim in ((1.0, top), (-1.0, bottom)):
            c = centre.copy()
            c[:, axis] += height_sign * half
            pts = np.concatenate([c[:, None, :], rim[:, :-1]], axis=1)  # (N, s + 1, 3)
            caps.append(pts)
            cap_uv.append(np.stack([pts[..., i], pts[..., j]], axis=-1) / tiles[:, None, None])

        per_cyl = 4 * s + 2 * (s + 1)
        vertices = np.concatenate([side.reshape(n, -1, 3), caps[0], caps[1]], axis=1)
        uvs = np.concatenate([side_uv.reshape(n, -1, 2), cap_uv[0], cap_uv[1]], axis=1)
        side_faces = (4 * np.arange(s)[:, None, None] + _QUAD_TRIANGLES[None]).reshape(-1, 3)
        m = np.arange(s)
        nxt = (m + 1) % s
        top_start, bottom_start = 4 * s, 4 * s + s + 1
        top_faces = np.stack([np.zeros(s, int), 1 + m, 1 + nxt], axis=1) + top_start
        bottom_faces = np.stack([np.zeros(s, int), 1 + nxt, 1 + m], axis=1) + bottom_start
        template = np.concatenate([side_faces, top_faces, bottom_faces])
        faces = (per_cyl * np.arange(n)[:, None, None] + template[None]).reshape(-1, 3)
        per_faces = len(template)
        return MeshArrays(
            vertices=vertices.reshape(-1, 3),
            faces=faces,
            uvs=uvs.reshape(-1, 2),
            face_material=np.repeat(material, per_faces),
            face_instance=np.repeat(instance, per_faces),
        )
