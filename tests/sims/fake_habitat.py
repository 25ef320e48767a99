"""Fake ``habitat_sim`` and ``quaternion`` (numpy-quaternion) modules for the habitat backend's tests.

**These fakes test navgym's adapter logic only, never habitat-sim.** They record every call the
backend makes (the ``SimulatorConfiguration``, each ``CameraSensorSpec``, each
``agent.set_state`` of the camera rig, each ``NavMeshSettings`` given to ``recompute_navmesh``,
each ``try_step``) with the names and signatures of habitat-sim v0.3.x's documented Python API
(``src_python/habitat_sim/{simulator,agent/agent}.py`` and the pybind11 bindings in
``src/esp/bindings/``), so the tests can check the adapter's side: which quaternion order, sensor
specs, camera poses, semantic ids and navmesh settings it sends, and how it maps what comes back.
Whether real habitat-sim loads, renders, builds navmeshes and slides the way these fakes assume
is unverified (docs/simulator.md, "habitat-sim backend").

Three fakes go further than recording, so that ``navgym.testing.check_simulator`` runs end to
end through the adapter:

* **stage loading**: ``Simulator`` reads the ``.stage_config.json`` the adapter wrote, refuses a
  stage without ``up`` = +Y / ``front`` = -Z (habitat-sim takes a bare ``.glb`` for a z-up
  Matterport mesh), loads the render asset with navgym's own ``.glb`` reader, and parses the PLY
  instance mesh with its own reader, applying habitat-sim's rotation of PLY semantic meshes
  (``GenericSemanticMeshData``: the rotation taking -Z to -Y, ``(X, Y, Z) -> (X, Z, -Y)``);
* **sensors**: each ``CameraSensorSpec`` casts rays (navgym's Embree wrapper) from the rig
  agent's pose, turning the ``quaternion(w, x, y, z)`` it was given into a matrix with its own
  formula: COLOR is RGBA uint8, DEPTH is z-depth with 0 where nothing is hit, SEMANTIC is the
  PLY's ``object_id`` (uint32, 0 where nothing is hit), all (H, W) with ``resolution`` = [H, W]
  and a horizontal ``hfov``;
* **pathfinder**: each ``PathFinder`` answers with navgym's embedded simulator built for the
  ``NavMeshSettings`` body (``agent_radius`` / ``agent_height`` / ``agent_max_climb``,
  ``cell_size``): ``try_step`` slides like the embedded simulator (Habitat-like),
  ``try_step_no_sliding`` stops; islands are the grid's connected regions, numbered in
  *reverse* label order so that island 0 is not the largest in the conformance scenes.
"""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path

import numpy as np

from navgym.core.specs import AgentState as NavState
from navgym.core.specs import BodySpec
from navgym.scenes.scene import Material, Scene


class World:
    """Everything the fakes recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.sims: list["Simulator"] = []
        self.scenes: dict[str, dict] = {}  # habitat scene ids registered by a test (no stage file)

    def log(self, *entry) -> None:
        self.calls.append(entry)

    def of(self, name: str) -> list[tuple]:
        return [c for c in self.calls if c[0] == name]

    def register_scene(self, scene_id: str, scene: Scene, semantic_ids: dict[int, int], objects: list) -> None:
        """A habitat-sim scene (e.g. an HM3D mesh) the fake "has": ``scene``'s geometry for
        rendering and navigation, its instance ``i`` rendered with semantic id
        ``semantic_ids[i]``, and ``objects`` as ``semantic_scene.objects``."""
        self.scenes[scene_id] = {"scene": scene, "semantic_ids": semantic_ids, "objects": objects}


WORLD = World()


# -- quaternion (numpy-quaternion) ---------------------------------------------------------------------
class quaternion:  # noqa: N801 - numpy-quaternion's name
    """``quaternion.quaternion(w, x, y, z)``: scalar first, like numpy-quaternion."""

    def __init__(self, w, x, y, z):
        self.w, self.x, self.y, self.z = float(w), float(x), float(y), float(z)

    def norm(self):  # numpy-quaternion's norm is the squared length
        return self.w**2 + self.x**2 + self.y**2 + self.z**2

    def __repr__(self):
        return f"quaternion({self.w}, {self.x}, {self.y}, {self.z})"


def matrix_of(q: quaternion) -> np.ndarray:
    """World-from-node rotation of a unit quaternion (the textbook formula, own code)."""
    n = math.sqrt(q.norm())
    w, x, y, z = q.w / n, q.x / n, q.y / n, q.z / n
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


# -- configuration ---------------------------------------------------------------------------------
class SensorType:
    COLOR = "SensorType.COLOR"
    DEPTH = "SensorType.DEPTH"
    SEMANTIC = "SensorType.SEMANTIC"


class SensorSubType:
    PINHOLE = "SensorSubType.PINHOLE"
    ORTHOGRAPHIC = "SensorSubType.ORTHOGRAPHIC"


class CameraSensorSpec:
    def __init__(self):
        self.uuid = ""
        self.sensor_type = SensorType.COLOR
        self.sensor_subtype = SensorSubType.PINHOLE
        self.resolution = [128, 128]
        self.hfov = 90.0
        self.position = [0.0, 1.5, 0.0]
        self.orientation = [0.0, 0.0, 0.0]
        self.near = 0.01
        self.far = 1000.0
        self.channels = 4


class SimulatorConfiguration:
    def __init__(self):
        self.scene_id = ""
        self.scene_dataset_config_file = "default"
        self.enable_physics = False
        self.gpu_device_id = 0
        self.allow_sliding = True
        self.random_seed = 0
        self.load_semantic_mesh = False
        self.requires_textures = True
        self.create_renderer = False


class AgentConfiguration:
    def __init__(self, height=1.5, radius=0.1, sensor_specifications=None):
        self.height, self.radius = height, radius
        self.sensor_specifications = list(sensor_specifications or [])


class Configuration:
    def __init__(self, sim_cfg, agents, metadata_mediator=None, enable_batch_renderer=False):
        self.sim_cfg, self.agents = sim_cfg, agents


class AgentState:
    def __init__(self, position=None, rotation=None, sensor_states=None):
        self.position = np.zeros(3) if position is None else position
        self.rotation = quaternion(1, 0, 0, 0) if rotation is None else rotation
        self.sensor_states = dict(sensor_states or {})
        self.validate()

    def validate(self):
        """habitat-sim's attrs validators (``utils/validators.py``), run by ``AgentState(...)`` and
        again by ``Agent.set_state`` (``attr.validate``): a finite position, and a rotation of
        unit length (``numpy-quaternion``'s ``norm()``, the squared length, within rtol 1e-4)."""
        if not np.all(np.isfinite(np.asarray(self.position, dtype=np.float64))):
            raise ValueError(f"{self.position} contains non-finite values which are forbidden in the position of AgentState")
        if isinstance(self.rotation, quaternion) and not np.isclose(self.rotation.norm(), 1.0, rtol=1e-4, atol=0):
            raise ValueError(f"{self.rotation} is suppose to be a normalized quaternion but is not {self.rotation.norm()}")


class NavMeshSettings:
    def __init__(self):
        self.set_defaults()
        self.defaults_set = False

    def set_defaults(self):
        self.cell_size, self.cell_height = 0.05, 0.2
        self.agent_height, self.agent_radius, self.agent_max_climb, self.agent_max_slope = 1.5, 0.1, 0.2, 45.0
        self.include_static_objects = False
        self.defaults_set = True


class ShortestPath:
    def __init__(self):
        self.requested_start = np.zeros(3)
        self.requested_end = np.zeros(3)
        self.points = []
        self.geodesic_distance = math.inf


class MultiGoalShortestPath:
    def __init__(self):
        self.requested_start = np.zeros(3)
        self.requested_ends = []
        self.points = []
        self.geodesic_distance = math.inf
        self.closest_end_point_index = -1


# -- pathfinder ------------------------------------------------------------------------------------
def _vec(v) -> np.ndarray:
    """A point as a magnum Vector3 comes back to Python: float32 (3,)."""
    return np.asarray(v, dtype=np.float32).reshape(3)


class PathFinder:
    """Answers with navgym's embedded simulator for the NavMeshSettings body (module docstring)."""

    def __init__(self):
        self._geo = None
        self._rng = np.random.default_rng(0)
        self.settings = None

    def _build(self, scene: Scene, settings: NavMeshSettings) -> None:
        from navgym.sims.embedded.simulator import EmbeddedSimulator

        body = BodySpec(radius=settings.agent_radius, height=settings.agent_height, max_climb=settings.agent_max_climb)
        self._geo = EmbeddedSimulator(scene, body=body, cell_size=settings.cell_size)
        self.settings = settings

    @property
    def is_loaded(self):
        return self._geo is not None

    def _grid(self, y=None):
        return self._geo.grid(y) if y is not None else self._geo._main_grid()

    def _labels(self):
        grid = self._grid()
        count = int(grid.labels.max())
        return grid, count

    @property
    def num_islands(self):
        return self._labels()[1]

    def _label_of(self, island_index):
        grid, count = self._labels()
        return count - int(island_index)  # island 0 is the last label (module docstring)

    def island_area(self, island_index=-1):
        grid, _ = self._labels()
        cells = grid.navigable.sum() if island_index == -1 else (grid.labels == self._label_of(island_index)).sum()
        return float(cells) * grid.cell_size**2

    def seed(self, new_seed):
        WORLD.log("seed", int(new_seed))
        self._rng = np.random.default_rng(int(new_seed))

    def get_random_navigable_point(self, max_tries=10, island_index=-1):
        grid, _ = self._labels()
        mask = grid.navigable if island_index == -1 else grid.labels == self._label_of(island_index)
        cells = np.flatnonzero(mask.ravel())
        row, col = divmod(int(cells[self._rng.integers(len(cells))]), grid.cols)
        return _vec(grid.to_world(row, col))

    def is_navigable(self, pt, max_y_delta=0.5):
        p = np.asarray(pt, dtype=np.float64)
        grid = self._grid(p[1])
        return bool(grid.is_navigable(p) and abs(grid.floor_at(p) - p[1]) <= max_y_delta)

    def snap_point(self, point, island_index=-1):
        try:
            return _vec(self._geo.snap_point(np.asarray(point, dtype=np.float64)))
        except ValueError:
            return _vec([np.nan, np.nan, np.nan])

    def try_step(self, start, end):
        WORLD.log("try_step", _vec(start), _vec(end))
        self._geo.set_agent_state(NavState(np.asarray(start, dtype=np.float64)), snap=True)
        self._geo.move_agent(np.asarray(end, dtype=np.float64) - np.asarray(start, dtype=np.float64))
        return _vec(self._geo.get_agent_state().position)

    def try_step_no_sliding(self, start, end):
        WORLD.log("try_step_no_sliding", _vec(start), _vec(end))
        start = np.asarray(start, dtype=np.float64)
        grid = self._grid(start[1])
        reached, _ = self._geo._walk(grid, start, np.asarray(end, dtype=np.float64) - start)
        return _vec(reached)

    def find_path(self, path):
        start = np.asarray(path.requested_start, dtype=np.float64)
        if isinstance(path, MultiGoalShortestPath):
            goals = np.array([np.asarray(g, dtype=np.float64) for g in path.requested_ends])
            WORLD.log("find_path", "multi", len(goals))
        else:
            goals = np.asarray(path.requested_end, dtype=np.float64)[None]
            WORLD.log("find_path", "single", 1)
        distance = float(self._geo.geodesic_distance(start, goals))
        if not math.isfinite(distance):
            path.points, path.geodesic_distance = [], math.inf
            return False
        points = self._geo.shortest_path(start, goals if len(goals) > 1 else goals[0])
        path.points = [_vec(p) for p in points]
        path.geodesic_distance = distance
        return True

    def get_bounds(self):
        grid = self._grid()
        rows, cols = np.nonzero(grid.navigable)
        lo = [grid.origin[0] + cols.min() * grid.cell_size, grid.floor_height, grid.origin[1] + rows.min() * grid.cell_size]
        hi = [grid.origin[0] + (cols.max() + 1) * grid.cell_size, grid.floor_height, grid.origin[1] + (rows.max() + 1) * grid.cell_size]
        return _vec(lo), _vec(hi)

    def get_topdown_view(self, meters_per_pixel, height, eps=0.5):
        """Like habitat-sim's: pixel (h, w) is ``is_navigable`` at the bounds' lower corner plus
        (w, h) pixels (corners, not centres)."""
        lo, hi = self.get_bounds()
        cols, rows = int((hi[0] - lo[0]) / meters_per_pixel), int((hi[2] - lo[2]) / meters_per_pixel)
        out = np.zeros((rows, cols), dtype=bool)
        for h in range(rows):
            for w in range(cols):
                out[h, w] = self.is_navigable([lo[0] + w * meters_per_pixel, height, lo[2] + h * meters_per_pixel], eps)
        return out


# -- semantic scene --------------------------------------------------------------------------------
class Range3D:
    """magnum's ``Range3D`` as ``SemanticObject.aabb`` returns it (``min`` / ``max``)."""

    def __init__(self, lo, hi):
        self.min, self.max = _vec(lo), _vec(hi)


class SemanticCategory:
    def __init__(self, name):
        self._name = name

    def name(self, mapping=""):
        return self._name


class SemanticObject:
    def __init__(self, object_id, semantic_id, category, lo, hi):
        self.id, self.semantic_id = object_id, semantic_id
        self.category = None if category is None else SemanticCategory(category)
        self.aabb = Range3D(lo, hi)


class SemanticScene:
    def __init__(self, objects=()):
        self.objects = list(objects)


# -- PLY reader (own code: the header's properties, binary little endian) --------------------------
_PLY_TYPES = {"float": "<f4", "uchar": "u1", "ushort": "<u2", "int": "<i4", "uint": "<u4", "short": "<i2", "char": "i1", "double": "<f8"}


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(F, 3, 3) triangles in the file's frame and each triangle's ``object_id`` (of its first
    vertex; per-vertex ids, as Magnum's StanfordImporter reads them)."""
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    elements, current = [], None
    for line in data[:end].decode("ascii").splitlines():
        words = line.split()
        if words[0] == "format":
            assert words[1] == "binary_little_endian", words
        elif words[0] == "element":
            current = {"name": words[1], "count": int(words[2]), "props": []}
            elements.append(current)
        elif words[0] == "property":
            if words[1] == "list":
                current["props"].append(("list", words[2], words[3], words[4]))
            else:
                current["props"].append((words[2], words[1]))
    offset = end
    arrays = {}
    for element in elements:
        fields = []
        for prop in element["props"]:
            if prop[0] == "list":
                assert prop[1] == "uchar", "the fake reads triangle lists with a uchar count"
                fields += [("n", "u1"), (prop[3], _PLY_TYPES[prop[2]], (3,))]
            else:
                fields.append((prop[0], _PLY_TYPES[prop[1]]))
        dtype = np.dtype(fields)
        arrays[element["name"]] = np.frombuffer(data, dtype=dtype, count=element["count"], offset=offset)
        offset += dtype.itemsize * element["count"]
    vertex, face = arrays["vertex"], arrays["face"]
    assert (face["n"] == 3).all()
    assert {"red", "green", "blue"} <= set(vertex.dtype.names), "habitat-sim needs vertex colours on semantic meshes"
    points = np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=-1).astype(np.float64)
    return points[face["vertex_indices"]], vertex["object_id"][face["vertex_indices"][:, 0]].astype(np.int64)


def _triangle_scene(triangles: np.ndarray, name: str) -> Scene:
    n = len(triangles)
    return Scene(
        vertices=triangles.reshape(-1, 3), faces=np.arange(3 * n).reshape(-1, 3), uvs=np.zeros((3 * n, 2)),
        face_material=np.zeros(n, dtype=np.int32), face_instance=np.zeros(n, dtype=np.int32),
        materials=[Material("grey", "paint", (128, 128, 128))], name=name,
    )


# -- agents and the simulator ----------------------------------------------------------------------
class Agent:
    def __init__(self, sim, index, cfg):
        self.sim, self.index, self.agent_config = sim, index, cfg
        self.state = AgentState()
        self.sensors: dict[str, CameraSensorSpec] = {}

    def set_state(self, state, reset_sensors=True, infer_sensor_states=True, is_initial=False):
        state.validate()  # habitat-sim: attr.validate(state)
        assert isinstance(state.rotation, quaternion), f"rotation {state.rotation!r} is not a quaternion.quaternion"
        position = np.asarray(state.position, dtype=np.float64)
        WORLD.log("set_state", self.index, position.copy(), (state.rotation.w, state.rotation.x, state.rotation.y, state.rotation.z), reset_sensors, infer_sensor_states)
        self.state = AgentState(position.copy(), state.rotation)

    def get_state(self):
        return AgentState(self.state.position.copy(), self.state.rotation)


class Simulator:
    def __init__(self, config):
        self.config = config
        sim_cfg = config.sim_cfg
        specs = [s for cfg in config.agents for s in cfg.sensor_specifications]
        # habitat-sim's _sanitize_config: what gets loaded follows the sensor types present now.
        sim_cfg.create_renderer = bool(specs)
        sim_cfg.load_semantic_mesh |= any(s.sensor_type == SensorType.SEMANTIC for s in specs)
        sim_cfg.requires_textures = any(s.sensor_type == SensorType.COLOR for s in specs)
        WORLD.log("Simulator", sim_cfg.scene_id, sim_cfg.scene_dataset_config_file, sim_cfg.enable_physics, sim_cfg.gpu_device_id, sim_cfg.allow_sliding)
        WORLD.sims.append(self)
        self._load(sim_cfg)
        self.agents = [Agent(self, i, cfg) for i, cfg in enumerate(config.agents)]
        for i, cfg in enumerate(config.agents):
            for spec in cfg.sensor_specifications:
                self._add(spec, i)
        self.pathfinder = PathFinder()
        self.pathfinder._build(self._scene, NavMeshSettings())  # the "loaded .navmesh": default settings
        self.closed = False
        self.observations = 0

    def _load(self, sim_cfg):
        from navgym.scenes.io import load_scene

        scene_id = sim_cfg.scene_id
        if scene_id in WORLD.scenes:
            entry = WORLD.scenes[scene_id]
            self._scene = entry["scene"]
            self.semantic_scene = SemanticScene(entry["objects"])
            ids = np.array([entry["semantic_ids"].get(int(i), 0) for i in self._scene.face_instance])
            self._semantic = (_triangle_scene(self._scene.vertices[self._scene.faces].astype(np.float64), "semantic"), ids)
            return
        path = Path(scene_id)
        assert path.name.endswith(".stage_config.json") and path.exists(), f"the fake loads stage configs only, got {scene_id!r}"
        config = json.loads(path.read_text())
        assert config["up"] == [0.0, 1.0, 0.0] and config["front"] == [0.0, 0.0, -1.0], f"stage frame up={config.get('up')} front={config.get('front')}"
        self._scene = load_scene(path.parent / config["render_asset"])
        self.semantic_scene = SemanticScene()
        self._semantic = None
        if sim_cfg.load_semantic_mesh and "semantic_asset" in config:
            triangles, ids = read_ply(path.parent / config["semantic_asset"])
            triangles = np.stack([triangles[..., 0], triangles[..., 2], -triangles[..., 1]], axis=-1)  # habitat's PLY rotation
            self._semantic = (_triangle_scene(triangles, "semantic"), ids)
        self._casters = {}

    def _caster(self, which):
        from navgym.sims.embedded.raycast import RayCaster

        if not hasattr(self, "_casters"):
            self._casters = {}
        if which not in self._casters:
            self._casters[which] = RayCaster(self._scene if which == "render" else self._semantic[0])
        return self._casters[which]

    def _add(self, spec, agent_id):
        assert spec.uuid not in self.agents[agent_id].sensors
        WORLD.log("sensor", agent_id, spec.uuid, spec.sensor_type, spec.sensor_subtype, list(spec.resolution), float(spec.hfov),
                  list(spec.position), list(spec.orientation))
        self.agents[agent_id].sensors[spec.uuid] = spec

    def add_sensor(self, sensor_spec, agent_id=None):
        cfg = self.config.sim_cfg
        if (
            (not cfg.load_semantic_mesh and sensor_spec.sensor_type == SensorType.SEMANTIC)
            or (not cfg.requires_textures and sensor_spec.sensor_type == SensorType.COLOR)
            or (not cfg.create_renderer and sensor_spec.sensor_type == SensorType.DEPTH)
        ):
            raise ValueError(f"Data for {sensor_spec.sensor_type} sensor was not loaded during Simulator init.")
        self._add(sensor_spec, 0 if agent_id is None else agent_id)

    def get_agent(self, agent_id):
        return self.agents[agent_id]

    def recompute_navmesh(self, pathfinder, navmesh_settings):
        s = navmesh_settings
        WORLD.log("recompute_navmesh", pathfinder is self.pathfinder, s.agent_radius, s.agent_height, s.agent_max_climb, s.cell_size, s.cell_height, s.defaults_set)
        pathfinder._build(self._scene, navmesh_settings)
        return True

    def get_sensor_observations(self, agent_ids=0):
        assert isinstance(agent_ids, int)
        agent = self.agents[agent_ids]
        return {uuid: self._observe(agent, spec) for uuid, spec in agent.sensors.items()}

    def _observe(self, agent, spec):
        assert spec.sensor_subtype == SensorSubType.PINHOLE
        assert list(spec.orientation) == [0.0, 0.0, 0.0], "the fake renders sensors without an orientation of their own"
        self.observations += 1
        rotation = matrix_of(agent.state.rotation)
        position = agent.state.position + rotation @ np.asarray(spec.position, dtype=np.float64)
        height, width = (int(v) for v in spec.resolution)
        focal = (width / 2.0) / math.tan(math.radians(float(spec.hfov)) / 2.0)
        cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
        local = np.stack([(cols - width / 2.0) / focal, -(rows - height / 2.0) / focal, -np.ones_like(cols)], axis=-1).reshape(-1, 3)
        directions = local @ rotation.T
        origins = np.tile(position, (len(directions), 1))
        if spec.sensor_type == SensorType.COLOR:
            frame = self._caster("render").render([(position, rotation, width, height, float(spec.hfov))], [("rgb",)], [(0.0, 1000.0)])[0]
            return np.concatenate([frame["rgb"], np.full((height, width, 1), 255, np.uint8)], axis=-1)
        if spec.sensor_type == SensorType.DEPTH:
            t, prim, _, _ = self._caster("render").cast(origins, directions)
            return np.where(prim >= 0, t, 0.0).astype(np.float32).reshape(height, width)
        assert self._semantic is not None, "no semantic mesh was loaded"
        t, prim, _, _ = self._caster("semantic").cast(origins, directions)
        ids = self._semantic[1]
        return np.where(prim >= 0, ids[np.maximum(prim, 0)], 0).astype(np.uint32).reshape(height, width)

    def close(self, destroy=True):
        WORLD.log("close")
        self.closed = True


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    module.__path__ = []
    return module


def install(monkeypatch) -> World:
    """Put the fakes into ``sys.modules`` (undone by ``monkeypatch``) and return a fresh world."""
    global WORLD
    WORLD = World()
    nav = _module("habitat_sim.nav", PathFinder=PathFinder, NavMeshSettings=NavMeshSettings, ShortestPath=ShortestPath,
                  MultiGoalShortestPath=MultiGoalShortestPath)
    habitat_sim = _module(
        "habitat_sim",
        __version__="0.3.3",
        Simulator=Simulator, Configuration=Configuration, SimulatorConfiguration=SimulatorConfiguration,
        AgentConfiguration=AgentConfiguration, AgentState=AgentState, CameraSensorSpec=CameraSensorSpec,
        SensorType=SensorType, SensorSubType=SensorSubType, PathFinder=PathFinder, NavMeshSettings=NavMeshSettings,
        ShortestPath=ShortestPath, MultiGoalShortestPath=MultiGoalShortestPath, nav=nav,
    )
    monkeypatch.setitem(sys.modules, "habitat_sim", habitat_sim)
    monkeypatch.setitem(sys.modules, "habitat_sim.nav", nav)
    monkeypatch.setitem(sys.modules, "quaternion", _module("quaternion", quaternion=quaternion))
    return WORLD
