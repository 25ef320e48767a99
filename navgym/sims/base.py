"""The simulator interface every backend implements.

It is deliberately small: each method is something habitat-sim, an AirSim server and Isaac Sim
can also do (see ``docs/architecture.md`` for the table). Tasks, embodiments, envs and agents
only talk to a simulator through this interface.

Agents are addressed by id: agent 0 exists from construction (with the body the simulator was
built with); :meth:`Simulator.add_agent` adds more, each with its own body, so several agents can
share one scene. Geometry queries (navigability, geodesics) are for one agent's body.

Motion is three primitives: :meth:`Simulator.move_agent` (translate along the floor, sliding
along obstacles), :meth:`Simulator.turn_agent` (rotate in place, tilt the camera) and
:meth:`Simulator.set_agent_state` (place). An embodiment turns its actions into these
(``navgym.embodiments``); the simulator knows nothing of actions.

Conventions (Habitat's): y is up, metres; positions are on the floor; at the identity rotation the
agent looks along -z; rotations are quaternions ``[x, y, z, w]``; positive yaw turns left
(counter-clockwise seen from above).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from navgym.core.specs import CAMERA_OUTPUTS, AgentState, BodySpec, CameraSpec
from navgym.scenes.scene import ObjectInstance, SceneGraph

__all__ = ["CAMERA_OUTPUTS", "AgentState", "BodySpec", "CameraSpec", "Simulator", "TopDownMap"]


class Simulator(ABC):
    """A world with agents in it: motion, cameras at any pose, geometry queries, annotations.

    Backends: :class:`navgym.sims.embedded.EmbeddedSimulator` (CPU ray casting, always
    available); others register by name in :data:`navgym.sims.SIMULATORS`. Check a backend with
    :func:`navgym.testing.check_simulator`.
    """

    # -- scene ---------------------------------------------------------------------------------
    @property
    @abstractmethod
    def scene_id(self) -> str:
        """The id of the loaded scene."""

    @abstractmethod
    def object_instances(self) -> list[ObjectInstance]:
        """Annotated object instances (empty when the scene has no annotations)."""

    def scene_graph(self) -> SceneGraph:
        """Object instances, rooms and spatial relations of the scene (backends without rooms or
        relations return instances only)."""
        return SceneGraph(instances=self.object_instances(), name=self.scene_id)

    # -- agents --------------------------------------------------------------------------------
    @property
    @abstractmethod
    def agent_ids(self) -> tuple[int, ...]:
        """Ids of the agents in the scene; 0 is always there."""

    @abstractmethod
    def add_agent(self, body: BodySpec, state: AgentState | None = None) -> int:
        """Add an agent with ``body`` (at ``state``, snapped, or the scene's default start);
        returns its id."""

    @abstractmethod
    def body(self, agent_id: int = 0) -> BodySpec:
        """The body of an agent."""

    @abstractmethod
    def get_agent_state(self, agent_id: int = 0) -> AgentState:
        """A copy of an agent's state."""

    @abstractmethod
    def set_agent_state(self, state: AgentState, snap: bool = False, agent_id: int = 0) -> AgentState:
        """Place an agent (position, rotation, tilt). Off the navigable area it raises
        ``ValueError`` with the distance to the nearest navigable point, or moves there when
        ``snap`` is true. Returns the state set (on the floor)."""

    @abstractmethod
    def move_agent(self, displacement: Sequence[float], agent_id: int = 0) -> bool:
        """Translate an agent by ``displacement`` (x, z; y is ignored) along the floor. Where an
        obstacle blocks it, the agent stops at the obstacle and slides along it (Habitat's
        rule); returns True when the motion collided."""

    @abstractmethod
    def turn_agent(self, yaw: float, tilt: float = 0.0, agent_id: int = 0) -> None:
        """Rotate an agent in place by ``yaw`` radians (positive = left) and tilt its camera by
        ``tilt`` degrees (positive = up; the tilt stays within [-90, 90])."""

    # -- cameras -------------------------------------------------------------------------------
    @abstractmethod
    def render(self, requests: Sequence[tuple[AgentState, CameraSpec]]) -> list[dict[str, np.ndarray]]:
        """Render cameras at arbitrary poses in one batch.

        Each request is an agent state (floor position, yaw, tilt) and a camera spec (size, HFOV,
        height above the floor, pitch, roll). Returns, per request, ``rgb`` (H, W, 3) uint8,
        ``depth`` (H, W, 1) float32 metres and ``semantic`` (H, W) int32 instance ids, as asked.
        """

    def render_agent(self, spec: CameraSpec, agent_id: int = 0) -> dict[str, np.ndarray]:
        """Render a camera mounted on an agent."""
        return self.render([(self.get_agent_state(agent_id), spec)])[0]

    # -- geometry (for one agent's body) -------------------------------------------------------
    @abstractmethod
    def is_navigable(self, point: Sequence[float], agent_id: int = 0) -> bool:
        """Whether the agent's centre can stand at ``point``."""

    def footprint_collisions(self, position: Sequence[float], yaw: float, length: float, width: float, agent_id: int = 0) -> int:
        """How many sample points of a rectangular footprint lie on obstacles (0: it is free).

        The rectangle is ``length`` metres along the heading ``yaw`` and ``width`` across it,
        centred at ``position``; obstacles are what blocks the agent's body (its height and
        climb). Embodiments with a rectangular body (the quadruped) call it after each motion;
        the count, not just a yes/no, lets them refuse only motions that make an overlap worse.

        This default approximates the rectangle by the agent's own cylinder swept along the
        rectangle's longer axis: :meth:`is_navigable` at points 5 cm apart on that axis, up to
        ``(max(length, width) / 2 - body radius)`` from the centre (exact for a round body).
        Backends with an occupancy grid override it with the rectangle itself (the embedded
        simulator does).
        """
        long_side = max(length, width)
        axis_yaw = yaw if length >= width else yaw + np.pi / 2
        reach = max(0.0, long_side / 2 - self.body(agent_id).radius)
        count = max(1, int(np.ceil(2 * reach / 0.05)) + 1)
        offsets = np.linspace(-reach, reach, count)
        direction = np.array([-np.sin(axis_yaw), 0.0, -np.cos(axis_yaw)])
        centre = np.asarray(position, dtype=np.float64)
        return sum(not self.is_navigable(centre + t * direction, agent_id) for t in offsets)

    @abstractmethod
    def snap_point(self, point: Sequence[float], agent_id: int = 0) -> np.ndarray:
        """The nearest navigable point (on the storey of ``point``)."""

    @abstractmethod
    def geodesic_distance(self, start: Sequence[float], goals: Sequence[Sequence[float]] | np.ndarray, agent_id: int = 0) -> float:
        """Shortest walkable distance from ``start`` to the nearest of ``goals`` (inf if none is reachable)."""

    @abstractmethod
    def shortest_path(self, start: Sequence[float], goal: Sequence[float] | np.ndarray, agent_id: int = 0) -> np.ndarray:
        """Waypoints (N, 3) from start to goal (or to the nearest of (M, 3) goals); empty when unreachable."""

    @abstractmethod
    def sample_navigable_point(self, rng: np.random.Generator, agent_id: int = 0) -> np.ndarray:
        """A uniformly drawn navigable point on the largest connected navigable region."""

    @abstractmethod
    def navigable_points_near(self, bbox_min: Sequence[float], bbox_max: Sequence[float], distance: float, agent_id: int = 0) -> np.ndarray:
        """Navigable points (N, 3) within ``distance`` (horizontally) of a box's footprint, on the
        box's storey: the view points of an object goal when a dataset gives none."""

    @abstractmethod
    def topdown_map(self, height: float | None = None, agent_id: int = 0) -> "TopDownMap":
        """A top-down occupancy map of the storey at ``height`` (the agent's by default)."""

    def close(self) -> None:
        """Release resources."""


@dataclass
class TopDownMap:
    """A top-down map: ``grid`` (rows along +z, cols along +x) with 0 = outside,
    1 = obstacle, 2 = navigable; ``origin`` is the world (x, z) of cell (0, 0)'s corner."""

    grid: np.ndarray
    origin: tuple[float, float]
    cell_size: float

    def world_to_cell(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) or (3,) world points → (N, 2) or (2,) integer (row, col)."""
        points = np.asarray(points, dtype=np.float64)
        col = np.floor((points[..., 0] - self.origin[0]) / self.cell_size).astype(np.int64)
        row = np.floor((points[..., 2] - self.origin[1]) / self.cell_size).astype(np.int64)
        return np.stack([row, col], axis=-1)

    def to_rgb(self) -> np.ndarray:
        """A (rows, cols, 3) uint8 picture: navigable light, obstacles grey, outside dark."""
        palette = np.array([[30, 30, 30], [120, 120, 120], [235, 235, 235]], dtype=np.uint8)
        return palette[self.grid]


class OwnAgents:
    """The agent half of :class:`Simulator` for backends that keep their agents' bodies and
    states themselves (embedded, habitat-sim): ``self._bodies`` and ``self._states`` by agent id,
    and ``self._default_start(agent_id)``, a navigable point for a new agent. Turning only
    changes the stored state, so it lives here too; moving is the backend's."""

    _bodies: dict[int, BodySpec]
    _states: dict[int, AgentState]

    def _default_start(self, agent_id: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def agent_ids(self) -> tuple[int, ...]:
        return tuple(self._bodies)

    def add_agent(self, body: BodySpec, state: AgentState | None = None) -> int:
        from navgym.core.geometry import yaw_to_quaternion
        from navgym.errors import InvalidArgumentError

        if not isinstance(body, BodySpec):
            raise InvalidArgumentError(f"body={body!r} must be a navgym BodySpec(radius, height, max_climb)")
        agent_id = max(self._bodies) + 1
        self._bodies[agent_id] = body
        self._states[agent_id] = AgentState(self._default_start(agent_id), yaw_to_quaternion(0.0))
        if state is not None:
            self.set_agent_state(state, snap=True, agent_id=agent_id)  # type: ignore[attr-defined]
        return agent_id

    def body(self, agent_id: int = 0) -> BodySpec:
        from navgym.errors import InvalidArgumentError

        try:
            return self._bodies[agent_id]
        except (KeyError, TypeError):
            raise InvalidArgumentError(f"agent_id={agent_id!r} is not an agent of this simulator; its agents are {self.agent_ids}") from None

    def get_agent_state(self, agent_id: int = 0) -> AgentState:
        self.body(agent_id)
        return self._states[agent_id].copy()

    def turn_agent(self, yaw: float, tilt: float = 0.0, agent_id: int = 0) -> None:
        import math

        from navgym.core.geometry import yaw_to_quaternion
        from navgym.errors import InvalidArgumentError

        if not (math.isfinite(yaw) and math.isfinite(tilt)):
            raise InvalidArgumentError(f"turn_agent(yaw={yaw!r}, tilt={tilt!r}) needs finite angles")
        self.body(agent_id)
        state = self._states[agent_id]
        if yaw:
            state.rotation = yaw_to_quaternion(state.yaw + yaw)
        if tilt:
            state.tilt = float(min(max(state.tilt + tilt, -90.0), 90.0))


class GridGeometry:
    """The geometry half of :class:`Simulator` answered by navgym's own grid: a mixin for backends
    that keep an embedded simulator over the same scene in ``self._geo`` (AirSim, Isaac), so
    navigability, geodesics and maps are the embedded backend's, per body."""

    _geo: Simulator

    def is_navigable(self, point: Sequence[float], agent_id: int = 0) -> bool:
        return self._geo.is_navigable(point, agent_id)

    def footprint_collisions(self, position: Sequence[float], yaw: float, length: float, width: float, agent_id: int = 0) -> int:
        return self._geo.footprint_collisions(position, yaw, length, width, agent_id)

    def snap_point(self, point: Sequence[float], agent_id: int = 0) -> np.ndarray:
        return self._geo.snap_point(point, agent_id)

    def geodesic_distance(self, start: Sequence[float], goals, agent_id: int = 0) -> float:
        return self._geo.geodesic_distance(start, goals, agent_id)

    def shortest_path(self, start: Sequence[float], goal, agent_id: int = 0) -> np.ndarray:
        return self._geo.shortest_path(start, goal, agent_id)

    def sample_navigable_point(self, rng: np.random.Generator, agent_id: int = 0) -> np.ndarray:
        return self._geo.sample_navigable_point(rng, agent_id)

    def navigable_points_near(self, bbox_min, bbox_max, distance: float, agent_id: int = 0) -> np.ndarray:
        return self._geo.navigable_points_near(bbox_min, bbox_max, distance, agent_id)

    def topdown_map(self, height: float | None = None, agent_id: int = 0) -> "TopDownMap":
        return self._geo.topdown_map(height, agent_id)
