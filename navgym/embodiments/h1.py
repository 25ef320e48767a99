"""Unitree H1: a full-size humanoid with a head depth camera pitched down.

Sourced facts:

* Pelvis 1.05 m above the ground when standing: Isaac Lab's ``H1_CFG``
  (``isaaclab_assets/robots/unitree.py``, ``init_state.pos = (0, 0, 1.05)``).
* Head camera: Unitree's URDF (``unitree_ros``, ``robots/h1_description/urdf/h1.urdf``) mounts a
  RealSense D435 (``d435_rgb_module_joint``) on ``torso_link`` (whose origin is the pelvis's) at
  x = 0.108 m, z = 0.693 m with rpy = (-2.45735, 0, -1.5708) for its optical frame: the optical
  axis points 2.45735 - pi/2 = 0.8866 rad = **50.8° below the horizontal**, and the camera sits
  1.05 + 0.693 = **1.74 m** above the ground. The D435's depth field of view is 87° x 58°
  (Intel's RealSense D400 datasheet).
* Velocity commands vx in [0, 1] m/s, no lateral command, yaw rate in [-1, 1] rad/s: Isaac Lab's
  ``H1RoughEnvCfg`` (``lin_vel_x = (0.0, 1.0)``, ``lin_vel_y = (0.0, 0.0)``,
  ``ang_vel_z = (-1.0, 1.0)``).
* Width: the URDF's collision geometry puts the legs at +-0.203 m (hip yaw 0.0875 m + hip pitch
  0.11536 m) with 0.05 m cylinders, and the shoulders at +-0.21 m: about 0.5 m across; the feet
  are 0.28 m long.

navgym's modelling choices (no source):

* Commands ``[vx, yaw_rate, stop]``; the camera sits above the body centre (the URDF's 0.108 m
  forward offset is dropped), rendered 128 x 72 (the D435's aspect) with an 87° horizontal field.
* Body: footprint 0.3 m (along the heading) x 0.5 m (across), a cylinder of radius 0.25 m (half
  the width: what must clear a gap walking forward) 1.8 m tall, climbing 0.15 m.
* Locomotion: velocity lag 0.3 s, 1.0 m/s², 2.0 rad/s², 10% command noise; gait 1.8 steps/s
  bobbing the head camera 2 cm, pitching it 1.5° and swaying (rolling) it 2°.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from navgym.core.checks import check_range
from navgym.core.specs import BodySpec, CameraSpec
from navgym.embodiments.locomotion import VelocityBody

#: Pelvis height (Isaac Lab's H1_CFG) plus the D435's height above it on torso_link (Unitree's URDF).
H1_CAMERA_HEIGHT = 1.05 + 0.69317107367
#: The URDF's optical-frame roll -2.45735 rad, less the -pi/2 of a level optical frame, in degrees.
H1_CAMERA_PITCH = math.degrees(-2.45735 + math.pi / 2)


def _h1_camera() -> CameraSpec:
    return CameraSpec(width=128, height=72, hfov=87.0, camera_height=round(H1_CAMERA_HEIGHT, 3), pitch=round(H1_CAMERA_PITCH, 2))


@dataclass(frozen=True)
class H1Agent(VelocityBody):
    """Unitree H1 humanoid: ``[vx, yaw_rate, stop]`` commands (Isaac Lab's H1 ranges); see the
    module docstring for the sources and the modelling.

    Attributes:
        max_forward_velocity: Upper bound of vx, m/s (Isaac Lab: 1.0; the lower bound is 0).
        max_yaw_rate: Bound of the yaw rate, rad/s (Isaac Lab: 1.0).
    """

    name: ClassVar[str] = "h1"
    command_names: ClassVar[tuple[str, ...]] = ("vx", "yaw_rate", "stop")
    legged: ClassVar[bool] = True

    body: BodySpec = field(default_factory=lambda: BodySpec(radius=0.25, height=1.8, max_climb=0.15))
    camera: CameraSpec = field(default_factory=_h1_camera)
    velocity_time_constant: float = 0.3
    max_linear_acceleration: float = 1.0
    max_angular_acceleration: float = 2.0
    command_noise: float = 0.1
    gait_frequency: float = 1.8
    gait_height: float = 0.02
    gait_pitch: float = 1.5
    gait_roll: float = 2.0
    footprint: tuple[float, float] | None = (0.3, 0.5)
    max_forward_velocity: float = 1.0
    max_yaw_rate: float = 1.0

    @property
    def command_low(self) -> np.ndarray:
        return np.array([0.0, -self.max_yaw_rate])

    @property
    def command_high(self) -> np.ndarray:
        return np.array([self.max_forward_velocity, self.max_yaw_rate])

    def __post_init__(self) -> None:
        check_range("max_forward_velocity", self.max_forward_velocity, 0.0, 5.0, low_open=True)
        check_range("max_yaw_rate", self.max_yaw_rate, 0.0, 10.0, low_open=True)
        super().__post_init__()
