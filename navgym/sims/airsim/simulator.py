"""The AirSim backend (``sim="airsim"``): navgym's :class:`~navgym.sims.base.Simulator` over an
AirSim server in computer-vision mode, through the Cosys-AirSim client (``cosysairsim``).

What each part is (docs/airsim.md has the full story and what is verified):

* **Agents**: one AirSim vehicle per agent (agent 0: ``vehicle=``, ``""`` = the server's default
  vehicle; added agents: ``simAddVehicle``). Poses go out with ``simSetVehiclePose`` and come back
  with ``simGetVehiclePose`` (the vehicle stands at the agent's floor point, turned to its yaw);
  the camera tilt is kept by the backend.
* **Motion**: ``motion="pose"`` (default): navgym's motion rule (Habitat-like sliding on the
  navigation grid) decides where the agent goes, and the pose is set. ``motion="velocity"``:
  ``move_agent`` becomes ``moveByVelocity`` (world NED velocity for one second) and the pose is
  read back; collided = less than 90 % of the asked displacement was done.
* **Cameras**: ``render`` aims the camera (``camera=``) of agent 0's vehicle at each requested
  pose with ``simSetCameraPose`` (relative to the vehicle) and ``simSetCameraFov``, then
  ``simGetImages``: ``Scene`` (uncompressed, or PNG with ``image_compression="png"``) for rgb,
  ``DepthPlanar`` as floats for depth, ``Segmentation`` for semantic (colours -> instance ids
  through Cosys-AirSim's colormap). The image size is the camera's: navgym's server takes
  ``navgymSetCameraResolution``; against Unreal AirSim, set ``CaptureSettings`` in settings.json
  to the embodiment's size (a mismatch is a clear error).
* **Geometry** (navigability, geodesics, sampling, top-down maps) and **annotations** come from
  a navgym scene: the same scene id the server serves when it is navgym's (``navgymSceneId``;
  ``simLoadLevel`` switches it), or, for an Unreal map, a mesh you export from it (with
  annotations, docs/scene_format.md) given as the scene id. AirSim itself has no navmesh API.

AirSim is NED (z down); every conversion is in :mod:`navgym.sims.airsim.frames`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from navgym.core.specs import AgentState, BodySpec, CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.scenes.scene import ObjectInstance, Scene, SceneGraph
from navgym.sims.airsim import frames
from navgym.sims.airsim.client import AirSimProtocolError, AirSimServerError, Connection
from navgym.sims.base import GridGeometry, Simulator

#: AirSim image types (``cosysairsim.ImageType``) the backend asks for.
_SCENE, _DEPTH_PLANAR, _SEGMENTATION = 0, 1, 5
#: The cameras every AirSim / Cosys-AirSim vehicle has (names and their pre-1.2 numbers); others
#: come from settings.json (``Vehicles.<name>.Cameras``, read with ``getSettingsString``).
AIRSIM_CAMERAS = ("front_center", "front_right", "front_left", "bottom_center", "back_center", "fpv", "0", "1", "2", "3", "4")
#: How far the pose a server reports for a rendered frame may be from the pose asked for
#: (metres, degrees): more means the camera is not where navgym put it.
CAMERA_POSE_TOLERANCE = (0.02, 0.5)
#: How far a vehicle may be from where the backend put it (metres, degrees) before the backend
#: concludes another client moves it.
#: The scene each navgym server (by address) serves, as this process's backends last set or saw
#: it: a backend asks the server again only when another backend of the process changed it.
_SERVED_SCENES: dict[str, str] = {}
VEHICLE_POSE_TOLERANCE = (0.01, 0.5)
INSTALL_HINT = 'pip install "navgym[airsim]" (the Cosys-AirSim client cosysairsim 3.5, which brings rpc-msgpack)'


class AirSimSimulator(GridGeometry, Simulator):  # geometry: navgym's grid over the scene (GridGeometry)
    """navgym's simulator interface over an AirSim server (see the module docstring).

    Args:
        scene: A navgym ``Scene`` or scene id: what the geometry and annotations come from
            (and, on navgym's server, which scene it serves).
        body: Agent 0's body.
        data_root: Data root for scene ids that are paths.
        host: Server address (default ``$NAVGYM_AIRSIM_HOST`` or ``127.0.0.1``).
        port: Server port (default ``$NAVGYM_AIRSIM_PORT`` or AirSim's 41451).
        vehicle: Agent 0's vehicle name (``""``: the server's default vehicle).
        camera: The camera that renders every request (``"0"`` is AirSim's ``front_center``).
        cameras: Other cameras by image size, ``{"WxH": name}``, for requests of that size: an
            Unreal AirSim renders each camera at its settings.json ``CaptureSettings`` size only,
            e.g. ``{"1x1": "probe"}`` for the env's 1x1 ceiling probe (optional: the env skips
            that check when the server cannot render it).
        motion: ``"pose"`` or ``"velocity"`` (module docstring).
        image_compression: ``"none"`` (raw bytes) or ``"png"`` for rgb frames.
        channel_order: Byte order of uncompressed frames: ``"rgb"`` (Cosys-AirSim, and navgym's
            server), ``"bgr"`` (Microsoft AirSim since 1.2), or ``"auto"``: ``"rgb"`` when the
            server reports version 4 or more (``getServerVersion``; Cosys-AirSim's) or no version
            at all, ``"bgr"`` when it reports less.
        timeout: Seconds one RPC call may take.
        cell_size: Navigation grid resolution, metres.

    Raises:
        gymnasium.error.DependencyNotInstalled: cosysairsim is not installed.
        AirSimConnectionError: No server answers at host:port (the message says how to start one).
    """

    def __init__(
        self,
        scene: Scene | str,
        body: BodySpec | None = None,
        data_root: str | Path | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        vehicle: str = "",
        camera: str = "0",
        cameras: Mapping[str, str] | None = None,
        motion: str = "pose",
        image_compression: str = "none",
        channel_order: str = "auto",
        timeout: float = 60.0,
        cell_size: float = 0.05,
    ):
        self.require()
        from navgym.sims.embedded.simulator import EmbeddedSimulator

        host = host if host is not None else os.environ.get("NAVGYM_AIRSIM_HOST", "127.0.0.1")
        if port is None:
            raw = os.environ.get("NAVGYM_AIRSIM_PORT", "41451")
            if not raw.strip().isdigit():
                raise InvalidArgumentError(f"NAVGYM_AIRSIM_PORT={raw!r} must be a port number, e.g. 41451")
            port = int(raw)
        if isinstance(port, bool) or not isinstance(port, (int, np.integer)) or not 1 <= int(port) <= 65535:
            raise InvalidArgumentError(f"port={port!r} must be an integer in [1, 65535] (AirSim's default is 41451)")
        if not isinstance(host, str) or not host:
            raise InvalidArgumentError(f"host={host!r} must be a host name or address, e.g. '127.0.0.1'")
        if motion not in ("pose", "velocity"):
            raise InvalidArgumentError(f"motion={motion!r} must be 'pose' (set poses) or 'velocity' (moveByVelocity)")
        if image_compression not in ("none", "png"):
            raise InvalidArgumentError(f"image_compression={image_compression!r} must be 'none' or 'png'")
        if channel_order not in ("auto", "rgb", "bgr"):
            raise InvalidArgumentError(
                f"channel_order={channel_order!r} must be 'auto', 'rgb' (Cosys-AirSim) or 'bgr' (Microsoft AirSim)"
            )
        if isinstance(timeout, bool) or not (isinstance(timeout, (int, float)) and 1.0 <= float(timeout) <= 3600.0):
            raise InvalidArgumentError(f"timeout={timeout!r} must be a number of seconds in [1, 3600]")
        if not isinstance(vehicle, str):
            raise InvalidArgumentError(f"vehicle={vehicle!r} must be a vehicle name string ('' picks the server's default vehicle)")
        if isinstance(camera, bool) or not isinstance(camera, (str, int)):
            raise InvalidArgumentError(f"camera={camera!r} must be a camera name, e.g. 'front_center' or '0'")
        self.host, self.port = host, int(port)
        self.vehicle, self.camera = str(vehicle), str(camera)
        self.cameras_by_size: dict[tuple[int, int], str] = {}
        if cameras is not None:
            import re

            if not isinstance(cameras, Mapping):
                raise InvalidArgumentError(f"cameras={cameras!r} must be a dict {{'WxH': camera name}}, e.g. {{'1x1': 'probe'}}")
            for key, name in cameras.items():
                m = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", str(key))
                if not m or not isinstance(name, (str, int)) or isinstance(name, bool):
                    raise InvalidArgumentError(f"cameras={dict(cameras)!r}: each entry is 'WxH': camera name, e.g. {{'1x1': 'probe'}}; got {key!r}: {name!r}")
                self.cameras_by_size[(int(m.group(1)), int(m.group(2)))] = str(name)
        self.motion, self.image_compression = motion, image_compression
        self._conn = Connection(host, self.port, float(timeout))
        self._conn.call("ping")
        self.server_version = self._server_version()
        if channel_order == "auto":
            channel_order = "rgb" if self.server_version is None or self.server_version >= 4 else "bgr"
        self.channel_order = channel_order
        self.server_scene_id = self._server_scene()
        self._check_vehicle_and_camera()
        if isinstance(scene, Scene):
            if self.server_scene_id is not None and self.server_scene_id != scene.name:
                raise InvalidArgumentError(
                    f"scene {scene.name!r} is not what the navgym AirSim server at {self._conn.address} serves "
                    f"({self.server_scene_id!r}); serve this Scene object with navgym.sims.airsim.server.EmbeddedAirSimServer(scene)"
                )
        elif isinstance(scene, str):
            if self.server_scene_id is not None and self.server_scene_id != scene:
                self._conn.call("simLoadLevel", scene)
                self.server_scene_id = self._server_scene()
        else:
            raise TypeError(f"scene must be a navgym Scene or a scene id string, got {type(scene).__name__}")
        self._geo = EmbeddedSimulator(scene, body=body, data_root=data_root, cell_size=cell_size)
        #: The scene this backend needs the navgym server to serve (None: not navgym's server).
        self._served = self.server_scene_id
        if self._served is not None:
            _SERVED_SCENES[self._conn.address] = self._served
        #: Each vehicle's pose as this backend last set or read it (NED position, wxyz).
        self._expected: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._vehicles: dict[int, str] = {0: self.vehicle}
        self._tilts: dict[int, float] = {0: 0.0}
        self._resolution: dict[str, tuple[int, int]] = {}
        self._lut: tuple[np.ndarray, np.ndarray] | None = None
        self._set_body(0)
        self._push(0, self._geo.get_agent_state(0))
        #: The connection's generation this backend configured the server for: a reconnect (a
        #: restarted server on the same port, a timeout) makes :meth:`_ensure_scene` set it all again.
        self._generation = self._conn.generation

    # -- dependency check ------------------------------------------------------------------------
    @classmethod
    def require(cls) -> None:
        """Raise ``DependencyNotInstalled`` naming the extra when cosysairsim is missing."""
        import importlib.util

        from gymnasium.error import DependencyNotInstalled

        missing = [m for m in ("cosysairsim", "msgpackrpc") if importlib.util.find_spec(m) is None]
        if missing:
            raise DependencyNotInstalled(
                f"sim='airsim' needs the Cosys-AirSim client; missing Python modules: {', '.join(missing)}. {INSTALL_HINT}. "
                "Use sim='embedded' (the default) to run without it."
            )

    # -- server helpers -------------------------------------------------------------------------
    @property
    def is_navgym_server(self) -> bool:
        """Whether the server is navgym's own (it answers ``navgymSceneId``)."""
        return self.server_scene_id is not None

    def _server_scene(self) -> str | None:
        found, reply = self._conn.has_method("navgymSceneId")
        if not found:
            return None
        if not isinstance(reply, str):
            raise AirSimProtocolError(f"navgymSceneId from {self._conn.address} returned {reply!r}; expected a scene id string")
        return reply

    def _server_version(self) -> int | None:
        found, reply = self._conn.has_method("getServerVersion")
        if not found or isinstance(reply, bool) or not isinstance(reply, int):
            return None
        return reply

    def _check_vehicle_and_camera(self) -> None:
        """Check ``vehicle=`` against ``listVehicles`` and ``camera=`` (and ``cameras=``) against
        the server's cameras, before any call uses them: an Unreal AirSim dereferences a missing
        camera (it can crash the simulator) and names neither parameter. navgym's server lists
        every camera it has in ``getSettingsString``, so only those are accepted there; for another
        server, AirSim's standard names and settings.json's ``Cameras`` are."""
        import json

        address = self._conn.address
        found, vehicles = self._conn.has_method("listVehicles")
        if found and isinstance(vehicles, list) and self.vehicle and self.vehicle not in vehicles:
            raise InvalidArgumentError(
                f"vehicle={self.vehicle!r} is not a vehicle of the AirSim server at {address} (its vehicles: {vehicles}); "
                "pass one of them, or vehicle='' for the server's default vehicle (a new one goes in settings.json's Vehicles)"
            )
        found, text = self._conn.has_method("getSettingsString")
        if not found:
            return  # a server that cannot say its settings.json: its cameras cannot be checked here
        settings = None
        if isinstance(text, str):
            try:
                settings = json.loads(text)
            except ValueError:
                settings = None
        vehicle_settings = settings.get("Vehicles") if isinstance(settings, dict) else None
        listed: set[str] = set()
        if isinstance(vehicle_settings, dict):
            names = list(vehicle_settings)
            own = self.vehicle or (names[0] if self.is_navgym_server and names else None)
            for name, entry in vehicle_settings.items():
                if (own is None or name == own) and isinstance(entry, dict) and isinstance(entry.get("Cameras"), dict):
                    listed.update(str(c) for c in entry["Cameras"])
        # navgym's server lists all its cameras; an Unreal AirSim's settings.json lists only the
        # ones it adds to AirSim's standard set.
        known = listed if self.is_navgym_server and listed else listed | set(AIRSIM_CAMERAS)
        for what, name in [("camera", self.camera)] + [(f"cameras['{w}x{h}']", c) for (w, h), c in self.cameras_by_size.items()]:
            if name in known:
                continue
            if self.is_navgym_server and listed:
                raise InvalidArgumentError(
                    f"{what}={name!r} is not a camera of navgym's AirSim server at {address}: its vehicle "
                    f"'{self.vehicle or 'default'}' has the cameras {sorted(listed)}; pass one of them (e.g. camera='0')"
                )
            raise InvalidArgumentError(
                f"{what}={name!r} is not a camera of the AirSim server at {address}: AirSim's cameras are "
                f"{', '.join(AIRSIM_CAMERAS[:5])} (or '0'..'4'), and settings.json's Vehicles.<vehicle>.Cameras add others "
                f"(this server's: {sorted(listed - set(AIRSIM_CAMERAS)) or 'none'}); pass one of them"
            )

    def _set_body(self, agent_id: int) -> None:
        if self.is_navgym_server:
            body = self._geo.body(agent_id)
            self._conn.call("navgymSetVehicleBody", body.radius, body.height, body.max_climb, self._vehicles[agent_id])

    def _read_pose(self, method: str, reply: Any) -> tuple[np.ndarray, np.ndarray]:
        try:
            position, quat = frames.read_pose(reply, "Pose")
        except ValueError as exc:
            raise AirSimProtocolError(f"{method} from {self._conn.address} returned a malformed Pose: {exc}") from None
        if not (np.isfinite(position).all() and np.isfinite(quat).all()) or np.linalg.norm(quat) < 1e-9:
            raise AirSimProtocolError(f"{method} from {self._conn.address} returned the pose {position.tolist()}, {quat.tolist()}; expected finite numbers and a rotation")
        return position, quat

    def _vehicle_pose(self, agent_id: int, check: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The vehicle's pose on the server; with ``check``, it must be the pose this backend last
        set or read: nothing else moves a computer-vision vehicle, so a difference means another
        client drives it (two envs on one server share its vehicles), and every state, step and
        frame would silently mix the two."""
        vehicle = self._vehicles[agent_id]
        position, quat = self._read_pose("simGetVehiclePose", self._conn.call("simGetVehiclePose", vehicle))
        expected = self._expected.get(agent_id)
        # A vehicle that flies (motion='velocity': a multirotor still braking or hovering) moves on
        # its own; only a computer-vision vehicle, which only its client moves, can be checked.
        if check and expected is not None and self.motion != "velocity":
            from navgym.core.geometry import matrix_from_quat_wxyz

            moved = float(np.linalg.norm(position - expected[0]))
            relative = matrix_from_quat_wxyz(quat / np.linalg.norm(quat)).T @ matrix_from_quat_wxyz(expected[1] / np.linalg.norm(expected[1]))
            turned = math.degrees(math.acos(float(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0))))
            if moved > VEHICLE_POSE_TOLERANCE[0] or turned > VEHICLE_POSE_TOLERANCE[1]:
                raise AirSimProtocolError(
                    f"vehicle '{vehicle or 'default'}' on the AirSim server at {self._conn.address} moved {moved:.3f} m and turned "
                    f"{turned:.1f} degrees since this backend placed it: another client drives it. Two envs (a vector env, "
                    "`navgym evaluate --workers`, two scripts) must not share a server's vehicle: give each its own server "
                    "(port=) or its own vehicle= (settings.json's Vehicles)"
                )
        self._expected[agent_id] = (position, quat)
        return position, quat

    def _push(self, agent_id: int, state: AgentState) -> None:
        position, quat = frames.vehicle_pose(state)
        self._conn.call("simSetVehiclePose", frames.pose_msg(position, quat), True, self._vehicles[agent_id])
        self._expected[agent_id] = (np.asarray(position, dtype=np.float64), np.asarray(quat, dtype=np.float64))
        self._tilts[agent_id] = float(state.tilt)

    def _ensure_scene(self) -> None:
        """Make sure the server is configured for this backend before a call uses it.

        * **After a reconnect** (the server closed the socket: it stopped or restarted on the same
          port; or a call timed out), the server may be a new one with another scene, default
          camera sizes and vehicles at their start: everything is sent again (:meth:`_restore`).
          The connection notices a closed socket before the call (:meth:`Connection.drop_if_closed`),
          so a restarted server costs no timeout.
        * **On navgym's server**, serve this backend's scene again when another backend (an env
          keeps one per recent scene) loaded another one with ``simLoadLevel``: frames would
          otherwise come from that scene while navigability and measures come from this one. The
          server is asked only after a backend of this process served another scene
          (:data:`_SERVED_SCENES`); a level loaded by another process resets the vehicles, which
          the vehicle check reports."""
        self._conn.drop_if_closed()
        self._conn.client  # a new client (no I/O yet) after a drop: the generation moves on
        if self._conn.generation != self._generation:
            self._restore(reconnected=True)
            return
        if self._served is None or _SERVED_SCENES.get(self._conn.address) == self._served:
            return  # no backend of this process has loaded another scene since: no call needed
        if self._server_scene() == self._served:
            _SERVED_SCENES[self._conn.address] = self._served
            return
        self._restore(reconnected=False)

    def _restore(self, reconnected: bool) -> None:
        """Configure the server for this backend from scratch: its scene (navgym's server:
        ``simLoadLevel`` when it serves another), the camera sizes (sent again at the next
        render), each vehicle (added agents re-added when missing), its body and its pose (the
        backend's own state, so an episode goes on where it was)."""
        generation = self._conn.generation
        address = self._conn.address
        if self._served is not None:
            scene = self._server_scene()
            if scene is None:
                raise AirSimProtocolError(
                    f"the AirSim server at {address} is no longer navgym's server (it does not answer navgymSceneId) but this "
                    f"backend's geometry is navgym's scene {self._served!r}; restart `navgym airsim-server --scene "
                    f"{self._served} --port {self.port}`, or make a new env for this server"
                )
            if scene != self._served:
                self._conn.call("simLoadLevel", self._served)
                scene = self._server_scene()
            self.server_scene_id = scene
            _SERVED_SCENES[address] = scene
        self._resolution = {}
        listed = None
        if len(self._vehicles) > 1:
            found, reply = self._conn.has_method("listVehicles")
            listed = reply if found and isinstance(reply, list) else None
        for agent_id, name in self._vehicles.items():
            state = self._geo.get_agent_state(agent_id)
            state.tilt = self._tilts.get(agent_id, 0.0)
            if agent_id != 0 and (listed is None or name not in listed):
                position, quat = frames.vehicle_pose(state)
                try:
                    self._conn.call("simAddVehicle", name, "ComputerVision", frames.pose_msg(position, quat), "")
                except AirSimServerError:
                    if listed is not None or not reconnected:
                        raise  # (without listVehicles, a vehicle kept by the same server answers 'exists')
            self._set_body(agent_id)
            self._push(agent_id, state)
        self._generation = generation

    def _sync(self, agent_id: int) -> AgentState:
        """The agent's state from the server, copied into the local geometry (snapped to it)."""
        state = self.get_agent_state(agent_id)
        return self._geo.set_agent_state(state, snap=True, agent_id=agent_id)

    # -- scene ----------------------------------------------------------------------------------
    @property
    def scene_id(self) -> str:
        return self._geo.scene_id

    @property
    def scene(self) -> Scene:
        """The navgym scene behind the geometry."""
        return self._geo.scene

    def object_instances(self) -> list[ObjectInstance]:
        return self._geo.object_instances()

    def scene_graph(self) -> SceneGraph:
        return self._geo.scene_graph()

    def server_objects(self, name_regex: str = ".*") -> dict[str, np.ndarray]:
        """Object names the server lists (``simListSceneObjects``) and their positions in navgym's
        frame (``simGetObjectPose``): what an AirSim map knows of its objects."""
        self._ensure_scene()
        names = self._conn.call("simListSceneObjects", name_regex)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AirSimProtocolError(f"simListSceneObjects from {self._conn.address} returned {str(names)[:200]}; expected a list of names")
        out = {}
        for name in names:
            position, _ = frames.read_pose(self._conn.call("simGetObjectPose", name, True), f"simGetObjectPose({name!r})")
            out[name] = frames.ned_to_nav(position)
        return out

    # -- agents ---------------------------------------------------------------------------------
    @property
    def agent_ids(self) -> tuple[int, ...]:
        return self._geo.agent_ids

    def add_agent(self, body: BodySpec, state: AgentState | None = None) -> int:
        self._ensure_scene()
        agent_id = self._geo.add_agent(body, state)
        name = f"navgym_agent_{agent_id}"
        placed = self._geo.get_agent_state(agent_id)
        position, quat = frames.vehicle_pose(placed)
        self._conn.call("simAddVehicle", name, "ComputerVision", frames.pose_msg(position, quat), "")
        self._vehicles[agent_id] = name
        self._set_body(agent_id)
        self._push(agent_id, placed)
        return agent_id

    def body(self, agent_id: int = 0) -> BodySpec:
        return self._geo.body(agent_id)

    def get_agent_state(self, agent_id: int = 0) -> AgentState:
        self.body(agent_id)
        self._ensure_scene()
        position, quat = self._vehicle_pose(agent_id)
        return frames.state_from_vehicle_pose(position, quat, self._tilts.get(agent_id, 0.0))

    def set_agent_state(self, state: AgentState, snap: bool = False, agent_id: int = 0) -> AgentState:
        placed = self._geo.set_agent_state(state, snap=snap, agent_id=agent_id)
        self._ensure_scene()
        self._push(agent_id, placed)
        return placed

    def move_agent(self, displacement: Sequence[float], agent_id: int = 0) -> bool:
        delta = np.asarray(displacement, dtype=np.float64).reshape(3)
        if not np.isfinite(delta).all():
            raise InvalidArgumentError(f"displacement={delta.tolist()} must be finite")
        before = self._sync(agent_id)
        if self.motion == "pose":
            collided = self._geo.move_agent(delta, agent_id)
            self._push(agent_id, self._geo.get_agent_state(agent_id))
            return collided
        velocity = frames.nav_to_ned([delta[0], 0.0, delta[2]])
        yaw_mode = {"is_rate": True, "yaw_or_rate": 0.0}
        found, _ = self._conn.has_method("moveByVelocity", float(velocity[0]), float(velocity[1]), 0.0, 1.0, 0, yaw_mode, self._vehicles[agent_id])
        if not found:  # AirSim's computer-vision mode has no moveByVelocity (a multirotor call)
            raise InvalidArgumentError(
                f"motion='velocity' needs moveByVelocity, which the AirSim server at {self._conn.address} does not have "
                "(an Unreal AirSim in \"SimMode\": \"ComputerVision\" answers only multirotor vehicles' calls with it); "
                "use motion='pose' (the default), or a \"Multirotor\" SimMode"
            )
        self._vehicle_pose(agent_id, check=False)  # the server moved it: its pose is the new expectation
        after = self._sync(agent_id)
        asked = float(np.hypot(delta[0], delta[2]))
        if asked == 0.0:
            return False
        moved = np.array([after.position[0] - before.position[0], after.position[2] - before.position[2]])
        return float(moved @ np.array([delta[0], delta[2]])) / asked < 0.9 * asked

    def turn_agent(self, yaw: float, tilt: float = 0.0, agent_id: int = 0) -> None:
        self._sync(agent_id)
        self._geo.turn_agent(yaw, tilt, agent_id)
        self._push(agent_id, self._geo.get_agent_state(agent_id))

    # -- cameras --------------------------------------------------------------------------------
    def _segmentation_lut(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted packed colours and their instance ids (Cosys-AirSim's colormap: id i is colour i)."""
        if self._lut is None:
            from navgym.sims.airsim.server import segmentation_colormap

            top = max([inst.id for inst in self.object_instances()] + [0])
            colours = np.asarray(segmentation_colormap()[: top + 1], dtype=np.int64)
            packed = (colours[:, 0] << 16) | (colours[:, 1] << 8) | colours[:, 2]
            order = np.argsort(packed, kind="stable")
            self._lut = (packed[order], order.astype(np.int32))
        return self._lut

    def _camera_for(self, spec: CameraSpec) -> str:
        """The camera that renders a request of ``spec``'s size (``cameras=``, else ``camera=``)."""
        return self.cameras_by_size.get((spec.width, spec.height), self.camera)

    def _decode(self, response: Any, kind: int, spec: CameraSpec) -> np.ndarray:
        where = f"simGetImages from {self._conn.address}"
        if not isinstance(response, dict):
            raise AirSimProtocolError(f"{where} returned {str(response)[:200]} for an image; expected an ImageResponse dict")
        width, height = response.get("width"), response.get("height")
        message = response.get("message")
        if (width, height) == (0, 0) and isinstance(message, str) and message:
            # Cosys-AirSim answers an inactive capture (e.g. "Can't take screenshot because none
            # camera type is not active") with an empty image and this message.
            raise AirSimProtocolError(f"{where} returned no image for camera '{self._camera_for(spec)}' (image_type {kind}): {message!r}")
        if (width, height) != (spec.width, spec.height):
            size = f"{spec.width}x{spec.height}"
            hint = ("" if self.is_navgym_server else
                    f" An Unreal AirSim renders each camera at its settings.json size only (Vehicles.<vehicle>.Cameras.<name>."
                    f"CaptureSettings Width/Height, for ImageType 0, 1 and 5): give camera '{self._camera_for(spec)}' that size if every "
                    f"request is {size}, or add a camera of size {size} and pass sim_options={{'cameras': {{'{size}': '<its name>'}}}}"
                    " (navgym's env also renders a 1x1 depth probe at each new scene: it needs a '1x1' camera).")
            raise AirSimProtocolError(f"{where} returned a {width}x{height} image; the camera spec asks for {spec.width}x{spec.height}.{hint}")
        if kind == _DEPTH_PLANAR:
            data = response.get("image_data_float")
            if not isinstance(data, (list, tuple)) or len(data) != width * height:
                raise AirSimProtocolError(f"{where}: DepthPlanar image_data_float has {len(data) if isinstance(data, (list, tuple)) else type(data).__name__} values; expected {width}x{height} = {width * height} floats")
            depth = np.asarray(data, dtype=np.float32).reshape(height, width)
            depth = np.where(np.isfinite(depth), depth, spec.max_depth)
            return np.clip(depth, spec.min_depth, spec.max_depth).astype(np.float32)[..., None]
        data = response.get("image_data_uint8")
        if not isinstance(data, (bytes, bytearray)):
            raise AirSimProtocolError(f"{where}: image_data_uint8 is {type(data).__name__}; expected bytes")
        if response.get("compress"):
            image = _decode_png(bytes(data), where)
        else:
            if len(data) != width * height * 3:
                raise AirSimProtocolError(f"{where}: image_data_uint8 has {len(data)} bytes; expected {width}x{height}x3 = {width * height * 3} ({self.channel_order.upper()})")
            image = np.frombuffer(bytes(data), dtype=np.uint8).reshape(height, width, 3)
            if self.channel_order == "bgr":
                image = image[..., ::-1]
        if image.shape != (height, width, 3):
            raise AirSimProtocolError(f"{where}: the decoded image is {image.shape}; expected ({height}, {width}, 3)")
        if kind == _SCENE:
            return np.ascontiguousarray(image, dtype=np.uint8)
        packed_lut, ids = self._segmentation_lut()
        colours = image.astype(np.int64)
        packed = ((colours[..., 0] << 16) | (colours[..., 1] << 8) | colours[..., 2]).ravel()
        index = np.clip(np.searchsorted(packed_lut, packed), 0, len(packed_lut) - 1)
        found = packed_lut[index] == packed
        return np.where(found, ids[index], 0).astype(np.int32).reshape(height, width)

    def _check_camera_pose(self, response: Any, eye: np.ndarray, rotation: np.ndarray, camera: str) -> None:
        """The pose an ImageResponse reports (``camera_position`` / ``camera_orientation``, world
        NED) must be the one asked for: AirSim applies ``simSetCameraPose`` relative to the
        camera's mount, so a mount offset or gimbal stabilisation in settings.json would render
        every frame from somewhere else."""
        if not isinstance(response, dict) or "camera_position" not in response or "camera_orientation" not in response:
            return
        try:
            position = frames.read_vector(response["camera_position"], "camera_position")
            quat = frames.read_quat(response["camera_orientation"], "camera_orientation")
        except ValueError as exc:
            raise AirSimProtocolError(f"simGetImages from {self._conn.address} returned a malformed camera pose: {exc}") from None
        if np.linalg.norm(quat) < 1e-9:
            return  # a server that does not report the pose (a zero quaternion)
        from navgym.core.geometry import matrix_from_quat_wxyz

        moved = float(np.linalg.norm(position - eye))
        relative = matrix_from_quat_wxyz(quat / np.linalg.norm(quat)).T @ rotation
        turned = math.degrees(math.acos(float(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0))))
        if not (moved <= CAMERA_POSE_TOLERANCE[0] and turned <= CAMERA_POSE_TOLERANCE[1]):
            raise AirSimProtocolError(
                f"the AirSim server at {self._conn.address} rendered camera '{camera}' at NED {np.round(position, 3).tolist()}, "
                f"{moved:.3f} m and {turned:.1f} degrees from the pose navgym set ({np.round(eye, 3).tolist()}). AirSim sets "
                "simSetCameraPose relative to the camera's mount: in settings.json, give this camera X, Y, Z, Pitch, Roll, Yaw = 0 "
                "and no Gimbal (Vehicles.<vehicle>.Cameras), or pass another camera="
            )

    def render(self, requests: Sequence[tuple[AgentState, CameraSpec]]) -> list[dict[str, np.ndarray]]:
        if not requests:
            return []
        self._ensure_scene()
        vehicle = self._vehicles[0]
        parent_position, parent_quat = self._vehicle_pose(0)
        results = []
        for state, spec in requests:
            eye, rotation = frames.camera_world_pose(state, spec)
            offset, offset_quat = frames.relative_pose(parent_position, parent_quat, eye, rotation)
            camera = self._camera_for(spec)
            self._conn.call("simSetCameraPose", camera, frames.pose_msg(offset, offset_quat), vehicle)
            self._conn.call("simSetCameraFov", camera, float(spec.hfov), vehicle)
            if self.is_navgym_server and self._resolution.get(camera) != (spec.width, spec.height):
                self._conn.call("navgymSetCameraResolution", camera, int(spec.width), int(spec.height), vehicle)
                self._resolution = {camera: (spec.width, spec.height)}  # names may alias one camera ("0", "front_center")
            kinds = {"rgb": _SCENE, "depth": _DEPTH_PLANAR, "semantic": _SEGMENTATION}
            wanted = [o for o in ("rgb", "depth", "semantic") if o in spec.outputs]
            if "semantic" in wanted and self.server_version is not None and self.server_version < 4:
                raise AirSimProtocolError(
                    f"semantic frames read segmentation colours through Cosys-AirSim's colormap, but the AirSim server at "
                    f"{self._conn.address} reports version {self.server_version} (Microsoft AirSim, whose palette, seg_rgbs.txt, "
                    "differs: every pixel would read as 0). Use a Cosys-AirSim server, or leave 'semantic' out of sensors="
                )
            image_requests = [
                {"camera_name": camera, "image_type": kinds[o], "pixels_as_float": o == "depth",
                 "compress": o == "rgb" and self.image_compression == "png", "annotation_name": ""}
                for o in wanted
            ]
            responses = self._conn.call("simGetImages", image_requests, vehicle) if image_requests else []
            if not isinstance(responses, list) or len(responses) != len(image_requests):
                raise AirSimProtocolError(
                    f"simGetImages from {self._conn.address} returned {type(responses).__name__} "
                    f"{len(responses) if isinstance(responses, list) else ''}; expected a list of {len(image_requests)} ImageResponse"
                )
            for response in responses:
                self._check_camera_pose(response, eye, rotation, camera)
            results.append({o: self._decode(r, kinds[o], spec) for o, r in zip(wanted, responses)})
        return results

    # -- lidar ----------------------------------------------------------------------------------
    def lidar(self, agent_id: int = 0, lidar_name: str = "") -> np.ndarray:
        """One ``getLidarData`` sweep of the agent's vehicle, as (N, 3) float32 points in navgym's
        world frame.

        Cosys-AirSim (server version 4+, and navgym's server) sends the points in the sensor's
        frame and ``pose`` relative to the vehicle; the points are composed with the vehicle's pose
        here, and its [0, 0, 0] misses dropped. Microsoft AirSim (version < 4) sends them in the
        world frame (its default ``DataFrame``, ``VehicleInertialFrame``)."""
        self._ensure_scene()
        vehicle = self._vehicles[agent_id]
        reply = self._conn.call("getLidarData", lidar_name, vehicle)
        cloud = reply.get("point_cloud") if isinstance(reply, dict) else None
        if not isinstance(cloud, (list, tuple)) or len(cloud) % 3:
            raise AirSimProtocolError(f"getLidarData from {self._conn.address} returned point_cloud {str(cloud)[:100]}; expected a flat list of x, y, z")
        if len(cloud) <= 3:  # AirSim sends [0.0] (or nothing) for an empty sweep
            return np.zeros((0, 3), dtype=np.float32)
        points = np.asarray(cloud, dtype=np.float64).reshape(-1, 3)
        if self.server_version is None or self.server_version >= 4:
            points = points[np.any(points != 0.0, axis=1)]  # Cosys-AirSim's misses
            sensor_position, sensor_quat = self._read_pose("getLidarData", reply.get("pose"))
            vehicle_position, vehicle_quat = self._vehicle_pose(agent_id)
            from navgym.core.geometry import matrix_from_quat_wxyz

            r_vehicle = matrix_from_quat_wxyz(vehicle_quat / np.linalg.norm(vehicle_quat))
            r_sensor = matrix_from_quat_wxyz(sensor_quat / np.linalg.norm(sensor_quat))
            points = (points @ r_sensor.T + sensor_position) @ r_vehicle.T + vehicle_position
        return frames.ned_to_nav(points).astype(np.float32)

    # -- lifecycle ------------------------------------------------------------------------------
    def __getstate__(self):
        """Pickles without the connection; the copy connects to the same server (and drives the
        same vehicles) on its first call."""
        state = self.__dict__.copy()
        state["_lut"] = None
        return state

    def close(self) -> None:
        self._conn.close()
        self._geo.close()


def _decode_png(data: bytes, where: str) -> np.ndarray:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise AirSimProtocolError(f"{where}: a compressed image is not a PNG ({exc})") from None


__all__ = ["AirSimSimulator", "AirSimServerError"]
