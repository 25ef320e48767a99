"""The Isaac Sim backend: navgym's :class:`~navgym.sims.base.Simulator` over Isaac Sim / Isaac Lab.

**Unverified on real Isaac.** navgym's machines have no RTX GPU, so this backend has never run on
Isaac Sim; its tests run it against fake ``isaaclab`` / ``isaacsim`` modules, which checks the
adapter's logic only. ``navgym.testing.check_simulator`` is how a user with Isaac checks it
(docs/isaac.md).

What each part is:

* **Scene**: a navgym scene (a ``Scene``, or an id such as ``"prochouse/1000003"``) is written as
  a z-up USD layer (:mod:`navgym.sims.isaac.usd`, cached) and referenced on the stage; a path to a
  ``.usd``/``.usda``/``.usdc``/``.usdz`` file is referenced as it is. The scene graph is navgym's
  (ProcHouse: rooms, relations) or, for a foreign USD stage, one instance per prim with a semantic
  ``class`` label.
* **Geometry** (``is_navigable``, ``snap_point``, geodesics, paths, sampling,
  ``navigable_points_near``, ``topdown_map``, ``footprint_collisions``): navgym's occupancy grid
  (:class:`~navgym.sims.embedded.simulator.EmbeddedSimulator`'s, per body and storey) built from
  the stage's collision meshes: the same triangles the USD layer's colliders are made of, or the
  colliders read back from a foreign stage. Not Isaac's navmesh or occupancy-map extension.
* **Agents and motion**, ``motion="kinematic"`` (default): navgym's motion rules (Habitat-like
  sliding on the grid) decide where an agent goes; the robot's root is written there
  (``write_root_pose_to_sim``), legs in their default pose, no physics stepped. ``motion=
  "velocity"``: ``move_agent`` / ``turn_agent`` become body-frame velocity commands held for
  ``control_dt`` seconds or longer (:mod:`navgym.sims.isaac.robots`): the Jetbot's wheels through
  Isaac Sim's ``DifferentialController``, the H1 and the Go2 through a locomotion policy exported
  by Isaac Lab; physics moves the robot and the agent's state is read back from its root.
* **Cameras**: ``render`` places Isaac Lab cameras at every requested pose with the spec's
  intrinsics (a pool per image size) and renders them in one pass: ``rgb``,
  ``distance_to_image_plane`` as ``depth``, ``instance_segmentation_fast`` mapped to navgym
  instance ids through the prim paths. Robots are hidden from renders unless ``show_robots``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from navgym.core.specs import AgentState, BodySpec, CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.scenes.scene import ObjectInstance, Scene, SceneGraph
from navgym.sims.base import GridGeometry, Simulator
from navgym.sims.isaac import frames
from navgym.sims.isaac.robots import (
    RobotSpec,
    body_velocity_within_wheel_limit,
    clip_command,
    resolve_robot,
    robot_for_body,
    rotation_command,
    translation_command,
)

#: Suffixes of scene ids the backend references as USD stages.
USD_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz")


class IsaacSimulator(GridGeometry, Simulator):  # geometry: navgym's grid over the scene (GridGeometry)
    """navgym's simulator interface over Isaac Sim / Isaac Lab (see the module docstring).

    Args:
        scene: A navgym ``Scene``, a scene id (``"prochouse/42"``, a mesh path under the data
            root), or a USD stage path.
        body: Agent 0's body.
        data_root: Data root for relative scene paths.
        robot: Agent 0's robot: ``"auto"`` (by body: navgym's Jetbot, H1 and Aliengo bodies get
            the Jetbot, the H1 and the Go2), a name (``"jetbot"``, ``"h1"``, ``"go2"``;
            ``"aliengo"`` is the Go2), a :class:`~navgym.sims.isaac.robots.RobotSpec`, or ``None``
            (agents are poses only: no robot on the stage). Agents added later get ``"auto"``
            (or none when this is ``None``).
        motion: ``"kinematic"`` or ``"velocity"`` (module docstring).
        control_dt: Shortest duration of one velocity command, seconds (``motion="velocity"``).
        settle_time: In velocity mode, seconds of zero command after each motion primitive
            (0: the robot carries its momentum into the next command, as a body following
            navgym's 0.05 s locomotion substeps should).
        collision_tolerance: In velocity mode, a motion achieving less than ``1 - tolerance`` of
            the asked displacement (or turn) reports a collision.
        locomotion_policy: For legged robots in velocity mode: a TorchScript ``policy.pt``
            exported by Isaac Lab's ``play.py`` for the robot's flat velocity task, a callable
            ``obs -> action``, or a dict of those by robot name.
        show_robots: Draw robots in renders (off: navgym's renders show the world only, like the
            embedded simulator's).
        cell_size: Navigation grid resolution, metres.
        usd_cache: Folder for the USD layers of navgym scenes (default: navgym's cache).
        **runtime_options: :class:`~navgym.sims.isaac.runtime.RuntimeOptions` fields
            (``headless``, ``device``, ``physics_dt``, ``render_frames``, ``launch``, ...).

    Raises:
        gymnasium.error.DependencyNotInstalled: Isaac Sim / Isaac Lab are not installed.
    """

    def __init__(
        self,
        scene: Scene | str,
        body: BodySpec | None = None,
        data_root: str | Path | None = None,
        *,
        robot: str | RobotSpec | None = "auto",
        motion: str = "kinematic",
        control_dt: float = 0.05,
        settle_time: float = 0.0,
        collision_tolerance: float = 0.1,
        locomotion_policy: Any = None,
        show_robots: bool = False,
        cell_size: float = 0.05,
        usd_cache: str | Path | None = None,
        **runtime_options: Any,
    ):
        self.require()
        from navgym.sims.embedded.simulator import EmbeddedSimulator
        from navgym.sims.isaac import runtime as rt

        if motion not in ("kinematic", "velocity"):
            raise InvalidArgumentError(f"motion={motion!r} must be 'kinematic' or 'velocity'")
        if not (0.0 < float(control_dt) <= 10.0):
            raise InvalidArgumentError(f"control_dt={control_dt!r} must be in (0, 10] seconds")
        if not (0.0 <= float(collision_tolerance) < 1.0):
            raise InvalidArgumentError(f"collision_tolerance={collision_tolerance!r} must be in [0, 1)")
        unknown = set(runtime_options) - set(rt.RuntimeOptions.__dataclass_fields__)
        if unknown:
            raise InvalidArgumentError(f"IsaacSimulator got unknown options {sorted(unknown)}; runtime options are {sorted(rt.RuntimeOptions.__dataclass_fields__)}")
        self.motion = motion
        self.control_dt = float(control_dt)
        if not (0.0 <= float(settle_time) <= 10.0):
            raise InvalidArgumentError(f"settle_time={settle_time!r} must be in [0, 10] seconds")
        self.settle_time = float(settle_time)
        self.collision_tolerance = float(collision_tolerance)
        self.show_robots = bool(show_robots)
        self._policy_option = locomotion_policy
        self._robot_option = robot
        self._runtime_options = rt.RuntimeOptions(**runtime_options)
        self.usd_path, scene_obj = self._resolve_scene(scene, data_root, usd_cache)
        self._geo = EmbeddedSimulator(scene_obj, body=body, data_root=data_root, cell_size=cell_size)
        self._robot_specs: dict[int, RobotSpec | None] = {0: resolve_robot(robot, self._geo.body(0))}
        if motion == "velocity" and self._robot_specs[0] is None:
            raise InvalidArgumentError("motion='velocity' needs a robot (robot=None has nothing to drive)")
        self._measured: dict[int, AgentState] = {}
        self._runtime = None
        self._client = None
        self._attach()

    # -- dependency check ------------------------------------------------------------------------
    @classmethod
    def require(cls) -> None:
        """Raise ``DependencyNotInstalled`` naming what to install when Isaac is missing."""
        from gymnasium.error import DependencyNotInstalled

        from navgym.sims.isaac import runtime as rt

        missing = rt.missing_modules()
        if missing:
            raise DependencyNotInstalled(
                f"sim='isaac' needs Isaac Sim and Isaac Lab; missing Python modules: {', '.join(missing)}. {rt.INSTALL_HINT} "
                "Use sim='embedded' (the default) to run on the CPU without them."
            )

    # -- setup ----------------------------------------------------------------------------------
    @staticmethod
    def _resolve_scene(scene: Scene | str, data_root, usd_cache) -> tuple[Path, Scene]:
        from navgym.sims.isaac.usd import ensure_usda, scene_from_usd

        if isinstance(scene, Scene):
            return ensure_usda(scene, usd_cache), scene
        if not isinstance(scene, str):
            raise TypeError(f"scene must be a navgym Scene, a scene id or a USD path, got {type(scene).__name__}")
        if scene.lower().endswith(USD_SUFFIXES):
            path = Path(scene)
            if not path.is_absolute():
                from navgym.core.paths import data_root as default_root
                from navgym.core.paths import resolve_scene_path

                path = resolve_scene_path(scene, data_root if data_root is not None else default_root())
            geometry = scene_from_usd(path, name=scene)
            return path, geometry
        from navgym.scenes.sources import load_scene_by_id

        loaded = load_scene_by_id(scene, data_root=data_root)
        return ensure_usda(loaded, usd_cache), loaded

    def _attach(self) -> None:
        """Put the scene and the robots on the process's Isaac stage."""
        from navgym.sims.isaac import runtime as rt

        self._runtime = rt.IsaacRuntime.get(self._runtime_options)
        self._client = self._runtime.register(self.usd_path, self._after_reset)
        for agent_id in self.agent_ids:
            self._spawn_robot(agent_id)

    def _ensure_attached(self) -> None:
        if self._runtime is None:
            self._attach()

    def _policy_for(self, spec: RobotSpec) -> Callable | None:
        from navgym.sims.isaac import runtime as rt

        option = self._policy_option
        if isinstance(option, dict):
            option = option.get(spec.name, option.get(spec.stands_in_for))
        if spec.drive != "legged":
            return None
        if option is None:
            if self.motion == "velocity":
                raise InvalidArgumentError(
                    f"motion='velocity' with the {spec.name} needs locomotion_policy=: a TorchScript policy.pt that Isaac Lab's "
                    f"play.py exports for {spec.policy_task} (docs/isaac.md), or a callable obs -> action"
                )
            return None
        return rt.load_policy(option, self._runtime_options.device)

    def _spawn_robot(self, agent_id: int) -> None:
        spec = self._robot_specs.get(agent_id)
        if spec is None:
            return
        pose = frames.robot_root_pose(self.get_agent_state(agent_id), spec.root_height, self._client.scene.origin, self._runtime.quat_order)
        self._runtime.add_robot(self._client, agent_id, spec, pose, policy=self._policy_for(spec))

    def _after_reset(self) -> None:
        """After Isaac resets the simulation: put every robot back at its agent's pose."""
        for agent_id in self.agent_ids:
            self._push_pose(agent_id)

    def _push_pose(self, agent_id: int) -> None:
        robot = self._client.robots.get(agent_id) if self._client is not None else None
        if robot is None:
            return
        pose = frames.robot_root_pose(self.get_agent_state(agent_id), robot.spec.root_height, self._client.scene.origin, self._runtime.quat_order)
        self._runtime.write_root_pose(robot, pose)

    def robot(self, agent_id: int = 0) -> RobotSpec | None:
        """The robot that plays an agent (``None``: a pose only)."""
        self.body(agent_id)
        return self._robot_specs.get(agent_id)

    # -- scene ----------------------------------------------------------------------------------
    @property
    def scene_id(self) -> str:
        return self._geo.scene_id

    @property
    def scene(self) -> Scene:
        """The navgym scene behind the stage (what geometry queries use)."""
        return self._geo.scene

    def object_instances(self) -> list[ObjectInstance]:
        return self._geo.object_instances()

    def scene_graph(self) -> SceneGraph:
        return self._geo.scene_graph()

    # -- agents ---------------------------------------------------------------------------------
    @property
    def agent_ids(self) -> tuple[int, ...]:
        return self._geo.agent_ids

    def add_agent(self, body: BodySpec, state: AgentState | None = None) -> int:
        agent_id = self._geo.add_agent(body, state)
        self._robot_specs[agent_id] = None if self._robot_option is None else robot_for_body(body)
        if self._runtime is not None:
            self._spawn_robot(agent_id)
        return agent_id

    def body(self, agent_id: int = 0) -> BodySpec:
        return self._geo.body(agent_id)

    def get_agent_state(self, agent_id: int = 0) -> AgentState:
        self.body(agent_id)
        if agent_id in self._measured:
            return self._measured[agent_id].copy()
        return self._geo.get_agent_state(agent_id)

    def set_agent_state(self, state: AgentState, snap: bool = False, agent_id: int = 0) -> AgentState:
        placed = self._geo.set_agent_state(state, snap=snap, agent_id=agent_id)
        self._measured.pop(agent_id, None)
        self._ensure_attached()
        self._push_pose(agent_id)
        return placed

    def _uses_physics(self, agent_id: int) -> bool:
        return self.motion == "velocity" and self._robot_specs.get(agent_id) is not None

    def move_agent(self, displacement: Sequence[float], agent_id: int = 0) -> bool:
        self._ensure_attached()
        if not self._uses_physics(agent_id):
            collided = self._geo.move_agent(displacement, agent_id)
            self._push_pose(agent_id)
            return collided
        delta = np.asarray(displacement, dtype=np.float64).reshape(3)
        if not np.isfinite(delta).all():
            raise InvalidArgumentError(f"displacement={delta.tolist()} must be finite")
        before = self.get_agent_state(agent_id)
        forward, left = frames.body_frame_displacement(delta, before.yaw)
        spec = self._robot_specs[agent_id]
        command, duration = translation_command(spec, forward, left, self.control_dt)
        if spec.drive == "differential":
            command = body_velocity_within_wheel_limit(spec, command)
        self._runtime.drive(self._client.robots[agent_id], command, duration, self.settle_time)
        after = self._read_state(agent_id, before.tilt)
        asked = float(np.hypot(delta[0], delta[2]))
        if asked == 0.0:
            return False
        moved = np.array([after.position[0] - before.position[0], after.position[2] - before.position[2]])
        achieved = float(moved @ np.array([delta[0], delta[2]])) / asked
        return achieved < (1.0 - self.collision_tolerance) * asked

    def turn_agent(self, yaw: float, tilt: float = 0.0, agent_id: int = 0) -> None:
        self._ensure_attached()
        if not self._uses_physics(agent_id):
            self._geo.turn_agent(yaw, tilt, agent_id)
            self._push_pose(agent_id)
            return
        if not (np.isfinite(yaw) and np.isfinite(tilt)):
            raise InvalidArgumentError(f"turn_agent(yaw={yaw!r}, tilt={tilt!r}) needs finite angles")
        state = self.get_agent_state(agent_id)
        new_tilt = float(min(max(state.tilt + tilt, -90.0), 90.0))
        if not yaw:
            state.tilt = new_tilt
            self._measured[agent_id] = state
            return
        spec = self._robot_specs[agent_id]
        command, duration = rotation_command(spec, float(yaw), self.control_dt)
        if spec.drive == "differential":
            command = body_velocity_within_wheel_limit(spec, command)
        self._runtime.drive(self._client.robots[agent_id], command, duration, self.settle_time)
        self._read_state(agent_id, new_tilt)

    def drive_agent(self, command: Sequence[float], duration: float, agent_id: int = 0) -> AgentState:
        """Hold a body-frame velocity command (vx m/s forward, vy m/s left, wz rad/s left) for
        ``duration`` seconds on the agent's robot (``motion="velocity"``), and return the state
        it ends in. The command is clipped to the robot's range (and the Jetbot's wheel-speed
        bound); unlike ``move_agent`` + ``turn_agent`` it turns and translates at once."""
        self._ensure_attached()
        if not self._uses_physics(agent_id):
            raise InvalidArgumentError("drive_agent needs motion='velocity' and a robot for the agent")
        if not (np.isfinite(duration) and 0.0 < float(duration) <= 60.0):
            raise InvalidArgumentError(f"duration={duration!r} must be in (0, 60] seconds")
        spec = self._robot_specs[agent_id]
        clipped = clip_command(spec, command)
        if spec.drive == "differential":
            clipped = body_velocity_within_wheel_limit(spec, clipped)
        tilt = self.get_agent_state(agent_id).tilt
        self._runtime.drive(self._client.robots[agent_id], clipped, float(duration), self.settle_time)
        return self._read_state(agent_id, tilt)

    def _read_state(self, agent_id: int, tilt: float) -> AgentState:
        """The agent's state from its robot's root (velocity mode), on the grid's floor."""
        position, quat = self._runtime.read_root_pose(self._client.robots[agent_id])
        state = frames.state_from_robot_root(position, quat, self._client.scene.origin, self._runtime.quat_order, tilt=tilt)
        grid = self._geo.grid(state.position[1], agent_id)
        state.position[1] = grid.floor_at(state.position)
        self._measured[agent_id] = state
        return state.copy()

    # -- cameras --------------------------------------------------------------------------------
    def render(self, requests: Sequence[tuple[AgentState, CameraSpec]]) -> list[dict[str, np.ndarray]]:
        from navgym.sims.isaac import runtime as rt

        self._ensure_attached()
        order = self._runtime.quat_order
        cameras = []
        for state, spec in requests:
            position, quat = frames.camera_pose(state, spec, self._client.scene.origin, order)
            cameras.append((spec, position, quat, frames.intrinsic_matrix(spec)))
        raw = self._runtime.render(self._client, cameras, show_robots=self.show_robots)
        frames_out = []
        for (state, spec), out in zip(requests, raw):
            frame: dict[str, np.ndarray] = {}
            if "rgb" in spec.outputs:
                frame["rgb"] = np.ascontiguousarray(np.asarray(out["rgb"])[..., :3], dtype=np.uint8)
            if "depth" in spec.outputs:
                frame["depth"] = rt.depth_to_navgym(out["depth"], spec.min_depth, spec.max_depth)
            if "semantic" in spec.outputs:
                frame["semantic"] = rt.instance_lut_map(out["semantic"], out.get("id_to_labels"), self._client.scene.root)
            frames_out.append(frame)
        return frames_out

    # -- lifecycle ------------------------------------------------------------------------------
    def __getstate__(self):
        """Pickles without Isaac objects; an unpickled copy puts its own scene and robots on the
        stage of the process it lands in (Isaac launched there on first use)."""
        state = self.__dict__.copy()
        state["_runtime"] = None
        state["_client"] = None
        return state

    def close(self) -> None:
        if self._runtime is not None and self._client is not None:
            self._runtime.unregister(self._client)
        self._runtime = None
        self._client = None
        self._geo.close()
