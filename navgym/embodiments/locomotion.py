"""Velocity-commanded robot bodies with a locomotion model (the base of Jetbot, H1 and Aliengo).

A policy sends velocity commands (a ``Box``; the last component at or above 0.5 calls ``stop``)
and each command is held for ``dt`` seconds. What the body does with it is **navgym's own
modelling**, not taken from any robot's controller; the robots' sourced facts (sizes, camera
mounts, command ranges) live in their modules and in ``docs/embodiments.md``:

1. *Clipping*: each component is clipped to the command range (``command_low`` /
   ``command_high``); a command of the wrong shape or with a non-finite component is an
   :class:`~navgym.errors.InvalidArgumentError` naming the component.
2. *Command noise*: each velocity component gets Gaussian noise with a standard deviation of
   ``command_noise`` times its magnitude (a zero command stays zero), drawn once per action
   from the episode's generator, and is clipped to the range again.
3. *Velocity tracking*: the body's velocity (forward ``vx``, left ``vy``, yaw rate ``wz``, in its
   own frame) follows the noisy command as a first-order lag with time constant
   ``velocity_time_constant``, integrated exactly over substeps of ``substep`` seconds; each
   substep's change is bounded by ``max_linear_acceleration`` (on the (vx, vy) vector) and
   ``max_angular_acceleration``; a component slowing to a zero command stops below 1 mm/s (1 mrad/s).
4. *Motion and collision*: each substep translates the body at its velocity (heading at
   mid-turn) with the simulator's ``move_agent`` (the body's cylinder, sliding along walls as in
   Habitat), then turns it. Bodies with a rectangular ``footprint`` are also checked with
   :meth:`~navgym.sims.base.Simulator.footprint_collisions`: a substep that makes the rectangle
   overlap more obstacle cells than before is retried without its turn, then with the turn
   only, then refused (the body stays). A start whose rectangle already overlaps something
   (episodes are generated for the cylinder) never traps the body: only motions that make
   the overlap worse are refused. After a collision each velocity component is reduced to
   what the body actually achieved (never reversed).
5. *Gait* (legged bodies): a step phase advances at ``gait_frequency`` while the body moves;
   the camera is raised by ``gait_height * s * sin(phase)``, pitched by
   ``gait_pitch * s * cos(phase)`` and rolled by ``gait_roll * s * sin(phase / 2)`` (the lateral
   sway has half the step frequency), with ``s`` in [0, 1] the body's speed as a share of its
   command range. A body standing still does not bob.

Everything random is drawn from a generator spawned from the one given to :meth:`reset` (the
env's ``np_random``; spawning does not disturb its stream), so the same seed gives the same
motion. Without a ``reset`` the generator is seeded with 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.checks import check_range
from navgym.core.geometry import wrap_angle
from navgym.core.specs import AgentState, CameraSpec
from navgym.embodiments.base import ActionResult, Embodiment
from navgym.errors import InvalidArgumentError
from navgym.sims.base import Simulator


@dataclass
class MotionState:
    """What a body remembers between actions (one per agent id).

    Attributes:
        velocity: Body-frame (vx forward m/s, vy left m/s, wz yaw rate rad/s, left positive).
        gait_phase: Step phase, radians.
        rng: The generator of command noise.
        time: Seconds simulated since :meth:`VelocityBody.reset`.
        overlap: Obstacle cells under the rectangular footprint at the current pose (``None``
            until measured).
    """

    velocity: np.ndarray
    gait_phase: float
    rng: np.random.Generator
    time: float = 0.0
    overlap: int | None = None


@dataclass(frozen=True)
class VelocityBody(Embodiment):
    """A body driven by velocity commands through a locomotion model (see the module docstring).

    An instance keeps each agent's motion state (velocity, gait phase, noise generator), so each
    env needs its own: ``gym.make`` copies the embodiment it is given (``with_``), and copies
    start standing still.

    Subclasses name their command components (``command_names``: linear components, then the
    yaw rate, then ``stop``), give their ranges (``command_low``/``command_high``) and map a
    clipped command to a body-frame velocity (:meth:`body_velocity`).

    Attributes:
        dt: Seconds one action is held.
        substep: Integration step, seconds (``dt`` is split into equal substeps no longer than it).
        velocity_time_constant: Time constant of the first-order velocity lag, seconds.
        max_linear_acceleration: Bound on the change of (vx, vy), m/s².
        max_angular_acceleration: Bound on the change of the yaw rate, rad/s².
        command_noise: Standard deviation of the command noise as a share of each component.
        gait_frequency: Steps per second of the gait (0 for wheeled bodies).
        gait_height: Camera bob amplitude at full speed, metres.
        gait_pitch: Camera pitch oscillation amplitude at full speed, degrees.
        gait_roll: Camera roll (sway) amplitude at full speed, degrees.
        footprint: ``(length, width)`` of a rectangular footprint in metres (length along the
            heading), checked against obstacles after each substep; ``None``: the body's
            cylinder only.
    """

    name: ClassVar[str] = "velocity-body"
    #: Names of the action components in order; ``stop`` is last.
    command_names: ClassVar[tuple[str, ...]] = ("vx", "yaw_rate", "stop")
    #: Whether the body walks (gait oscillation of the camera).
    legged: ClassVar[bool] = False

    dt: float = 0.5
    substep: float = 0.05
    velocity_time_constant: float = 0.2
    max_linear_acceleration: float = 1.0
    max_angular_acceleration: float = 3.0
    command_noise: float = 0.05
    gait_frequency: float = 0.0
    gait_height: float = 0.0
    gait_pitch: float = 0.0
    gait_roll: float = 0.0
    footprint: tuple[float, float] | None = None
    _motion: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_range("dt", self.dt, 0.0, 10.0, low_open=True)
        check_range("substep", self.substep, 0.0, 1.0, low_open=True)
        check_range("velocity_time_constant", self.velocity_time_constant, 0.0, 10.0)
        check_range("max_linear_acceleration", self.max_linear_acceleration, 0.0, 100.0, low_open=True)
        check_range("max_angular_acceleration", self.max_angular_acceleration, 0.0, 100.0, low_open=True)
        check_range("command_noise", self.command_noise, 0.0, 1.0)
        check_range("gait_frequency", self.gait_frequency, 0.0, 10.0)
        check_range("gait_height", self.gait_height, 0.0, 0.5)
        check_range("gait_pitch", self.gait_pitch, 0.0, 30.0)
        check_range("gait_roll", self.gait_roll, 0.0, 30.0)
        if self.footprint is not None:
            try:
                length, width = (float(v) for v in self.footprint)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"footprint={self.footprint!r} must be (length, width) in metres, or None") from None
            check_range("footprint length", length, 0.0, 3.0, low_open=True)
            check_range("footprint width", width, 0.0, 3.0, low_open=True)
            object.__setattr__(self, "footprint", (length, width))
        low, high = self.command_low, self.command_high
        if len(low) != len(self.command_names) - 1 or len(high) != len(low) or np.any(low > high):
            raise InvalidArgumentError(f"{type(self).__name__}: command_low/command_high must bound {self.command_names[:-1]}")

    # -- what subclasses give -------------------------------------------------------------------
    @property
    def command_low(self) -> np.ndarray:
        """Lower bounds of the velocity components (``stop`` excluded)."""
        raise NotImplementedError

    @property
    def command_high(self) -> np.ndarray:
        """Upper bounds of the velocity components (``stop`` excluded)."""
        raise NotImplementedError

    def body_velocity(self, command: np.ndarray) -> np.ndarray:
        """Body-frame target (vx, vy, wz) of a clipped command (without ``stop``); default:
        the layout (vx, yaw_rate)."""
        return np.array([command[0], 0.0, command[1]])

    # -- spaces ---------------------------------------------------------------------------------
    @property
    def action_space(self) -> spaces.Box:
        low = np.append(self.command_low, 0.0).astype(np.float32)
        high = np.append(self.command_high, 1.0).astype(np.float32)
        return spaces.Box(low, high, dtype=np.float32)

    # -- state ----------------------------------------------------------------------------------
    def reset(self, sim: Simulator, agent_id: int = 0, rng: np.random.Generator | None = None) -> None:
        """Stand still with a fresh noise generator (spawned from ``rng``) and a random gait phase."""
        self._motion[agent_id] = self._new_state(rng)

    def _new_state(self, rng: np.random.Generator | None) -> MotionState:
        if rng is None:
            child = np.random.default_rng(0)
        else:
            try:
                child = rng.spawn(1)[0]
            except (AttributeError, TypeError, ValueError):  # a generator without a seed sequence
                child = np.random.default_rng(int(rng.integers(2**63)))
        phase = float(child.uniform(0.0, 2.0 * math.pi)) if self.legged else 0.0
        return MotionState(np.zeros(3), phase, child)

    def motion_state(self, agent_id: int = 0) -> MotionState:
        """The motion state of an agent (created, standing still, on first use)."""
        if agent_id not in self._motion:
            self._motion[agent_id] = self._new_state(None)
        return self._motion[agent_id]

    def speed_share(self, velocity: np.ndarray) -> float:
        """How fast ``velocity`` is as a share of the command range, in [0, 1] (scales the gait)."""
        linear_max = float(max(np.max(np.abs(self.command_low[:-1])), np.max(np.abs(self.command_high[:-1])), 1e-9))
        angular_max = float(max(abs(self.command_low[-1]), abs(self.command_high[-1]), 1e-9))
        share = math.hypot(velocity[0], velocity[1]) / linear_max + 0.5 * abs(velocity[2]) / angular_max
        return float(min(1.0, share))

    # -- camera ---------------------------------------------------------------------------------
    def mounted_camera(self, camera: CameraSpec, agent_id: int = 0) -> CameraSpec:
        if not self.legged or agent_id not in self._motion:
            return camera
        state = self._motion[agent_id]
        share = self.speed_share(state.velocity)
        if share == 0.0:
            return camera
        phase = state.gait_phase
        return camera.with_(
            camera_height=max(0.0, camera.camera_height + self.gait_height * share * math.sin(phase)),
            pitch=float(np.clip(camera.pitch + self.gait_pitch * share * math.cos(phase), -90.0, 90.0)),
            roll=float(np.clip(camera.roll + self.gait_roll * share * math.sin(0.5 * phase), -180.0, 180.0)),
        )

    # -- motion ---------------------------------------------------------------------------------
    def parse_command(self, action: Any) -> np.ndarray:
        """``action`` as a float array of the command's length, or a clear error."""
        names = self.command_names
        layout = ", ".join(names)
        try:
            command = np.asarray(action, dtype=np.float64).reshape(len(names))
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"action={action!r} is not a [{layout}] command of the {self.name!r} embodiment ({len(names)} numbers)"
            ) from None
        bad = [f"{n}={v!r}" for n, v in zip(names, command.tolist()) if not math.isfinite(v)]
        if bad:
            raise InvalidArgumentError(
                f"action={command.tolist()} must be finite: {', '.join(bad)} (the {self.name!r} embodiment's command is [{layout}])"
            )
        return command

    def check_action(self, action: Any) -> None:
        self.parse_command(action)

    def clip_command(self, command: np.ndarray) -> np.ndarray:
        """The velocity components of ``command`` clipped to the command range (``stop`` dropped)."""
        return np.clip(np.asarray(command, dtype=np.float64)[: len(self.command_low)], self.command_low, self.command_high)

    def track(self, velocity: np.ndarray, target: np.ndarray, step: float) -> np.ndarray:
        """One substep of velocity tracking: a first-order lag toward ``target`` (exact over
        ``step``), its change bounded by the accelerations."""
        if self.velocity_time_constant > 0.0:
            change = (1.0 - math.exp(-step / self.velocity_time_constant)) * (target - velocity)
        else:
            change = target - velocity
        linear = math.hypot(change[0], change[1])
        limit = self.max_linear_acceleration * step
        if linear > limit:
            change[:2] *= limit / linear
        angular_limit = self.max_angular_acceleration * step
        change[2] = min(max(change[2], -angular_limit), angular_limit)
        velocity = velocity + change
        # A lag never quite reaches zero: slowing to a zero command, below 1 mm/s (1 mrad/s) the body has stopped.
        velocity[(target == 0.0) & (np.abs(velocity) < 1e-3)] = 0.0
        return velocity

    def apply(self, sim: Simulator, action: Any, agent_id: int = 0) -> ActionResult:
        command = self.parse_command(action)
        if command[-1] >= 0.5:
            return ActionResult(stopped=True)
        state = self.motion_state(agent_id)
        wanted = self.clip_command(command)
        if self.command_noise > 0.0:
            noise = state.rng.normal(0.0, 1.0, size=wanted.shape) * self.command_noise * np.abs(wanted)
            wanted = np.clip(wanted + noise, self.command_low, self.command_high)
        target = self.body_velocity(wanted)
        state.overlap = None  # measured afresh: the agent may have been placed since the last action
        count = max(1, int(math.ceil(self.dt / self.substep - 1e-9)))
        step = self.dt / count
        collided = False
        for _ in range(count):
            state.velocity = self.track(state.velocity, target, step)
            collided |= self._substep(sim, state, step, agent_id)
            state.time += step
            if self.legged and self.speed_share(state.velocity) > 0.0:
                state.gait_phase = (state.gait_phase + 2.0 * math.pi * self.gait_frequency * step) % (4.0 * math.pi)
        return ActionResult(collided=collided)

    def _substep(self, sim: Simulator, state: MotionState, step: float, agent_id: int) -> bool:
        """Move and turn for one substep; returns whether it collided (and slows the body)."""
        vx, vy, wz = state.velocity
        before = sim.get_agent_state(agent_id)
        yaw = before.yaw
        turn = float(wz * step)
        mid = yaw + 0.5 * turn
        forward = np.array([-math.sin(mid), 0.0, -math.cos(mid)])
        left = np.array([-math.cos(mid), 0.0, math.sin(mid)])
        collided = False
        if vx or vy:
            collided = sim.move_agent((vx * forward + vy * left) * step, agent_id)
        if turn:
            sim.turn_agent(turn, agent_id=agent_id)
        if self.footprint is not None:
            collided |= self._resolve_footprint(sim, state, before, turn, agent_id)
        if collided:
            after = sim.get_agent_state(agent_id)
            moved = after.position - before.position
            achieved = np.array([moved @ forward / step, moved @ left / step, wrap_angle(after.yaw - yaw) / step])
            low, high = np.minimum(state.velocity, 0.0), np.maximum(state.velocity, 0.0)
            state.velocity = np.clip(achieved, low, high)
        return collided

    def _overlap(self, sim: Simulator, pose: AgentState, agent_id: int) -> int:
        length, width = self.footprint
        return int(sim.footprint_collisions(pose.position, pose.yaw, length, width, agent_id))

    def _resolve_footprint(self, sim: Simulator, state: MotionState, before: AgentState, turn: float, agent_id: int) -> bool:
        """Keep the rectangle from overlapping more obstacle cells than it did: try the full
        substep, then without its turn, then the turn only, then nothing. Returns whether the
        substep was cut."""
        if state.overlap is None:
            state.overlap = self._overlap(sim, before, agent_id)
        allowed = state.overlap
        moved = sim.get_agent_state(agent_id)
        overlap = self._overlap(sim, moved, agent_id)
        if overlap <= allowed:
            state.overlap = overlap
            return False
        candidates = []
        if turn:
            candidates.append(AgentState.from_yaw(moved.position, before.yaw, before.tilt))
            candidates.append(AgentState.from_yaw(before.position, moved.yaw, before.tilt))
        for candidate in candidates:
            overlap = self._overlap(sim, candidate, agent_id)
            if overlap <= allowed:
                sim.set_agent_state(candidate, snap=True, agent_id=agent_id)
                state.overlap = overlap
                return True
        sim.set_agent_state(before, snap=True, agent_id=agent_id)
        return True
