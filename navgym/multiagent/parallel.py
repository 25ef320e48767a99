"""NavParallelEnv: N agents in one scene as a PettingZoo ``ParallelEnv`` (docs/multiagent.md).

Each seat is built like the Gymnasium env of its id (:func:`navgym.envs.factory.make_nav_env`:
its task, embodiment, sensors and ProcHouse episodes), and every seat acts in ONE simulator:
seat 0 is the simulator's agent 0, the others are added with
:meth:`~navgym.sims.base.Simulator.add_agent`. Episodes, observations, measures and rewards follow
:class:`~navgym.envs.nav_env.NavEnv` step for step, so a one-agent parallel env reproduces the
Gymnasium env's frames and measures for the same seed.
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

try:
    from pettingzoo import ParallelEnv
except ImportError as exc:  # pragma: no cover - exercised in tests by hiding pettingzoo
    raise gym.error.DependencyNotInstalled(
        "navgym.multiagent needs PettingZoo (and SuperSuit for training): pip install 'navgym[multiagent]'"
    ) from exc

from navgym.core.geometry import wrap_angle
from navgym.core.specs import AgentState
from navgym.datasets.episodes import Episode
from navgym.embodiments import Embodiment
from navgym.envs.nav_env import SIM_CACHE_SIZE, NavEnv
from navgym.errors import InvalidArgumentError, ResetNeededError
from navgym.sims.base import Simulator
from navgym.tasks.base import agent_goal_observations, episode_start_state
from navgym.tasks.measures import MeasureSet, StepContext

#: Most agents in one scene.
MAX_AGENTS = 8
#: Reset options the env understands.
RESET_OPTIONS = ("episode_id", "episode_index")
#: Team measures every agent's ``info`` carries.
TEAM_KEYS = ("team_success_all", "team_success_any", "team_path_length", "team_collisions")
#: Extra clearance (metres) between agents' start discs.
START_CLEARANCE = 0.05


@dataclass
class Seat:
    """One agent: its Gymnasium-env template (task, embodiment, sensors, dataset) and episode state."""

    name: str
    env: NavEnv
    max_steps: int
    agent_id: int = 0
    episode: Episode | None = None
    goal_episode: Episode | None = None
    start: AgentState | None = None
    goal_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    goal_obs: dict[str, Any] = field(default_factory=dict)
    measures: MeasureSet | None = None
    path: list[np.ndarray] = field(default_factory=list)
    steps: int = 0
    done: bool = False
    last_frame: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def embodiment(self) -> Embodiment:
        return self.env.embodiment

    @property
    def task(self):
        return self.env.task


def _per_seat(name: str, value: Any, count: int, kinds: tuple[type, ...]) -> list[Any]:
    """``value`` for every seat: one value for all, or a sequence of ``count`` values."""
    if value is None or isinstance(value, kinds):
        return [value] * count
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise InvalidArgumentError(f"{name}={value!r} has {len(value)} entries for {count} agents; give one per agent or a single value")
        return list(value)
    raise InvalidArgumentError(f"{name}={value!r} must be a single value or a list with one value per agent")


class NavParallelEnv(ParallelEnv):
    """Several agents in one navgym scene (PettingZoo's parallel API).

    Args:
        env_ids: A navgym env id for every seat, or one per seat (mixed tasks), e.g.
            ``"ObjectNav-ProcHouse-v0"`` or ``["ImageNav-ProcHouse-v0", "ObjectNav-ProcHouse-v0"]``.
        num_agents: How many agents (default: the number of ids, or 2 for a single id).
        embodiments: One embodiment (name or :class:`~navgym.embodiments.Embodiment`) for all, or
            one per seat; ``None``: each task's default.
        shared_goal: Every agent gets seat 0's goal (all seats must run the same task); the first
            to reach it ends the episode for all (``team_success_any``).
        render_mode: ``"rgb_array"``: every agent's view beside the top-down map of all agents.
        max_cycles: Steps after which every agent is truncated (default: the largest of the ids'
            ``max_episode_steps``; each seat also stops at its own id's limit).
        state_size: Side of the square ``state()`` picture, pixels.
        seat_kwargs: Optional per-seat dicts of ``gym.make`` keywords, over ``**kwargs``.
        **kwargs: ``gym.make`` keywords for every seat (``split``, ``sensors``, ``resolution``,
            ``num_scenes``, ``episodes_per_scene``, ``max_episode_steps`` ...).

    Agents are named ``"{embodiment}_{seat}"`` (``habitat_0``, ``jetbot_1``); an agent that calls
    ``stop`` or runs out of steps leaves ``agents``. Measures per agent are the task's (in its
    ``info``), plus the team's: ``team_success_all``, ``team_success_any``,
    ``team_path_length`` (metres, all agents), ``team_collisions``.
    """

    metadata = {"name": "navgym_nav_v0", "render_modes": ["rgb_array"], "render_fps": 10, "is_parallelizable": True}

    def __init__(
        self,
        env_ids: str | Sequence[str],
        num_agents: int | None = None,
        embodiments: str | Embodiment | Sequence[str | Embodiment] | None = None,
        shared_goal: bool = False,
        render_mode: str | None = None,
        max_cycles: int | None = None,
        state_size: int = 128,
        seat_kwargs: Sequence[dict[str, Any]] | None = None,
        **kwargs: Any,
    ):
        import navgym  # noqa: F401  (registers the ids)
        from navgym.envs.factory import make_nav_env

        if isinstance(env_ids, str):
            count = 2 if num_agents is None else num_agents
        elif isinstance(env_ids, (list, tuple)) and env_ids and all(isinstance(i, str) for i in env_ids):
            count = len(env_ids) if num_agents is None else num_agents
        else:
            raise InvalidArgumentError(f"env_ids={env_ids!r} must be an env id or a non-empty list of env ids, e.g. 'ObjectNav-ProcHouse-v0'")
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 1 <= count <= MAX_AGENTS:
            raise InvalidArgumentError(f"num_agents={num_agents!r} must be an integer from 1 to {MAX_AGENTS}")
        count = int(count)
        ids = _per_seat("env_ids", env_ids, count, (str,))
        bodies = _per_seat("embodiments", embodiments, count, (str, Embodiment))
        extra = _per_seat("seat_kwargs", seat_kwargs, count, (dict,))
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InvalidArgumentError(f"render_mode={render_mode!r} is not supported; use one of {self.metadata['render_modes']} or None")
        if isinstance(state_size, bool) or not isinstance(state_size, (int, np.integer)) or not 16 <= state_size <= 2048:
            raise InvalidArgumentError(f"state_size={state_size!r} must be an integer from 16 to 2048 (pixels)")
        if max_cycles is not None and (isinstance(max_cycles, bool) or not isinstance(max_cycles, (int, np.integer)) or max_cycles < 1):
            raise InvalidArgumentError(f"max_cycles={max_cycles!r} must be an integer >= 1, or None for the ids' step limits")
        if "embodiment" in kwargs:
            raise InvalidArgumentError(
                f"embodiment={kwargs['embodiment']!r}: the multi-agent env takes embodiments= (one for all agents, or a list with one per agent)"
            )
        self.render_mode = render_mode
        #: What made the env (recorded by evaluations' run.json).
        self.config = {
            "env_ids": ids, "embodiments": [b if b is None or isinstance(b, str) else repr(b) for b in bodies], "shared_goal": bool(shared_goal),
            "max_cycles": max_cycles, "state_size": int(state_size), "seat_kwargs": [dict(e or {}) for e in extra], "kwargs": dict(kwargs),
        }
        self.shared_goal = bool(shared_goal)
        self.state_size = int(state_size)
        self.seats: list[Seat] = []
        for index, (env_id, body, more) in enumerate(zip(ids, bodies, extra)):
            spec = gym.spec(env_id)
            if spec.entry_point != "navgym.envs.factory:make_nav_env":
                raise InvalidArgumentError(f"env_ids[{index}]={env_id!r} is not a navgym navigation env; use ids from `navgym list`")
            seat_kw = {**spec.kwargs, **kwargs, **(more or {})}
            steps = seat_kw.pop("max_episode_steps", spec.max_episode_steps)
            if isinstance(body, Embodiment):
                body = body.with_()  # its own copy: locomotion keeps motion state per instance
            if body is not None:
                seat_kw["embodiment"] = body
            template = make_nav_env(**seat_kw)
            name = f"{template.embodiment.name}_{index}"
            self.seats.append(Seat(name, template, int(steps) if steps else 10**9))
        if self.shared_goal:
            tasks = {type(s.task).__name__ for s in self.seats}
            if len(tasks) > 1:
                raise InvalidArgumentError(
                    f"shared_goal=True needs one task for every agent (the goal is seat 0's); got {sorted(tasks)}; use one env id"
                )
        backends = {s.env.sim_factory.sim for s in self.seats}
        if len(backends) > 1:
            raise InvalidArgumentError(f"all agents must use one simulator backend (sim=...); got {sorted(backends)}")
        self._scenes = self._common_scenes()
        self.possible_agents = [s.name for s in self.seats]
        self.agents: list[str] = []
        self._by_name = {s.name: s for s in self.seats}
        self._observation_spaces = {s.name: s.env.observation_space for s in self.seats}
        self._action_spaces = {s.name: s.env.action_space for s in self.seats}
        self.state_space = spaces.Box(0, 255, (self.state_size, self.state_size, 3), dtype=np.uint8)
        self.max_cycles = int(max_cycles) if max_cycles is not None else max(s.max_steps for s in self.seats)
        self._sims: OrderedDict[str, Simulator] = OrderedDict()
        self._agent_ids: dict[str, list[int]] = {}
        self._sim: Simulator | None = None
        self._np_random: np.random.Generator | None = None
        self._np_random_seed: int | None = None
        self._first_success: str | None = None
        self._reset_done = False

    # -- PettingZoo API ------------------------------------------------------------------------------
    def observation_space(self, agent: str) -> gym.Space:
        return self._observation_spaces[self._check_name(agent)]

    def action_space(self, agent: str) -> gym.Space:
        return self._action_spaces[self._check_name(agent)]

    def _check_name(self, agent: str) -> str:
        if agent not in self._observation_spaces:
            raise InvalidArgumentError(f"agent={agent!r} is not an agent of this env; its agents are {self.possible_agents}")
        return agent

    @property
    def np_random(self) -> np.random.Generator:
        if self._np_random is None:
            self._np_random, self._np_random_seed = seeding.np_random()
        return self._np_random

    @property
    def sim(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError("Call reset() before using the simulator")
        return self._sim

    def seat(self, agent: str) -> Seat:
        """An agent's seat (its task, embodiment, episode, measures)."""
        return self._by_name[self._check_name(agent)]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
            for s in self.seats:  # as NavEnv: a reseeded env behaves as a fresh one
                s.env._draw_scene, s.env._scene_draws = None, 0
        rng = self.np_random
        if options is not None and not isinstance(options, Mapping):
            raise InvalidArgumentError(f"options={options!r} must be a dict (or None), e.g. options={{'episode_index': 0}}")
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            warnings.warn(f"reset options {unknown} are not used; this env understands {list(RESET_OPTIONS)}", stacklevel=2)
        lead = self.seats[0]
        options = lead.env._check_options({k: v for k, v in options.items() if k in RESET_OPTIONS})
        lead.env.np_random = rng
        episode = lead.env._choose_episode(options)
        for _ in range(len(lead.env.dataset.episodes)):
            self._sim = self._sim_for(episode.scene_id)
            lead.env._sim = self._sim
            problem = lead.env._unusable(episode, options, self._sim)
            if problem is None:
                break
            if options:  # asked for by index or id: refused, as NavEnv does
                self._reset_done, self.agents = False, []  # step() now asks for a reset
                raise problem
            episode = lead.env._skip(episode)
        sim = self.sim
        ids = self._agent_ids[sim.scene_id]
        placed: list[tuple[np.ndarray, float]] = []
        for index, s in enumerate(self.seats):
            s.agent_id = ids[index]
            if index == 0:
                s.episode = episode
                s.start = sim.set_agent_state(episode_start_state(episode), snap=True, agent_id=s.agent_id)
            else:
                s.episode, s.start = self._place(s, episode.scene_id, placed, rng)
            placed.append((s.start.position, sim.body(s.agent_id).radius))
            s.embodiment.reset(sim, s.agent_id, rng)
        for s in self.seats:
            s.goal_episode = episode if self.shared_goal else s.episode
            with self._hidden(sim):
                s.goal_points = s.task.goal_points(sim, s.goal_episode, s.agent_id)
                s.goal_obs = agent_goal_observations(s.task, sim, s.goal_episode, s.embodiment.camera, s.agent_id)
            s.measures = s.task.new_measures()
            s.measures.reset(self._context(s, s.start, s.start.position))
            s.path = [s.start.position.copy()]
            s.steps, s.done = 0, False
        self._first_success = None
        self._reset_done = True
        self.agents = list(self.possible_agents)
        observations = self._observe(self.seats)
        return observations, {s.name: self._info(s) for s in self.seats}

    def step(self, actions: dict[str, Any]):
        if not self._reset_done:
            raise ResetNeededError("Call reset() before step()")
        if not self.agents:  # every agent has finished: nothing acts (SuperSuit's black_death steps once more)
            return {}, {}, {}, {}, {}
        if not isinstance(actions, dict):
            raise InvalidArgumentError(f"actions={actions!r} must be a dict of agent name -> action for the agents in env.agents {self.agents}")
        missing = [a for a in self.agents if a not in actions]
        extra = [a for a in actions if a not in self.agents]
        if missing or extra:
            raise InvalidArgumentError(
                f"actions has keys {sorted(actions)}; give one action for each agent in env.agents {self.agents}"
                + (f" (missing {missing})" if missing else "") + (f" ({extra} are finished or unknown)" if extra else "")
            )
        sim = self.sim
        acting = [self._by_name[a] for a in self.agents]
        for s in acting:  # every action checked before any agent moves: a refused step changes nothing
            try:
                s.embodiment.check_action(actions[s.name])
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(f"actions[{s.name!r}]: {exc}") from None
        rewards, stopped, collided = {}, {}, {}
        for s in acting:
            previous = sim.get_agent_state(s.agent_id).position
            previous_distance = s.measures["distance_to_goal"]
            result = s.embodiment.apply(sim, actions[s.name], s.agent_id)
            state = sim.get_agent_state(s.agent_id)
            s.measures.update(self._context(s, state, previous, result.collided, result.stopped))
            s.path.append(state.position.copy())
            s.steps += 1
            rewards[s.name] = s.task.reward(s.measures, previous_distance)
            stopped[s.name] = result.stopped
            collided[s.name] = result.collided
            if self._first_success is None and s.measures["success"]:
                self._first_success = s.name
        team_over = self.shared_goal and self._first_success is not None
        terminations = {s.name: bool(stopped[s.name] or team_over) for s in acting}
        truncations = {s.name: bool(s.steps >= min(s.max_steps, self.max_cycles)) for s in acting}
        for s in acting:
            s.done = terminations[s.name] or truncations[s.name]
        observations = self._observe(acting)
        infos = {}
        for s in acting:
            infos[s.name] = self._info(s)
            infos[s.name]["collided"] = collided[s.name]
        self.agents = [a for a in self.agents if not self._by_name[a].done]
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """The global state: a top-down map of the storey with every agent, its path and goal
        points, ``(state_size, state_size, 3)`` uint8 (``state_space``)."""
        from navgym.multiagent.draw import team_topdown

        picture = team_topdown(self, size=self.state_size)
        canvas = np.full((self.state_size, self.state_size, 3), 255, dtype=np.uint8)
        canvas[: picture.shape[0], : picture.shape[1]] = picture[: self.state_size, : self.state_size]
        return canvas

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        if not self._reset_done:
            raise ResetNeededError("Call reset() before render()")
        from navgym.multiagent.draw import team_frame

        return team_frame(self)

    def close(self) -> None:
        for sim in self._sims.values():
            sim.close()
        self._sims.clear()
        self._agent_ids.clear()
        self._sim = None
        for s in self.seats:
            s.env._sim = None
            s.env.close()

    # -- team measures -----------------------------------------------------------------------------
    def team_measures(self) -> dict[str, Any]:
        """All succeeded, any succeeded, total path length (metres), total collisions; and which
        agent succeeded first (``None``: none yet)."""
        if not self._reset_done:
            raise ResetNeededError("Call reset() before team_measures(): there is no episode yet")
        successes = [bool(s.measures["success"]) for s in self.seats]
        return {
            "team_success_all": float(all(successes)),
            "team_success_any": float(any(successes)),
            "team_path_length": float(sum(s.measures["path_length"] for s in self.seats)),
            "team_collisions": int(sum(s.measures["collisions"] for s in self.seats)),
            "team_first_success": self._first_success,
        }

    # -- internals ---------------------------------------------------------------------------------
    def _common_scenes(self) -> set[str]:
        """Scenes every seat has episodes in; seat 0's draws are limited to them."""
        scenes = [{e.scene_id for e in s.env.dataset.episodes} for s in self.seats]
        common = set.intersection(*scenes)
        if not common:
            raise InvalidArgumentError(
                "the agents' episode datasets share no scene, so they cannot be in one house: "
                + "; ".join(f"{s.name}: {sorted(sc)[:3]}" for s, sc in zip(self.seats, scenes))
                + "; use the same split, num_scenes and dataset for every agent"
            )
        lead = self.seats[0].env
        if len(common) < len(scenes[0]):
            lead.dataset.episodes = [e for e in lead.dataset.episodes if e.scene_id in common]
        return common

    def _sim_for(self, scene_id: str) -> Simulator:
        if scene_id in self._sims:
            self._sims.move_to_end(scene_id)
            return self._sims[scene_id]
        sim = self.seats[0].env.sim_factory(scene_id)
        ids = [0] + [sim.add_agent(s.embodiment.body) for s in self.seats[1:]]
        if len(self.seats) > 1:
            solid = getattr(sim, "set_agent_solid", None)
            if solid is None:
                raise NotImplementedError(
                    f"the {type(sim).__name__} backend cannot show agents to each other (no set_agent_solid); "
                    "several agents in one scene need sim='embedded'"
                )
            for s, agent_id in zip(self.seats, ids):
                solid(agent_id, True, getattr(s.embodiment, "footprint", None))
        self._sims[scene_id] = sim
        self._agent_ids[scene_id] = ids
        if len(self._sims) > SIM_CACHE_SIZE:
            old_id, old = self._sims.popitem(last=False)
            self._agent_ids.pop(old_id, None)
            old.close()
        return sim

    def _hidden(self, sim: Simulator):
        """Goal pictures are taken without the agents in them."""
        hidden = getattr(sim, "bodies_hidden", None)
        if hidden is None:
            from contextlib import nullcontext

            return nullcontext()
        return hidden()

    def _place(self, s: Seat, scene_id: str, placed: list[tuple[np.ndarray, float]], rng: np.random.Generator) -> tuple[Episode, AgentState]:
        """A start for seat ``s`` in the scene, clear of the agents placed before it: the first
        episode of its dataset in that scene (in a seeded random order) whose start is usable;
        failing that, its first episode's goal with a random navigable start."""
        sim = self.sim
        radius = sim.body(s.agent_id).radius
        in_scene = [e for e in s.env.dataset.episodes if e.scene_id == scene_id]

        def clear(position: np.ndarray) -> bool:
            for other, other_radius in placed:
                same_storey = abs(position[1] - other[1]) < 1.0
                if same_storey and math.hypot(position[0] - other[0], position[2] - other[2]) < radius + other_radius + START_CLEARANCE:
                    return False
            return True

        for index in rng.permutation(len(in_scene)):
            episode = in_scene[int(index)]
            start = episode_start_state(episode)
            if not sim.is_navigable(start.position, s.agent_id):
                snapped = sim.snap_point(start.position, s.agent_id)
                if float(np.linalg.norm((snapped - start.position)[[0, 2]])) > 0.3:
                    continue
            state = sim.set_agent_state(start, snap=True, agent_id=s.agent_id)
            if clear(state.position):
                return episode, state
        episode = in_scene[int(rng.integers(len(in_scene)))]
        for _ in range(200):
            point = sim.sample_navigable_point(rng, s.agent_id)
            if clear(point):
                state = sim.set_agent_state(AgentState.from_yaw(point, float(rng.uniform(-np.pi, np.pi))), snap=True, agent_id=s.agent_id)
                return episode, state
        raise RuntimeError(f"no start for {s.name} in {scene_id} clear of the other agents after 200 draws; use fewer agents")

    def _context(self, s: Seat, state: AgentState, previous: np.ndarray, collided: bool = False, stopped: bool = False) -> StepContext:
        return StepContext(self.sim, s.task, s.goal_episode, s.goal_points, state, previous, s.agent_id, collided, stopped, embodiment=s.embodiment)

    def _observe(self, seats: list[Seat]) -> dict[str, dict[str, Any]]:
        """Every seat's observation as :meth:`NavEnv._observe` makes it, the cameras in one batch."""
        sim = self.sim
        states = {s.name: sim.get_agent_state(s.agent_id) for s in seats}
        camera_seats = [s for s in seats if any(k in s.env.sensors for k in ("rgb", "depth", "semantic"))]
        frames = sim.render([(states[s.name], s.embodiment.mounted_camera(s.env._camera, s.agent_id)) for s in camera_seats]) if camera_seats else []
        by_name = {s.name: f for s, f in zip(camera_seats, frames)}
        observations = {}
        for s in seats:
            state, sensors = states[s.name], s.env.sensors
            frame = by_name.get(s.name, {})
            s.last_frame = frame
            obs: dict[str, Any] = {k: v for k, v in frame.items() if k in sensors}
            if "gps" in sensors or "compass" in sensors:
                start_yaw = s.start.yaw
                offset = state.position - s.start.position
                cos_y, sin_y = math.cos(start_yaw), math.sin(start_yaw)
                forward = -(offset[2] * cos_y + offset[0] * sin_y)
                right = offset[0] * cos_y - offset[2] * sin_y
                if "gps" in sensors:
                    obs["gps"] = np.array([forward, right], dtype=np.float32)
                if "compass" in sensors:
                    obs["compass"] = np.array([wrap_angle(state.yaw - start_yaw)], dtype=np.float32)
            for name in s.task.goal_sensors:
                if name in sensors:
                    value = s.goal_obs[name]
                    obs[name] = value.copy() if isinstance(value, np.ndarray) else value
            observations[s.name] = obs
        return observations

    def _info(self, s: Seat) -> dict[str, Any]:
        info = s.measures.as_info()
        info["episode_id"] = s.episode.episode_id if s.episode else None
        info["scene_id"] = s.episode.scene_id if s.episode else None
        if self.shared_goal:
            info["goal_episode_id"] = s.goal_episode.episode_id if s.goal_episode else None
        info.update(self.team_measures())
        return info
