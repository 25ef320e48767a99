"""An AirSim-protocol server over the embedded simulator: AirSim API code runs against navgym's
ProcHouse houses (or any navgym scene) on a laptop, no Unreal needed.

``navgym airsim-server --scene prochouse:1000003 --port 41451`` serves one scene over
msgpack-rpc on 127.0.0.1 (loopback only), answering the calls of AirSim's clients
(``cosysairsim``, which ``pip install "navgym[airsim]"`` brings) in computer-vision mode with
AirSim's message shapes: ``Pose`` dicts in NED metres, ``ImageResponse`` fields (``Scene`` and
``Segmentation`` uncompressed (RGB bytes, as Cosys-AirSim) or PNG, ``DepthPlanar`` / ``DepthPerspective`` as float
lists), ``LidarData`` point lists, and rpclib's error texts for unknown methods and bad argument
counts. What each call does, and what is navgym's own, is in docs/airsim.md.

The world is navgym's, converted by :mod:`navgym.sims.airsim.frames` (NED: x north = navgym -z,
y east = navgym x, z down = navgym -y). A vehicle's position is the agent's floor point; its
cameras sit at offsets from it (``front_center``, alias ``"0"``: 1.25 m up, looking ahead).

Python API::

    with EmbeddedAirSimServer("prochouse/1000003", port=0) as server:   # port 0: a free port
        client = cosysairsim.ComputerVisionClient(port=server.port)

Only loopback addresses are accepted: the server has no authentication, like AirSim's own.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from navgym.core.specs import AgentState, BodySpec
from navgym.errors import InvalidArgumentError
from navgym.scenes.scene import Scene
from navgym.sims.airsim import frames

log = logging.getLogger(__name__)

#: The version numbers AirSim's clients check (cosysairsim 3.5 sends and expects 4).
SERVER_VERSION = 4
MIN_CLIENT_VERSION = 4
#: AirSim's image types this server renders (``cosysairsim.ImageType``).
SCENE, DEPTH_PLANAR, DEPTH_PERSPECTIVE, SEGMENTATION = 0, 1, 2, 5
IMAGE_TYPES = {SCENE: "Scene", DEPTH_PLANAR: "DepthPlanar", DEPTH_PERSPECTIVE: "DepthPerspective", SEGMENTATION: "Segmentation"}
#: Depth range of the server's cameras (metres); misses read the far end, as in AirSim.
DEPTH_RANGE = (0.0, 1000.0)
#: The addresses the server may bind.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORT = 41451
DEFAULT_VEHICLE = "ComputerVision"


def scene_id_from_cli(value: str, what: str = "--scene") -> str:
    """``prochouse:SEED`` (the CLI's spelling) or ``prochouse/SEED`` or a mesh path -> a scene id.
    ``what`` names the value in errors (the CLI's flag, or an RPC argument)."""
    text = str(value).strip()
    match = re.fullmatch(r"prochouse[:/](\d+)", text)
    if match:
        return f"prochouse/{int(match.group(1))}"
    if text.startswith(("prochouse:", "prochouse/")):
        raise InvalidArgumentError(f"{what} {value!r}: a ProcHouse scene is prochouse:SEED with a non-negative integer seed, e.g. prochouse:1000003")
    if not text:
        raise InvalidArgumentError(f"{what} is empty; give prochouse:SEED or a mesh path")
    return text



def _unit(quat: np.ndarray, norm: float) -> np.ndarray:
    """``quat`` scaled to unit length, or itself when it already is one to rounding: a pose sent
    by a client comes back bit for bit (``np.linalg.norm`` of a unit quaternion is 1 +- 1 ulp
    depending on the CPU's vector code, and dividing by it moved the last bit on some machines)."""
    return quat if abs(norm - 1.0) <= 1e-12 else quat / norm

class RpcError(Exception):
    """An error the server answers with (the text travels to the client as the RPC error)."""


#: The most floats one ``pixels_as_float`` image may have (2048 x 2048): a float list travels
#: as 9 bytes a value in msgpack and costs about 30 bytes a value while it is built.
MAX_FLOAT_PIXELS = 2048 * 2048


def _number(method: str, name: str, value: Any) -> float:
    """``value`` as a float, or the RPC error naming the call, the argument and the value (a
    user's bad argument is an error reply, never a traceback in the server's log)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RpcError(f"{method}: {name}={value!r} must be a number")
    return float(value)


def _finite(method: str, name: str, value: Any) -> float:
    number = _number(method, name, value)
    if not math.isfinite(number):
        raise RpcError(f"{method}: {name}={value!r} must be finite")
    return number


def _integer(method: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RpcError(f"{method}: {name}={value!r} must be an integer")
    return int(value)


def _text(method: str, name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise RpcError(f"{method}: {name}={value!r} must be a string")
    return value


def _yaw_mode(method: str, yaw_mode: Any) -> tuple[bool, float]:
    """(is_rate, yaw_or_rate) of a ``YawMode`` dict; None is AirSim's default (rate 0)."""
    if yaw_mode is None:
        return True, 0.0
    if not isinstance(yaw_mode, dict):
        raise RpcError(f"{method}: yaw_mode={yaw_mode!r} must be a YawMode {{'is_rate': bool, 'yaw_or_rate': degrees}}")
    is_rate = yaw_mode.get("is_rate", True)
    if not isinstance(is_rate, bool):
        raise RpcError(f"{method}: yaw_mode['is_rate']={is_rate!r} must be True or False")
    return is_rate, _finite(method, "yaw_mode['yaw_or_rate']", yaw_mode.get("yaw_or_rate", 0.0))


def _rpc(function: Callable) -> Callable:
    """Mark a method of :class:`AirSimService` as callable over RPC."""
    function.__rpc__ = True
    return function


@dataclass
class _Camera:
    offset: np.ndarray  # NED, relative to the vehicle
    rotation: np.ndarray  # quaternion (w, x, y, z), relative to the vehicle
    fov: float
    width: int
    height: int


@dataclass
class _Vehicle:
    name: str
    position: np.ndarray  # navgym floor point
    rotation: np.ndarray  # navgym [x, y, z, w]
    body: BodySpec
    cameras: dict[str, _Camera] = field(default_factory=dict)
    api_control: bool = False
    armed: bool = False
    start: tuple[np.ndarray, np.ndarray] | None = None


def _default_cameras(width: int, height: int, fov: float, camera_height: float) -> dict[str, _Camera]:
    camera = _Camera(np.array([0.0, 0.0, -camera_height]), np.array([1.0, 0.0, 0.0, 0.0]), fov, width, height)
    return {"front_center": camera, "0": camera}


class AirSimService:
    """The RPC methods (AirSim's names and argument lists) over one embedded simulator.

    Args:
        scene: A navgym ``Scene`` or scene id (``"prochouse/1000003"``, a mesh path).
        data_root: Data root for scene ids that are paths.
        camera_resolution: (width, height) of every camera at start (AirSim's default 256 x 144).
        camera_fov: Horizontal field of view of the cameras at start, degrees.
        camera_height: Height of ``front_center`` above the vehicle's floor point, metres.
        lidar: Settings of the one LiDAR, ``"lidar"`` (alias ``""``): channels,
            points_per_channel, vertical_fov, max_range, mount_height (see
            :func:`navgym.sims.embedded.lidar.lidar_points`).
    """

    def __init__(self, scene: Scene | str, data_root=None, *, camera_resolution: tuple[int, int] = (256, 144),
                 camera_fov: float = 90.0, camera_height: float = 1.25, lidar: dict[str, Any] | None = None):
        self.data_root = data_root
        self.camera_defaults = (int(camera_resolution[0]), int(camera_resolution[1]), float(camera_fov), float(camera_height))
        self.lidar_settings = {"channels": 16, "points_per_channel": 360, "vertical_fov": (-15.0, 15.0), "max_range": 20.0, "mount_height": 0.5, **(lidar or {})}
        self._colormap = None
        self.paused = False
        self._load(scene)
        from navgym.sims.embedded.lidar import lidar_points

        settings = self.lidar_settings  # checked once here (a one-ray-per-ring sweep), cast by getLidarData
        lidar_points(self.sim, 0, channels=settings["channels"], points_per_channel=1, vertical_fov=settings["vertical_fov"],
                     max_range=settings["max_range"], mount_height=settings["mount_height"])

    # -- scene --------------------------------------------------------------------------------
    def _load(self, scene: Scene | str) -> None:
        from navgym.sims.embedded.simulator import EmbeddedSimulator

        self.sim = EmbeddedSimulator(scene, data_root=self.data_root)
        self._agent_of_body: dict[BodySpec, int] = {self.sim.body(0): 0}
        start = self.sim.get_agent_state(0)
        width, height, fov, camera_height = self.camera_defaults
        self.vehicles: dict[str, _Vehicle] = {
            DEFAULT_VEHICLE: _Vehicle(DEFAULT_VEHICLE, start.position.copy(), start.rotation.copy(), self.sim.body(0),
                                      _default_cameras(width, height, fov, camera_height), start=(start.position.copy(), start.rotation.copy()))
        }
        self.objects = {f"{inst.category}_{inst.id}": inst for inst in self.sim.object_instances()}

    @property
    def scene_id(self) -> str:
        return self.sim.scene_id

    def _vehicle(self, name: str) -> _Vehicle:
        if name in ("", None):
            return next(iter(self.vehicles.values()))
        try:
            return self.vehicles[name]
        except (KeyError, TypeError):
            raise RpcError(
                f"Vehicle API for '{name}' is not available. This could either because this is simulation-only API or this "
                f"vehicle does not exist (vehicles: {sorted(self.vehicles)})"
            ) from None

    def _camera(self, vehicle: _Vehicle, name: Any) -> _Camera:
        name = str(name)
        if name not in vehicle.cameras:
            raise RpcError(f"Camera '{name}' was not found on vehicle '{vehicle.name}' (cameras: {sorted(vehicle.cameras)})")
        return vehicle.cameras[name]

    def _agent_for(self, body: BodySpec) -> int:
        if body not in self._agent_of_body:
            self._agent_of_body[body] = self.sim.add_agent(body)
        return self._agent_of_body[body]

    @property
    def colormap(self) -> np.ndarray:
        """Cosys-AirSim's segmentation colours (id -> RGB), read from the client package's table."""
        if self._colormap is None:
            self._colormap = segmentation_colormap()
        return self._colormap

    # -- connection ---------------------------------------------------------------------------
    @_rpc
    def ping(self) -> bool:
        return True

    @_rpc
    def getServerVersion(self) -> int:
        return SERVER_VERSION

    @_rpc
    def getMinRequiredClientVersion(self) -> int:
        return MIN_CLIENT_VERSION

    @_rpc
    def getSettingsString(self) -> str:
        width, height, fov, camera_height = self.camera_defaults
        settings = {
            "SettingsVersion": 2.0,
            "SimMode": "ComputerVision",
            "navgym": {"scene": self.scene_id, "frames": "NED metres; the origin is navgym's"},
            "Vehicles": {
                name: {
                    "VehicleType": "ComputerVision",
                    "Cameras": {c: {"CaptureSettings": [{"Width": cam.width, "Height": cam.height, "FOV_Degrees": cam.fov}]}
                                for c, cam in v.cameras.items()},
                    "Sensors": {"lidar": {"SensorType": 6, "NumberOfChannels": self.lidar_settings["channels"],
                                          "Range": self.lidar_settings["max_range"], "DataFrame": "SensorLocalFrame"}},
                }
                for name, v in self.vehicles.items()
            },
        }
        return json.dumps(settings)

    @_rpc
    def reset(self) -> None:
        for vehicle in self.vehicles.values():
            if vehicle.start is not None:
                vehicle.position, vehicle.rotation = vehicle.start[0].copy(), vehicle.start[1].copy()
            vehicle.api_control = vehicle.armed = False

    @_rpc
    def enableApiControl(self, is_enabled: bool, vehicle_name: str = "") -> None:
        self._vehicle(vehicle_name).api_control = bool(is_enabled)

    @_rpc
    def isApiControlEnabled(self, vehicle_name: str = "") -> bool:
        return self._vehicle(vehicle_name).api_control

    @_rpc
    def armDisarm(self, arm: bool, vehicle_name: str = "") -> bool:
        self._vehicle(vehicle_name).armed = bool(arm)
        return True

    @_rpc
    def simPause(self, is_paused: bool) -> None:
        self.paused = bool(is_paused)

    @_rpc
    def simIsPaused(self) -> bool:
        return self.paused

    @_rpc
    def simContinueForTime(self, seconds: float) -> None:
        return None  # nothing moves on its own in this world

    @_rpc
    def simContinueForFrames(self, frames_count: int) -> None:
        return None

    @_rpc
    def simLoadLevel(self, level_name: str) -> bool:
        """Load another navgym scene (AirSim loads an Unreal level): a scene id such as
        ``"prochouse/1000004"``. Vehicles other than the default one are removed."""
        _text("simLoadLevel", "level_name", level_name)
        try:
            level = scene_id_from_cli(level_name, what="simLoadLevel: level_name")
        except InvalidArgumentError as exc:
            raise RpcError(str(exc)) from None
        if level != self.scene_id:
            try:
                self._load(level)
            except (ValueError, FileNotFoundError) as exc:
                raise RpcError(f"simLoadLevel({level_name!r}): {exc}") from None
        return True

    # -- navgym's own calls -------------------------------------------------------------------
    @_rpc
    def navgymSceneId(self) -> str:
        """The navgym scene id being served (the AirSim backend loads the same scene's geometry)."""
        return self.scene_id

    @_rpc
    def navgymSetCameraResolution(self, camera_name: str, width: int, height: int, vehicle_name: str = "") -> None:
        """Set a camera's image size (AirSim sets it in settings.json only)."""
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
                raise RpcError(f"navgymSetCameraResolution: {name}={value!r} must be an integer in [1, 4096]")
        camera = self._camera(self._vehicle(vehicle_name), camera_name)
        camera.width, camera.height = int(width), int(height)

    @_rpc
    def navgymSetVehicleBody(self, radius: float, height: float, max_climb: float, vehicle_name: str = "") -> None:
        """The body (navgym ``BodySpec``) that ``moveByVelocity*`` slides on the navigation grid."""
        values = [_finite("navgymSetVehicleBody", n, v) for n, v in (("radius", radius), ("height", height), ("max_climb", max_climb))]
        try:
            body = BodySpec(*values)
        except (TypeError, ValueError) as exc:
            raise RpcError(f"navgymSetVehicleBody: {exc}") from None
        self._vehicle(vehicle_name).body = body

    # -- vehicles -----------------------------------------------------------------------------
    @_rpc
    def listVehicles(self) -> list[str]:
        return list(self.vehicles)

    @_rpc
    def simAddVehicle(self, vehicle_name: str, vehicle_type: str, pose: dict, pawn_path: str = "") -> bool:
        if not isinstance(vehicle_name, str) or not vehicle_name:
            raise RpcError(f"simAddVehicle: vehicle_name={vehicle_name!r} must be a non-empty string")
        if vehicle_name in self.vehicles:
            raise RpcError(f"simAddVehicle: a vehicle named '{vehicle_name}' exists already")
        if str(vehicle_type).lower() not in ("computervision", "simpleflight", "physxcar", ""):
            raise RpcError(f"simAddVehicle: vehicle_type={vehicle_type!r}; this server has computer-vision vehicles only (ComputerVision)")
        width, height, fov, camera_height = self.camera_defaults
        default = next(iter(self.vehicles.values()))
        vehicle = _Vehicle(vehicle_name, default.start[0].copy(), default.start[1].copy(), self.sim.body(0),
                           _default_cameras(width, height, fov, camera_height))
        try:
            self._place(vehicle, pose)  # a bad pose fails before the vehicle exists
        except RpcError as exc:
            raise RpcError(f"simAddVehicle: {vehicle_name!r} was not added: {str(exc).replace('simSetVehiclePose: ', '')}") from None
        vehicle.start = (vehicle.position.copy(), vehicle.rotation.copy())
        self.vehicles[vehicle_name] = vehicle
        return True

    @_rpc
    def simGetVehiclePose(self, vehicle_name: str = "") -> dict:
        vehicle = self._vehicle(vehicle_name)
        return frames.pose_msg(frames.nav_to_ned(vehicle.position), frames.nav_quat_to_ned(vehicle.rotation))

    @_rpc
    def simSetVehiclePose(self, pose: dict, ignore_collision: bool, vehicle_name: str = "") -> None:
        """Teleport a vehicle (NaN components keep the current value, as in AirSim)."""
        self._place(self._vehicle(vehicle_name), pose)

    def _place(self, vehicle: _Vehicle, pose: Any) -> None:
        try:
            position, quat = frames.read_pose(pose, "pose")  # NaN components are allowed here
        except ValueError as exc:
            raise RpcError(f"simSetVehiclePose: {exc}") from None
        current_ned = frames.nav_to_ned(vehicle.position)
        position = np.where(np.isnan(position), current_ned, position)
        if not np.isfinite(position).all():
            raise RpcError(f"simSetVehiclePose: position {position.tolist()} must be finite")
        rotation = vehicle.rotation
        if not np.isnan(quat).any():
            norm = float(np.linalg.norm(quat))
            if not math.isfinite(norm) or norm < 1e-9:
                raise RpcError(f"simSetVehiclePose: orientation {quat.tolist()} is not a rotation quaternion")
            rotation = frames.ned_quat_to_nav(_unit(quat, norm))
        vehicle.position, vehicle.rotation = frames.ned_to_nav(position), rotation  # both checked first

    @_rpc
    def simGetGroundTruthKinematics(self, vehicle_name: str = "") -> dict:
        vehicle = self._vehicle(vehicle_name)
        zero = frames.vector_msg((0.0, 0.0, 0.0))
        pose = self.simGetVehiclePose(vehicle.name)
        return {**pose, "linear_velocity": zero, "angular_velocity": zero, "linear_acceleration": zero, "angular_acceleration": zero}

    @_rpc
    def getComputerVisionState(self, vehicle_name: str = "") -> dict:
        return {"kinematics_estimated": self.simGetGroundTruthKinematics(vehicle_name), "timestamp": time.time_ns()}

    def _move(self, vehicle: _Vehicle, delta_nav: np.ndarray, yaw: float | None) -> None:
        """Slide the vehicle's body along the floor by ``delta_nav`` (navgym's motion rule), then
        face ``yaw`` (navgym radians) when given.

        The body follows the floor: a vehicle placed off the navigation grid (``simSetVehiclePose``
        between cells, in the air, or pitched) is first snapped to the nearest navigable floor
        point, level, and moves from there (a jump of up to a grid cell, or to the floor),
        unlike an AirSim ComputerVision vehicle, which moves freely (docs/airsim.md)."""
        agent = self._agent_for(vehicle.body)
        self.sim.set_agent_state(AgentState(vehicle.position, vehicle.rotation), snap=True, agent_id=agent)
        self.sim.move_agent(delta_nav, agent_id=agent)
        vehicle.position = self.sim.get_agent_state(agent).position
        if yaw is not None:
            vehicle.rotation = AgentState.from_yaw(vehicle.position, yaw).rotation

    def _velocity(self, method: str, vehicle: _Vehicle, v_ned: np.ndarray, duration: Any, drivetrain: Any, yaw_mode: Any) -> None:
        duration = _finite(method, "duration", duration)
        if not 0.0 <= duration <= 3600.0:
            raise RpcError(f"{method}: duration={duration!r} must be in [0, 3600] seconds")
        drivetrain = _integer(method, "drivetrain", drivetrain)
        if drivetrain not in (0, 1):
            raise RpcError(f"{method}: drivetrain={drivetrain!r} must be 0 (MaxDegreeOfFreedom) or 1 (ForwardOnly)")
        is_rate, value = _yaw_mode(method, yaw_mode)
        delta = frames.ned_to_nav(v_ned * duration)
        yaw_now = AgentState(vehicle.position, vehicle.rotation).yaw
        new_yaw = None
        if drivetrain == 1 and math.hypot(v_ned[0], v_ned[1]) > 1e-9:  # ForwardOnly: face the motion
            new_yaw = -math.atan2(v_ned[1], v_ned[0]) - math.radians(value if not is_rate else 0.0)
        elif is_rate:
            if value:
                new_yaw = yaw_now - math.radians(value) * duration
        else:
            new_yaw = -math.radians(value)
        self._move(vehicle, delta, new_yaw)

    @_rpc
    def moveByVelocity(self, vx, vy, vz, duration, drivetrain=0, yaw_mode=None, vehicle_name: str = "") -> bool:
        """World-frame (NED) velocity for ``duration`` seconds, done at once (no physics): the body
        slides on the navigation grid; vz is ignored (vehicles stay on the floor)."""
        vehicle = self._vehicle(vehicle_name)
        v = [_finite("moveByVelocity", n, x) for n, x in (("vx", vx), ("vy", vy), ("vz", vz))]
        self._velocity("moveByVelocity", vehicle, np.array([v[0], v[1], 0.0]), duration, drivetrain, yaw_mode)
        return True

    @_rpc
    def moveByVelocityBodyFrame(self, vx, vy, vz, duration, drivetrain=0, yaw_mode=None, vehicle_name: str = "") -> bool:
        """Body-frame velocity (x forward, y right), turned into the world frame by the vehicle's yaw."""
        vehicle = self._vehicle(vehicle_name)
        vx, vy, _ = (_finite("moveByVelocityBodyFrame", n, x) for n, x in (("vx", vx), ("vy", vy), ("vz", vz)))
        heading = frames.ned_yaw(AgentState(vehicle.position, vehicle.rotation).yaw)
        c, s = math.cos(heading), math.sin(heading)
        world = np.array([c * vx - s * vy, s * vx + c * vy, 0.0])
        self._velocity("moveByVelocityBodyFrame", vehicle, world, duration, drivetrain, yaw_mode)
        return True

    @_rpc
    def rotateByYawRate(self, yaw_rate, duration, vehicle_name: str = "") -> bool:
        vehicle = self._vehicle(vehicle_name)
        rate = _finite("rotateByYawRate", "yaw_rate", yaw_rate)
        self._velocity("rotateByYawRate", vehicle, np.zeros(3), duration, 0, {"is_rate": True, "yaw_or_rate": rate})
        return True

    @_rpc
    def rotateToYaw(self, yaw, timeout_sec=3e38, margin=5, vehicle_name: str = "") -> bool:
        vehicle = self._vehicle(vehicle_name)
        vehicle.rotation = AgentState.from_yaw(vehicle.position, -math.radians(_finite("rotateToYaw", "yaw", yaw))).rotation
        return True

    @_rpc
    def hover(self, vehicle_name: str = "") -> bool:
        self._vehicle(vehicle_name)
        return True

    @_rpc
    def cancelLastTask(self, vehicle_name: str = "") -> None:
        self._vehicle(vehicle_name)

    # -- cameras ------------------------------------------------------------------------------
    @_rpc
    def simSetCameraPose(self, camera_name: str, pose: dict, vehicle_name: str = "") -> None:
        camera = self._camera(self._vehicle(vehicle_name), camera_name)
        try:
            position, quat = frames.read_pose(pose, "pose")
        except ValueError as exc:
            raise RpcError(f"simSetCameraPose: {exc}") from None
        norm = float(np.linalg.norm(quat))
        if not (np.isfinite(position).all() and math.isfinite(norm) and norm > 1e-9):
            raise RpcError(f"simSetCameraPose: pose {position.tolist()}, {quat.tolist()} must be finite with a non-zero quaternion")
        camera.offset, camera.rotation = position, _unit(quat, norm)

    @_rpc
    def simSetCameraFov(self, camera_name: str, fov_degrees: float, vehicle_name: str = "") -> None:
        camera = self._camera(self._vehicle(vehicle_name), camera_name)
        fov = _number("simSetCameraFov", "fov_degrees", fov_degrees)
        if not 0.0 < fov < 180.0:
            raise RpcError(f"simSetCameraFov: fov_degrees={fov_degrees!r} must be in (0, 180)")
        camera.fov = fov

    def _camera_world(self, vehicle: _Vehicle, camera: _Camera) -> tuple[np.ndarray, np.ndarray]:
        return frames.compose_pose(frames.nav_to_ned(vehicle.position), frames.nav_quat_to_ned(vehicle.rotation), camera.offset, camera.rotation)

    @_rpc
    def simGetCameraInfo(self, camera_name: str, vehicle_name: str = "") -> dict:
        vehicle = self._vehicle(vehicle_name)
        camera = self._camera(vehicle, camera_name)
        position, rotation = self._camera_world(vehicle, camera)
        focal = (camera.width / 2.0) / math.tan(math.radians(camera.fov) / 2.0)
        matrix = [[focal, 0.0, camera.width / 2.0, 0.0], [0.0, focal, camera.height / 2.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
        return {"pose": frames.pose_msg(position, frames.quat_wxyz_from_matrix(rotation)), "fov": camera.fov, "proj_mat": {"matrix": matrix}}

    def _render(self, vehicle: _Vehicle, camera: _Camera, outputs: set[str]) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        position, rotation = self._camera_world(vehicle, camera)
        nav_position = frames.ned_to_nav(position)
        nav_rotation = frames.ned_rotation_to_nav(rotation)
        frame = self.sim.caster.render([(nav_position, nav_rotation, camera.width, camera.height, camera.fov)], [tuple(outputs)], [DEPTH_RANGE])[0]
        return frame, position, rotation

    @_rpc
    def simGetImages(self, requests: list, vehicle_name: str = "") -> list[dict]:
        vehicle = self._vehicle(vehicle_name)
        if not isinstance(requests, list):
            raise RpcError(f"simGetImages: requests={requests!r} must be a list of ImageRequest")
        parsed = []
        for index, request in enumerate(requests):
            if not isinstance(request, dict) or "camera_name" not in request or "image_type" not in request:
                raise RpcError(f"simGetImages: request {index} is {request!r}; expected an ImageRequest {{camera_name, image_type, pixels_as_float, compress}}")
            kind = request["image_type"]
            if isinstance(kind, bool) or not isinstance(kind, int) or kind not in IMAGE_TYPES:
                raise RpcError(f"simGetImages: request {index} asks for image_type={kind!r}; this server renders {', '.join(f'{n} ({k})' for k, n in IMAGE_TYPES.items())} (an integer, cosysairsim.ImageType)")
            flags = {}
            for flag in ("pixels_as_float", "compress"):
                value = request.get(flag, False)
                if not (isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))):
                    raise RpcError(f"simGetImages: request {index} has {flag}={value!r}; it must be True or False")
                flags[flag] = bool(value)
            as_float = flags["pixels_as_float"]
            if kind in (DEPTH_PLANAR, DEPTH_PERSPECTIVE) and not as_float:
                raise RpcError(f"simGetImages: request {index} asks for {IMAGE_TYPES[kind]} with pixels_as_float=False; ask with pixels_as_float=True (metres as floats)")
            if kind in (SCENE, SEGMENTATION) and as_float:
                raise RpcError(
                    f"simGetImages: request {index} asks for {IMAGE_TYPES[kind]} with pixels_as_float=True; float images are single "
                    "channel (depth, as Cosys-AirSim documents them); ask with pixels_as_float=False (RGB bytes, or PNG with compress=True)"
                )
            camera_name = request["camera_name"]
            if not isinstance(camera_name, (str, int)) or isinstance(camera_name, bool):
                raise RpcError(f"simGetImages: request {index} has camera_name={camera_name!r}; it must be a camera name, e.g. '0'")
            parsed.append((str(camera_name), kind, as_float, flags["compress"], str(request.get("annotation_name", ""))))
        needs: dict[str, set[str]] = {}
        for camera_name, kind, as_float, *_ in parsed:
            camera = self._camera(vehicle, camera_name)
            if as_float and camera.width * camera.height > MAX_FLOAT_PIXELS:
                raise RpcError(
                    f"simGetImages: camera '{camera_name}' is {camera.width}x{camera.height} = {camera.width * camera.height} pixels; "
                    f"float images ({IMAGE_TYPES[kind]}) are at most {MAX_FLOAT_PIXELS} pixels (2048x2048; each float costs 9 bytes "
                    "on the wire): make the camera smaller with navgymSetCameraResolution"
                )
            needs.setdefault(camera_name, set()).add({SCENE: "rgb", SEGMENTATION: "semantic"}.get(kind, "depth"))
        rendered = {name: self._render(vehicle, vehicle.cameras[name], outputs) for name, outputs in needs.items()}
        stamp = time.time_ns()
        responses = []
        for camera_name, kind, as_float, compress, annotation in parsed:
            frame, position, rotation = rendered[camera_name]
            camera = vehicle.cameras[camera_name]
            response = {
                "image_data_uint8": b"", "image_data_float": [], "camera_position": frames.vector_msg(position),
                "camera_orientation": frames.quat_msg(frames.quat_wxyz_from_matrix(rotation)), "time_stamp": stamp, "message": "",
                "pixels_as_float": as_float, "compress": compress, "width": camera.width, "height": camera.height,
                "image_type": kind, "annotation_name": annotation,
            }
            if kind in (DEPTH_PLANAR, DEPTH_PERSPECTIVE):
                depth = frame["depth"][..., 0]
                if kind == DEPTH_PERSPECTIVE:
                    from navgym.sims.embedded.raycast import pixel_directions

                    scale = np.linalg.norm(pixel_directions(camera.width, camera.height, camera.fov), axis=1).reshape(depth.shape)
                    depth = np.minimum(depth * scale, DEPTH_RANGE[1]).astype(np.float32)
                response["image_data_float"] = depth.astype(np.float32).ravel().tolist()
            else:
                rgb = frame["rgb"] if kind == SCENE else self.segmentation_rgb(frame["semantic"])
                if compress:
                    response["image_data_uint8"] = encode_png(rgb)
                else:
                    # RGB, as Cosys-AirSim (whose version, 4, this server reports) since 2019;
                    # Microsoft AirSim (version 1) sends BGR.
                    response["image_data_uint8"] = np.ascontiguousarray(rgb).tobytes()
            responses.append(response)
        return responses

    @_rpc
    def simGetImage(self, camera_name: str, image_type: int, vehicle_name: str = "", annotation_name: str = "") -> bytes:
        """One PNG image (AirSim's ``simGetImage``)."""
        if isinstance(image_type, bool) or not isinstance(image_type, int) or image_type not in (SCENE, SEGMENTATION):
            raise RpcError(f"simGetImage: image_type={image_type!r}; PNG images are Scene (0) and Segmentation (5); use simGetImages with pixels_as_float=True for depth")
        request = {"camera_name": camera_name, "image_type": image_type, "pixels_as_float": False, "compress": True}
        return self.simGetImages([request], vehicle_name)[0]["image_data_uint8"]

    def segmentation_rgb(self, ids: np.ndarray) -> np.ndarray:
        """(H, W) instance ids -> (H, W, 3) uint8 colours of Cosys-AirSim's colormap (id i is colour i)."""
        ids = np.asarray(ids, dtype=np.int64)
        colormap = self.colormap
        if ids.size and int(ids.max()) >= len(colormap):
            raise RpcError(f"instance id {int(ids.max())} has no segmentation colour (the colormap has {len(colormap)})")
        return np.asarray(colormap[ids.ravel()], dtype=np.uint8).reshape(*ids.shape, 3)

    # -- objects ------------------------------------------------------------------------------
    @_rpc
    def simListSceneObjects(self, name_regex: str = ".*") -> list[str]:
        try:
            pattern = re.compile(str(name_regex))
        except re.error as exc:
            raise RpcError(f"simListSceneObjects: name_regex={name_regex!r} is not a regular expression ({exc})") from None
        return [name for name in self.objects if pattern.fullmatch(name)]

    @_rpc
    def simListInstanceSegmentationObjects(self) -> list[str]:
        """Object names by segmentation id: entry i is the object whose pixels have colour i
        (entry 0, ``"background"``, is unannotated geometry and empty space)."""
        top = max((inst.id for inst in self.objects.values()), default=0)
        names = ["background"] + [""] * top
        for name, inst in self.objects.items():
            names[inst.id] = name
        return names

    @_rpc
    def simGetSegmentationObjectID(self, mesh_name: str) -> int:
        inst = self.objects.get(str(mesh_name))
        return -1 if inst is None else int(inst.id)

    @_rpc
    def simGetObjectPose(self, object_name: str, ned: bool = True) -> dict:
        """The centre of an object's box (identity orientation: navgym's boxes are axis-aligned);
        an unknown name gives a NaN pose, as in AirSim. ``ned=False`` gives Unreal's frame
        (centimetres, z up) with the same origin."""
        inst = self.objects.get(str(object_name))
        if inst is None:
            nan = float("nan")
            return frames.pose_msg((nan, nan, nan), (nan, nan, nan, nan))
        centre = frames.nav_to_ned((np.asarray(inst.bbox_min) + np.asarray(inst.bbox_max)) / 2.0)
        if not ned:
            centre = np.array([centre[0] * 100.0, centre[1] * 100.0, -centre[2] * 100.0])
        return frames.pose_msg(centre, (1.0, 0.0, 0.0, 0.0))

    @_rpc
    def simGetObjectScale(self, object_name: str) -> dict:
        """An object's box size (NED axes, metres); unknown names give NaN."""
        inst = self.objects.get(str(object_name))
        if inst is None:
            return frames.vector_msg((float("nan"),) * 3)
        size = np.abs(frames.nav_to_ned(np.asarray(inst.bbox_max) - np.asarray(inst.bbox_min)))
        return frames.vector_msg(size)

    # -- lidar --------------------------------------------------------------------------------
    @_rpc
    def getLidarData(self, lidar_name: str = "", vehicle_name: str = "") -> dict:
        """One sweep of the vehicle's LiDAR, as Cosys-AirSim sends it (``UnrealLidarSensor.cpp``,
        ``LidarSimple.hpp``): ``point_cloud`` a flat [x, y, z, ...] list in the **sensor's** frame
        (NED axes: x forward, y right, z down; Cosys-AirSim has no ``DataFrame`` setting),
        ``pose`` the sensor's pose relative to the vehicle, ``groundtruth`` one object name per
        point (``"background"`` for unannotated geometry). Only hits are sent (Cosys-AirSim also
        sends [0, 0, 0] for each miss)."""
        from navgym.core.geometry import matrix_from_quat_wxyz
        from navgym.sims.embedded.lidar import _directions

        if not isinstance(lidar_name, str):
            raise RpcError(f"getLidarData: lidar_name={lidar_name!r} must be a string ('' picks this server's LiDAR, 'lidar')")
        if lidar_name not in ("", "lidar", "Lidar1", "LidarSensor1"):
            raise RpcError(f"getLidarData: no LiDAR named '{lidar_name}' (this server's LiDAR is 'lidar'; '' picks it)")
        vehicle = self._vehicle(vehicle_name)
        settings = self.lidar_settings
        mount = np.array([0.0, 0.0, -float(settings["mount_height"])])  # NED, relative to the vehicle
        # The sensor sits at the vehicle's pose (position and full rotation: yaw, pitch and roll, as
        # Cosys-AirSim's sensor on its vehicle) plus the mount, wherever simSetVehiclePose put it.
        r_vehicle = matrix_from_quat_wxyz(frames.nav_quat_to_ned(vehicle.rotation))
        origin_ned = frames.nav_to_ned(vehicle.position) + r_vehicle @ mount
        # Ring directions in the agent frame (x right, y up, -z forward) -> the sensor's NED axes
        # (x forward, y right, z down: the same fixed rotation as navgym's world -> NED) -> world.
        local = frames.nav_to_ned(_directions(int(settings["channels"]), int(settings["points_per_channel"]),
                                              tuple(float(v) for v in settings["vertical_fov"])))
        world = frames.ned_to_nav(local @ r_vehicle.T)
        max_range = float(settings["max_range"])
        t, prim, _, _ = self.sim.caster.cast(np.broadcast_to(frames.ned_to_nav(origin_ned), world.shape), world, max_distance=max_range)
        hit = (prim >= 0) & np.isfinite(t) & (t <= max_range)
        points = local[hit] * t[hit, None]
        ids = np.asarray(self.sim.caster.face_instance).take(prim[hit])
        names_by_id = {inst.id: name for name, inst in self.objects.items()}
        return {
            "point_cloud": points.astype(np.float32).ravel().tolist(),
            "time_stamp": time.time_ns(),
            "pose": frames.pose_msg(mount, (1.0, 0.0, 0.0, 0.0)),
            "groundtruth": [names_by_id.get(int(i), "background") for i in ids],
        }

    # -- dispatch -----------------------------------------------------------------------------
    def rpc_method(self, name: str, argument_count: int) -> Callable:
        """The RPC method called ``name``, checked against ``argument_count`` (rpclib's errors)."""
        function = getattr(type(self), name, None) if name.isidentifier() else None
        if function is None or not getattr(function, "__rpc__", False):
            raise RpcError(f"rpclib: server could not find function '{name}' with argument count {argument_count}.")
        bound = getattr(self, name)
        try:
            inspect.signature(bound).bind(*([None] * argument_count))
        except TypeError:
            taking = len(inspect.signature(bound).parameters)
            raise RpcError(f"rpclib: function '{name}' (taking {taking} arg(s)) called with {argument_count} arg(s)") from None
        return bound


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 RGB image (what AirSim's compressed images are)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def segmentation_colormap() -> np.ndarray:
    """Cosys-AirSim's segmentation colormap (``cosysairsim/colormap.npy``: id -> RGB), memory-mapped."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("cosysairsim")
    if spec is None or not spec.origin:
        from gymnasium.error import DependencyNotInstalled

        raise DependencyNotInstalled('The AirSim server\'s segmentation colours come from cosysairsim: pip install "navgym[airsim]"')
    return np.load(Path(spec.origin).parent / "colormap.npy", mmap_mode="r")


# -- transport: msgpack-rpc on loopback only ----------------------------------------------------------
def _transport_builder():
    """A msgpackrpc transport builder whose server binds the given host (rpc-msgpack's own
    ``ServerTransport`` listens on every interface)."""
    from msgpackrpc.transport import tcp
    from tornado import netutil, tcpserver

    class _TrackingServer(tcpserver.TCPServer):
        def __init__(self, transport):
            super().__init__()
            self._transport = transport
            self.streams: set = set()

        def handle_stream(self, stream, address):
            self.streams.add(stream)
            stream.set_close_callback(lambda: self.streams.discard(stream))
            tcp.ServerSocket(stream, self._transport)

    class LoopbackServerTransport:
        def __init__(self, address):
            self._address = address
            self.port: int | None = None

        def listen(self, server):
            self._server = server
            self._mp_server = _TrackingServer(self)
            sockets = netutil.bind_sockets(self._address.port, address=self._address.host)
            self._mp_server.add_sockets(sockets)
            self.port = int(sockets[0].getsockname()[1])
            self.bound = [s.getsockname() for s in sockets]

        def close(self):
            self._mp_server.stop()
            for stream in list(self._mp_server.streams):
                stream.close()

    return SimpleNamespace(ServerTransport=LoopbackServerTransport)


def _rpc_server_class():
    import msgpackrpc
    from msgpackrpc.compat import force_str

    class RpcServer(msgpackrpc.Server):
        """msgpackrpc's server with an explicit method table and rpclib's error texts."""

        async def dispatch(self, method, param, responder):
            name = "?"
            try:
                name = force_str(method)
                args = list(param) if isinstance(param, (list, tuple)) else [param]
                function = self._dispatcher.rpc_method(name, len(args))
                result = function(*args)
                await responder.set_result(result)
            except RpcError as exc:
                message = str(exc)
                if not message.startswith("rpclib:"):
                    message = f"rpclib: function '{name}' (called with {len(param)} arg(s)) threw an exception. The exception contained this information: {exc}"
                await responder.set_error(message)
            except Exception as exc:  # a bug or an unexpected input: the client gets the text, the log the traceback
                log.exception("AirSim server: %s failed", name)
                await responder.set_error(f"rpclib: function '{name}' threw an exception. The exception contained this information: {type(exc).__name__}: {exc}")

    return RpcServer


class EmbeddedAirSimServer:
    """The embedded simulator behind AirSim's RPC API, on 127.0.0.1.

    Args:
        scene: A navgym ``Scene`` or scene id (``"prochouse/1000003"``; ``"prochouse:1000003"``
            also works), or an :class:`AirSimService` to serve.
        host: A loopback address (``"127.0.0.1"``, ``"localhost"`` or ``"::1"``).
        port: TCP port (AirSim's default 41451; 0 picks a free one, see :attr:`port`).
        **service_options: :class:`AirSimService` options (camera_resolution, camera_fov, ...).

    ``start()`` serves from a background thread (``stop()`` or ``with`` ends it);
    ``serve_forever()`` serves from the calling thread until Ctrl-C / SIGTERM.
    """

    def __init__(self, scene: Scene | str | AirSimService, host: str = "127.0.0.1", port: int = DEFAULT_PORT, data_root=None, **service_options: Any):
        if host not in LOOPBACK_HOSTS:
            raise InvalidArgumentError(
                f"host={host!r}: the AirSim server binds loopback only (it has no authentication); use one of {LOOPBACK_HOSTS}, "
                "and an SSH tunnel to reach it from another machine"
            )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidArgumentError(f"port={port!r} must be an integer in [0, 65535] (0: a free port)")
        self.host = host
        self.requested_port = port
        if isinstance(scene, AirSimService):
            self.service = scene
        else:
            if isinstance(scene, str):
                scene = scene_id_from_cli(scene)
            self.service = AirSimService(scene, data_root=data_root, **service_options)
        self.port: int | None = None
        self.bound: list = []
        self._thread: threading.Thread | None = None
        self._ioloop = None
        self._server = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def _bind(self):
        import msgpackrpc
        from tornado.ioloop import IOLoop

        self._ioloop = IOLoop.current()
        server = _rpc_server_class()(self.service, loop=msgpackrpc.Loop(self._ioloop), builder=_transport_builder())
        try:
            server.listen(msgpackrpc.Address(self.host, self.requested_port))
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"cannot listen on {self.host}:{self.requested_port} ({exc.strerror or exc}); is another server "
                f"(navgym airsim-server or AirSim) using the port? Pick another one with --port",
            ) from None
        self._server = server
        self.port = server._listeners[0].port
        self.bound = server._listeners[0].bound

    def _run_thread(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._bind()
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            self._ioloop.start()
        finally:
            self._ioloop.close(all_fds=True)
            loop.close()

    def start(self, timeout: float = 30.0) -> "EmbeddedAirSimServer":
        """Serve from a daemon thread; returns once the port is bound."""
        if self._thread is not None:
            return self
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run_thread, name=f"navgym-airsim-server-{self.requested_port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the AirSim server did not bind {self.host}:{self.requested_port} within {timeout} s")
        if self._error is not None:
            self._thread = None
            raise self._error
        return self

    def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        # A few loop turns let the closed connections' read tasks finish before the loop stops.
        self._ioloop.call_later(0.05, self._ioloop.stop)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listening socket and every connection, and end the server thread."""
        if self._thread is None or self._ioloop is None:
            return
        self._ioloop.add_callback(self._shutdown)
        self._thread.join(timeout)
        self._thread = None

    def serve_forever(self, on_ready: Callable[["EmbeddedAirSimServer"], None] | None = None) -> None:
        """Serve from the calling thread until Ctrl-C or SIGTERM."""
        import signal

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._bind()
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(signum, frame):
            self._ioloop.add_callback_from_signal(self._shutdown)

        signal.signal(signal.SIGTERM, on_term)
        if on_ready is not None:
            on_ready(self)
        try:
            self._ioloop.start()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            if self._server is not None:
                self._server.close()
            self._ioloop.close(all_fds=True)
            loop.close()

    def __enter__(self) -> "EmbeddedAirSimServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port if self.port is not None else self.requested_port}"
