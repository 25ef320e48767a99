"""Fake ``isaaclab`` / ``isaacsim`` / ``omni`` / ``pxr`` modules for the Isaac backend's tests.

**These fakes test navgym's adapter logic only, never Isaac Sim.** They record every call the
backend makes (app launch, spawned prims, articulation writes, camera intrinsics and poses) with
the signatures of Isaac Lab 2.3's documented API, so the tests can check the adapter's side:
which pose, quaternion order, intrinsics, joint targets and instance ids it sends and how it maps
what comes back. Whether real Isaac Sim renders, simulates and labels the way these fakes assume
is unverified (docs/isaac.md).

Two fakes go further than recording, so the conformance kit can run end to end through the
adapter:

* a **renderer**: each fake camera casts rays (navgym's Embree wrapper on raw triangles) from the
  pose and intrinsic matrix the adapter set, in the Isaac frame (OpenGL camera convention, z up),
  against the triangles it parses out of the USD layer the adapter referenced, and returns
  ``distance_to_image_plane``, a grey ``rgb`` and ``instance_segmentation_fast`` ids with an
  ``idToLabels`` table of prim paths, like Replicator's annotators;
* a **physics** stand-in: ``SimulationContext.step`` moves each articulation's root by the
  body velocity its wheel targets give (differential drive with the Jetbot's geometry) or by a
  velocity the test's policy sets.

``install(monkeypatch, isaaclab_version="3.0.0")`` gives Isaac Lab 3.x's two breaking changes the
adapter meets: quaternions are ``(x, y, z, w)`` everywhere (root poses written and read, camera
orientations), and ``Articulation.data`` / ``Camera.data.output`` fields are ``ProxyArray``s
(``isaaclab/utils/warp/proxy_array.py``: a warp array with a ``.torch`` view; no ``.clone()``,
``.cpu()`` or ``.numpy()``, and numpy cannot read one that lives on a GPU, which
:class:`ProxyArray` here mimics by refusing ``np.asarray``).
"""

from __future__ import annotations

import math
import re
import sys
import types
from pathlib import Path

import numpy as np

try:
    import torch
except ImportError:  # the tests that need torch skip themselves
    torch = None

from navgym.scenes.scene import Material, Scene  # noqa: E402
from navgym.sims.embedded.raycast import RayCaster  # noqa: E402


class World:
    """Everything the fakes recorded, and the state they simulate."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.launches: list[dict] = []
        self.sim = None
        self.scenes: dict[str, dict] = {}  # root -> {"triangles": (F,3,3), "paths": [..], "translation": (3,)}
        self.visible: dict[str, bool] = {}
        self.removed: list[str] = []
        self.cameras: list["Camera"] = []
        self.articulations: list["Articulation"] = []
        self.controllers: list["DifferentialController"] = []
        self.resets = 0
        self.renders = 0
        self.forwards = 0
        self._caster_key = None
        self._caster = None
        self._face_paths: list[str] = []
        self.after_launch: dict[str, types.ModuleType] = {}
        self.monkeypatch = None
        self.isaaclab_major = 2

    @property
    def xyzw(self) -> bool:
        """Isaac Lab 3.x orders quaternions (x, y, z, w); 2.x (w, x, y, z)."""
        return self.isaaclab_major >= 3

    def wxyz(self, q) -> np.ndarray:
        """A quaternion in the installed Isaac Lab's order, as (w, x, y, z)."""
        q = np.asarray(q, dtype=np.float64)
        return q[[3, 0, 1, 2]] if self.xyzw else q

    def native(self, q_wxyz) -> np.ndarray:
        """(w, x, y, z) in the installed Isaac Lab's order."""
        q = np.asarray(q_wxyz, dtype=np.float64)
        return q[[1, 2, 3, 0]] if self.xyzw else q

    def data_field(self, tensor):
        """A data field as the installed Isaac Lab returns it: a torch tensor (2.x) or a
        :class:`ProxyArray` (3.x)."""
        return ProxyArray(tensor) if self.isaaclab_major >= 3 else tensor

    def log(self, *entry) -> None:
        self.calls.append(entry)

    # -- the fake renderer -------------------------------------------------------------------
    def caster(self):
        key = tuple(sorted(root for root in self.scenes if self.visible.get(root, True)))
        if key != self._caster_key:
            triangles, paths = [], []
            for root in key:
                scene = self.scenes[root]
                triangles.append(scene["triangles"])
                paths += scene["paths"]
            tri = np.concatenate(triangles) if triangles else np.zeros((0, 3, 3))
            n = len(tri)
            navgym_scene = Scene(
                vertices=tri.reshape(-1, 3),
                faces=np.arange(3 * n).reshape(-1, 3),
                uvs=np.zeros((3 * n, 2)),
                face_material=np.zeros(n, dtype=np.int32),
                face_instance=np.zeros(n, dtype=np.int32),
                materials=[Material("grey", "paint", (128, 128, 128))],
                name="fake-stage",
            )
            self._caster = RayCaster(navgym_scene)
            self._face_paths = paths
            self._caster_key = key
        return self._caster, self._face_paths


WORLD = World()


def parse_usda_meshes(path: str) -> tuple[np.ndarray, list[str]]:
    """(F, 3, 3) triangles and each triangle's mesh prim name, from a layer written by
    ``navgym.sims.isaac.usd.write_usda`` (a regex reader, enough for that writer's output)."""
    text = Path(path).read_text()
    triangles, names = [], []
    for match in re.finditer(r'def Mesh "([^"]+)"(.*?)\n        \}', text, re.S):
        name, body = match.group(1), match.group(2)
        indices = np.array([int(v) for v in re.search(r"int\[\] faceVertexIndices = \[([^\]]*)\]", body).group(1).split(",")])
        points_text = re.search(r"point3f\[\] points = \[([^\]]*)\]", body).group(1)
        points = np.array([[float(v) for v in p.split(",")] for p in re.findall(r"\(([^)]*)\)", points_text)])
        tri = points[indices.reshape(-1, 3)]
        triangles.append(tri)
        names += [name] * len(tri)
    return np.concatenate(triangles), names


# -- isaaclab.app --------------------------------------------------------------------------------
class AppLauncher:
    """Like Isaac Lab's: after the launch, the simulation modules become importable."""

    def __init__(self, launcher_args=None, **kwargs):
        WORLD.launches.append(dict(kwargs))
        WORLD.log("AppLauncher", dict(kwargs))
        for name, module in WORLD.after_launch.items():
            WORLD.monkeypatch.setitem(sys.modules, name, module)
        self.app = types.SimpleNamespace(close=lambda: None)


class ProxyArray:
    """Isaac Lab 3.x's ``ProxyArray`` as far as the adapter can see it: ``.torch`` (a tensor view),
    ``shape``, ``len`` and torch indexing; no tensor methods (``clone``, ``cpu``, ``numpy``,
    ``detach``). ``np.asarray`` of the real one fails on a GPU (its ``__array_interface__`` is the
    CPU one, and indexing yields CUDA tensors numpy cannot read), so this one always refuses."""

    def __init__(self, tensor):
        self._tensor = tensor

    @property
    def torch(self):
        return self._tensor

    @property
    def shape(self):
        return tuple(self._tensor.shape)

    def __len__(self):
        return self._tensor.shape[0]

    def __getitem__(self, key):
        return self._tensor[key]

    def __array__(self, *args, **kwargs):
        raise TypeError("can't convert cuda:0 device type tensor to numpy (a ProxyArray on the GPU: read .torch)")


# -- isaaclab.sim --------------------------------------------------------------------------------
class SimulationCfg:
    def __init__(self, dt=0.01, device="cuda:0", **kwargs):
        self.dt, self.device = dt, device


class SimulationContext:
    _instance = None

    @classmethod
    def instance(cls):
        return cls._instance

    def __init__(self, cfg):
        self.cfg = cfg
        SimulationContext._instance = self
        WORLD.sim = self
        WORLD.log("SimulationContext", cfg.dt, cfg.device)

    def get_physics_dt(self):
        return self.cfg.dt

    def reset(self, soft=False):
        WORLD.resets += 1
        WORLD.log("reset")
        for art in WORLD.articulations:
            art.initialize()

    def forward(self):
        WORLD.forwards += 1

    def render(self, mode=None):
        WORLD.renders += 1
        for camera in WORLD.cameras:
            camera.capture()

    def step(self, render=True):
        dt = self.cfg.dt
        for art in WORLD.articulations:
            art.integrate(dt)


def _spawner(kind):
    def func(prim_path, cfg, translation=None, orientation=None, **kwargs):
        WORLD.log("spawn", kind, prim_path, translation)
        if kind == "usd" and str(cfg.usd_path).endswith(".usda") and Path(cfg.usd_path).exists():
            triangles, names = parse_usda_meshes(cfg.usd_path)
            offset = np.asarray(translation if translation is not None else (0.0, 0.0, 0.0))
            WORLD.scenes[prim_path] = {
                "triangles": triangles + offset,
                "paths": [f"{prim_path}/Geometry/{n}" for n in names],
                "translation": offset,
            }
            WORLD._caster_key = None
        return types.SimpleNamespace(path=prim_path)

    return func


class _Cfg:
    kind = "cfg"

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)
        self.func = _spawner(self.kind)

    def replace(self, **kwargs):
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(kwargs)
        return new


class UsdFileCfg(_Cfg):
    kind = "usd"


class DomeLightCfg(_Cfg):
    kind = "dome_light"


class PinholeCameraCfg(_Cfg):
    kind = "pinhole"


# -- isaaclab.sensors ----------------------------------------------------------------------------
class CameraCfg(_Cfg):
    kind = "camera"


class Camera:
    """One camera prim; renders with the fake renderer when the simulation renders."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.K = None
        self.pose = None
        self.intrinsics_calls: list[tuple] = []
        self.pose_calls: list[tuple] = []
        WORLD.cameras.append(self)
        WORLD.log("Camera", cfg.prim_path, tuple(cfg.data_types), cfg.width, cfg.height)
        self.data = types.SimpleNamespace(output={}, info=[{}])
        self._ids = {}

    def set_intrinsic_matrices(self, matrices, focal_length=None, env_ids=None):
        m = matrices.cpu().numpy()
        self.intrinsics_calls.append((m.copy(), focal_length, list(env_ids)))
        self.K = m[0]

    def set_world_poses(self, positions=None, orientations=None, env_ids=None, convention="ros"):
        p, q = positions.cpu().numpy(), orientations.cpu().numpy()
        self.pose_calls.append((p.copy(), q.copy(), list(env_ids), convention))
        assert convention == "opengl", "the fake renderer implements the OpenGL convention only"
        self.pose = (p[0].astype(np.float64), q[0].astype(np.float64))

    def update(self, dt, force_recompute=False):
        WORLD.log("camera.update", self.cfg.prim_path, dt, force_recompute)

    def capture(self):
        if self.K is None or self.pose is None:
            return
        w, h = self.cfg.width, self.cfg.height
        fx, fy, cx, cy = self.K[0, 0], self.K[1, 1], self.K[0, 2], self.K[1, 2]
        cols, rows = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
        local = np.stack([(cols - cx) / fx, -(rows - cy) / fy, -np.ones_like(cols)], axis=-1).reshape(-1, 3)
        position, q = self.pose
        qw, qx, qy, qz = WORLD.wxyz(q / np.linalg.norm(q))  # (x, y, z, w) from Isaac Lab 3.0
        rot = np.array(
            [
                [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qw * qz), 2 * (qx * qz + qw * qy)],
                [2 * (qx * qy + qw * qz), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qw * qx)],
                [2 * (qx * qz - qw * qy), 2 * (qy * qz + qw * qx), 1 - 2 * (qx * qx + qy * qy)],
            ]
        )
        directions = local @ rot.T
        caster, paths = WORLD.caster()
        t, prim, _, _ = caster.cast(np.tile(position, (len(directions), 1)), directions)
        hit = prim >= 0
        depth = np.where(hit, t, np.inf).reshape(h, w, 1)  # t along a ray with -z component 1 = z-depth
        outputs = {}
        if "distance_to_image_plane" in self.cfg.data_types:
            d = depth.copy()
            if self.cfg.depth_clipping_behavior == "max":
                d[~np.isfinite(d)] = self.cfg.spawn.clipping_range[1]
            outputs["distance_to_image_plane"] = WORLD.data_field(torch.as_tensor(d, dtype=torch.float32)[None])
        if "rgb" in self.cfg.data_types:
            # Shaded by distance and tinted by prim: enough colours for the kit's "not flat" check.
            shade = np.where(hit, 60.0 + 150.0 * np.exp(-np.where(hit, t, 0.0) / 5.0), 0.0)
            tint = np.where(hit, (np.maximum(prim, 0) * 37) % 40, 0)
            rgb = np.stack([shade, shade + tint, shade - tint / 2], axis=-1).clip(0, 255).astype(np.uint8)
            outputs["rgb"] = WORLD.data_field(torch.as_tensor(rgb.reshape(h, w, 3))[None])
        info = {}
        if "instance_segmentation_fast" in self.cfg.data_types:
            # Replicator-like ids: 0 background, then one id per prim path seen, offset so that
            # they are not navgym's ids.
            labels = {0: "BACKGROUND", 1: "UNLABELLED"}
            ids = np.zeros(len(prim), dtype=np.int32)
            by_path: dict[str, int] = {}
            for k in np.flatnonzero(hit):
                path = paths[prim[k]]
                if "/inst_" not in path:
                    ids[k] = 1
                    continue
                if path not in by_path:
                    by_path[path] = 100 + len(by_path)
                    labels[by_path[path]] = path
                ids[k] = by_path[path]
            outputs["instance_segmentation_fast"] = WORLD.data_field(torch.as_tensor(ids.reshape(h, w, 1))[None])
            info["instance_segmentation_fast"] = {"idToLabels": {str(k): v for k, v in labels.items()}, "idToSemantics": {}}
        self.data = types.SimpleNamespace(output=outputs, info=[info])


# -- isaaclab.assets / actuators -----------------------------------------------------------------
class InitialStateCfg(_Cfg):
    pass


class ArticulationCfg(_Cfg):
    InitialStateCfg = InitialStateCfg

    def __init__(self, **kwargs):
        kwargs.setdefault("init_state", InitialStateCfg(pos=(0.0, 0.0, 0.0), rot=(1.0, 0.0, 0.0, 0.0)))
        kwargs.setdefault("prim_path", None)
        super().__init__(**kwargs)


class ImplicitActuatorCfg(_Cfg):
    pass


JOINTS = {
    "jetbot": ["left_wheel_joint", "right_wheel_joint"],
    "h1": [f"h1_joint_{i}" for i in range(19)],
    "go2": [f"go2_joint_{i}" for i in range(12)],
}


def _joints_for(cfg) -> list[str]:
    usd = getattr(getattr(cfg, "spawn", None), "usd_path", "") or ""
    for name, joints in JOINTS.items():
        if name in usd.lower():
            return joints
    return ["joint_0"]


class Articulation:
    """Records writes; ``integrate`` moves the root like a robot tracking its commands."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.joint_names = _joints_for(cfg)
        n = len(self.joint_names)
        self.writes: list[tuple] = []
        self.velocity_targets: list[tuple] = []
        self.position_targets: list[np.ndarray] = []
        self.body_velocity = np.zeros(3)  # (vx, vy, wz) a test policy can set
        self.root_pos = np.asarray(cfg.init_state.pos, dtype=np.float64)
        self.root_quat = np.asarray(cfg.init_state.rot, dtype=np.float64)
        self.joint_vel_target = np.zeros(n)
        self.default = np.linspace(-0.5, 0.5, n)
        self.initialized = False
        WORLD.articulations.append(self)
        WORLD.log("Articulation", cfg.prim_path)

    def initialize(self):
        self.initialized = True

    def _yaw(self) -> float:
        w, _, _, z = WORLD.wxyz(self.root_quat)  # root_quat is in the installed Isaac Lab's order
        return 2.0 * math.atan2(z, w)

    @property
    def data(self):
        yaw = self._yaw()
        c, s = math.cos(yaw), math.sin(yaw)
        world_v = np.array([c * self.body_velocity[0] - s * self.body_velocity[1], s * self.body_velocity[0] + c * self.body_velocity[1], 0.0])
        rot_t = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
        n = len(self.joint_names)
        fields = dict(
            root_pos_w=self.root_pos[None],
            root_quat_w=self.root_quat[None],
            root_lin_vel_b=(rot_t @ world_v)[None],
            root_ang_vel_b=np.array([[0.0, 0.0, self.body_velocity[2]]]),
            projected_gravity_b=np.array([[0.0, 0.0, -1.0]]),
            joint_pos=(self.default + 0.01)[None],
            joint_vel=np.full((1, n), 0.02),
            default_joint_pos=self.default[None],
            default_joint_vel=np.zeros((1, n)),
        )
        return types.SimpleNamespace(**{name: WORLD.data_field(torch.as_tensor(value)) for name, value in fields.items()})

    def write_root_pose_to_sim(self, root_pose, env_ids=None):
        pose = root_pose.cpu().numpy()[0].astype(np.float64)
        self.writes.append(("root_pose", pose))
        self.root_pos, self.root_quat = pose[:3].copy(), pose[3:].copy()

    def write_root_velocity_to_sim(self, root_velocity, env_ids=None):
        self.writes.append(("root_velocity", root_velocity.cpu().numpy()[0]))
        self.body_velocity = np.zeros(3)

    def write_joint_state_to_sim(self, position, velocity, joint_ids=None, env_ids=None):
        self.writes.append(("joint_state", position.cpu().numpy()[0], velocity.cpu().numpy()[0]))

    def find_joints(self, name_keys, joint_subset=None, preserve_order=False):
        ids = [self.joint_names.index(k) for k in name_keys]
        return ids, list(name_keys)

    def set_joint_velocity_target(self, target, joint_ids=None, env_ids=None):
        t = target.cpu().numpy()[0]
        self.velocity_targets.append((t.copy(), list(joint_ids)))
        self.joint_vel_target[list(joint_ids)] = t

    def set_joint_position_target(self, target, joint_ids=None, env_ids=None):
        self.position_targets.append(target.cpu().numpy()[0].copy())

    def write_data_to_sim(self):
        pass

    def update(self, dt):
        pass

    def integrate(self, dt):
        if self.joint_names == JOINTS["jetbot"]:
            r, b = 0.03, 0.1125  # the physical Jetbot the fake stands for
            left, right = self.joint_vel_target
            self.body_velocity = np.array([r * (left + right) / 2.0, 0.0, r * (right - left) / b])
        yaw = self._yaw()
        c, s = math.cos(yaw), math.sin(yaw)
        vx, vy, wz = self.body_velocity
        self.root_pos = self.root_pos + dt * np.array([c * vx - s * vy, s * vx + c * vy, 0.0])
        yaw += dt * wz
        self.root_quat = WORLD.native([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])


# -- isaacsim.robot.wheeled_robots ---------------------------------------------------------------
class DifferentialController:
    def __init__(self, name, wheel_radius, wheel_base, max_linear_speed=1e20, max_angular_speed=1e20, max_wheel_speed=1e20):
        self.name, self.wheel_radius, self.wheel_base = name, wheel_radius, wheel_base
        self.commands: list[list[float]] = []
        WORLD.controllers.append(self)

    def forward(self, command):
        self.commands.append(list(command))
        v, w = command
        left = (2 * v - w * self.wheel_base) / (2 * self.wheel_radius)
        right = (2 * v + w * self.wheel_base) / (2 * self.wheel_radius)
        return types.SimpleNamespace(joint_velocities=np.array([left, right]))


# -- omni.usd / pxr ------------------------------------------------------------------------------
class _Prim:
    def __init__(self, path):
        self.path = path

    def IsValid(self):
        return True


class _Stage:
    def GetPrimAtPath(self, path):
        return _Prim(path)

    def RemovePrim(self, path):
        WORLD.removed.append(path)
        WORLD.scenes.pop(path, None)
        WORLD._caster_key = None
        return True


class _Imageable:
    def __init__(self, prim):
        self.prim = prim

    def MakeVisible(self):
        WORLD.visible[self.prim.path] = True

    def MakeInvisible(self):
        WORLD.visible[self.prim.path] = False


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    module.__path__ = []  # a package, so submodules resolve
    return module


def install(monkeypatch, isaaclab_version: str = "2.3.2") -> World:
    """Put the fakes into ``sys.modules`` (undone by ``monkeypatch``) and return a fresh world."""
    global WORLD
    WORLD = World()
    WORLD.isaaclab_major = int(isaaclab_version.split(".")[0])
    SimulationContext._instance = None
    from navgym.sims.isaac import runtime

    runtime.IsaacRuntime.forget()
    monkeypatch.setattr(runtime.IsaacRuntime, "_instance", None)
    h1 = ArticulationCfg(spawn=UsdFileCfg(usd_path="{ISAACLAB_NUCLEUS_DIR}/Robots/Unitree/H1/h1.usd"), init_state=InitialStateCfg(pos=(0.0, 0.0, 1.05), rot=(1.0, 0.0, 0.0, 0.0)))
    go2 = ArticulationCfg(spawn=UsdFileCfg(usd_path="{ISAACLAB_NUCLEUS_DIR}/Robots/Unitree/Go2/go2.usd"), init_state=InitialStateCfg(pos=(0.0, 0.0, 0.4), rot=(1.0, 0.0, 0.0, 0.0)))
    stage = _Stage()
    modules = {
        "isaacsim": _module("isaacsim"),
        "isaacsim.robot": _module("isaacsim.robot"),
        "isaacsim.robot.wheeled_robots": _module("isaacsim.robot.wheeled_robots"),
        "isaacsim.robot.wheeled_robots.controllers": _module("isaacsim.robot.wheeled_robots.controllers"),
        "isaacsim.robot.wheeled_robots.controllers.differential_controller": _module(
            "isaacsim.robot.wheeled_robots.controllers.differential_controller", DifferentialController=DifferentialController
        ),
        "isaaclab": _module("isaaclab", __version__=isaaclab_version),
        "isaaclab.app": _module("isaaclab.app", AppLauncher=AppLauncher),
        "isaaclab.sim": _module(
            "isaaclab.sim",
            SimulationCfg=SimulationCfg,
            SimulationContext=SimulationContext,
            UsdFileCfg=UsdFileCfg,
            DomeLightCfg=DomeLightCfg,
            PinholeCameraCfg=PinholeCameraCfg,
        ),
        "isaaclab.sensors": _module("isaaclab.sensors", Camera=Camera, CameraCfg=CameraCfg),
        "isaaclab.assets": _module("isaaclab.assets", Articulation=Articulation, ArticulationCfg=ArticulationCfg),
        "isaaclab.actuators": _module("isaaclab.actuators", ImplicitActuatorCfg=ImplicitActuatorCfg),
        "isaaclab.utils": _module("isaaclab.utils"),
        "isaaclab.utils.assets": _module("isaaclab.utils.assets", ISAAC_NUCLEUS_DIR="omniverse://fake/Isaac", ISAACLAB_NUCLEUS_DIR="omniverse://fake/Isaac/IsaacLab"),
        "isaaclab_assets": _module("isaaclab_assets"),
        "isaaclab_assets.robots": _module("isaaclab_assets.robots"),
        "isaaclab_assets.robots.unitree": _module("isaaclab_assets.robots.unitree", H1_CFG=h1, UNITREE_GO2_CFG=go2),
        "omni": _module("omni"),
        "omni.usd": _module("omni.usd", get_context=lambda: types.SimpleNamespace(get_stage=lambda: stage)),
        "pxr": _module("pxr", UsdGeom=types.SimpleNamespace(Imageable=_Imageable)),
    }
    for name, module in modules.items():  # `import a.b` binds `a`, then looks up `a.b` as an attribute
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(modules[parent], child, module)
    # Before the app is launched only these import (Isaac Lab's rule: AppLauncher first).
    before = ("isaacsim", "isaaclab", "isaaclab.app")
    WORLD.monkeypatch = monkeypatch
    WORLD.after_launch = {name: module for name, module in modules.items() if name not in before}
    for name in before:
        monkeypatch.setitem(sys.modules, name, modules[name])
    for name in WORLD.after_launch:
        if name in sys.modules:
            monkeypatch.delitem(sys.modules, name)
    return WORLD
