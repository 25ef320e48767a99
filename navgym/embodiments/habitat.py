"""Habitat's discrete agent: the default embodiment of ImageNav, InstanceImageNav, ObjectNav and
TextNav (0.25 m steps, 30° turns; ObjectNav adds 30° look up/down)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.checks import check_range
from navgym.core.geometry import heading_vector
from navgym.embodiments.base import ActionResult, Embodiment
from navgym.errors import InvalidArgumentError
from navgym.sims.base import Simulator

#: Habitat's discrete action order; ``tilt_actions`` adds look_up / look_down.
BASE_ACTIONS = ("stop", "move_forward", "turn_left", "turn_right")
TILT_ACTIONS = ("look_up", "look_down")


@dataclass(frozen=True)
class HabitatDiscreteAgent(Embodiment):
    """Habitat's discrete agent: ``stop``, ``move_forward``, ``turn_left``, ``turn_right``
    (+ ``look_up``, ``look_down``); moves slide along walls as in Habitat.

    Attributes:
        forward_step: ``move_forward`` distance, metres.
        turn_angle: ``turn_left``/``turn_right`` angle, degrees.
        tilt_angle: ``look_up``/``look_down`` angle, degrees.
        tilt_actions: Whether the action space has look_up / look_down.
    """

    name: ClassVar[str] = "habitat"

    forward_step: float = 0.25
    turn_angle: float = 30.0
    tilt_angle: float = 30.0
    tilt_actions: bool = False

    def __post_init__(self) -> None:
        check_range("forward_step", self.forward_step, 0.0, 5.0, low_open=True)
        check_range("turn_angle", self.turn_angle, 0.0, 180.0, low_open=True)
        check_range("tilt_angle", self.tilt_angle, 0.0, 90.0, low_open=True)

    @property
    def action_names(self) -> tuple[str, ...]:
        return BASE_ACTIONS + (TILT_ACTIONS if self.tilt_actions else ())

    @property
    def action_space(self) -> spaces.Discrete:
        return spaces.Discrete(len(self.action_names))

    def action_name(self, action: Any) -> str:
        """The name of an action given as an index (int, numpy scalar, 0-d array) or a name."""
        names = self.action_names
        if isinstance(action, str):
            if action in names:
                return action
        else:
            try:
                array = np.asarray(action)
                # True / np.True_ are no action index (int(True) would be 1, move_forward)
                index = -1 if array.dtype == bool else int(array.item())
            except (TypeError, ValueError):  # ragged, several numbers, not a number
                index = -1
            if 0 <= index < len(names) and float(array.item()) == index:
                return names[index]
        valid = ", ".join(f"{i} {name}" for i, name in enumerate(names))
        raise InvalidArgumentError(f"action={action!r} is not a valid action; valid actions are {valid}")

    def check_action(self, action: Any) -> None:
        self.action_name(action)

    def apply(self, sim: Simulator, action: Any, agent_id: int = 0) -> ActionResult:
        name = self.action_name(action)
        if name == "stop":
            return ActionResult(stopped=True)
        if name == "move_forward":
            yaw = sim.get_agent_state(agent_id).yaw
            return ActionResult(collided=sim.move_agent(heading_vector(yaw) * self.forward_step, agent_id))
        if name in ("turn_left", "turn_right"):
            sim.turn_agent(math.radians(self.turn_angle) * (1.0 if name == "turn_left" else -1.0), agent_id=agent_id)
        else:  # look_up / look_down
            sim.turn_agent(0.0, self.tilt_angle * (1.0 if name == "look_up" else -1.0), agent_id=agent_id)
        return ActionResult()
