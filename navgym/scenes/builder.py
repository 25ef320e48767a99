"""Build small scenes by hand from axis-aligned boxes: for tests, tutorials and toy worlds.

Example:
    >>> b = SceneBuilder("corridor")
    >>> floor = b.material("floor", "wood", (150, 110, 70))
    >>> b.add_box((0, -0.1, 0), (4, 0, 1), floor, category="floor")
    1
    >>> scene = b.build()
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from navgym.scenes.scene import Material, ObjectInstance, Room, Scene

# The six faces of a unit box as (normal axis, sign); corners chosen counter-clockwise from outside.
_BOX_FACES = (
    ((1, 0, 1), (1, 0, 0), (1, 1, 0), (1, 1, 1)),  # +x
    ((0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 1, 0)),  # -x
    ((0, 1, 0), (0, 1, 1), (1, 1, 1), (1, 1, 0)),  # +y
    ((0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)),  # -y
    ((0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)),  # +z
    ((1, 0, 0), (0, 0, 0), (0, 1, 0), (1, 1, 0)),  # -z
)


class SceneBuilder:
    """Accumulates textured boxes with instance ids, then builds a :class:`Scene`.

    Args:
        name: The scene's id.
        uv_scale: Metres per texture repeat.
    """

    def __init__(self, name: str = "scene", uv_scale: float = 0.5):
        self.name = name
        self.uv_scale = float(uv_scale)
        self.materials: list[Material] = []
        self.instances: list[ObjectInstance] = []
        self.rooms: list[Room] = []
        self._vertices: list[np.ndarray] = []
        self._uvs: list[np.ndarray] = []
        self._faces: list[np.ndarray] = []
        self._face_material: list[np.ndarray] = []
        self._face_instance: list[np.ndarray] = []
        self._count = 0

    def material(self, name: str, kind: str, color: Sequence[int], texture: np.ndarray | None = None) -> int:
        """Add a material; returns its index."""
        self.materials.append(Material(name, kind, tuple(int(c) for c in color), texture))
        return len(self.materials) - 1

    def add_box(
        self,
        lo: Sequence[float],
        hi: Sequence[float],
        material: int,
        category: str | None = None,
        instance: int | None = None,
        room_id: int | None = None,
        attributes: dict | None = None,
    ) -> int:
        """Add a closed box with outward faces. With ``category`` it becomes a new instance; with
        ``instance`` it joins an existing one. Returns the instance id (0 for none)."""
        lo_arr, hi_arr = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        if np.any(hi_arr <= lo_arr):
            raise ValueError(f"add_box: hi={list(hi)} must exceed lo={list(lo)} on every axis")
        if category is not None:
            instance = len(self.instances) + 1
            self.instances.append(
                ObjectInstance(instance, category, room_id, lo_arr.copy(), hi_arr.copy(), dict(attributes or {}))
            )
        elif instance is not None:
            inst = self.instances[instance - 1]
            inst.bbox_min = np.minimum(inst.bbox_min, lo_arr)
            inst.bbox_max = np.maximum(inst.bbox_max, hi_arr)
        instance = instance or 0
        size = hi_arr - lo_arr
        for corners in _BOX_FACES:
            quad = lo_arr + np.asarray(corners, dtype=np.float64) * size
            normal = np.cross(quad[1] - quad[0], quad[2] - quad[0])
            axis = int(np.argmax(np.abs(normal)))
            u_axis, v_axis = [a for a in range(3) if a != axis]
            uv = np.stack([quad[:, u_axis], quad[:, v_axis]], axis=1) / self.uv_scale
            self._add_quad(quad, uv, material, instance)
        return instance

    def add_room(self, room_type: str, bounds: tuple[float, float, float, float], name: str = "") -> int:
        """Annotate a room; returns its id."""
        room_id = len(self.rooms)
        self.rooms.append(Room(room_id, room_type, tuple(float(b) for b in bounds), 0.0, name or room_type))
        return room_id

    def _add_quad(self, quad: np.ndarray, uv: np.ndarray, material: int, instance: int) -> None:
        base = self._count
        self._vertices.append(quad)
        self._uvs.append(uv)
        self._faces.append(np.array([[base, base + 1, base + 2], [base, base + 2, base + 3]]))
        self._face_material.append(np.full(2, material))
        self._face_instance.append(np.full(2, instance))
        self._count += 4

    def build(self) -> Scene:
        """The scene built so far."""
        if not self._faces:
            raise ValueError(f"SceneBuilder {self.name!r}: add at least one box before build()")
        return Scene(
            vertices=np.concatenate(self._vertices),
            faces=np.concatenate(self._faces),
            uvs=np.concatenate(self._uvs),
            face_material=np.concatenate(self._face_material),
            face_instance=np.concatenate(self._face_instance),
            materials=list(self.materials),
            instances=list(self.instances),
            rooms=list(self.rooms),
            name=self.name,
        )
