"""The robots the Isaac backend puts on the stage, and how navgym motion becomes their commands.

Pure Python + numpy: nothing here imports Isaac. :mod:`navgym.sims.isaac.runtime` turns a
:class:`RobotSpec` into an Isaac Lab ``Articulation``.

| robot | stands in for | Isaac asset | drive | commands (vx, vy, wz) |
|---|---|---|---|---|
| ``jetbot`` | navgym's ``jetbot`` | ``{ISAAC_NUCLEUS_DIR}/Robots/NVIDIA/Jetbot/jetbot.usd`` (Isaac Sim's Jetbot) | two wheels through Isaac Sim's ``DifferentialController(wheel_radius=0.03, wheel_base=0.1125)`` | v +-0.3 m/s, 0, +-5.33 rad/s |
| ``h1`` | navgym's ``h1`` | ``isaaclab_assets.robots.unitree.H1_CFG`` | a velocity-tracking policy (Isaac Lab's ``Isaac-Velocity-Flat-H1-v0``) | 0..1 m/s, 0, +-1 rad/s |
| ``go2`` | navgym's ``aliengo`` | ``isaaclab_assets.robots.unitree.UNITREE_GO2_CFG`` | a velocity-tracking policy (``Isaac-Velocity-Flat-Unitree-Go2-v0``) | +-1, +-1, +-1 |

**Why the Go2 for the Aliengo.** Isaac Lab ships no Aliengo configuration; its Unitree
quadrupeds are the A1, Go1 and Go2. navgym's Aliengo body is the URDF trunk, 0.647 m x 0.31 m
(docs/embodiments.md). The Go2 is 0.70 x 0.31 m (Unitree's dimensions): the same width, which is
what decides which gaps a body passes, and 5 cm longer; the A1 (0.50 x 0.30 m) is much shorter and
the Go1 (0.645 x 0.28 m) narrower. The Go2 is also the one with the most maintained Isaac Lab
velocity tasks (flat and rough) and pretrained policies. The camera is not the robot's: every
render uses the embodiment's :class:`~navgym.core.specs.CameraSpec` (0.5 m for the Aliengo), so
the Go2's 0.1 m lower trunk changes the picture only when robots are shown in renders. A user with
an Aliengo USD (Isaac Lab's URDF importer makes one from Unitree's ``aliengo_description``) passes
``RobotSpec(..., asset="usd:/path/aliengo.usd")``.

Command ranges are the ones navgym's embodiments use (docs/embodiments.md), which for the H1 and
the quadruped are Isaac Lab's velocity-task ranges. Root heights are the Isaac Lab configs'
``init_state.pos[2]`` (H1 1.05 m, Go2 0.4 m); the Jetbot USD's origin is at its wheels' contact
plane (0.0, unverified).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np

from navgym.core.registry import did_you_mean
from navgym.core.specs import BodySpec
from navgym.errors import InvalidArgumentError, UnknownNameError

Drive = Literal["differential", "legged"]


@dataclass(frozen=True)
class RobotSpec:
    """A robot model on the Isaac stage.

    Attributes:
        name: Short name (``"jetbot"``, ``"h1"``, ``"go2"``).
        asset: Where its Isaac Lab ``ArticulationCfg`` comes from: ``"module:ATTRIBUTE"`` (an
            existing config, e.g. ``"isaaclab_assets.robots.unitree:H1_CFG"``) or ``"usd:PATH"``
            (a USD file; ``{ISAAC_NUCLEUS_DIR}`` / ``{ISAACLAB_NUCLEUS_DIR}`` are filled in from
            ``isaaclab.utils.assets``), spawned with implicit actuators on every joint.
        drive: ``"differential"`` (wheel velocities) or ``"legged"`` (a locomotion policy).
        root_height: Height of the articulation root above the floor when standing, metres.
        command_low, command_high: Bounds of the body-frame command (vx m/s, vy m/s, wz rad/s).
        stands_in_for: The navgym embodiment whose body it is used for.
        wheel_radius, wheel_base: Differential drive geometry, metres.
        wheel_joints: Names of the (left, right) wheel joints.
        max_wheel_speed: Wheel speed bound, rad/s (a command needing more is scaled down whole,
            as :class:`navgym.embodiments.JetbotAgent` does).
        policy_task: The Isaac Lab task whose exported policy drives a legged robot.
        action_scale: That task's joint-position action scale (``JointPositionActionCfg.scale``).
    """

    name: str
    asset: str
    drive: Drive
    root_height: float
    command_low: tuple[float, float, float]
    command_high: tuple[float, float, float]
    stands_in_for: str = ""
    wheel_radius: float = 0.0
    wheel_base: float = 0.0
    wheel_joints: tuple[str, str] = ("left_wheel_joint", "right_wheel_joint")
    max_wheel_speed: float = math.inf
    policy_task: str = ""
    action_scale: float = 0.5
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.drive not in ("differential", "legged"):
            raise InvalidArgumentError(f"RobotSpec.drive={self.drive!r} must be 'differential' or 'legged'")
        if not (self.asset.startswith("usd:") or ":" in self.asset):
            raise InvalidArgumentError(f"RobotSpec.asset={self.asset!r} must be 'module:ATTRIBUTE' or 'usd:PATH'")
        low, high = np.asarray(self.command_low, float), np.asarray(self.command_high, float)
        if low.shape != (3,) or high.shape != (3,) or np.any(low > high):
            raise InvalidArgumentError(f"RobotSpec {self.name!r}: command_low/command_high must bound (vx, vy, wz), low <= high")
        if self.drive == "differential" and (self.wheel_radius <= 0 or self.wheel_base <= 0):
            raise InvalidArgumentError(f"RobotSpec {self.name!r}: a differential drive needs wheel_radius > 0 and wheel_base > 0")


#: Isaac Sim's Jetbot: DifferentialController(wheel_radius=0.03, wheel_base=0.1125) (Isaac Sim's
#: "Adding a Controller" tutorial); wheel speeds up to 10 rad/s as navgym's JetbotAgent.
JETBOT = RobotSpec(
    name="jetbot",
    asset="usd:{ISAAC_NUCLEUS_DIR}/Robots/NVIDIA/Jetbot/jetbot.usd",
    drive="differential",
    root_height=0.0,
    command_low=(-0.3, 0.0, -5.333),
    command_high=(0.3, 0.0, 5.333),
    stands_in_for="jetbot",
    wheel_radius=0.03,
    wheel_base=0.1125,
    max_wheel_speed=10.0,
)
#: Isaac Lab's H1 (H1_CFG, root 1.05 m); commands of Isaac-Velocity-Flat/Rough-H1-v0.
H1 = RobotSpec(
    name="h1",
    asset="isaaclab_assets.robots.unitree:H1_CFG",
    drive="legged",
    root_height=1.05,
    command_low=(0.0, 0.0, -1.0),
    command_high=(1.0, 0.0, 1.0),
    stands_in_for="h1",
    policy_task="Isaac-Velocity-Flat-H1-v0",
    action_scale=0.5,
)
#: Isaac Lab's Go2 (UNITREE_GO2_CFG, root 0.4 m), standing in for the Aliengo; commands of
#: Isaac Lab's velocity tasks (+-1 each); the Go2 tasks scale actions by 0.25.
GO2 = RobotSpec(
    name="go2",
    asset="isaaclab_assets.robots.unitree:UNITREE_GO2_CFG",
    drive="legged",
    root_height=0.4,
    command_low=(-1.0, -1.0, -1.0),
    command_high=(1.0, 1.0, 1.0),
    stands_in_for="aliengo",
    policy_task="Isaac-Velocity-Flat-Unitree-Go2-v0",
    action_scale=0.25,
)

#: Robots by name.
ROBOTS: dict[str, RobotSpec] = {r.name: r for r in (JETBOT, H1, GO2)}

#: navgym's registered bodies (docs/embodiments.md) -> the robot that plays them.
_BODY_ROBOTS: dict[BodySpec, str] = {
    BodySpec(radius=0.1, height=0.2, max_climb=0.02): "jetbot",
    BodySpec(radius=0.25, height=1.8, max_climb=0.15): "h1",
    BodySpec(radius=0.155, height=0.6, max_climb=0.12): "go2",
}
#: Aliases accepted for ``robot=``.
_ALIASES = {"aliengo": "go2", "quadruped": "go2", "humanoid": "h1"}


def robot_for_body(body: BodySpec) -> RobotSpec:
    """The robot ``robot="auto"`` puts on the stage for ``body``: the one of a navgym embodiment
    with exactly that body, otherwise by height (below 0.4 m the Jetbot, 1.2 m and above the H1,
    between them the Go2)."""
    name = _BODY_ROBOTS.get(body)
    if name is None:
        name = "jetbot" if body.height < 0.4 else "h1" if body.height >= 1.2 else "go2"
    return ROBOTS[name]


def resolve_robot(robot: str | RobotSpec | None, body: BodySpec) -> RobotSpec | None:
    """``robot=`` of the backend: ``"auto"`` (by body), a name or alias, a :class:`RobotSpec`, or
    ``None`` / ``"none"`` (no robot on the stage: agents are poses only)."""
    if robot is None or (isinstance(robot, str) and robot.lower() == "none"):
        return None
    if isinstance(robot, RobotSpec):
        return robot
    if not isinstance(robot, str):
        raise InvalidArgumentError(f"robot={robot!r} must be 'auto', a robot name {sorted(ROBOTS)}, a RobotSpec or None")
    key = robot.lower()
    if key == "auto":
        return robot_for_body(body)
    key = _ALIASES.get(key, key)
    if key not in ROBOTS:
        names = sorted(ROBOTS) + sorted(_ALIASES) + ["auto", "none"]
        raise UnknownNameError(f"Unknown Isaac robot {robot!r}.{did_you_mean(robot, names)} Known: {names}")
    return ROBOTS[key]


# -- command mapping -----------------------------------------------------------------------------
def clip_command(robot: RobotSpec, command: Sequence[float]) -> np.ndarray:
    """(vx, vy, wz) clipped to the robot's command range."""
    c = np.asarray(command, dtype=np.float64).reshape(3)
    if not np.isfinite(c).all():
        raise InvalidArgumentError(f"velocity command {c.tolist()} must be finite (vx, vy, wz)")
    return np.clip(c, robot.command_low, robot.command_high)


def translation_command(robot: RobotSpec, forward: float, left: float, control_dt: float) -> tuple[np.ndarray, float]:
    """The command and its duration that translate a body by (forward, left) metres.

    The duration is ``control_dt`` or longer when the speed would exceed the robot's range (the
    motion is slowed, not cut); a component the robot cannot do at all (``left`` for the Jetbot
    and the H1, ``forward < 0`` for the H1) is dropped, and the achieved motion is then shorter
    than asked, which the backend reports as a collision.
    """
    low, high = np.asarray(robot.command_low), np.asarray(robot.command_high)
    want = np.array([forward, left])
    limit = np.where(want >= 0.0, high[:2], -low[:2])
    possible = limit > 1e-9
    duration = float(control_dt)
    for w, lim, ok in zip(want, limit, possible):
        if ok and abs(w) > 0.0:
            duration = max(duration, abs(w) / lim)
    command = np.zeros(3)
    command[:2] = np.where(possible, want / duration, 0.0)
    return clip_command(robot, command), duration


def rotation_command(robot: RobotSpec, yaw: float, control_dt: float) -> tuple[np.ndarray, float]:
    """The command (yaw rate only) and duration that turn a body by ``yaw`` radians in place."""
    limit = robot.command_high[2] if yaw >= 0.0 else -robot.command_low[2]
    if limit <= 1e-9:
        return np.zeros(3), float(control_dt)
    duration = max(float(control_dt), abs(yaw) / limit)
    return clip_command(robot, (0.0, 0.0, yaw / duration)), duration


def wheel_speeds(robot: RobotSpec, v: float, wz: float) -> np.ndarray:
    """(left, right) wheel angular velocities of a differential drive for body velocity (v, wz):
    ``w_left = (2v - wz b) / 2r``, ``w_right = (2v + wz b) / 2r`` (Isaac Sim's differential
    controller), scaled down together when one exceeds ``max_wheel_speed``. The backend asks
    Isaac Sim's ``DifferentialController`` for the real command; this is the reference its
    tests compare with, and the bound it applies first."""
    if robot.drive != "differential":
        raise InvalidArgumentError(f"robot {robot.name!r} has no wheels")
    left = (2.0 * v - wz * robot.wheel_base) / (2.0 * robot.wheel_radius)
    right = (2.0 * v + wz * robot.wheel_base) / (2.0 * robot.wheel_radius)
    speeds = np.array([left, right])
    peak = float(np.max(np.abs(speeds)))
    if peak > robot.max_wheel_speed:
        speeds *= robot.max_wheel_speed / peak
    return speeds


def body_velocity_within_wheel_limit(robot: RobotSpec, command: np.ndarray) -> np.ndarray:
    """(v, 0, wz) of a differential command after the wheel-speed bound (curvature kept)."""
    left, right = wheel_speeds(robot, float(command[0]), float(command[2]))
    v = robot.wheel_radius * (left + right) / 2.0
    wz = robot.wheel_radius * (right - left) / robot.wheel_base
    return np.array([v, 0.0, wz])


# -- legged policies -----------------------------------------------------------------------------
def locomotion_observation(
    lin_vel_b: Sequence[float],
    ang_vel_b: Sequence[float],
    projected_gravity_b: Sequence[float],
    command: Sequence[float],
    joint_pos_rel: Sequence[float],
    joint_vel_rel: Sequence[float],
    last_action: Sequence[float],
) -> np.ndarray:
    """The policy observation of Isaac Lab's flat velocity tasks, terms in their order
    (``velocity_env_cfg.PolicyCfg``: base_lin_vel, base_ang_vel, projected_gravity,
    velocity_commands, joint_pos_rel, joint_vel_rel, last_action), unscaled and without noise
    (the tasks' ``PLAY`` configs disable corruption)."""
    parts = [lin_vel_b, ang_vel_b, projected_gravity_b, command, joint_pos_rel, joint_vel_rel, last_action]
    return np.concatenate([np.asarray(p, dtype=np.float32).reshape(-1) for p in parts])


def joint_position_targets(default_joint_pos: Sequence[float], action: Sequence[float], scale: float) -> np.ndarray:
    """Joint position targets of a policy action: ``default + scale * action``
    (Isaac Lab's ``JointPositionActionCfg(use_default_offset=True)``)."""
    return np.asarray(default_joint_pos, dtype=np.float64) + scale * np.asarray(action, dtype=np.float64)
