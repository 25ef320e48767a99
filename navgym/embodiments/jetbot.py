"""NVIDIA JetBot: a small differential-drive robot with a low, wide-angle camera.

Sourced facts:

* Wheel radius 0.03 m and wheel base (distance between the wheels) 0.1125 m: Isaac Sim's Jetbot
  example (the "Adding a Controller" tutorial drives ``jetbot.usd`` with
  ``DifferentialController(wheel_radius=0.03, wheel_base=0.1125)``), and its differential-drive
  relation: wheel speeds ``w_left = (2v - omega * base) / (2r)``,
  ``w_right = (2v + omega * base) / (2r)``.
* Camera: a Sony IMX219 sensor (3280 x 2464, 4:3) behind a wide lens; JetBot kits ship 160° and
  145° (diagonal field of view) variants.

navgym's modelling choices (no source):

* Commands are body velocities ``[v m/s, yaw_rate rad/s (left positive), stop]``, the same
  layout as ``unicycle`` and ``h1``, so one planner can drive all of them. Wheel speeds are
  limited to ``max_wheel_speed`` (10 rad/s): the command box is |v| <= r * w_max = 0.3 m/s and
  |yaw_rate| <= 2 r w_max / base = 5.33 rad/s, and a command that needs a wheel faster than
  ``max_wheel_speed`` (full v *and* full turn) is scaled down as a whole, both wheels by the same
  factor, so its curvature is kept.
* Body: a cylinder of radius 0.1 m (the 0.1125 m track plus the tyres), 0.2 m tall (it passes
  under tables and beds with that clearance), climbing 2 cm.
* Camera: 0.10 m above the floor, level. The renderer is a pinhole camera, so the fisheye is
  approximated by a pinhole with the horizontal field of view that an equidistant fisheye with
  the lens's diagonal field of view has on the 4:3 sensor (0.8 x diagonal): 128° for the 160°
  lens (the default), 116° for the 145° lens (:meth:`JetbotAgent.with_lens`); 128 x 96 pixels.
  The image edges are more stretched than a real fisheye's.
* Locomotion: velocity lag 0.1 s, 1.5 m/s², 10 rad/s², 5% command noise, no gait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from navgym.core.checks import check_range
from navgym.core.registry import did_you_mean
from navgym.core.specs import BodySpec, CameraSpec
from navgym.embodiments.locomotion import VelocityBody
from navgym.errors import UnknownNameError

#: Pinhole horizontal field of view (degrees) standing for each IMX219 lens: 0.8 x its diagonal
#: field of view (an equidistant fisheye on the 4:3 sensor).
JETBOT_LENSES = {"imx219-160": 128.0, "imx219-145": 116.0}


def _jetbot_camera() -> CameraSpec:
    return CameraSpec(width=128, height=96, hfov=JETBOT_LENSES["imx219-160"], camera_height=0.10, pitch=0.0)


@dataclass(frozen=True)
class JetbotAgent(VelocityBody):
    """NVIDIA JetBot (differential drive): ``[v, yaw_rate, stop]`` commands; see the module
    docstring for the sources and the modelling.

    Attributes:
        wheel_radius: Metres (Isaac Sim's Jetbot: 0.03).
        wheel_base: Distance between the wheels, metres (Isaac Sim's Jetbot: 0.1125).
        max_wheel_speed: Wheel angular speed limit, rad/s (navgym's choice: 10).
    """

    name: ClassVar[str] = "jetbot"
    command_names: ClassVar[tuple[str, ...]] = ("v", "yaw_rate", "stop")
    legged: ClassVar[bool] = False

    body: BodySpec = field(default_factory=lambda: BodySpec(radius=0.1, height=0.2, max_climb=0.02))
    camera: CameraSpec = field(default_factory=_jetbot_camera)
    velocity_time_constant: float = 0.1
    max_linear_acceleration: float = 1.5
    max_angular_acceleration: float = 10.0
    command_noise: float = 0.05
    wheel_radius: float = 0.03
    wheel_base: float = 0.1125
    max_wheel_speed: float = 10.0

    def __post_init__(self) -> None:
        check_range("wheel_radius", self.wheel_radius, 0.0, 1.0, low_open=True)
        check_range("wheel_base", self.wheel_base, 0.0, 2.0, low_open=True)
        check_range("max_wheel_speed", self.max_wheel_speed, 0.0, 1000.0, low_open=True)
        super().__post_init__()

    @classmethod
    def with_lens(cls, lens: str, **changes: Any) -> "JetbotAgent":
        """A Jetbot whose camera has one of :data:`JETBOT_LENSES` (``"imx219-160"``, ``"imx219-145"``)."""
        if lens not in JETBOT_LENSES:
            raise UnknownNameError(f"lens={lens!r} is not a Jetbot lens.{did_you_mean(str(lens), list(JETBOT_LENSES))} Lenses: {list(JETBOT_LENSES)}")
        agent = cls(**changes)
        return agent.with_(camera=agent.camera.with_(hfov=JETBOT_LENSES[lens]))

    @property
    def command_high(self) -> np.ndarray:
        linear = self.wheel_radius * self.max_wheel_speed
        return np.array([linear, 2.0 * linear / self.wheel_base])

    @property
    def command_low(self) -> np.ndarray:
        return -self.command_high

    def wheel_speeds(self, v: float, yaw_rate: float) -> tuple[float, float]:
        """(left, right) wheel angular speeds, rad/s, for body velocities (Isaac Sim's relation)."""
        left = (2.0 * v - yaw_rate * self.wheel_base) / (2.0 * self.wheel_radius)
        right = (2.0 * v + yaw_rate * self.wheel_base) / (2.0 * self.wheel_radius)
        return left, right

    def body_velocity(self, command: np.ndarray) -> np.ndarray:
        v, yaw_rate = float(command[0]), float(command[1])
        fastest = max(abs(w) for w in self.wheel_speeds(v, yaw_rate))
        if fastest > self.max_wheel_speed:
            scale = self.max_wheel_speed / fastest
            v, yaw_rate = v * scale, yaw_rate * scale
        return np.array([v, 0.0, yaw_rate])
