"""Unitree Aliengo: a quadruped with a rectangular footprint and omnidirectional commands.

Sourced facts:

* Footprint: Unitree's URDF (``unitree_ros``, ``robots/aliengo_description/xacro/const.xacro``):
  trunk length 0.647 m; the hip joints sit +-0.051 m off the centre line and the thighs a further
  0.0868 m out (``thigh_offset``), 0.037 m wide: about **0.65 m x 0.31 m** with the legs.
* Velocity commands (vx, vy, yaw rate), each in [-1, 1] (m/s, m/s, rad/s): Isaac Lab's default
  ranges for its quadrupeds (``LocomotionVelocityRoughEnvCfg``: ``lin_vel_x``, ``lin_vel_y``,
  ``ang_vel_z`` = (-1.0, 1.0)). Isaac Lab has no Aliengo config; applying its quadruped ranges to
  Aliengo is navgym's choice.

navgym's modelling choices (no source):

* Commands ``[vx, vy (left positive), yaw_rate, stop]``.
* Body: the footprint rectangle 0.647 m x 0.31 m, checked after every substep (collisions by the
  ends and corners, no turning in place where it does not fit); the simulator's cylinder has
  radius 0.155 m (half the width: what must clear a gap walking forward), 0.6 m tall (it walks
  under tables), climbing 0.12 m.
* Camera: 0.5 m above the floor, pitched 10° down, a D435-like 87° field rendered 128 x 72
  (the Aliengo has no camera in its URDF).
* Locomotion: velocity lag 0.15 s, 2.0 m/s², 4.0 rad/s², 8% command noise; trot at 2.5 steps/s
  bobbing the camera 1 cm, pitching it 1° and rolling it 1°.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from navgym.core.checks import check_range
from navgym.core.specs import BodySpec, CameraSpec
from navgym.embodiments.locomotion import VelocityBody

#: Aliengo's footprint (length, width) in metres, from Unitree's URDF.
ALIENGO_FOOTPRINT = (0.647, 0.31)


@dataclass(frozen=True)
class AliengoAgent(VelocityBody):
    """Unitree Aliengo quadruped: ``[vx, vy, yaw_rate, stop]`` commands with a rectangular
    footprint; see the module docstring for the sources and the modelling.

    Attributes:
        max_forward_velocity: Bound of vx, m/s (Isaac Lab's quadruped default: 1.0).
        max_lateral_velocity: Bound of vy, m/s (1.0).
        max_yaw_rate: Bound of the yaw rate, rad/s (1.0).
    """

    name: ClassVar[str] = "aliengo"
    command_names: ClassVar[tuple[str, ...]] = ("vx", "vy", "yaw_rate", "stop")
    legged: ClassVar[bool] = True

    body: BodySpec = field(default_factory=lambda: BodySpec(radius=ALIENGO_FOOTPRINT[1] / 2, height=0.6, max_climb=0.12))
    camera: CameraSpec = field(default_factory=lambda: CameraSpec(width=128, height=72, hfov=87.0, camera_height=0.5, pitch=-10.0))
    velocity_time_constant: float = 0.15
    max_linear_acceleration: float = 2.0
    max_angular_acceleration: float = 4.0
    command_noise: float = 0.08
    gait_frequency: float = 2.5
    gait_height: float = 0.01
    gait_pitch: float = 1.0
    gait_roll: float = 1.0
    footprint: tuple[float, float] | None = ALIENGO_FOOTPRINT
    max_forward_velocity: float = 1.0
    max_lateral_velocity: float = 1.0
    max_yaw_rate: float = 1.0

    def __post_init__(self) -> None:
        check_range("max_forward_velocity", self.max_forward_velocity, 0.0, 5.0, low_open=True)
        check_range("max_lateral_velocity", self.max_lateral_velocity, 0.0, 5.0, low_open=True)
        check_range("max_yaw_rate", self.max_yaw_rate, 0.0, 10.0, low_open=True)
        super().__post_init__()

    @property
    def command_high(self) -> np.ndarray:
        return np.array([self.max_forward_velocity, self.max_lateral_velocity, self.max_yaw_rate])

    @property
    def command_low(self) -> np.ndarray:
        return -self.command_high

    def body_velocity(self, command: np.ndarray) -> np.ndarray:
        return np.array([command[0], command[1], command[2]])
