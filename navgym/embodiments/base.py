"""The embodiment interface: a body, its sensor rig, its action space, its motion."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from navgym.core.specs import BodySpec, CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.sims.base import Simulator


@dataclass(frozen=True)
class ActionResult:
    """What one action did: whether the motion collided, and whether the agent called stop."""

    collided: bool = False
    stopped: bool = False


@dataclass(frozen=True)
class Embodiment(ABC):
    """A robot or agent body: what the simulator moves and what the policy controls.

    Subclasses are frozen dataclasses; :meth:`with_` makes validated variants, which is how
    ``gym.make`` keyword arguments (``resolution``, ``hfov``, ``forward_step`` ...) reach them.

    Attributes:
        body: The cylinder that navigability and collisions use.
        camera: The main camera (``rgb``, ``depth``, ``semantic`` observations come from it).
    """

    name: ClassVar[str] = "embodiment"

    body: BodySpec = field(default_factory=BodySpec)
    camera: CameraSpec = field(default_factory=CameraSpec)

    @property
    def cameras(self) -> dict[str, CameraSpec]:
        """The sensor rig: camera name -> spec, mounted on the body. The main camera is ``"main"``."""
        return {"main": self.camera}

    @property
    @abstractmethod
    def action_space(self) -> gym.Space:
        """The policy's action space."""

    @property
    def action_names(self) -> tuple[str, ...]:
        """Names of discrete actions in index order; empty for continuous action spaces."""
        return ()

    def reset(self, sim: Simulator, agent_id: int = 0, rng: np.random.Generator | None = None) -> None:
        """Forget motion state at the start of an episode (locomotion models keep some)."""

    def mounted_camera(self, camera: CameraSpec, agent_id: int = 0) -> CameraSpec:
        """``camera`` as mounted on the body right now: legged bodies bob and sway it with their
        gait (height, pitch, roll). The env renders observations through this; the default
        returns ``camera`` itself."""
        return camera

    def check_action(self, action: Any) -> None:
        """Raise what :meth:`apply` would raise for ``action`` (an ``InvalidArgumentError``),
        without moving anything: several agents' actions are checked before any of them moves.
        Subclasses override it (this default accepts everything, so a bad action of a body that
        does not is only caught by its ``apply``, after the agents before it moved)."""

    @abstractmethod
    def apply(self, sim: Simulator, action: Any, agent_id: int = 0) -> ActionResult:
        """Carry out one action in ``sim`` (through ``move_agent`` / ``set_agent_state``).

        Raises:
            InvalidArgumentError: (a ``ValueError``) for an action outside the action space,
                naming the valid ones.
        """

    def with_(self, **changes: Any) -> "Embodiment":
        """A validated copy with some fields changed; unknown fields are a clear error."""
        names = {f.name for f in dataclasses.fields(self) if f.init}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise InvalidArgumentError(
                f"{unknown[0]}={changes[unknown[0]]!r} does not apply to the {self.name!r} embodiment; leave it out, "
                f"or set one of its settings {sorted(names)}"
            )
        return dataclasses.replace(self, **changes)
