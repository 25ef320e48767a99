"""NavEnv: a Gymnasium env made of a simulator, a task and an episode dataset."""

from __future__ import annotations

import logging
import math
import warnings
from collections import OrderedDict
from typing import Any, Callable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from navgym.core.checks import check_int, user_stacklevel
from navgym.core.geometry import wrap_angle
from navgym.core.specs import AgentState, CameraSpec
from navgym.datasets.episodes import Episode, EpisodeDataset
from navgym.embodiments import Embodiment
from navgym.errors import InvalidArgumentError, NavgymError, ResetNeededError, UnusableEpisodeError
from navgym.sims.base import Simulator
from navgym.tasks.base import Task, episode_start_state
from navgym.tasks.measures import StepContext

#: How many scenes' simulators an env keeps loaded at once.
SIM_CACHE_SIZE = 4
#: Starts at most this far (metres) from the navigable area are snapped onto it; farther ones are skipped.
START_SNAP_DISTANCE = 0.3
#: Starts at most this far (metres) above or below the floor they snap to are snapped onto it (habitat-sim's
#: ``is_navigable`` takes 0.5 m); farther ones (above the roof, under the floor) are skipped as off the area.
START_SNAP_HEIGHT = 0.5


def _up_axis_hint(sim: Simulator) -> str:
    """A sentence for errors about starts off the navigable area when the scene is a ``.glb`` the
    embedded simulator read z-up by its ``up_axis="auto"`` rule (a y-up file then lies on its side)."""
    if getattr(getattr(sim, "scene", None), "mesh_up_axis", "y") == "z" and getattr(sim, "up_axis", None) == "auto":
        return (
            " This .glb was read z-up, as habitat-sim reads Gibson, MP3D and HM3D files (up_axis='auto'); "
            "for a y-up file of your own pass gym.make(..., sim_options={'up_axis': 'y'})."
        )
    scene = getattr(sim, "scene", None)
    if (getattr(scene, "mesh_file", None) is not None and getattr(scene, "mesh_up_axis", None) == "y"
            and getattr(sim, "up_axis", None) == "auto" and "scene_dataset_config" not in (getattr(scene, "metadata", None) or {})):
        return (
            " This mesh file was read y-up (up_axis='auto' reads a .glb navgym wrote and files other than .glb so); "
            "for a z-up file pass gym.make(..., sim_options={'up_axis': 'z'})."
        )
    return ""


class NavEnv(gym.Env):
    """Goal-oriented navigation: a simulator, a task, an embodiment and an episode dataset.

    ## Description
    Each episode places the agent at the dataset's start pose in a scene and gives it a goal (an
    image, an object category or a sentence, by task). The agent acts until it calls ``stop`` or
    runs out of steps (the time limit comes from the env spec's ``max_episode_steps``).

    ## Action Space
    The embodiment's. Habitat's discrete agent (the default): ``Discrete``: 0 ``stop``,
    1 ``move_forward``, 2 ``turn_left``, 3 ``turn_right`` (+ 4 ``look_up``, 5 ``look_down`` for
    ObjectNav); ``env.unwrapped.actions`` lists the names. ``embodiment="unicycle"``: a ``Box`` of
    (linear, angular velocity, stop); ``"jetbot"``, ``"h1"``, ``"aliengo"``: ``Box`` velocity
    commands with a locomotion model (docs/embodiments.md).

    ## Observation Space
    A ``Dict`` of the sensors asked for with ``sensors=`` (Habitat's names): ``rgb`` (H, W, 3) uint8,
    ``depth`` (H, W, 1) float32 metres, ``semantic`` (H, W) int32 instance ids, ``gps`` (2,) float32
    (forward, right) from the start, ``compass`` (1,) float32 yaw from the start (left positive),
    plus the task's goal sensors.

    ## Rewards
    Habitat's default: ``2.5 * success - (d_t - d_{t-1}) - 0.01``, with d the geodesic distance to
    the goal; constants are the task's ``success_reward`` and ``slack_reward``.

    ## Starting State
    The episode's start position and rotation. ``reset(options={"episode_id": ...})`` or
    ``{"episode_index": i}`` picks an episode; otherwise one is drawn with ``self.np_random``,
    staying in one scene for ``scene_repeat_episodes`` draws (default 10, as Habitat's
    ``max_scene_repeat_episodes``; 1 draws a new scene every time) because loading a scene costs
    far more than an episode.
    Starts within 0.3 m of the navigable area are snapped onto it. A randomly drawn episode
    starting farther away is skipped with a warning that counts them (another is drawn); one
    asked for by index or id raises :class:`~navgym.errors.UnusableEpisodeError` (never another
    episode in its place; :func:`navgym.evaluation.evaluate` records it as skipped).

    ## Episode End
    Terminated when the agent calls ``stop``; truncated by the time limit.

    ## Arguments
    See :func:`navgym.envs.factory.make_nav_env`. ``NavEnv(task, dataset, sim_factory, ...,
    embodiment=None)`` builds one directly (``embodiment`` defaults to the task's).

    ## Version History
    * v0: initial release.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        task: Task,
        dataset: EpisodeDataset,
        sim_factory: Callable[[str], Simulator],
        sensors: Sequence[str] | None = None,
        render_mode: str | None = None,
        scene_repeat_episodes: int = 10,
        embodiment: Embodiment | None = None,
    ):
        if isinstance(scene_repeat_episodes, bool) or not isinstance(scene_repeat_episodes, (int, np.integer)) or scene_repeat_episodes < 1:
            raise InvalidArgumentError(f"scene_repeat_episodes={scene_repeat_episodes!r} must be an integer >= 1 (1: a random scene every episode)")
        self.scene_repeat_episodes = int(scene_repeat_episodes)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InvalidArgumentError(f"render_mode={render_mode!r} is not supported; use one of {self.metadata['render_modes']} or None")
        if not dataset.episodes:
            raise InvalidArgumentError("The episode dataset is empty: no episode to run")
        self.task = task
        self.embodiment = embodiment if embodiment is not None else task.default_embodiment()
        self.dataset = dataset
        self.sim_factory = sim_factory
        self.render_mode = render_mode
        if isinstance(sensors, str):
            raise InvalidArgumentError(f"sensors={sensors!r} must be a list of sensor names, e.g. sensors=({sensors!r},)")
        self.sensors = tuple(sensors) if sensors is not None else task.default_sensors
        if not self.sensors:
            raise InvalidArgumentError(f"sensors=() asks for no observation; valid sensors for {task.name} are {list(task.valid_sensors)}")
        unknown = [s for s in self.sensors if s not in task.valid_sensors]
        if unknown:
            raise InvalidArgumentError(f"sensors={list(self.sensors)} has unknown {unknown}; valid sensors for {task.name} are {list(task.valid_sensors)}")
        naming = task.goal_sensors if task.goal_naming_sensors is None else task.goal_naming_sensors
        if naming and not any(s in self.sensors for s in naming):
            warnings.warn(
                f"sensors={list(self.sensors)} has none of {task.name}'s goal sensors {list(naming)}: the agent is not "
                f"told which goal to seek. Add {naming[0]!r} to sensors; if a goal-blind run is what you want, silence "
                "this with warnings.filterwarnings('ignore', message='sensors=.*goal sensors')",
                UserWarning, stacklevel=user_stacklevel(),
            )
        self.actions = self.embodiment.action_names
        self.action_space = self.embodiment.action_space
        self.observation_space = spaces.Dict(self._observation_spaces())
        camera_outputs = tuple(s for s in ("rgb", "depth", "semantic") if s in self.sensors)
        self._camera = self.embodiment.camera.with_(outputs=camera_outputs or ("rgb",))
        self._sims: OrderedDict[str, Simulator] = OrderedDict()
        self._sim: Simulator | None = None
        self.episode: Episode | None = None
        self._goal_obs: dict[str, Any] = {}
        self._goal_points = np.zeros((0, 3))
        self.measures = task.new_measures()
        self._path: list[np.ndarray] = []
        self._start = AgentState(np.zeros(3))
        self._last_frame: dict[str, np.ndarray] = {}
        self._skipped: set[tuple[str, str]] = set()
        self._by_scene: dict[str, list[int]] = {}
        self._by_scene_key: tuple[int, ...] = ()
        self._scene_draws = 0
        self._draw_scene: str | None = None
        self._episode_over = False
        self._checked_ceiling: set[str] = set()
        self._checked_goals: set[tuple[str, str]] = set()

    # -- spaces --------------------------------------------------------------------------------
    def _observation_spaces(self) -> dict[str, spaces.Space]:
        cam = self.embodiment.camera
        available: dict[str, spaces.Space] = {
            "rgb": spaces.Box(0, 255, (cam.height, cam.width, 3), dtype=np.uint8),
            "depth": spaces.Box(cam.min_depth, cam.max_depth, (cam.height, cam.width, 1), dtype=np.float32),
            "semantic": spaces.Box(0, np.iinfo(np.int32).max, (cam.height, cam.width), dtype=np.int32),
            "gps": spaces.Box(-np.inf, np.inf, (2,), dtype=np.float32),
            "compass": spaces.Box(-np.pi, np.pi, (1,), dtype=np.float32),
        }
        available.update(self.task.goal_observation_space(cam))
        return {name: available[name] for name in self.sensors}

    # -- simulators ----------------------------------------------------------------------------
    @property
    def sim(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError("Call reset() before using the simulator")
        return self._sim

    def _sim_for(self, scene_id: str) -> Simulator:
        if scene_id in self._sims:
            self._sims.move_to_end(scene_id)
            return self._sims[scene_id]
        sim = self.sim_factory(scene_id)
        self._sims[scene_id] = sim
        if len(self._sims) > SIM_CACHE_SIZE:
            _, old = self._sims.popitem(last=False)
            old.close()
        return sim

    # -- gymnasium API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:  # Gymnasium's contract: a used env reseeded behaves as a fresh one
            self._draw_scene, self._scene_draws = None, 0
        options = self._check_options(options)
        episode = self._choose_episode(options)
        for _ in range(len(self.dataset.episodes)):
            problem = self._unusable(episode, options)
            if problem is None:
                break
            if options:  # asked for by index or id: refused, never swapped for another episode
                self.episode = None  # step() now asks for a reset rather than continue the last episode
                raise problem
            episode = self._skip(episode)
        self._sim = self._sim_for(episode.scene_id)
        start = episode_start_state(episode)
        self.episode = episode
        self._start = self.sim.set_agent_state(start, snap=True)
        self.embodiment.reset(self.sim, 0, self.np_random)
        self._goal_points = self.task.goal_points(self.sim, self.episode)
        self._goal_obs = self.task.goal_observations(self.sim, self.episode, self.embodiment.camera)
        self.measures = self.task.new_measures()
        self.measures.reset(self._context(self._start, self._start.position))
        self._path = [self._start.position.copy()]
        self._episode_over = False
        self._warn_if_camera_above_ceiling()
        self._warn_if_goal_off_navigable()
        return self._observe(), self._info()

    def step(self, action):
        if self.episode is None:
            raise ResetNeededError("Call reset() before step()")
        if self._episode_over:
            raise ResetNeededError(
                f"The episode ended when the agent called stop (success={bool(self.measures['success'])}); call reset() before step()"
            )
        previous = self.sim.get_agent_state().position
        previous_distance = self.measures["distance_to_goal"]
        result = self.embodiment.apply(self.sim, action)
        state = self.sim.get_agent_state()
        self.measures.update(self._context(state, previous, result.collided, result.stopped))
        self._path.append(state.position.copy())
        reward = self.task.reward(self.measures, previous_distance)
        info = self._info()
        info["collided"] = result.collided
        self._episode_over = result.stopped
        return self._observe(), reward, result.stopped, False, info

    def _warn_if_camera_above_ceiling(self) -> None:
        """Warn once per scene when the camera sits above what is over the start (e.g.
        ``camera_height=8`` in a 2.5 m house): its frames would show the house from outside."""
        scene_id = self.episode.scene_id
        if scene_id in self._checked_ceiling or "rgb" not in self._camera.outputs and "depth" not in self._camera.outputs:
            return
        self._checked_ceiling.add(scene_id)
        up = CameraSpec(1, 1, 5.0, 0.05, pitch=90.0, outputs=("depth",), max_depth=1000.0)
        state = self.sim.get_agent_state()
        state.tilt = 0.0
        try:
            clearance = float(self.sim.render([(state, up)])[0]["depth"][0, 0, 0]) + 0.05
        except NavgymError as exc:
            if isinstance(exc, ConnectionError):
                raise
            # A server whose cameras have fixed sizes (Unreal AirSim) cannot render the 1x1 probe;
            # the check is advice, the episode does not need it.
            logging.getLogger("navgym").debug("camera-above-ceiling check skipped in %s: %s", scene_id, exc)
            return
        if clearance < self._camera.camera_height and clearance < 999.0:
            warnings.warn(
                f"camera_height={self._camera.camera_height:g} m is above the ceiling ({clearance:.2f} m over the start of "
                f"episode {self.episode.episode_id} in {scene_id}): the camera sees the house from outside; use a lower camera_height",
                stacklevel=3,
            )

    def _warn_if_goal_off_navigable(self) -> None:
        """Warn once per episode when every goal point lies farther from the navigable area
        (horizontally) than the success radius: no stop can then succeed (e.g. a hand-written goal
        in the wrong units or outside the house). Such episodes still run, as in habitat-sim. A
        navigable goal point ends the check at once; a point the simulator cannot snap at all
        (habitat-sim searches 2 m around it) counts as infinitely far."""
        key = (str(self.episode.scene_id), str(self.episode.episode_id))
        points = np.asarray(self._goal_points, dtype=np.float64).reshape(-1, 3)
        if key in self._checked_goals or not len(points):
            return
        if len(self._checked_goals) >= 100_000:  # bounded: training draws many episodes
            self._checked_goals.clear()
        self._checked_goals.add(key)
        radius = float(self.task.goal_radius(self.episode))
        nearest, height = float("inf"), 0.0
        for p in points:
            try:
                snapped = np.asarray(self.sim.snap_point(p), dtype=np.float64)
            except (ValueError, NavgymError) as exc:  # nothing navigable near it
                if isinstance(exc, ConnectionError):
                    raise
                continue
            if abs(p[1] - snapped[1]) > START_SNAP_HEIGHT:  # above the roof, under the floor
                height = max(height, abs(p[1] - snapped[1]))
                continue
            if self.sim.is_navigable(p):
                return
            nearest = min(nearest, float(np.linalg.norm((snapped - p)[[0, 2]])))
            if nearest <= radius:
                return
        if nearest == float("inf") and height > 0.0:
            where = f"it lies {height:.2f} m above or below the floor under it (more than {START_SNAP_HEIGHT} m)"
        else:
            where = "no navigable point near it" if nearest == float("inf") else f"it lies {nearest:.2f} m off the navigable area"
        warnings.warn(
            f"The goal of episode {self.episode.episode_id} in {self.episode.scene_id} cannot be reached: {where}, "
            f"beyond the success radius ({radius:g} m), so no stop can succeed. Check its goal position against the "
            "scene's mesh (units, up axis, the right scene file).",
            stacklevel=3,
        )

    def _context(self, state: AgentState, previous: np.ndarray, collided: bool = False, stopped: bool = False) -> StepContext:
        return StepContext(
            self.sim, self.task, self.episode, self._goal_points, state, previous, 0, collided, stopped, embodiment=self.embodiment
        )

    def unusable_episode(self, options: dict[str, Any]) -> UnusableEpisodeError | None:
        """The :class:`~navgym.errors.UnusableEpisodeError` that ``reset(options=options)`` would
        raise for the episode ``options`` names (``episode_index`` or ``episode_id``), returned
        instead of raised and without resetting, or ``None`` when it can start. Evaluations ask
        this first: a reset that raises would also leave Gymnasium's passive env checker (which
        ``gym.make`` adds) unable to check the first step of a later episode (Gymnasium 1.4)."""
        options = self._check_options(options)
        if not options:
            raise InvalidArgumentError("unusable_episode(options) needs options naming an episode: {'episode_index': i} or {'episode_id': id}")
        return self._unusable(self._choose_episode(options), options)

    def _unusable(self, episode: Episode, options: dict[str, Any], sim: Simulator | None = None) -> UnusableEpisodeError | None:
        """``None`` when the episode's start is on (or within ``START_SNAP_DISTANCE`` of) the
        navigable area (grid navigability and Habitat's navmesh differ by a few centimetres near
        walls, so such starts are snapped), else the error saying how far off it is. ``sim``:
        the scene's simulator when the caller holds it (default: this env's, loaded if needed)."""
        sim = sim if sim is not None else self._sim_for(episode.scene_id)
        start = episode_start_state(episode)
        asked = f" (reset options {options})" if options else ""
        turned = _up_axis_hint(sim)
        navigable = sim.is_navigable(start.position)
        try:
            snapped = np.asarray(sim.snap_point(start.position), dtype=np.float64)
        except ValueError as exc:  # no navigable area on that storey, or none near (habitat-sim searches 2 m)
            if navigable:
                return None
            return UnusableEpisodeError(
                f"Episode {episode.episode_id} of scene {episode.scene_id}{asked} cannot start: {exc} (a scene without a floor "
                f"the body fits on, or the wrong scene file).{turned}",
                episode_id=str(episode.episode_id), scene_id=str(episode.scene_id), distance=float("inf"),
            )
        height = float(start.position[1] - snapped[1])
        if abs(height) > START_SNAP_HEIGHT:
            return UnusableEpisodeError(
                f"Episode {episode.episode_id} of scene {episode.scene_id}{asked} starts {abs(height):.2f} m "
                f"{'above' if height > 0 else 'below'} the floor it would be snapped to (starts within {START_SNAP_HEIGHT} m of "
                "the floor are snapped onto it): it cannot be run as written. Check its start_position's height against the "
                "scene's mesh (units, up axis, the right scene file); random resets skip such episodes, and "
                f"navgym.evaluation.evaluate records them as skipped.{turned}",
                episode_id=str(episode.episode_id), scene_id=str(episode.scene_id), distance=abs(height),
            )
        if navigable:
            return None
        off = float(np.linalg.norm((snapped - start.position)[[0, 2]]))
        if off <= START_SNAP_DISTANCE:
            return None
        return UnusableEpisodeError(
            f"Episode {episode.episode_id} of scene {episode.scene_id}{asked} starts {off:.2f} m off the navigable area "
            f"(starts within {START_SNAP_DISTANCE} m are snapped onto it): it cannot be run as written. Check its "
            "start_position against the scene's mesh (units, up axis, the right scene file); random resets skip such "
            f"episodes, and navgym.evaluation.evaluate records them as skipped.{turned}",
            episode_id=str(episode.episode_id), scene_id=str(episode.scene_id), distance=off,
        )

    def _skip(self, episode: Episode) -> Episode:
        """Mark a randomly drawn episode with an unusable start, warn with the running count, draw another."""
        self._skipped.add((episode.scene_id, episode.episode_id))
        warnings.warn(
            f"Episode {episode.episode_id} of scene {episode.scene_id} starts off the navigable area "
            f"(more than {START_SNAP_DISTANCE} m away): skipped ({len(self._skipped)} skipped so far)",
            stacklevel=3,
        )
        episodes = self.dataset.episodes
        for candidate in (episodes[int(i)] for i in self.np_random.permutation(len(episodes))):
            if (candidate.scene_id, candidate.episode_id) not in self._skipped:
                return candidate
        raise UnusableEpisodeError(
            f"Every one of the dataset's {len(episodes)} episodes starts more than {START_SNAP_DISTANCE} m off the navigable "
            f"area (the last: episode {episode.episode_id} of scene {episode.scene_id}); check that the episodes belong to "
            f"these scene files and that their positions use the meshes' units and up axis.{_up_axis_hint(self._sim_for(episode.scene_id))}",
            episode_id=str(episode.episode_id), scene_id=str(episode.scene_id),
        )

    @staticmethod
    def _check_options(options: dict[str, Any] | None) -> dict[str, Any]:
        """``reset``'s options, checked: at most one of ``episode_index`` (an integer) and
        ``episode_id`` (a string or an integer), nothing else."""
        if options is not None and not isinstance(options, Mapping):
            raise InvalidArgumentError(
                f"options={options!r} must be a dict (or None), e.g. options={{'episode_index': 0}} or options={{'episode_id': '3'}}"
            )
        options = dict(options or {})
        unknown = set(options) - {"episode_id", "episode_index"}
        if unknown:
            raise InvalidArgumentError(f"Unknown reset options {sorted(unknown)}; valid options are 'episode_id' and 'episode_index'")
        if len(options) > 1:
            raise InvalidArgumentError(f"reset options {options} name an episode twice; pass one of 'episode_id' and 'episode_index'")
        if "episode_index" in options:
            options["episode_index"] = check_int("options['episode_index']", options["episode_index"], 0)
        if "episode_id" in options:
            value = options["episode_id"]
            if isinstance(value, bool) or not isinstance(value, (str, int, np.integer)):
                raise InvalidArgumentError(
                    f"options['episode_id']={value!r} must be an episode's id (a string, as in the dataset file, or an integer)"
                )
            options["episode_id"] = str(value)
        return options

    def _choose_episode(self, options: dict[str, Any]) -> Episode:
        episodes = self.dataset.episodes
        if "episode_id" in options:
            return self.dataset.get(options["episode_id"])
        if "episode_index" in options:
            index = options["episode_index"]
            if not index < len(episodes):
                raise InvalidArgumentError(f"options['episode_index']={index} is out of range; the dataset has {len(episodes)} episodes")
            return episodes[index]
        # Random draws stay in one scene for scene_repeat_episodes episodes (Habitat's
        # max_scene_repeat_episodes): loading a scene costs far more than an episode's steps.
        # The scene is drawn with probability proportional to its episode count, so every
        # episode stays equally likely in the long run.
        key = (id(episodes), len(episodes), id(episodes[0]), id(episodes[-1]))
        if key != self._by_scene_key:  # the dataset's list was edited: index it again
            self._by_scene = {}
            for index, episode in enumerate(episodes):
                self._by_scene.setdefault(episode.scene_id, []).append(index)
            self._by_scene_key = key
        if self._draw_scene is None or self._scene_draws >= self.scene_repeat_episodes or self._draw_scene not in self._by_scene:
            self._draw_scene = episodes[int(self.np_random.integers(len(episodes)))].scene_id
            self._scene_draws = 0
        self._scene_draws += 1
        in_scene = self._by_scene[self._draw_scene]
        return episodes[in_scene[int(self.np_random.integers(len(in_scene)))]]

    def _observe(self) -> dict[str, Any]:
        state = self.sim.get_agent_state()
        obs: dict[str, Any] = {}
        if any(s in self.sensors for s in ("rgb", "depth", "semantic")):
            # The camera as mounted now (legged bodies bob it with their gait).
            frame = self.sim.render([(state, self.embodiment.mounted_camera(self._camera))])[0]
            self._last_frame = frame
            obs.update({k: v for k, v in frame.items() if k in self.sensors})
        else:
            self._last_frame = {}
        if "gps" in self.sensors or "compass" in self.sensors:
            start_yaw = self._start.yaw
            offset = state.position - self._start.position
            # Habitat's EpisodicGPS: (forward, right) in the start frame; forward is -z at yaw 0.
            cos_y, sin_y = math.cos(start_yaw), math.sin(start_yaw)
            forward = -(offset[2] * cos_y + offset[0] * sin_y)
            right = offset[0] * cos_y - offset[2] * sin_y
            if "gps" in self.sensors:
                obs["gps"] = np.array([forward, right], dtype=np.float32)
            if "compass" in self.sensors:
                obs["compass"] = np.array([wrap_angle(state.yaw - start_yaw)], dtype=np.float32)
        for name in self.task.goal_sensors:
            if name in self.sensors:
                value = self._goal_obs[name]
                # A fresh copy each step: users may keep and modify what they are given.
                obs[name] = value.copy() if isinstance(value, np.ndarray) else value
        return obs

    def _info(self) -> dict[str, Any]:
        info = self.measures.as_info()
        info["episode_id"] = self.episode.episode_id if self.episode else None
        info["scene_id"] = self.episode.scene_id if self.episode else None
        return info

    # -- goal camera (used by wrappers) -------------------------------------------------------
    def render_goal_observations(self, camera: CameraSpec | None = None) -> dict[str, Any]:
        """Render the current episode's goal observations with another goal camera (no change to the episode)."""
        if self.episode is None:
            raise RuntimeError("Call reset() before render_goal_observations()")
        return self.task.goal_observations(self.sim, self.episode, self.embodiment.camera, camera)

    def retake_goal(self, camera: CameraSpec | None) -> dict[str, Any]:
        """Re-take the current episode's goal with ``camera`` (``None``: the task's own); the new
        goal observations are returned and used for the rest of the episode."""
        self._goal_obs = self.render_goal_observations(camera)
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._goal_obs.items() if k in self.sensors}

    # -- privileged access (oracles, evaluation) -------------------------------------------------
    @property
    def goal_points(self) -> np.ndarray:
        """Privileged: the points the distance to goal is measured to."""
        return self._goal_points.copy()

    # -- rendering ---------------------------------------------------------------------------------
    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from navgym.envs.visualize import side_by_side

        frame = self._last_frame.get("rgb")
        if frame is None:
            camera = self.embodiment.mounted_camera(self._camera.with_(outputs=("rgb",)))
            frame = self.sim.render([(self.sim.get_agent_state(), camera)])[0]["rgb"]
        return side_by_side(frame, self.sim, self._path, self._goal_points, self.sim.get_agent_state())

    def close(self) -> None:
        for sim in self._sims.values():
            sim.close()
        self._sims.clear()
        self._sim = None
