"""The embedded simulator: CPU ray casting + grid navigability, runs anywhere after ``pip install``."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from navgym.scenes.scene import ObjectInstance, Scene
from navgym.sims.base import (
    MOTION_ACTIONS,
    AgentSpec,
    AgentState,
    CameraSpec,
    Simulator,
    TopDownMap,
    heading_vector,
    yaw_to_quaternion,
)
from navgym.sims.embedded.navgrid import NavGrid
from navgym.sims.embedded.raycast import RayCaster, camera_rotation

#: Up-facing surface area (as a share of the largest) that makes a height a storey.
_STOREY_AREA_SHARE = 0.25


class EmbeddedSimulator(Simulator):
    """CPU simulator of a triangle-mesh :class:`~navgym.scenes.scene.Scene`.

    Args:
        scene: A scene, or a scene id that :func:`navgym.scenes.sources.load_scene_by_id` resolves
            (``"prochouse/42"``, or a mesh path relative to ``data_root``).
        agent_spec: The agent's body and discrete motion.
        data_root: Root of the user's Habitat-style data folder, for scene ids that are paths.
        cell_size: Navigation grid resolution, metres.
    """

    def __init__(
        self,
        scene: Scene | str,
        agent_spec: AgentSpec | None = None,
        data_root: str | Path | None = None,
        cell_size: float = 0.05,
    ):
        self.agent_spec = agent_spec or AgentSpec()
        self.data_root = data_root
        self.cell_size = float(cell_size)
        if not 0.01 <= self.cell_size <= 0.5:
            raise ValueError(f"cell_size={cell_size!r} is out of range; allowed [0.01, 0.5] metres")
        self._scene: Scene | None = None
        self._caster: RayCaster | None = None
        self._grids: dict[float, NavGrid] = {}
        self._warned_unannotated = False
        self.load_scene(scene)

    # -- scene ---------------------------------------------------------------------------------
    def load_scene(self, scene: Scene | str) -> None:
        """Replace the scene (a no-op when the same scene id is already loaded)."""
        if isinstance(scene, str):
            if self._scene is not None and self._scene.name == scene:
                return
            from navgym.scenes.sources import load_scene_by_id

            scene = load_scene_by_id(scene, data_root=self.data_root)
        if not isinstance(scene, Scene):
            raise TypeError(f"scene must be a navgym Scene or a scene id string, got {type(scene).__name__}")
        self._scene = scene
        self._caster = None
        self._grids = {}
        self._storeys: list[float] | None = None
        self._warned_unannotated = False
        centre = self._default_start()
        self._state = AgentState(centre, yaw_to_quaternion(0.0))

    @property
    def scene(self) -> Scene:
        assert self._scene is not None
        return self._scene

    @property
    def scene_id(self) -> str:
        return self.scene.name

    @property
    def caster(self) -> RayCaster:
        if self._caster is None:
            self._caster = RayCaster(self.scene)
        return self._caster

    def object_instances(self) -> list[ObjectInstance]:
        return list(self.scene.instances)

    # -- storeys -------------------------------------------------------------------------------
    def storey_heights(self) -> list[float]:
        """Floor heights of the scene's storeys, from the area of up-facing surfaces."""
        if self._storeys is None:
            normals = self.caster.face_normals
            tri = self.scene.vertices[self.scene.faces]
            area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
            up = normals[:, 1] > 0.9
            if not up.any():
                self._storeys = [float(self.scene.vertices[:, 1].min())]
            else:
                heights = tri[up][:, :, 1].mean(axis=1)
                bins = np.round(heights / 0.1).astype(np.int64)
                uniq, inverse = np.unique(bins, return_inverse=True)
                totals = np.bincount(inverse, weights=area[up])
                keep = totals >= _STOREY_AREA_SHARE * totals.max()
                # A storey is under a roof: most of its floor has something above it (this drops
                # the top of a ceiling slab or a flat roof).
                centroids = tri[up].mean(axis=1)
                storeys = []
                for bin_value in uniq[keep]:
                    points = centroids[bins == bin_value][:: max(1, int((bins == bin_value).sum()) // 500)]
                    _, prim, _, _ = self.caster.cast(points + [0.0, 0.05, 0.0], np.tile([0.0, 1.0, 0.0], (len(points), 1)))
                    if (prim >= 0).mean() >= 0.5:
                        storeys.append(float(bin_value * 0.1))
                self._storeys = sorted(storeys) or [float(uniq[np.argmax(totals)] * 0.1)]
        return self._storeys

    def _storey_for(self, y: float) -> float:
        storeys = self.storey_heights()
        return min(storeys, key=lambda s: abs(s - y))

    def grid(self, y: float | None = None) -> NavGrid:
        """The navigation grid of the storey nearest to height ``y`` (the agent's by default)."""
        storey = self._storey_for(self._state.position[1] if y is None else y)
        if storey not in self._grids:
            spec = self.agent_spec
            self._grids[storey] = NavGrid(self.caster, storey, spec.radius, spec.height, spec.max_climb, self.cell_size)
        return self._grids[storey]

    def _main_grid(self) -> NavGrid:
        grids = [self.grid(s) for s in self.storey_heights()]
        return max(grids, key=lambda g: int(g.navigable.sum()))

    def _default_start(self) -> np.ndarray:
        grid = self._main_grid()
        cells = np.argwhere(grid.labels == grid.largest_label)
        if len(cells) == 0:
            lo, hi = self.scene.bounds
            return np.array([(lo[0] + hi[0]) / 2, grid.floor_height, (lo[2] + hi[2]) / 2])
        row, col = cells[len(cells) // 2]
        return grid.to_world(int(row), int(col))

    # -- agent ---------------------------------------------------------------------------------
    def get_agent_state(self) -> AgentState:
        return self._state.copy()

    def set_agent_state(self, state: AgentState, snap: bool = False) -> AgentState:
        state = state.copy()
        grid = self.grid(state.position[1])
        if not grid.is_navigable(state.position):
            nearest, distance = grid.nearest_navigable(state.position)
            if not snap:
                raise ValueError(
                    f"Agent position {np.round(state.position, 3).tolist()} is not navigable; the nearest "
                    f"navigable point is {distance:.3f} m away at {np.round(nearest, 3).tolist()}. "
                    "Pass snap=True to move there."
                )
            state.position = nearest
        state.position[1] = grid.floor_at(state.position)
        state.tilt = float(np.clip(state.tilt, -90.0, 90.0))
        self._state = state
        return state.copy()

    def _walk(self, grid: NavGrid, start: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, float]:
        """Move as far as possible along ``delta``; returns the end point and the fraction done."""
        length = float(np.hypot(delta[0], delta[2]))
        if length == 0.0:
            return start, 1.0
        n = max(1, int(math.ceil(length / (0.2 * grid.cell_size))))
        ts = np.arange(1, n + 1) / n
        xs = start[0] + ts * delta[0]
        zs = start[2] + ts * delta[2]
        cols = np.floor((xs - grid.origin[0]) / grid.cell_size).astype(int)
        rows = np.floor((zs - grid.origin[1]) / grid.cell_size).astype(int)
        inside = (rows >= 0) & (cols >= 0) & (rows < grid.rows) & (cols < grid.cols)
        ok = np.zeros(n, dtype=bool)
        ok[inside] = grid.navigable[rows[inside], cols[inside]]
        blocked = np.flatnonzero(~ok)
        done = n if len(blocked) == 0 else int(blocked[0])
        if done == 0:
            return start, 0.0
        end = start.copy()
        end[0], end[2] = xs[done - 1], zs[done - 1]
        return end, done / n

    def _move(self, delta: np.ndarray) -> bool:
        """Translate the agent by ``delta`` with Habitat-like sliding; returns whether it collided."""
        grid = self.grid()
        position = self._state.position
        end, fraction = self._walk(grid, position, delta)
        collided = fraction < 1.0
        if collided:
            remaining = delta * (1.0 - fraction)
            axes = sorted((0, 2), key=lambda a: -abs(remaining[a]))
            for axis in axes:
                along = np.zeros(3)
                along[axis] = remaining[axis]
                slid, moved = self._walk(grid, end, along)
                if moved > 0.0:
                    end = slid
                    break
        end[1] = grid.floor_at(end)
        self._state.position = end
        return collided

    def _turn(self, angle_deg: float) -> None:
        self._state.rotation = yaw_to_quaternion(self._state.yaw + math.radians(angle_deg))

    def step(self, action: str) -> bool:
        spec = self.agent_spec
        if action == "move_forward":
            return self._move(heading_vector(self._state.yaw) * spec.forward_step)
        if action == "turn_left":
            self._turn(spec.turn_angle)
        elif action == "turn_right":
            self._turn(-spec.turn_angle)
        elif action == "look_up":
            self._state.tilt = min(self._state.tilt + spec.tilt_angle, 90.0)
        elif action == "look_down":
            self._state.tilt = max(self._state.tilt - spec.tilt_angle, -90.0)
        else:
            raise ValueError(f"action={action!r} is not a motion; valid motions are {MOTION_ACTIONS}")
        return False

    def velocity_step(self, linear_velocity: float, angular_velocity: float, dt: float) -> bool:
        for name, value in (("linear_velocity", linear_velocity), ("angular_velocity", angular_velocity), ("dt", dt)):
            if not math.isfinite(value):
                raise ValueError(f"{name}={value!r} must be finite")
        if not 0.0 < dt <= 10.0:
            raise ValueError(f"dt={dt!r} is out of range; allowed (0, 10] seconds")
        start_yaw = self._state.yaw
        mid_yaw = start_yaw + 0.5 * angular_velocity * dt
        collided = self._move(heading_vector(mid_yaw) * linear_velocity * dt)
        self._state.rotation = yaw_to_quaternion(start_yaw + angular_velocity * dt)
        return collided

    # -- cameras -------------------------------------------------------------------------------
    def render(self, requests: Sequence[tuple[AgentState, CameraSpec]]) -> list[dict[str, np.ndarray]]:
        cameras, outputs, ranges = [], [], []
        for state, spec in requests:
            position = np.asarray(state.position, dtype=np.float64) + np.array([0.0, spec.camera_height, 0.0])
            pitch = float(np.clip(spec.pitch + state.tilt, -90.0, 90.0))
            rotation = camera_rotation(state.yaw, math.radians(pitch), math.radians(spec.roll))
            cameras.append((position, rotation, spec.width, spec.height, spec.hfov))
            outputs.append(spec.outputs)
            ranges.append((spec.min_depth, spec.max_depth))
            if "semantic" in spec.outputs and not self.scene.annotated and not self._warned_unannotated:
                warnings.warn(
                    f"Scene {self.scene_id!r} has no semantic annotations: the semantic sensor returns 0 "
                    "everywhere (see docs/scene_format.md for adding annotations).",
                    stacklevel=2,
                )
                self._warned_unannotated = True
        return self.caster.render(cameras, outputs, ranges)

    # -- geometry ------------------------------------------------------------------------------
    def is_navigable(self, point: Sequence[float]) -> bool:
        return self.grid(point[1]).is_navigable(point)

    def snap_point(self, point: Sequence[float]) -> np.ndarray:
        grid = self.grid(point[1])
        if grid.is_navigable(point):
            snapped = np.asarray(point, dtype=np.float64).copy()
            snapped[1] = grid.floor_at(snapped)
            return snapped
        return grid.nearest_navigable(point)[0]

    def geodesic_distance(self, start: Sequence[float], goals) -> float:
        goals = np.atleast_2d(np.asarray(goals, dtype=np.float64))
        return self.grid(start[1]).geodesic_distance(np.asarray(start, dtype=np.float64), goals)

    def shortest_path(self, start: Sequence[float], goal: Sequence[float]) -> np.ndarray:
        # ``goal`` may also be (N, 3) points: the path leads to the nearest.
        return self.grid(start[1]).shortest_path(np.asarray(start, dtype=np.float64), np.asarray(goal, dtype=np.float64))

    def distance_field(self, goals, y: float | None = None) -> tuple[NavGrid, np.ndarray]:
        """The grid and the geodesic distance field to ``goals`` (for oracles and planners)."""
        grid = self.grid(y)
        return grid, grid.distance_field(np.atleast_2d(np.asarray(goals, dtype=np.float64)))

    def navigable_points_near(self, bbox_min, bbox_max, distance: float) -> np.ndarray:
        bbox_min = np.asarray(bbox_min, dtype=np.float64)
        # The storey the object stands on: the highest floor not above its bottom.
        below = [s for s in self.storey_heights() if s <= bbox_min[1] + 0.3]
        storey = max(below) if below else self._storey_for(float(bbox_min[1]))
        return self.grid(storey).cells_near_box(bbox_min, np.asarray(bbox_max, dtype=np.float64), distance)

    def sample_navigable_point(self, rng: np.random.Generator) -> np.ndarray:
        return self._main_grid().sample(rng)

    def topdown_map(self, height: float | None = None) -> TopDownMap:
        return self.grid(height).topdown_map()

    # -- pickling: Embree scenes are rebuilt on demand -----------------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_caster"] = None
        state["_grids"] = {}
        return state

    def close(self) -> None:
        self._caster = None
        self._grids = {}
