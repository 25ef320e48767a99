"""The embedded simulator: CPU ray casting + grid navigability, runs anywhere after ``pip install``."""

from __future__ import annotations

import functools
import math
import os
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np
from cachetools import LRUCache

from navgym.core.checks import check_range
from navgym.core.geometry import camera_rotation, yaw_to_quaternion
from navgym.errors import InvalidArgumentError
from navgym.scenes.scene import ObjectInstance, Scene, SceneGraph
from navgym.sims.base import AgentState, BodySpec, CameraSpec, OwnAgents, Simulator, TopDownMap
from navgym.sims.embedded.navgrid import NavGrid
from navgym.sims.embedded.raycast import BACKENDS as RAY_BACKENDS, RayCaster

#: Up-facing surface area (as a share of the largest) that makes a height a storey.
_STOREY_AREA_SHARE = 0.25


@functools.lru_cache(maxsize=64)
def _footprint_samples(length: float, width: float, radius: float, cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Body-frame sample points (along, across) of a rectangle for
    :meth:`EmbeddedSimulator.footprint_collisions`: every quarter cell, the rectangle shrunk by
    half a cell per side, the points within ``radius`` of the centre left out."""
    margin = 0.5 * cell_size
    half_length, half_width = 0.5 * length - margin, 0.5 * width - margin
    if half_length <= 0.0 or half_width <= 0.0:
        return np.zeros(0), np.zeros(0)
    step = 0.25 * cell_size
    along = np.linspace(-half_length, half_length, max(2, int(math.ceil(2 * half_length / step)) + 1))
    across = np.linspace(-half_width, half_width, max(2, int(math.ceil(2 * half_width / step)) + 1))
    u, v = (a.ravel() for a in np.meshgrid(along, across))
    outside = u * u + v * v > radius * radius
    u, v = u[outside], v[outside]
    u.flags.writeable = False
    v.flags.writeable = False
    return u, v


#: Storey heights found from a scene's geometry, by its caster's ``geometry_key``: shared by the
#: simulators of one process that load the same house (each gets its own list; the 256 houses
#: used last are kept).
_STOREYS: LRUCache = LRUCache(256)
_STOREYS_LOCK = threading.Lock()

#: ``_navmesh_resolved`` before the scene's navmesh is looked for (a string, so it pickles).
_UNRESOLVED = "unresolved"


def _check_navmesh_option(navmesh):
    """``navmesh=`` of :class:`EmbeddedSimulator`: "auto", "grid", a path (read now) or a NavMesh."""
    from navgym.sims.embedded.navmesh import NavMesh, read_navmesh

    if isinstance(navmesh, NavMesh) or navmesh in ("auto", "grid"):
        return navmesh
    if isinstance(navmesh, (str, Path)):
        return read_navmesh(navmesh)  # DataNotFoundError / DatasetFormatError naming the file
    raise InvalidArgumentError(
        f"navmesh={navmesh!r} must be 'auto' (the scene's .navmesh when there is one), 'grid' (navgym's own grid), "
        "a .navmesh path or a navgym NavMesh"
    )


def _resolve_navmesh(option, scene: Scene):
    """The navmesh ``option`` stands for with ``scene``, or None for navgym's grid."""
    if option == "grid":
        return None
    if option != "auto":
        return option
    from navgym.errors import DatasetFormatError
    from navgym.sims.embedded.navmesh import navmesh_next_to, read_navmesh

    # The file load_scene read, never metadata["source"]: that is data, copied from scan to
    # converted scene and written into annotation files, so it may name any file anywhere. A z-up
    # file was turned y-up as habitat-sim turns it, so its navmesh (habitat-sim's world frame) fits.
    # A scene instance's navmesh_instance (resolved inside its dataset folder when it loaded) first.
    path = scene.navmesh_file
    if path is None and scene.mesh_file is not None:
        path = navmesh_next_to(scene.mesh_file)
    if path is None:
        return None
    try:
        return read_navmesh(path)
    except DatasetFormatError as exc:
        warnings.warn(f"{exc} navgym's grid is used instead (navmesh='auto').", stacklevel=3)
        return None


def _follow_navmesh(grid: NavGrid, navmesh, body: BodySpec) -> None:
    """Make ``grid``'s navigable cells those ``navmesh`` covers on its storey (surface within
    habitat-sim's ``max_y_delta`` of the grid's floor), eroded further where the body is wider
    than the agent the navmesh was built for. A storey the navmesh misses entirely keeps the
    grid, with a warning."""
    covered, heights = navmesh.rasterize(grid.origin, grid.cell_size, (grid.rows, grid.cols), floor_y=grid.floor_y)
    extra = body.radius - navmesh.walkable_radius
    if extra > 0.5 * grid.cell_size and covered.any():
        covered = grid._erode(covered, extra)
    if not covered.any():
        if grid.navigable.any():
            warnings.warn(
                f"The navmesh {navmesh.path or '(given)'} covers no cell of the storey at y={grid.floor_height:.2f} m; "
                "navgym's grid is kept there. Check that the navmesh belongs to this scene (pass navmesh='grid' to silence this).",
                stacklevel=4,
            )
        return
    grid.set_navigable(covered, heights, source=str(navmesh.path or "navmesh"))


class EmbeddedSimulator(OwnAgents, Simulator):
    """CPU simulator of a triangle-mesh :class:`~navgym.scenes.scene.Scene`.

    Args:
        scene: A scene, or a scene id that :func:`navgym.scenes.sources.load_scene_by_id` resolves
            (``"prochouse/42"``, or a mesh path relative to ``data_root``).
        body: Agent 0's body (navigability is computed per body).
        data_root: Root of the user's Habitat-style data folder, for scene ids that are paths.
        cell_size: Navigation grid resolution, metres.
        render_threads: Threads one render call may use (1, the default, keeps a process on one
            core; 2 renders a frame's two halves at once on a 2-core machine when nothing else
            runs). Frames are identical for any value.
        render_backend: How camera frames are made. ``"auto"`` (default): Embree ray packets when
            they load, else ``embreex``'s single rays (the two give identical bytes);
            ``"raster"``: rasterised (about 1.6x faster frames in ProcHouse houses; frames differ
            from the ray-cast ones only where two surfaces are equally near and in the last bits
            of depth; slower than ray casting past about 50,000 triangles, e.g. Habitat's scanned
            meshes; see docs/simulator.md, "Speed"); ``"packets"`` / ``"embreex"``: that ray caster.
        navmesh: Where navigability comes from. ``"auto"`` (default): the scene's Habitat
            ``.navmesh`` when the mesh file it was loaded from (``scene.mesh_file``) has one beside
            it (``<scene>.navmesh``, or HSSD's ``../navmeshes/<scene>.navmesh``), else navgym's
            grid; ``"grid"``: always navgym's grid (ray cast from the geometry); a path or a
            :class:`~navgym.sims.embedded.navmesh.NavMesh`: that navmesh. With a navmesh, each
            storey grid's navigable cells are exactly those the navmesh covers (see
            docs/simulator.md, "Habitat navmeshes"), so ``is_navigable``, ``geodesic_distance``,
            ``shortest_path`` and ``sample_navigable_point`` follow the dataset's navmesh.
        up_axis: How a scene id naming a mesh file is read: ``"auto"`` (default) as habitat-sim
            reads a scene file without a stage config: a ``.glb`` that navgym did not write is
            z-up (Gibson, MP3D and HM3D ship them so) and is turned y-up as habitat-sim turns
            it, ``(x, y, z) -> (x, z, -y)``, so episode positions and navmeshes fit; other files
            are y-up. ``"y"`` / ``"z"``: the file is that way up (``gym.make(...,
            sim_options={"up_axis": "y"})`` for a y-up ``.glb`` of your own).
        scene_dataset_config: For scene ids naming a Habitat scene instance
            (``*.scene_instance.json``): the dataset's ``*.scene_dataset_config.json`` that names
            its stage and objects (absolute, or placed like a scene id). ``None`` (default): the
            config beside the instance that lists it. An env built from an episode file passes
            the one its episodes name, when that file exists; mesh scenes ignore it.
    """

    def __init__(
        self,
        scene: Scene | str,
        body: BodySpec | None = None,
        data_root: str | Path | None = None,
        cell_size: float = 0.05,
        render_threads: int = 1,
        navmesh="auto",
        render_backend: str = "auto",
        up_axis: str = "auto",
        scene_dataset_config: str | Path | None = None,
    ):
        if body is not None and not isinstance(body, BodySpec):
            raise InvalidArgumentError(f"body={body!r} must be a navgym BodySpec(radius, height, max_climb)")
        self._bodies: dict[int, BodySpec] = {0: body or BodySpec()}
        self.data_root = data_root
        self.cell_size = check_range("cell_size", cell_size, 0.01, 0.5)
        if isinstance(render_threads, bool) or not isinstance(render_threads, (int, np.integer)) or not 1 <= render_threads <= 64:
            raise InvalidArgumentError(f"render_threads={render_threads!r} must be a whole number of threads in [1, 64]; 1 renders on the calling thread")
        self.render_threads = int(render_threads)
        if render_backend not in RAY_BACKENDS:
            raise InvalidArgumentError(
                f"render_backend={render_backend!r} is not one of {RAY_BACKENDS}: 'auto' ray-casts with Embree packets, "
                "'raster' rasterises (faster, not byte-identical to the ray-cast frames)"
            )
        self.render_backend = render_backend
        self.navmesh = _check_navmesh_option(navmesh)
        from navgym.scenes.sources import UP_AXES

        if up_axis not in UP_AXES:
            raise InvalidArgumentError(
                f"up_axis={up_axis!r} must be one of {UP_AXES}: 'auto' (a bare .glb scene is z-up, as habitat-sim takes "
                "Gibson, MP3D and HM3D files), 'y' for y-up mesh files, 'z' for z-up ones"
            )
        self.up_axis = up_axis
        if scene_dataset_config is not None and not isinstance(scene_dataset_config, (str, os.PathLike)):
            raise InvalidArgumentError(
                f"scene_dataset_config={scene_dataset_config!r} must be the path of a *.scene_dataset_config.json (or None to find it beside the scene instance)"
            )
        self.scene_dataset_config = None if scene_dataset_config in (None, "default") else scene_dataset_config
        self._scene: Scene | None = None
        self._caster: RayCaster | None = None
        self._grids: dict[tuple[float, BodySpec], NavGrid] = {}
        self._links: dict[BodySpec, object] = {}
        self._warned_unannotated = False
        #: Agents that other agents see and bump into: id -> rectangular footprint or None (cylinder).
        self._solid: dict[int, tuple[float, float] | None] = {}
        self._bodies_hidden = False
        self.load_scene(scene)

    # -- scene ---------------------------------------------------------------------------------
    def load_scene(self, scene: Scene | str) -> None:
        """Replace the scene (a no-op when the same scene id is already loaded)."""
        if isinstance(scene, str):
            if self._scene is not None and self._scene.name == scene:
                return
            from navgym.scenes.sources import load_scene_by_id

            scene = load_scene_by_id(scene, data_root=self.data_root, up_axis=self.up_axis, scene_dataset_config=self.scene_dataset_config)
        if not isinstance(scene, Scene):
            raise TypeError(f"scene must be a navgym Scene or a scene id string, got {type(scene).__name__}")
        self._scene = scene
        self._caster = None
        self._grids = {}
        self._links = {}
        self._storeys: list[float] | None = None
        self._warned_unannotated = False
        self._navmesh_resolved = _UNRESOLVED
        self._states = {agent_id: AgentState(self._default_start(agent_id), yaw_to_quaternion(0.0)) for agent_id in self._bodies}

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
            self._caster = RayCaster(self.scene, backend=self.render_backend)
            self._caster.threads = self.render_threads
        return self._caster

    def object_instances(self) -> list[ObjectInstance]:
        return list(self.scene.instances)

    def scene_graph(self) -> SceneGraph:
        return self.scene.graph

    # -- storeys -------------------------------------------------------------------------------
    def storey_heights(self) -> list[float]:
        """Floor heights of the scene's storeys: the scene's ``metadata["storeys"]`` when it has
        them (ProcHouseHard), else from the area of up-facing surfaces."""
        if self._storeys is None and self.scene.metadata.get("storeys"):
            self._storeys = sorted(float(h) for h in self.scene.metadata["storeys"])
        if self._storeys is None:
            with _STOREYS_LOCK:
                self._storeys = _STOREYS.get(self.caster.geometry_key)
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
                # A storey is under a roof: most of its floor's area has something above it (this
                # drops a flat roof), at least 1 m up (this drops the top of a ceiling slab under
                # the next storey's floor). Its height is the surfaces' area-weighted mean height.
                centroids = tri[up].mean(axis=1)
                storeys = []
                for bin_value in uniq[keep]:
                    in_bin = bins == bin_value
                    step = max(1, int(in_bin.sum()) // 500)
                    points = centroids[in_bin][::step]
                    t, prim, _, _ = self.caster.cast(points + [0.0, 0.05, 0.0], np.tile([0.0, 1.0, 0.0], (len(points), 1)))
                    if np.average((prim >= 0) & (t >= 1.0), weights=area[up][in_bin][::step]) >= 0.5:
                        weights = area[up][in_bin]
                        storeys.append(round(float(np.average(heights[in_bin], weights=weights)), 3))
                self._storeys = sorted(storeys) or [float(uniq[np.argmax(totals)] * 0.1)]
            with _STOREYS_LOCK:
                _STOREYS[self.caster.geometry_key] = self._storeys
        return list(self._storeys)

    def _storey_for(self, y: float) -> float:
        storeys = self.storey_heights()
        return min(storeys, key=lambda s: abs(s - y))

    def grid(self, y: float | None = None, agent_id: int = 0) -> NavGrid:
        """The navigation grid of an agent's body on the storey nearest to height ``y`` (the
        agent's own storey by default). Agents with equal bodies share grids."""
        body = self.body(agent_id)
        storey = self._storey_for(self._states[agent_id].position[1] if y is None else y)
        key = (storey, body)
        if key not in self._grids:
            storeys = self.storey_heights()
            grid = NavGrid(self.caster, storey, body.radius, body.height, body.max_climb, self.cell_size,
                           storeys=storeys if len(storeys) > 1 else None)
            navmesh = self.active_navmesh()
            if navmesh is not None:
                _follow_navmesh(grid, navmesh, body)
            self._grids[key] = grid
        return self._grids[key]

    def active_navmesh(self):
        """The :class:`~navgym.sims.embedded.navmesh.NavMesh` navigability follows, or None
        (navgym's grid): see the ``navmesh`` argument."""
        if isinstance(self._navmesh_resolved, str):
            self._navmesh_resolved = _resolve_navmesh(self.navmesh, self.scene)
        return self._navmesh_resolved

    def storey_links(self, agent_id: int = 0):
        """The :class:`~navgym.sims.embedded.storeys.StoreyLinks` joining an agent body's storey
        grids at the stairs, or None in a single-storey scene."""
        if len(self.storey_heights()) < 2:
            return None
        body = self.body(agent_id)
        if body not in self._links:
            from navgym.sims.embedded.storeys import StoreyLinks

            self._links[body] = StoreyLinks([self.grid(h, agent_id) for h in self.storey_heights()])
        return self._links[body]

    def _main_grid(self, agent_id: int = 0) -> NavGrid:
        grids = [self.grid(s, agent_id) for s in self.storey_heights()]
        return max(grids, key=lambda g: int(g.navigable.sum()))

    def _default_start(self, agent_id: int) -> np.ndarray:
        grid = self._main_grid(agent_id)
        cells = np.argwhere(grid.labels == grid.largest_label)
        if len(cells) == 0:
            lo, hi = self.scene.bounds
            return np.array([(lo[0] + hi[0]) / 2, grid.floor_height, (lo[2] + hi[2]) / 2])
        row, col = cells[len(cells) // 2]
        return grid.to_world(int(row), int(col))

    # -- agents: agent_ids, add_agent, body, get_agent_state and turn_agent come from OwnAgents ----------------

    # -- several agents: solid bodies ----------------------------------------------------------
    def set_agent_solid(self, agent_id: int, solid: bool = True, footprint: tuple[float, float] | None = None) -> None:
        """Make an agent a solid the *other* agents see in their cameras (rgb, depth, semantic id
        ``AGENT_SEMANTIC_BASE + agent_id``) and collide with (sliding, as against walls): an
        upright cylinder of its body, or a box of ``footprint`` = (length, width) along its
        heading. Agents are not solid until this is called (a scene with none renders and moves
        exactly as before); ``solid=False`` makes it a ghost again.
        """
        self.body(agent_id)
        if not solid:
            self._solid.pop(agent_id, None)
            return
        if footprint is not None:
            try:
                length, width = (float(v) for v in footprint)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"footprint={footprint!r} must be (length, width) in metres, or None for the body's cylinder") from None
            check_range("footprint length", length, 0.0, 5.0, low_open=True)
            check_range("footprint width", width, 0.0, 5.0, low_open=True)
            footprint = (length, width)
        self._solid[agent_id] = footprint

    @property
    def solid_agents(self) -> tuple[int, ...]:
        """Ids of the agents made solid with :meth:`set_agent_solid`."""
        return tuple(self._solid)

    @contextmanager
    def bodies_hidden(self):
        """Within the block, cameras do not see agents' bodies (e.g. goal photos taken "before"
        the agents arrived); collisions are unchanged."""
        previous, self._bodies_hidden = self._bodies_hidden, True
        try:
            yield
        finally:
            self._bodies_hidden = previous

    def solid_bodies(self, exclude: int | None = None):
        """The solid agents' bodies at their current poses (:class:`~navgym.sims.embedded.bodies.SolidBody`)."""
        from navgym.sims.embedded.bodies import SolidBody

        out = []
        for agent_id, footprint in self._solid.items():
            if agent_id == exclude:
                continue
            state, body = self._states[agent_id], self._bodies[agent_id]
            out.append(SolidBody(agent_id, state.position.copy(), state.yaw, body.radius, body.height, footprint))
        return out

    def _others_near(self, agent_id: int, height: float):
        """The other solid agents on the storey at ``height`` (blocking ``agent_id``'s motion)."""
        if not self._solid or (len(self._solid) == 1 and agent_id in self._solid):
            return []
        reach = self._bodies[agent_id].height
        return [b for b in self.solid_bodies(exclude=agent_id) if abs(b.position[1] - height) < max(reach, b.height)]

    def set_agent_state(self, state: AgentState, snap: bool = False, agent_id: int = 0) -> AgentState:
        state = state.copy()
        grid = self.grid(state.position[1], agent_id)
        if not grid.is_navigable(state.position):
            nearest, distance = grid.nearest_navigable(state.position)
            if not snap:
                raise InvalidArgumentError(
                    f"Agent position {np.round(state.position, 3).tolist()} is not navigable; the nearest "
                    f"navigable point is {distance:.3f} m away at {np.round(nearest, 3).tolist()}. "
                    "Pass snap=True to move there."
                )
            state.position = nearest
        state.position[1] = grid.floor_at(state.position)
        state.tilt = float(np.clip(state.tilt, -90.0, 90.0))
        self._states[agent_id] = state
        return state.copy()

    def _walk(self, grid: NavGrid, start: np.ndarray, delta: np.ndarray, others=(), radius: float = 0.0) -> tuple[np.ndarray, float]:
        """Move as far as possible along ``delta``; returns the end point and the fraction done.
        ``others``: solid agents' bodies, kept at least ``radius`` + their radius away (a body
        already closer may not get closer still)."""
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
        for other in others:
            reach = radius + other.radius
            now = math.hypot(start[0] - other.position[0], start[2] - other.position[2])
            limit = min(reach, now)  # overlapping already: only moving closer is blocked
            ok &= (xs - other.position[0]) ** 2 + (zs - other.position[2]) ** 2 >= limit * limit
        blocked = np.flatnonzero(~ok)
        done = n if len(blocked) == 0 else int(blocked[0])
        if done == 0:
            return start, 0.0
        end = start.copy()
        end[0], end[2] = xs[done - 1], zs[done - 1]
        return end, done / n

    def move_agent(self, displacement: Sequence[float], agent_id: int = 0) -> bool:
        """Translate with Habitat-like sliding: stop at the obstacle, then slide along the axis
        with more of the remaining motion (or the other one); returns whether it collided."""
        delta = np.asarray(displacement, dtype=np.float64).reshape(3)
        if not np.isfinite(delta).all():
            raise InvalidArgumentError(f"displacement={delta.tolist()} must be finite")
        grid = self.grid(agent_id=agent_id)
        state = self._states[agent_id]
        # Other agents block as discs of their body radius (only agents made solid; none: as before).
        others = self._others_near(agent_id, state.position[1]) if agent_id in self._solid else []
        radius = self._bodies[agent_id].radius
        end, fraction = self._walk(grid, state.position, delta, others, radius)
        collided = fraction < 1.0
        if collided:
            remaining = delta * (1.0 - fraction)
            axes = sorted((0, 2), key=lambda a: -abs(remaining[a]))
            for axis in axes:
                along = np.zeros(3)
                along[axis] = remaining[axis]
                slid, moved = self._walk(grid, end, along, others, radius)
                if moved > 0.0:
                    end = slid
                    break
        end[1] = grid.floor_at(end)
        state.position = end
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
        if self._solid and not self._bodies_hidden:
            # Each camera sees every solid body except one it sits inside (its own).
            bodies = self.solid_bodies()
            return self.caster.render(cameras, outputs, ranges, bodies=bodies)
        return self.caster.render(cameras, outputs, ranges)

    # -- geometry ------------------------------------------------------------------------------
    def is_navigable(self, point: Sequence[float], agent_id: int = 0) -> bool:
        return self.grid(point[1], agent_id).is_navigable(point)

    def footprint_collisions(self, position: Sequence[float], yaw: float, length: float, width: float, agent_id: int = 0) -> int:
        """The rectangle itself against the navigation grid's *free* cells (floor within the
        body's climb, nothing below its height; not eroded by the radius), at the grid's
        resolution. Returns how many distinct cells under it are blocked (0: free).

        * The rectangle is sampled every quarter cell, shrunk by half a cell on each side (the
          grid places obstacle boundaries to within a cell).
        * Points within the agent's body radius of the centre are not tested: the navigable
          grid keeps that disc clear already (it is what :meth:`move_agent` enforces), and
          testing it again cell by cell would report contacts along walls that the disc model
          lets the body touch. A round footprint (``length == width == 2 * radius``) is
          therefore always free here; a quadruped's rectangle collides by its ends and corners.
        """
        centre = np.asarray(position, dtype=np.float64).reshape(3)
        values = (float(yaw), float(length), float(width))
        if not (np.isfinite(centre).all() and all(math.isfinite(v) for v in values)) or length <= 0 or width <= 0:
            raise InvalidArgumentError(
                f"footprint_collisions(position={centre.tolist()}, yaw={yaw!r}, length={length!r}, width={width!r}) "
                "needs a finite position and yaw and positive length and width"
            )
        grid = self.grid(centre[1], agent_id)
        u, v = _footprint_samples(float(length), float(width), self.body(agent_id).radius, grid.cell_size)
        if len(u) == 0:
            return 0
        sin_y, cos_y = math.sin(yaw), math.cos(yaw)
        # Forward is (-sin, -cos) in (x, z) at yaw; right is (cos, -sin).
        xs = centre[0] - u * sin_y + v * cos_y
        zs = centre[2] - u * cos_y - v * sin_y
        cols = np.floor((xs - grid.origin[0]) / grid.cell_size).astype(np.int64)
        rows = np.floor((zs - grid.origin[1]) / grid.cell_size).astype(np.int64)
        inside = (rows >= 0) & (cols >= 0) & (rows < grid.rows) & (cols < grid.cols)
        cells = np.unique(np.where(inside, rows * grid.cols + cols, -1 - np.arange(len(rows))))
        outside_grid = int((cells < 0).sum())
        cells = cells[cells >= 0]
        count = outside_grid + int((~grid.free.ravel()[cells]).sum())
        if agent_id in self._solid:
            # Cells under the rectangle that other solid agents' bodies cover count as blocked too.
            under = np.zeros(len(xs), dtype=bool)
            for other in self._others_near(agent_id, centre[1]):
                under |= other.covers(xs, zs)
            if under.any():
                covered = np.unique(np.where(inside, rows * grid.cols + cols, -1)[under])
                covered = covered[covered >= 0]
                count += int(grid.free.ravel()[covered].sum())  # not counted above already
        return count

    def snap_point(self, point: Sequence[float], agent_id: int = 0) -> np.ndarray:
        grid = self.grid(point[1], agent_id)
        if grid.is_navigable(point):
            snapped = np.asarray(point, dtype=np.float64).copy()
            snapped[1] = grid.floor_at(snapped)
            return snapped
        return grid.nearest_navigable(point)[0]

    def geodesic_distance(self, start: Sequence[float], goals, agent_id: int = 0) -> float:
        goals = np.atleast_2d(np.asarray(goals, dtype=np.float64))
        links = self.storey_links(agent_id)
        if links is not None:
            return links.geodesic_distance(np.asarray(start, dtype=np.float64), goals)
        return self.grid(start[1], agent_id).geodesic_distance(np.asarray(start, dtype=np.float64), goals)

    def shortest_path(self, start: Sequence[float], goal, agent_id: int = 0) -> np.ndarray:
        links = self.storey_links(agent_id)
        if links is not None:
            return links.shortest_path(np.asarray(start, dtype=np.float64), np.asarray(goal, dtype=np.float64))
        return self.grid(start[1], agent_id).shortest_path(np.asarray(start, dtype=np.float64), np.asarray(goal, dtype=np.float64))

    def navigable_points_near(self, bbox_min, bbox_max, distance: float, agent_id: int = 0) -> np.ndarray:
        bbox_min = np.asarray(bbox_min, dtype=np.float64)
        # The storey the object stands on: the highest floor not above its bottom.
        below = [s for s in self.storey_heights() if s <= bbox_min[1] + 0.3]
        storey = max(below) if below else self._storey_for(float(bbox_min[1]))
        return self.grid(storey, agent_id).cells_near_box(bbox_min, np.asarray(bbox_max, dtype=np.float64), distance)

    def sample_navigable_point(self, rng: np.random.Generator, agent_id: int = 0) -> np.ndarray:
        """A navigable point; in a building with stairs, on a storey drawn in proportion to the
        area of its largest navigable region (each grid's stairs count towards both storeys)."""
        links = self.storey_links(agent_id)
        if links is None or not links.portals:
            return self._main_grid(agent_id).sample(rng)
        areas = np.array([float((g.labels == g.largest_label).sum()) if g.largest_label else 0.0 for g in links.grids])
        storey = int(rng.choice(len(areas), p=areas / areas.sum()))
        return links.grids[storey].sample(rng)

    def topdown_map(self, height: float | None = None, agent_id: int = 0) -> TopDownMap:
        return self.grid(height, agent_id).topdown_map()

    # -- pickling: Embree scenes are rebuilt on demand -----------------------------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_caster"] = None
        state["_grids"] = {}
        return state

    def close(self) -> None:
        self._caster = None
        self._grids = {}
