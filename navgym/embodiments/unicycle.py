"""A continuous-control embodiment: linear and angular velocity commands held for ``dt`` seconds.

The motion is a unicycle step (heading at mid-turn), translated with the simulator's sliding; a
third action component at or above 0.5 calls ``stop``. Commands outside the action space's bounds
are clipped to them; non-finite commands are an error. A locomotion model (lag, bounded
acceleration, gait) belongs in a subclass: the cross-embodiment issue adds Jetbot, H1, Aliengo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.checks import check_range
from navgym.core.geometry import heading_vector
from navgym.embodiments.base import ActionResult, Embodiment
from navgym.errors import InvalidArgumentError
from navgym.sims.base import Simulator


@dataclass(frozen=True)
class UnicycleAgent(Embodiment):
    """Velocity commands ``[linear m/s, angular rad/s (positive = left), stop]`` held for ``dt``.

    Attributes:
        max_linear_velocity: Bound of the linear command, m/s (backwards allowed).
        max_angular_velocity: Bound of the angular command, rad/s.
        dt: Seconds one action lasts.
    """

    name: ClassVar[str] = "unicycle"

    max_linear_velocity: float = 0.5
    max_angular_velocity: float = 1.0
    dt: float = 0.5

    def __post_init__(self) -> None:
        check_range("max_linear_velocity", self.max_linear_velocity, 0.0, 10.0, low_open=True)
        check_range("max_angular_velocity", self.max_angular_velocity, 0.0, 20.0, low_open=True)
        check_range("dt", self.dt, 0.0, 10.0, low_open=True)

    @property
    def action_space(self) -> spaces.Box:
        high = np.array([self.max_linear_velocity, self.max_angular_velocity, 1.0], dtype=np.float32)
        low = np.array([-self.max_linear_velocity, -self.max_angular_velocity, 0.0], dtype=np.float32)
        return spaces.Box(low, high, dtype=np.float32)

    def parse_command(self, action: Any) -> np.ndarray:
        """``action`` as a float array [linear, angular, stop], or a clear error."""
        try:
            command = np.asarray(action, dtype=np.float64).reshape(3)
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"action={action!r} is not a [linear, angular, stop] command of the {self.name!r} embodiment (3 numbers)"
            ) from None
        if not np.isfinite(command).all():
            raise InvalidArgumentError(f"action={command.tolist()} must be finite")
        return command

    def check_action(self, action: Any) -> None:
        self.parse_command(action)

    def apply(self, sim: Simulator, action: Any, agent_id: int = 0) -> ActionResult:
        command = self.parse_command(action)
        space = self.action_space
        linear, angular, stop = np.clip(command, space.low, space.high)
        if stop >= 0.5:
            return ActionResult(stopped=True)
        mid_yaw = sim.get_agent_state(agent_id).yaw + 0.5 * angular * self.dt
        collided = sim.move_agent(heading_vector(mid_yaw) * linear * self.dt, agent_id)
        sim.turn_agent(float(angular * self.dt), agent_id=agent_id)
        return ActionResult(collided=collided)
