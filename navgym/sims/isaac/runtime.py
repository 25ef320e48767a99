"""Everything of the Isaac backend that calls Isaac Sim / Isaac Lab: the app, the stage, robots,
cameras. Imported only when an :class:`~navgym.sims.isaac.simulator.IsaacSimulator` is built;
``import navgym`` never imports it, and this module imports Isaac only inside functions.

Written against Isaac Lab 2.3 on Isaac Sim 5.1 (the documented APIs named below); **never run on
a real Isaac installation by navgym's developers** (no RTX GPU). navgym's tests run it against fake
``isaaclab`` / ``isaacsim`` / ``omni`` / ``pxr`` modules that record calls, which checks the
adapter's own logic (which call gets which pose, intrinsics, joint targets, ids), not Isaac.

APIs used (Isaac Lab 2.3 / Isaac Sim 5.1):

* ``isaaclab.app.AppLauncher(headless=..., enable_cameras=True, device=...)``: the app, launched
  before any other ``isaaclab`` module is imported (``AppLauncher`` docs).
* ``isaaclab.sim``: ``SimulationContext(SimulationCfg(dt=..., device=...))`` with ``reset()``,
  ``step(render=False)``, ``forward()``, ``render()``, ``get_physics_dt()``; spawner configs
  ``UsdFileCfg``, ``DomeLightCfg``, ``PinholeCameraCfg``, each spawned with ``cfg.func(path, cfg,
  translation=...)``.
* ``isaaclab.assets.Articulation`` / ``ArticulationCfg``: ``write_root_pose_to_sim``,
  ``write_root_velocity_to_sim``, ``write_joint_state_to_sim``, ``set_joint_velocity_target``,
  ``set_joint_position_target``, ``write_data_to_sim``, ``update``, ``find_joints``, ``data``
  (``root_pos_w``, ``root_quat_w``, ``root_lin_vel_b``, ``root_ang_vel_b``,
  ``projected_gravity_b``, ``joint_pos``, ``joint_vel``, ``default_joint_pos``,
  ``default_joint_vel``): torch tensors in 2.x, ``ProxyArray``s in 3.x (read through
  :func:`as_tensor`, which takes their ``.torch`` view).
* ``isaaclab.sensors.Camera`` / ``CameraCfg``: ``data_types`` ``rgb``,
  ``distance_to_image_plane``, ``instance_segmentation_fast`` (``colorize_instance_segmentation=
  False`` gives ids; ``data.info[i]["instance_segmentation_fast"]["idToLabels"]`` maps ids to
  prim paths), ``set_intrinsic_matrices(K, focal_length, env_ids)``,
  ``set_world_poses(positions, orientations, env_ids, convention="opengl")``,
  ``update(dt, force_recompute=True)``.
* ``isaaclab_assets.robots.unitree.H1_CFG`` / ``UNITREE_GO2_CFG``; the Jetbot USD under
  ``isaaclab.utils.assets.ISAAC_NUCLEUS_DIR``.
* ``isaacsim.robot.wheeled_robots.controllers.differential_controller.DifferentialController(name,
  wheel_radius, wheel_base)``, ``forward(command=[v, wz]).joint_velocities``.
* ``omni.usd.get_context().get_stage()`` and ``pxr.UsdGeom.Imageable`` to show and hide prims.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from navgym.core.registry import import_object
from navgym.errors import InvalidArgumentError
from navgym.sims.isaac import frames
from navgym.sims.isaac.robots import RobotSpec, joint_position_targets, locomotion_observation
from navgym.sims.isaac.usd import instance_id_of_path

#: Top-level packages the backend needs.
REQUIRED_MODULES = ("isaacsim", "isaaclab")
#: What to install, for error messages (docs/isaac.md has the details).
INSTALL_HINT = (
    "Install Isaac Lab 2.3 with Isaac Sim 5.1 (Python 3.11, Linux x86_64 with GLIBC 2.35+, an NVIDIA RTX GPU and "
    "driver): `pip install \"isaaclab[isaacsim,all]==2.3.2\" --extra-index-url https://pypi.nvidia.com` "
    "(Isaac Lab's pip guide: https://isaac-sim.github.io/IsaacLab/v2.3.2/source/setup/installation/pip_installation.html). "
    "navgym's `isaac` extra installs nothing: these packages are large and GPU-only. See docs/isaac.md."
)
#: Where the backend's own prims live on the stage.
ROOT = "/World/navgym"
#: Distance between two simulators' scenes on the shared stage (along Isaac's X), metres.
SCENE_SPACING = 500.0
#: The camera data types for navgym's outputs.
CAMERA_DATA_TYPES = {"rgb": "rgb", "depth": "distance_to_image_plane", "semantic": "instance_segmentation_fast"}


def missing_modules() -> list[str]:
    """The required top-level modules that cannot be imported here (without importing them)."""
    missing = []
    for name in REQUIRED_MODULES:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            missing.append(name)
    return missing


def detect_quat_order() -> frames.QuatOrder:
    """Isaac Lab's quaternion order: ``(x, y, z, w)`` from 3.0, ``(w, x, y, z)`` before."""
    version = None
    module = sys.modules.get("isaaclab")
    if module is not None:
        version = getattr(module, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as dist_version

            version = dist_version("isaaclab")
        except Exception:  # not installed as a distribution (source installs may not be)
            version = None
    try:
        major = int(str(version).split(".")[0]) if version else 2
    except ValueError:
        major = 2
    return "xyzw" if major >= 3 else "wxyz"


def as_tensor(value: Any) -> Any:
    """The torch tensor behind an Isaac Lab data field: Isaac Lab 3.x returns ``ProxyArray``s
    (``isaaclab.utils.warp.ProxyArray``: a warp array with a ``.torch`` view and none of a
    tensor's methods), 2.x torch tensors; anything else is returned as it is."""
    if not hasattr(value, "detach") and hasattr(value, "torch"):
        return value.torch
    return value


def to_numpy(value: Any) -> np.ndarray:
    """A torch tensor (any device), an Isaac Lab 3.x ``ProxyArray`` or an array-like as a numpy
    array (a ``ProxyArray`` on the GPU is read through its ``.torch`` view: numpy cannot read it)."""
    value = as_tensor(value)
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def instance_lut_map(segmentation: np.ndarray, id_to_labels: dict | None, scene_root: str) -> np.ndarray:
    """navgym instance ids (H, W) int32 from an ``instance_segmentation_fast`` image.

    ``id_to_labels`` maps the annotator's ids (as strings or ints) to prim paths; a pixel gets the
    navgym id of its prim (``.../inst_<id>_m<k>``, see :mod:`navgym.sims.isaac.usd`) when that prim
    is under ``scene_root`` (this simulator's scene), else 0 (background, unlabelled prims,
    robots, other simulators' scenes). Labels that are not paths (dicts) map to 0.
    """
    seg = np.asarray(segmentation)
    if seg.ndim == 3:
        seg = seg[..., 0]
    seg = seg.astype(np.int64)
    out = np.zeros(seg.shape, dtype=np.int32)
    if not id_to_labels:
        return out
    prefix = scene_root.rstrip("/") + "/"
    for key, label in id_to_labels.items():
        try:
            raw = int(key)
        except (TypeError, ValueError):
            continue
        if not isinstance(label, str) or not label.startswith(prefix):
            continue
        navgym_id = instance_id_of_path(label[len(prefix):])
        if navgym_id is not None:
            out[seg == raw] = navgym_id
    return out


def depth_to_navgym(depth: np.ndarray, min_depth: float, max_depth: float) -> np.ndarray:
    """(H, W, 1) float32 z-depth in navgym's rule: missing (inf, nan, 0 from a renderer that
    clipped to zero) or further hits read ``max_depth``; everything is clipped to the range."""
    d = np.asarray(depth, dtype=np.float32)
    if d.ndim == 2:
        d = d[..., None]
    d = np.where(np.isfinite(d) & (d > 0.0), d, np.float32(max_depth))
    return np.clip(d, min_depth, max_depth).astype(np.float32)


@dataclass(frozen=True)
class RuntimeOptions:
    """How the backend starts Isaac (shared by every simulator of the process; the first wins).

    Attributes:
        headless: Run without a window.
        device: Simulation device (``"cuda:0"``; Isaac's cameras need an RTX GPU).
        physics_dt: Physics step, seconds (Isaac Lab's locomotion tasks use 1/200).
        render_frames: ``render()`` calls per batch before reading cameras (raise it if images
            lag one pose behind).
        light_intensity: Dome light intensity.
        launch: ``"auto"``: reuse an app the calling script launched (an ``isaaclab.sim`` module
            already imported), else launch one; ``"always"``; ``"never"`` (fail without one).
        app_args: More ``AppLauncher`` keyword arguments.
        quat_order: ``"wxyz"`` / ``"xyzw"``, or ``None`` to detect from Isaac Lab's version.
    """

    headless: bool = True
    device: str = "cuda:0"
    physics_dt: float = 1.0 / 200.0
    render_frames: int = 1
    light_intensity: float = 1000.0
    launch: str = "auto"
    app_args: tuple[tuple[str, Any], ...] = ()
    quat_order: str | None = None


@dataclass
class SceneHandle:
    """A scene's USD layer on the shared stage (shared by the simulators of the same layer)."""

    key: int
    root: str
    origin: np.ndarray
    usd_path: str
    users: int = 0


@dataclass
class Client:
    """One simulator's place in the runtime: its scene and its robots by agent id."""

    id: int
    scene: SceneHandle
    on_reset: Callable[[], None]
    robots: dict[int, "RobotHandle"] = field(default_factory=dict)


@dataclass
class RobotHandle:
    """One robot on the stage (an Isaac Lab ``Articulation``)."""

    spec: RobotSpec
    prim_path: str
    articulation: Any
    controller: Any = None
    policy: Callable[[np.ndarray], np.ndarray] | None = None
    wheel_ids: Any = None
    last_action: np.ndarray | None = None


class IsaacRuntime:
    """The process's Isaac app, simulation context and shared stage (one per process, like
    Isaac Sim's ``SimulationApp``). Simulators register their scenes and robots here."""

    _instance: "IsaacRuntime | None" = None

    @classmethod
    def get(cls, options: RuntimeOptions | None = None) -> "IsaacRuntime":
        if cls._instance is None:
            cls._instance = cls(options or RuntimeOptions())
        return cls._instance

    @classmethod
    def forget(cls) -> None:
        """Drop the process's runtime object (tests; Isaac itself cannot be restarted in-process)."""
        cls._instance = None

    def __init__(self, options: RuntimeOptions):
        self.options = options
        self.quat_order: frames.QuatOrder = options.quat_order or detect_quat_order()  # type: ignore[assignment]
        self.app_launcher = None
        already = "isaaclab.sim" in sys.modules
        if options.launch == "always" or (options.launch == "auto" and not already):
            from isaaclab.app import AppLauncher

            self.app_launcher = AppLauncher(headless=options.headless, enable_cameras=True, device=options.device, **dict(options.app_args))
        elif options.launch == "never" and not already:
            raise RuntimeError("IsaacRuntime(launch='never'): no running Isaac app (launch one with isaaclab.app.AppLauncher first)")
        # Only now may isaaclab's simulation modules be imported.
        self.sim_utils = importlib.import_module("isaaclab.sim")
        existing = self.sim_utils.SimulationContext.instance()
        if existing is not None:
            self.sim = existing
        else:
            cfg = self.sim_utils.SimulationCfg(dt=options.physics_dt, device=options.device)
            self.sim = self.sim_utils.SimulationContext(cfg)
        light = self.sim_utils.DomeLightCfg(intensity=options.light_intensity, color=(1.0, 1.0, 1.0))
        light.func(f"{ROOT}/Light", light)
        self.physics_dt = float(options.physics_dt)
        self._scenes: dict[int, SceneHandle] = {}
        self._clients: dict[int, Client] = {}
        self._next_key = 0
        self._next_client = 0
        self._cameras: dict[tuple[int, int, tuple[str, ...]], list[Any]] = {}
        self._needs_reset = True
        self._kinematics_dirty = True

    # -- stage ----------------------------------------------------------------------------------
    def stage(self):
        import omni.usd

        return omni.usd.get_context().get_stage()

    def set_visible(self, prim_path: str, visible: bool) -> None:
        from pxr import UsdGeom

        prim = self.stage().GetPrimAtPath(prim_path)
        if prim is None or (hasattr(prim, "IsValid") and not prim.IsValid()):
            return
        imageable = UsdGeom.Imageable(prim)
        if visible:
            imageable.MakeVisible()
        else:
            imageable.MakeInvisible()

    def register(self, usd_path: str | Path, on_reset: Callable[[], None]) -> Client:
        """A new simulator of the USD layer ``usd_path``: the layer is referenced once under
        ``/World/navgym/Scene_<k>`` (the first at the stage origin, others 500 m apart along X),
        and simulators of the same layer share it (its geometry is static)."""
        key_path = str(Path(usd_path).resolve()) if not str(usd_path).startswith(("omniverse:", "http")) else str(usd_path)
        scene = next((h for h in self._scenes.values() if h.usd_path == key_path), None)
        if scene is None:
            key = self._next_key
            self._next_key += 1
            origin = np.array([key * SCENE_SPACING, 0.0, 0.0])
            root = f"{ROOT}/Scene_{key}"
            cfg = self.sim_utils.UsdFileCfg(usd_path=key_path)
            cfg.func(root, cfg, translation=tuple(float(v) for v in origin))
            scene = SceneHandle(key, root, origin, key_path)
            self._scenes[key] = scene
            self._needs_reset = True
        scene.users += 1
        client = Client(self._next_client, scene, on_reset)
        self._next_client += 1
        self._clients[client.id] = client
        return client

    def unregister(self, client: Client) -> None:
        """Remove a simulator's robots, and its scene when no other simulator uses it."""
        if self._clients.pop(client.id, None) is None:
            return
        stage = self.stage()
        for robot in client.robots.values():
            stage.RemovePrim(robot.prim_path)
        client.robots.clear()
        client.scene.users -= 1
        if client.scene.users <= 0:
            stage.RemovePrim(client.scene.root)
            self._scenes.pop(client.scene.key, None)
        self._needs_reset = True

    # -- robots ---------------------------------------------------------------------------------
    def articulation_cfg(self, spec: RobotSpec):
        """The Isaac Lab ``ArticulationCfg`` of a robot spec."""
        if spec.asset.startswith("usd:"):
            assets = importlib.import_module("isaaclab.utils.assets")
            usd = spec.asset[4:].format(
                ISAAC_NUCLEUS_DIR=getattr(assets, "ISAAC_NUCLEUS_DIR", ""),
                ISAACLAB_NUCLEUS_DIR=getattr(assets, "ISAACLAB_NUCLEUS_DIR", ""),
            )
            actuators = importlib.import_module("isaaclab.actuators")
            assets_mod = importlib.import_module("isaaclab.assets")
            return assets_mod.ArticulationCfg(
                spawn=self.sim_utils.UsdFileCfg(usd_path=usd),
                actuators={"all": actuators.ImplicitActuatorCfg(joint_names_expr=[".*"], stiffness=None, damping=None)},
            )
        return import_object(spec.asset)

    def add_robot(self, client: Client, agent_id: int, spec: RobotSpec, root_pose: tuple[np.ndarray, np.ndarray], policy: Callable | None = None) -> RobotHandle:
        """Spawn a robot for a simulator's agent at an Isaac root pose (position, quaternion in
        the runtime's order), at ``/World/navgym/Robots/sim<client>_agent<id>``."""
        base = self.articulation_cfg(spec)
        prim_path = f"{ROOT}/Robots/sim{client.id}_agent{agent_id}"
        position, quat = root_pose
        init_state = base.init_state.replace(pos=tuple(float(v) for v in position), rot=tuple(float(v) for v in quat))
        cfg = base.replace(prim_path=prim_path, init_state=init_state)
        articulation = importlib.import_module("isaaclab.assets").Articulation(cfg)
        controller = None
        if spec.drive == "differential":
            module = importlib.import_module("isaacsim.robot.wheeled_robots.controllers.differential_controller")
            controller = module.DifferentialController(name=f"navgym_{spec.name}_{agent_id}", wheel_radius=spec.wheel_radius, wheel_base=spec.wheel_base)
        handle = RobotHandle(spec, prim_path, articulation, controller=controller, policy=policy)
        client.robots[agent_id] = handle
        self._needs_reset = True
        return handle

    def _tensor(self, values, dtype=None):
        import torch

        return torch.as_tensor(np.asarray(values), dtype=dtype or torch.float32, device=self.options.device)

    def write_root_pose(self, robot: RobotHandle, root_pose: tuple[np.ndarray, np.ndarray]) -> None:
        """Teleport a robot: root pose, zero velocity, default joint state (kinematic motion)."""
        self.ensure_ready()
        position, quat = root_pose
        art = robot.articulation
        art.write_root_pose_to_sim(self._tensor(np.concatenate([position, quat])[None, :]))
        art.write_root_velocity_to_sim(self._tensor(np.zeros((1, 6))))
        data = art.data
        art.write_joint_state_to_sim(as_tensor(data.default_joint_pos).clone(), as_tensor(data.default_joint_vel).clone())
        self._kinematics_dirty = True

    def read_root_pose(self, robot: RobotHandle) -> tuple[np.ndarray, np.ndarray]:
        """(position, quaternion in the runtime's order) of a robot's root."""
        data = robot.articulation.data
        return to_numpy(data.root_pos_w)[0].astype(np.float64), to_numpy(data.root_quat_w)[0].astype(np.float64)

    # -- lifecycle ------------------------------------------------------------------------------
    def ensure_ready(self) -> None:
        """Reset the simulation after prims were added or removed (Isaac Lab initialises assets
        and sensors on reset), then let every simulator write its robots' poses back."""
        if self._needs_reset:
            self._needs_reset = False
            self.sim.reset()
            for client in list(self._clients.values()):
                client.on_reset()
            self._kinematics_dirty = True

    # -- motion (velocity mode) -----------------------------------------------------------------
    def drive(self, robot: RobotHandle, command: np.ndarray, duration: float, settle: float = 0.0) -> None:
        """Hold a body-frame velocity command (vx, vy, wz) for ``duration`` seconds of physics,
        then (when ``settle`` > 0) a zero command for ``settle`` seconds."""
        self.ensure_ready()
        drive = self._drive_wheels if robot.spec.drive == "differential" else self._drive_legs
        drive(robot, command, duration)
        if settle > 0.0:
            drive(robot, np.zeros(3), settle)
        self._kinematics_dirty = True

    def _physics_steps(self, robot: RobotHandle, count: int) -> None:
        for _ in range(count):
            robot.articulation.write_data_to_sim()
            self.sim.step(render=False)
            robot.articulation.update(self.physics_dt)

    def _drive_wheels(self, robot: RobotHandle, command: np.ndarray, duration: float) -> None:
        art = robot.articulation
        if robot.wheel_ids is None:
            robot.wheel_ids, _ = art.find_joints(list(robot.spec.wheel_joints), preserve_order=True)
        steps, command = _whole_steps(command, duration, self.physics_dt)
        action = robot.controller.forward(command=[float(command[0]), float(command[2])])
        wheels = np.asarray(action.joint_velocities, dtype=np.float64).reshape(1, -1)
        art.set_joint_velocity_target(self._tensor(wheels), joint_ids=robot.wheel_ids)
        self._physics_steps(robot, steps)

    #: Physics steps per policy step in Isaac Lab's velocity tasks (``decimation``).
    DECIMATION = 4

    def _drive_legs(self, robot: RobotHandle, command: np.ndarray, duration: float) -> None:
        if robot.policy is None:
            raise InvalidArgumentError(
                f"Driving the {robot.spec.name} by velocity needs a locomotion policy (locomotion_policy=...); see docs/isaac.md"
            )
        art = robot.articulation
        steps, command = _whole_steps(command, duration, self.physics_dt * self.DECIMATION)
        for _ in range(steps):
            data = art.data
            joint_pos = to_numpy(data.joint_pos)[0]
            if robot.last_action is None:
                robot.last_action = np.zeros_like(joint_pos)
            obs = locomotion_observation(
                to_numpy(data.root_lin_vel_b)[0],
                to_numpy(data.root_ang_vel_b)[0],
                to_numpy(data.projected_gravity_b)[0],
                command,
                joint_pos - to_numpy(data.default_joint_pos)[0],
                to_numpy(data.joint_vel)[0] - to_numpy(data.default_joint_vel)[0],
                robot.last_action,
            )
            action = np.asarray(robot.policy(obs), dtype=np.float64).reshape(-1)
            robot.last_action = action
            targets = joint_position_targets(to_numpy(data.default_joint_pos)[0], action, robot.spec.action_scale)
            art.set_joint_position_target(self._tensor(targets[None, :]))
            self._physics_steps(robot, self.DECIMATION)

    # -- cameras --------------------------------------------------------------------------------
    def _camera_pool(self, width: int, height: int, outputs: tuple[str, ...], count: int) -> list[Any]:
        key = (width, height, outputs)
        pool = self._cameras.setdefault(key, [])
        if len(pool) < count:
            sensors = importlib.import_module("isaaclab.sensors")
            data_types = [CAMERA_DATA_TYPES[o] for o in outputs]
            for index in range(len(pool), count):
                spawn = self.sim_utils.PinholeCameraCfg(
                    focal_length=frames.DEFAULT_FOCAL_LENGTH,
                    horizontal_aperture=2.0 * frames.DEFAULT_FOCAL_LENGTH,  # 90 degrees; set per request
                    clipping_range=(0.01, 1.0e4),
                )
                cfg = sensors.CameraCfg(
                    prim_path=f"{ROOT}/Cameras/c{width}x{height}_{'_'.join(outputs)}_{index}",
                    update_period=0.0,
                    height=height,
                    width=width,
                    data_types=data_types,
                    colorize_instance_segmentation=False,
                    depth_clipping_behavior="max",
                    spawn=spawn,
                )
                pool.append(sensors.Camera(cfg))
            self._needs_reset = True
        return pool

    def render(self, client: Client, cameras: Sequence[tuple[Any, np.ndarray, np.ndarray, np.ndarray]], show_robots: bool = False) -> list[dict[str, np.ndarray]]:
        """Render ``(spec, position, quaternion, K)`` requests of one simulator in one batch.

        Groups requests by image size and outputs, takes one camera per request from a pool of
        that size (growing a pool costs a simulation reset), sets every camera's intrinsics and
        pose, hides the other scenes and robots (its own too unless ``show_robots``), renders, and reads back
        raw outputs (converted to navgym's conventions by the caller).
        """
        groups: dict[tuple[int, int, tuple[str, ...]], list[int]] = {}
        for i, (spec, *_rest) in enumerate(cameras):
            outputs = tuple(o for o in ("rgb", "depth", "semantic") if o in spec.outputs) or ("depth",)
            groups.setdefault((spec.width, spec.height, outputs), []).append(i)
        pools = {key: self._camera_pool(key[0], key[1], key[2], len(idx)) for key, idx in groups.items()}
        self.ensure_ready()
        for key, indices in groups.items():
            for slot, i in enumerate(indices):
                _spec, position, quat, intrinsics = cameras[i]
                camera = pools[key][slot]
                camera.set_intrinsic_matrices(self._tensor(np.asarray(intrinsics)[None]), focal_length=frames.DEFAULT_FOCAL_LENGTH, env_ids=[0])
                camera.set_world_poses(self._tensor(np.asarray(position)[None]), self._tensor(np.asarray(quat)[None]), env_ids=[0], convention="opengl")
        for scene in self._scenes.values():
            self.set_visible(scene.root, scene.key == client.scene.key)
        for other in self._clients.values():
            for robot in other.robots.values():
                self.set_visible(robot.prim_path, show_robots and other.id == client.id)
        if self._kinematics_dirty:
            self.sim.forward()
            self._kinematics_dirty = False
        for _ in range(max(1, int(self.options.render_frames))):
            self.sim.render()
        results: list[dict[str, np.ndarray]] = [{} for _ in cameras]
        for key, indices in groups.items():
            for slot, i in enumerate(indices):
                camera = pools[key][slot]
                camera.update(0.0, force_recompute=True)
                data = camera.data
                raw: dict[str, Any] = {}
                for output in key[2]:
                    raw[output] = to_numpy(data.output[CAMERA_DATA_TYPES[output]])[0]
                if "semantic" in key[2]:
                    info = data.info[0] if isinstance(data.info, (list, tuple)) else data.info
                    seg_info = (info or {}).get("instance_segmentation_fast") or {}
                    raw["id_to_labels"] = seg_info.get("idToLabels", {})
                results[i] = raw
        return results


def _whole_steps(command: np.ndarray, duration: float, step: float) -> tuple[int, np.ndarray]:
    """Whole control steps covering ``duration`` (rounded up), and the command slowed so that
    it still covers the same distance (never faster than asked, so it stays in range)."""
    steps = max(1, int(math.ceil(duration / step - 1e-9)))
    return steps, np.asarray(command, dtype=np.float64) * (duration / (steps * step)) if duration > 0 else np.zeros(3)


def load_policy(policy: str | Path | Callable[[np.ndarray], np.ndarray], device: str) -> Callable[[np.ndarray], np.ndarray]:
    """A callable ``obs (D,) -> action (A,)`` from a TorchScript file (Isaac Lab's ``play.py``
    exports ``exported/policy.pt``) or a callable given as is."""
    if callable(policy):
        return policy
    path = Path(policy)
    if not path.exists():
        raise InvalidArgumentError(f"locomotion_policy={str(path)!r} does not exist (a TorchScript policy.pt exported by Isaac Lab's play.py)")
    import torch

    module = torch.jit.load(str(path), map_location=device)
    module.eval()

    def run(obs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = module(torch.as_tensor(obs, dtype=torch.float32, device=device)[None])
        return to_numpy(out)[0]

    return run

