"""The habitat-sim backend: navgym's :class:`~navgym.sims.base.Simulator` over habitat-sim v0.3.x.

**Unverified on real habitat-sim.** habitat-sim has no pip wheel for Linux and renders on a GPU;
navgym's developers have never run this backend on it. Its tests run it against fake
``habitat_sim`` / ``quaternion`` modules (``tests/sims/fake_habitat.py``), which checks the
adapter's logic only; ``navgym.testing.check_simulator`` is how a user with habitat-sim checks the
rest (``tests/sims/test_habitat_backend.py`` runs it wherever ``habitat_sim`` imports).

What maps to what:

* **Scene**: a navgym ``Scene``, a ProcHouse id (``"prochouse/42"``) or a navgym ``.glb`` (one
  with its ``.navgym.json``) is written once into navgym's cache as a habitat-sim *stage*
  (:func:`~navgym.sims.habitat.config.write_stage`: the y-up ``.glb``, a PLY instance mesh whose
  object ids are navgym's instance ids, a ``.stage_config.json`` saying y is up) and its
  annotations are navgym's. Any other scene id is handed to habitat-sim as it is (an HM3D / MP3D
  / Gibson mesh or a scene of ``scene_dataset_config``) and the annotations are
  ``sim.semantic_scene.objects``: id = ``semantic_id``, category = ``category.name()``, box =
  ``aabb``.
* **Agents and motion**: navgym keeps each agent's state (floor position, yaw, tilt); habitat-sim
  is asked only for geometry. ``move_agent`` is ``pathfinder.try_step(start, end)`` (Habitat's
  sliding; ``try_step_no_sliding`` with ``allow_sliding=False``), with habitat-sim's collision
  rule; ``turn_agent`` rotates the stored state.
* **Geometry** is habitat-sim's navmesh, one per body: ``sim.recompute_navmesh(pathfinder,
  NavMeshSettings)`` with the body's ``agent_radius`` / ``agent_height`` / ``agent_max_climb``
  (agent 0's into ``sim.pathfinder``, other bodies into their own ``PathFinder``).
  ``is_navigable`` / ``snap_point`` / ``find_path(ShortestPath | MultiGoalShortestPath)`` /
  ``get_random_navigable_point`` (on the largest island) / ``get_topdown_view`` answer the
  queries.
* **Cameras**: one habitat agent is a camera rig whose sensors sit at its origin with no rotation
  of their own, one ``CameraSensorSpec`` per (output, width, height, HFOV), added on first use.
  ``render`` puts the rig at each request's camera pose (the optical centre ``camera_height``
  above the floor point; yaw, then pitch = ``spec.pitch + tilt``, then roll) with
  ``agent.set_state`` and reads ``sim.get_sensor_observations``: RGBA -> ``rgb``, z-depth ->
  ``depth`` (0 = nothing hit -> ``max_depth``), semantic ids -> ``semantic`` (ids that are not an
  instance's read 0).
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from navgym.core.checks import check_int, check_range
from navgym.core.geometry import yaw_to_quaternion
from navgym.core.specs import AgentState, BodySpec, CameraSpec
from navgym.errors import DataNotFoundError, InvalidArgumentError
from navgym.scenes.scene import ObjectInstance, Scene, SceneGraph
from navgym.sims.base import OwnAgents, Simulator, TopDownMap
from navgym.sims.habitat import config as hc

#: What ``DependencyNotInstalled`` says when habitat-sim is missing.
INSTALL_HINT = (
    "sim='habitat' needs habitat-sim, which has no pip wheel: in a conda env with Python >= 3.10, "
    "`conda install habitat-sim headless -c conda-forge -c aihabitat-nightly` (the stable `-c aihabitat` packages are "
    "built for Python 3.9 only, which navgym does not support), or build habitat-sim from source; see docs/simulator.md. "
    "Use sim='embedded' (the default) to run on the CPU without it."
)

#: Seed sensors of the camera rig (habitat-sim loads textures / the semantic mesh only for sensor
#: types present when the simulator is built): the default navgym camera's size and HFOV.
_SEED_CAMERA = CameraSpec()


def _habitat() -> Any:
    return importlib.import_module("habitat_sim")


def _quaternion_module() -> Any:
    return importlib.import_module("quaternion")


class HabitatSimulator(OwnAgents, Simulator):
    """navgym's simulator interface over habitat-sim (see the module docstring).

    Args:
        scene: A navgym ``Scene``, a ProcHouse id, a navgym ``.glb``, or a habitat-sim scene id /
            mesh path (relative paths are looked up under ``data_root``'s ``scene_datasets/``).
        body: Agent 0's body.
        data_root: Data root for relative scene paths.
        scene_dataset_config: ``SimulatorConfiguration.scene_dataset_config_file`` (``"default"``,
            or e.g. HM3D's ``hm3d_annotated_basis.scene_dataset_config.json`` for its semantics). A
            ``.json`` must exist, as given or under ``data_root``'s ``scene_datasets/``, and is
            handed to habitat-sim as an absolute path.
        gpu_device_id: The GPU habitat-sim renders on.
        allow_sliding: Habitat's sliding along obstacles (``try_step``) or stopping
            (``try_step_no_sliding``).
        semantic: Load the semantic mesh and offer the ``semantic`` output.
        navmesh_cell_size, navmesh_cell_height: Recast voxel size of the per-body navmeshes (and
            the cell of ``topdown_map``), metres.
        stage_cache: Folder for the stages of navgym scenes (default: navgym's cache).
        random_seed: Seed of habitat-sim and of agents' default start points.

    Raises:
        gymnasium.error.DependencyNotInstalled: habitat-sim is not installed.
        InvalidArgumentError: a bad ``body``, ``navmesh_cell_size`` / ``navmesh_cell_height``
            (not in [0.01, 0.5] m), ``gpu_device_id`` or ``random_seed`` (not an integer >= 0).
        DataNotFoundError: the scene, or a ``scene_dataset_config`` file, does not exist.
    """

    #: habitat-sim agent index of the camera rig (navgym agents are not habitat agents).
    RIG = 0

    def __init__(
        self,
        scene: Scene | str,
        body: BodySpec | None = None,
        data_root: str | Path | None = None,
        *,
        scene_dataset_config: str = "default",
        gpu_device_id: int = 0,
        allow_sliding: bool = True,
        semantic: bool = True,
        navmesh_cell_size: float = 0.05,
        navmesh_cell_height: float = 0.2,
        stage_cache: str | Path | None = None,
        random_seed: int = 0,
    ):
        self.require()
        if body is not None and not isinstance(body, BodySpec):
            raise InvalidArgumentError(f"body={body!r} must be a navgym BodySpec(radius, height, max_climb)")
        self.navmesh_cell_size = check_range("navmesh_cell_size", navmesh_cell_size, 0.01, 0.5)  # metres
        self.navmesh_cell_height = check_range("navmesh_cell_height", navmesh_cell_height, 0.01, 0.5)
        self.gpu_device_id = check_int("gpu_device_id", gpu_device_id, 0)  # a CUDA device index, not "cuda:1"
        self.random_seed = check_int("random_seed", random_seed, 0)
        self.scene_dataset_config = self._dataset_config(scene_dataset_config, data_root)
        self.allow_sliding = bool(allow_sliding)
        self.semantic = bool(semantic)
        self._bodies: dict[int, BodySpec] = {0: body or BodySpec()}
        self._states: dict[int, AgentState] = {}
        self._scene, self.habitat_scene_id, self._scene_id = self._resolve_scene(scene, data_root, stage_cache)
        self._sim: Any = None
        self._pathfinders: dict[BodySpec, Any] = {}
        self._islands: dict[BodySpec, int] = {}
        self._sensor_uuids: set[str] = set()
        self._instances: list[ObjectInstance] | None = None
        self._attach()
        self._states[0] = AgentState(self._default_start(0), yaw_to_quaternion(0.0))

    # -- dependency check ------------------------------------------------------------------------
    @classmethod
    def require(cls) -> None:
        """Raise ``DependencyNotInstalled`` naming how to install habitat-sim when it is missing."""
        from gymnasium.error import DependencyNotInstalled

        try:
            _habitat()
        except (ImportError, OSError) as exc:
            raise DependencyNotInstalled(f"{INSTALL_HINT} (importing habitat_sim failed: {exc})") from exc

    # -- setup -----------------------------------------------------------------------------------
    @staticmethod
    def _dataset_config(value: Any, data_root) -> str:
        """``"default"``, a dataset name, or the absolute path of an existing
        ``*.scene_dataset_config.json`` (as given, or under the data root's ``scene_datasets/``).
        habitat-sim itself does not fail on a missing file: it makes an empty dataset of that
        name, and the scene then loads without its semantic annotations."""
        if not isinstance(value, str) or not value.strip():
            raise InvalidArgumentError(f"scene_dataset_config={value!r} must be 'default' or the path of a *.scene_dataset_config.json")
        if value == "default" or not value.endswith(".json"):
            return value
        from navgym.core.paths import data_root as default_root

        path = Path(value).expanduser()
        root = Path(data_root) if data_root is not None else Path(default_root())
        candidates = [path] if path.is_absolute() else [path, root / "scene_datasets" / path, root / path]
        for candidate in candidates:
            if candidate.is_file():
                return str(candidate.resolve())
        raise DataNotFoundError(
            f"scene_dataset_config={value!r} does not exist (looked at {', '.join(str(c) for c in candidates)}); give the dataset's "
            "*.scene_dataset_config.json (e.g. scene_datasets/hm3d/hm3d_annotated_basis.scene_dataset_config.json under the data root), "
            "or 'default' for a scene without one"
        )

    def _resolve_scene(self, scene: Scene | str, data_root, stage_cache) -> tuple[Scene | None, str, str]:
        """``(navgym scene or None, habitat-sim scene_id, navgym scene id)``."""
        from navgym.scenes.sources import PROCHOUSE_HARD_PREFIX, PROCHOUSE_PREFIX, load_scene_by_id

        if isinstance(scene, Scene):
            return scene, str(hc.ensure_stage(scene, stage_cache, self.semantic)), scene.name
        if not isinstance(scene, str) or not scene:
            raise InvalidArgumentError(f"scene={scene!r} must be a navgym Scene, a scene id or a habitat-sim scene path")
        if scene.startswith((PROCHOUSE_PREFIX, PROCHOUSE_HARD_PREFIX)):
            loaded = load_scene_by_id(scene, data_root=data_root)
            return loaded, str(hc.ensure_stage(loaded, stage_cache, self.semantic)), scene
        path = self._scene_path(scene, data_root)
        if path is not None:
            from navgym.scenes.io import annotation_path

            if path.suffix.lower() == ".glb" and annotation_path(path).exists():  # navgym's own file
                loaded = load_scene_by_id(str(path))
                loaded.name = scene
                return loaded, str(hc.ensure_stage(loaded, stage_cache, self.semantic)), scene
            return None, str(path), scene
        if self.scene_dataset_config != "default":  # a scene handle of the dataset
            return None, scene, scene
        raise DataNotFoundError(
            f"scene {scene!r} is neither a navgym scene nor a file (looked under the data root's scene_datasets/); "
            "pass a path, or scene_dataset_config= for a scene of a habitat-sim dataset"
        )

    @staticmethod
    def _scene_path(scene: str, data_root) -> Path | None:
        from navgym.core.paths import data_root as default_root
        from navgym.core.paths import resolve_scene_path

        path = Path(scene).expanduser()
        if path.is_absolute():
            return path if path.exists() else None
        try:
            resolved = resolve_scene_path(scene, data_root if data_root is not None else default_root())
        except (InvalidArgumentError, DataNotFoundError, FileNotFoundError):
            return None
        return Path(resolved) if Path(resolved).exists() else None

    def _seed_keys(self) -> list[tuple[str, int, int, float]]:
        outputs = ("rgb", "depth", "semantic") if self.semantic else ("rgb", "depth")
        return [hc.sensor_key(o, _SEED_CAMERA) for o in outputs]

    def _attach(self) -> None:
        """Build the habitat-sim simulator: the scene, no physics, the camera rig agent."""
        hs = _habitat()
        sim_cfg = hs.SimulatorConfiguration()
        sim_cfg.scene_id = self.habitat_scene_id
        sim_cfg.scene_dataset_config_file = self.scene_dataset_config
        sim_cfg.enable_physics = False
        sim_cfg.gpu_device_id = self.gpu_device_id
        sim_cfg.allow_sliding = self.allow_sliding
        sim_cfg.random_seed = self.random_seed
        rig = hs.AgentConfiguration()
        rig.sensor_specifications = [hc.camera_sensor_spec(hs, key) for key in self._seed_keys()]
        self._sim = hs.Simulator(hs.Configuration(sim_cfg, [rig]))
        self._sensor_uuids = {hc.sensor_uuid(key) for key in self._seed_keys()}
        self._pathfinders = {}
        self._islands = {}

    def _ensure_sim(self) -> Any:
        if self._sim is None:
            self._attach()
        return self._sim

    @property
    def habitat_sim(self) -> Any:
        """The ``habitat_sim.Simulator`` (built on first use after unpickling)."""
        return self._ensure_sim()

    def pathfinder(self, agent_id: int = 0) -> Any:
        """The ``habitat_sim.PathFinder`` of an agent's body, its navmesh recomputed for the body
        on first use (the first body's is ``sim.pathfinder`` itself)."""
        body = self.body(agent_id)
        pf = self._pathfinders.get(body)
        if pf is None:
            hs = _habitat()
            sim = self._ensure_sim()
            pf = sim.pathfinder if not self._pathfinders else hs.PathFinder()
            settings = hc.navmesh_settings(hs, body, self.navmesh_cell_size, self.navmesh_cell_height)
            if not sim.recompute_navmesh(pf, settings) or not pf.is_loaded:
                raise RuntimeError(f"habitat-sim could not build a navmesh of {self.scene_id!r} for {body}")
            self._pathfinders[body] = pf
        return pf

    def _largest_island(self, agent_id: int) -> int:
        body = self.body(agent_id)
        if body not in self._islands:
            pf = self.pathfinder(agent_id)
            count = int(pf.num_islands)
            if count <= 1:
                self._islands[body] = 0 if count == 1 else -1
            else:
                areas = [float(pf.island_area(i)) for i in range(count)]
                self._islands[body] = int(np.argmax(areas))
        return self._islands[body]

    # -- scene -----------------------------------------------------------------------------------
    @property
    def scene_id(self) -> str:
        return self._scene_id

    @property
    def scene(self) -> Scene | None:
        """The navgym scene behind the stage (``None`` for a habitat-sim scene loaded as it is)."""
        return self._scene

    def object_instances(self) -> list[ObjectInstance]:
        if self._scene is not None:
            return list(self._scene.instances)
        if self._instances is None:
            self._instances = hc.instances_from_semantic_scene(self._ensure_sim().semantic_scene)
        return list(self._instances)

    def scene_graph(self) -> SceneGraph:
        if self._scene is not None:
            return self._scene.graph
        return SceneGraph(instances=self.object_instances(), name=self.scene_id)

    def _known_ids(self) -> np.ndarray:
        return np.array(sorted(inst.id for inst in self.object_instances()), dtype=np.int64)

    # -- agents: agent_ids, add_agent, body, get_agent_state and turn_agent come from OwnAgents --------------------
    def _default_start(self, agent_id: int) -> np.ndarray:
        return self.sample_navigable_point(np.random.default_rng(self.random_seed + agent_id), agent_id)


    def set_agent_state(self, state: AgentState, snap: bool = False, agent_id: int = 0) -> AgentState:
        self.body(agent_id)
        state = state.copy()
        pf = self.pathfinder(agent_id)
        position = state.position
        if pf.is_navigable(hc.vec3(position)):
            position = position.copy()
            position[1] = self.snap_point(position, agent_id)[1]
        else:
            nearest = self.snap_point(position, agent_id)
            distance = float(np.hypot(nearest[0] - position[0], nearest[2] - position[2]))
            if not snap:
                raise InvalidArgumentError(
                    f"Agent position {np.round(position, 3).tolist()} is not navigable; the nearest navigable point is "
                    f"{distance:.3f} m away at {np.round(nearest, 3).tolist()}. Pass snap=True to move there."
                )
            position = nearest
        state.position = position
        state.tilt = float(np.clip(state.tilt, -90.0, 90.0))
        self._states[agent_id] = state
        return state.copy()

    def move_agent(self, displacement: Sequence[float], agent_id: int = 0) -> bool:
        """``pathfinder.try_step`` (Habitat's sliding) from the agent's position to the position
        plus ``displacement`` (x, z); collided by habitat-sim's rule (:func:`config.collided`)."""
        delta = np.asarray(displacement, dtype=np.float64).reshape(3)
        if not np.isfinite(delta).all():
            raise InvalidArgumentError(f"displacement={delta.tolist()} must be finite")
        self.body(agent_id)
        state = self._states[agent_id]
        start = state.position.copy()
        target = start + np.array([delta[0], 0.0, delta[2]])
        if delta[0] == 0.0 and delta[2] == 0.0:
            return False
        pf = self.pathfinder(agent_id)
        step = pf.try_step if self.allow_sliding else pf.try_step_no_sliding
        end = hc.as_array(step(hc.vec3(start), hc.vec3(target)))
        if not np.isfinite(end).all():  # nothing to step on: stay
            end = start
        state.position = end
        return hc.collided(start, target, end)

    # -- cameras ---------------------------------------------------------------------------------
    def _ensure_sensor(self, key: tuple[str, int, int, float]) -> str:
        uuid = hc.sensor_uuid(key)
        if uuid not in self._sensor_uuids:
            self._ensure_sim().add_sensor(hc.camera_sensor_spec(_habitat(), key), self.RIG)
            self._sensor_uuids.add(uuid)
        return uuid

    def render(self, requests: Sequence[tuple[AgentState, CameraSpec]]) -> list[dict[str, np.ndarray]]:
        hs, qt = _habitat(), _quaternion_module()
        sim = self._ensure_sim()
        rig = sim.get_agent(self.RIG)
        known = self._known_ids() if any("semantic" in spec.outputs for _, spec in requests) else None
        frames = []
        for state, spec in requests:
            if "semantic" in spec.outputs and not self.semantic:
                raise InvalidArgumentError("this HabitatSimulator was built with semantic=False; it has no semantic output")
            uuids = {output: self._ensure_sensor(hc.sensor_key(output, spec)) for output in spec.outputs}
            position, q_wxyz = hc.camera_pose(state, spec)
            rig.set_state(hs.AgentState(position=hc.vec3(position), rotation=hc.to_habitat_quaternion(q_wxyz, qt)),
                          reset_sensors=True, infer_sensor_states=True)
            observations = sim.get_sensor_observations(agent_ids=self.RIG)
            frame: dict[str, np.ndarray] = {}
            if "rgb" in uuids:
                frame["rgb"] = hc.rgb_to_navgym(observations[uuids["rgb"]])
            if "depth" in uuids:
                frame["depth"] = hc.depth_to_navgym(observations[uuids["depth"]], spec.min_depth, spec.max_depth)
            if "semantic" in uuids:
                frame["semantic"] = hc.semantic_to_navgym(observations[uuids["semantic"]], known)
            frames.append(frame)
        return frames

    # -- geometry --------------------------------------------------------------------------------
    def is_navigable(self, point: Sequence[float], agent_id: int = 0) -> bool:
        return bool(self.pathfinder(agent_id).is_navigable(hc.vec3(point)))

    def snap_point(self, point: Sequence[float], agent_id: int = 0) -> np.ndarray:
        snapped = hc.as_array(self.pathfinder(agent_id).snap_point(hc.vec3(point)))
        if not np.isfinite(snapped).all():
            raise InvalidArgumentError(f"habitat-sim found no navigable point near {np.round(np.asarray(point, dtype=float), 3).tolist()}")
        return snapped

    def geodesic_distance(self, start: Sequence[float], goals, agent_id: int = 0) -> float:
        hs = _habitat()
        goals = np.atleast_2d(np.asarray(goals, dtype=np.float64))
        path = hs.MultiGoalShortestPath()
        path.requested_start = hc.vec3(start)
        path.requested_ends = [hc.vec3(g) for g in goals]
        found = self.pathfinder(agent_id).find_path(path)
        distance = float(path.geodesic_distance)
        return distance if found and math.isfinite(distance) else math.inf

    def shortest_path(self, start: Sequence[float], goal, agent_id: int = 0) -> np.ndarray:
        hs = _habitat()
        goal = np.asarray(goal, dtype=np.float64)
        if goal.ndim == 2:
            path = hs.MultiGoalShortestPath()
            path.requested_start = hc.vec3(start)
            path.requested_ends = [hc.vec3(g) for g in goal]
        else:
            path = hs.ShortestPath()
            path.requested_start = hc.vec3(start)
            path.requested_end = hc.vec3(goal)
        if not self.pathfinder(agent_id).find_path(path) or len(path.points) == 0:
            return np.zeros((0, 3))
        return np.array([hc.as_array(p) for p in path.points])

    def sample_navigable_point(self, rng: np.random.Generator, agent_id: int = 0) -> np.ndarray:
        """``get_random_navigable_point`` on the largest island, the pathfinder seeded from
        ``rng`` first (so a generator seeded alike draws alike)."""
        pf = self.pathfinder(agent_id)
        island = self._largest_island(agent_id)
        for _ in range(10):
            pf.seed(int(rng.integers(0, 2**31 - 1)))
            point = hc.as_array(pf.get_random_navigable_point(max_tries=100, island_index=island))
            if np.isfinite(point).all():
                return point
        raise RuntimeError(f"habitat-sim found no navigable point in {self.scene_id!r} for {self.body(agent_id)}")

    def navigable_points_near(self, bbox_min, bbox_max, distance: float, agent_id: int = 0) -> np.ndarray:
        """Navmesh points on a ``navmesh_cell_size`` lattice within ``distance`` (horizontally)
        of the box's footprint, on the floor the box stands on (the navmesh point nearest the
        box's bottom centre)."""
        lo, hi = np.asarray(bbox_min, dtype=np.float64), np.asarray(bbox_max, dtype=np.float64)
        pf = self.pathfinder(agent_id)
        try:
            floor = self.snap_point([(lo[0] + hi[0]) / 2, lo[1], (lo[2] + hi[2]) / 2], agent_id)[1]
        except InvalidArgumentError:
            return np.zeros((0, 3))
        step = self.navmesh_cell_size
        xs = np.arange(lo[0] - distance + step / 2, hi[0] + distance, step)
        zs = np.arange(lo[2] - distance + step / 2, hi[2] + distance, step)
        gx, gz = (a.ravel() for a in np.meshgrid(xs, zs))
        away = np.hypot(np.maximum(np.maximum(lo[0] - gx, gx - hi[0]), 0.0), np.maximum(np.maximum(lo[2] - gz, gz - hi[2]), 0.0))
        points = []
        for x, z in zip(gx[away <= distance], gz[away <= distance]):
            p = np.array([x, floor, z])
            if pf.is_navigable(hc.vec3(p)):
                p[1] = hc.as_array(pf.snap_point(hc.vec3(p)))[1]
                points.append(p)
        return np.array(points) if points else np.zeros((0, 3))

    def topdown_map(self, height: float | None = None, agent_id: int = 0) -> TopDownMap:
        """``pathfinder.get_topdown_view`` at ``height`` (navigable -> 2, the rest of the navmesh's
        bounds -> 1), padded by 0.5 m of "outside" (0) so that the walls around it are on the map.
        habitat samples cell corners; the map's origin is shifted half a cell so that each
        sample is its cell's centre."""
        pf = self.pathfinder(agent_id)
        y = self.get_agent_state(agent_id).position[1] if height is None else float(height)
        mpp = self.navmesh_cell_size
        view = np.asarray(pf.get_topdown_view(meters_per_pixel=mpp, height=y), dtype=bool)
        lower, _ = pf.get_bounds()
        lower = hc.as_array(lower)
        pad = int(math.ceil(0.5 / mpp))
        grid = np.zeros((view.shape[0] + 2 * pad, view.shape[1] + 2 * pad), dtype=np.uint8)
        grid[pad : pad + view.shape[0], pad : pad + view.shape[1]] = np.where(view, 2, 1)
        origin = (float(lower[0] - mpp / 2 - pad * mpp), float(lower[2] - mpp / 2 - pad * mpp))
        return TopDownMap(grid=grid, origin=origin, cell_size=mpp)

    # -- lifecycle -------------------------------------------------------------------------------
    def __getstate__(self):
        """Pickles without habitat-sim objects; an unpickled copy builds its own habitat-sim
        simulator (and navmeshes, sensors) on first use."""
        state = self.__dict__.copy()
        state["_sim"] = None
        state["_pathfinders"] = {}
        state["_islands"] = {}
        state["_sensor_uuids"] = set()
        return state

    def close(self) -> None:
        if self._sim is not None:
            self._sim.close()
        self._sim = None
        self._pathfinders = {}
        self._islands = {}
        self._sensor_uuids = set()
