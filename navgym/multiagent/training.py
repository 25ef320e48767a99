"""One shared SB3 PPO policy for every agent of a parallel env, through SuperSuit:
``black_death_v3`` -> ``pettingzoo_env_to_vec_env_v1`` -> ``concat_vec_envs_v1(...,
base_class="stable_baselines3")`` (docs/multiagent.md, ``scripts/train_multiagent_ppo.py``).

SuperSuit's ``black_death`` needs ``Box`` observations and its vector env needs the same spaces for
every agent: :class:`FlattenObservations` turns navgym's ``Dict`` observations into one float32
``Box``, and the team must share one embodiment and one observation layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from navgym.errors import InvalidArgumentError
from navgym.multiagent import require

require()

from pettingzoo.utils.wrappers import BaseParallelWrapper  # noqa: E402


def _require_supersuit():
    try:
        import stable_baselines3  # noqa: F401
        import supersuit
    except ImportError as exc:
        raise gym.error.DependencyNotInstalled(
            "training on a navgym parallel env needs SuperSuit and stable-baselines3: pip install 'navgym[multiagent]'"
        ) from exc
    return supersuit


class FlattenObservations(BaseParallelWrapper):
    """Each agent's ``Dict`` observation as one flat float32 ``Box`` (Gymnasium's ``flatten``:
    images and vectors in key order, ``Discrete`` goals one-hot). ``Text`` goals cannot be
    flattened: leave them out with ``sensors=``."""

    def __init__(self, env):
        super().__init__(env)
        self._flat: dict[str, spaces.Box] = {}
        for agent in env.possible_agents:
            space = env.observation_space(agent)
            bad = [k for k, s in getattr(space, "spaces", {}).items() if isinstance(s, spaces.Text)]
            if bad:
                raise InvalidArgumentError(
                    f"sensors {bad} of {agent} are Text, which the shared MLP policy cannot read (flattened they would be "
                    "one-hot character codes); pass sensors=(...) without them (scripts/train_multiagent_ppo.py: --sensors), "
                    "e.g. TextNav's 'textgoal_category' instead of 'textgoal'"
                )
            flat = spaces.flatten_space(space)
            self._flat[agent] = spaces.Box(flat.low.astype(np.float32), flat.high.astype(np.float32), dtype=np.float32)

    def observation_space(self, agent: str) -> spaces.Box:
        return self._flat[agent]

    def _flatten(self, observations: dict[str, Any]) -> dict[str, np.ndarray]:
        return {a: spaces.flatten(self.env.observation_space(a), o).astype(np.float32) for a, o in observations.items()}

    def reset(self, seed: int | None = None, options: dict | None = None):
        observations, infos = self.env.reset(seed=seed, options=options)
        return self._flatten(observations), infos

    def step(self, actions):
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        return self._flatten(observations), rewards, terminations, truncations, infos


def _describe(space: gym.Space) -> str:
    if isinstance(space, spaces.Dict):
        return "{" + ", ".join(f"{k}: {getattr(s, 'shape', None) or type(s).__name__}" for k, s in space.spaces.items()) + "}"
    return repr(space)


def shared_spaces(flat_env) -> tuple[spaces.Box, gym.Space]:
    """The one observation space and one action space every agent of ``flat_env`` (a
    :class:`FlattenObservations`) has, as one shared policy needs; a team whose agents differ
    (embodiments, env ids, sensors, resolution) is refused naming the two agents that differ."""
    agents = list(flat_env.possible_agents)
    first = agents[0]
    inner = flat_env.env
    fix = ("one shared policy needs the same observations and actions for every agent: give all agents one embodiment "
           "(embodiments='habitat' or one name), one env id's sensors and one resolution; to compare agents of different "
           "bodies in one scene, evaluate them as a team (navgym.multiagent.evaluate.evaluate_team)")
    for agent in agents[1:]:
        if flat_env.observation_space(agent) != flat_env.observation_space(first):
            raise InvalidArgumentError(
                f"agents {first!r} and {agent!r} observe different things: {first} {_describe(inner.observation_space(first))} "
                f"({flat_env.observation_space(first).shape[0]} numbers flattened), {agent} {_describe(inner.observation_space(agent))} "
                f"({flat_env.observation_space(agent).shape[0]} numbers); {fix}"
            )
        if flat_env.action_space(agent) != flat_env.action_space(first):
            raise InvalidArgumentError(
                f"agents {first!r} and {agent!r} have different actions: {first} {flat_env.action_space(first)}, "
                f"{agent} {flat_env.action_space(agent)}; {fix}"
            )
    return flat_env.observation_space(first), flat_env.action_space(first)


def make_vec_env(par_env, num_vec_envs: int = 1, num_cpus: int = 0):
    """The SB3 ``VecEnv`` of a parallel env: flattened, ``black_death_v3`` (finished agents get
    zero observations until the episode ends), one vector slot per agent, ``num_vec_envs`` copies
    (``num_cpus`` worker processes; 0 runs them in this process)."""
    ss = _require_supersuit()
    flat = FlattenObservations(par_env)
    shared_spaces(flat)  # SuperSuit's own check fails with an AssertionError suggesting padding
    wrapped = ss.black_death_v3(flat)
    vec = ss.pettingzoo_env_to_vec_env_v1(wrapped)
    return ss.concat_vec_envs_v1(vec, num_vec_envs, num_cpus=num_cpus, base_class="stable_baselines3")


@dataclass
class TrainResult:
    """Where the model went and how long training took."""

    model_path: Path
    timesteps: int
    seconds: float


def train_shared_ppo(
    env_ids: str | Sequence[str] = "ImageNav-ProcHouseNear-v0",
    num_agents: int = 2,
    timesteps: int = 2048,
    out: str | Path = "runs/multiagent_ppo",
    seed: int = 0,
    num_vec_envs: int = 1,
    ppo_kwargs: dict[str, Any] | None = None,
    torch_threads: int = 1,
    **env_kwargs: Any,
) -> TrainResult:
    """Train one PPO policy (``MlpPolicy`` on flattened observations) shared by every agent.

    Args:
        env_ids, num_agents, **env_kwargs: The parallel env (:func:`navgym.multiagent.parallel_env`);
            every agent needs the same embodiment and sensors. Its ``split`` is ``"train"`` unless
            given (``gym.make``'s default, ``"val"``, is for evaluation: training there would
            leave no unseen episodes to evaluate on).
        timesteps: Agent steps in total (each vector slot is one agent).
        out: Folder for ``model.zip`` and, with tensorboard installed (the ``rl`` extra), TensorBoard's
            ``tb/shared_ppo_<n>`` (``ppo_kwargs['tensorboard_log']`` chooses another).
        seed: Seed of the env resets and PPO.
        ppo_kwargs: PPO settings (``n_steps``, ``batch_size``, ``learning_rate`` ...).
        torch_threads: ``torch.set_num_threads`` while training.
    """
    import time

    _require_supersuit()
    import torch
    from stable_baselines3 import PPO

    from navgym.multiagent import parallel_env

    if isinstance(timesteps, bool) or not isinstance(timesteps, (int, np.integer)) or timesteps < 1:
        raise InvalidArgumentError(f"timesteps={timesteps!r} must be an integer >= 1")
    torch.set_num_threads(int(torch_threads))
    env_kwargs.setdefault("split", "train")
    par = parallel_env(env_ids, num_agents, **env_kwargs)
    par.reset(seed=seed)  # seeds the env's stream; SB3's later resets (unseeded) continue it
    vec = make_vec_env(par, num_vec_envs=num_vec_envs)
    settings = {"n_steps": 128, "batch_size": 64, "n_epochs": 4, "verbose": 0, **(ppo_kwargs or {})}
    # SuperSuit's ConcatVecEnv has no seed(), which PPO(seed=...) calls: seed torch/numpy here instead.
    from stable_baselines3.common.utils import set_random_seed

    set_random_seed(seed)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    from stable_baselines3.common import utils as sb3_utils

    if sb3_utils.SummaryWriter is not None:  # SB3's own test: torch's TensorBoard writer imports (tensorboard, the [rl] extra)
        settings.setdefault("tensorboard_log", str(out_dir / "tb"))
    model = PPO("MlpPolicy", vec, device="cpu", **settings)
    if settings.get("tensorboard_log") is None:  # SB3 would make an empty SB3-<date> folder in the system temp folder
        from stable_baselines3.common.logger import configure

        model.set_logger(configure(str(out_dir), ["stdout"] if settings.get("verbose") else []))
    start = time.perf_counter()
    model.learn(total_timesteps=int(timesteps), tb_log_name="shared_ppo")
    seconds = time.perf_counter() - start
    path = out_dir / "model.zip"
    model.save(path)
    vec.close()
    return TrainResult(path, int(model.num_timesteps), seconds)


def load_shared_policy(path: str | Path, par_env, device: str = "cpu"):
    """The policy of :func:`train_shared_ppo`'s ``model.zip``, for :func:`shared_policy_actions`,
    loaded without unpickling anything.

    ``PPO.load`` would un-cloudpickle the zip's ``data`` entry (spaces, schedules, the policy
    class), which can run code from whoever made the file. This rebuilds SB3's ``MlpPolicy`` on
    ``par_env``'s flattened spaces (the env the model acts in), takes ``policy_kwargs`` from the
    ``data`` entry only when they are plain JSON, and reads ``policy.pth`` with
    ``torch.load(weights_only=True)``.

    Raises:
        InvalidArgumentError: the file is not an SB3 zip with ``policy.pth``, holds more than
            weights, or was trained on other observations or actions than ``par_env``'s agents have.
    """
    import io
    import json
    import pickle
    import zipfile

    import torch
    from stable_baselines3.common.policies import ActorCriticPolicy

    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise InvalidArgumentError(f"path={str(path)!r} {what}; give the model.zip that train_shared_ppo wrote")
    observation_space, action_space = shared_spaces(FlattenObservations(par_env))
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "policy.pth" not in names:
                raise InvalidArgumentError(f"path={str(path)!r} has no policy.pth: it is not a stable-baselines3 model zip")
            data = json.loads(archive.read("data")) if "data" in names else {}
            weights = archive.read("policy.pth")
    except (zipfile.BadZipFile, ValueError) as exc:
        if isinstance(exc, InvalidArgumentError):
            raise
        raise InvalidArgumentError(f"path={str(path)!r} is not a readable stable-baselines3 model zip ({exc})") from None
    policy_kwargs = data.get("policy_kwargs") or {}
    if not isinstance(policy_kwargs, dict) or ":serialized:" in policy_kwargs:
        raise InvalidArgumentError(
            f"path={str(path)!r} was trained with policy_kwargs that are not plain JSON (e.g. an activation class), which navgym "
            "does not unpickle; build PPO('MlpPolicy', make_vec_env(par_env), policy_kwargs=<the same>) and call "
            "model.set_parameters(path) (weights only)"
        )
    try:
        state = torch.load(io.BytesIO(weights), map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        raise InvalidArgumentError(
            f"path={str(path)!r}: policy.pth cannot be loaded with torch.load(weights_only=True) ({type(exc).__name__}); "
            "navgym never unpickles model files"
        ) from None
    use_sde = data.get("use_sde", False)  # PPO passes it to the policy beside policy_kwargs (a plain JSON bool)
    if not isinstance(use_sde, bool):
        raise InvalidArgumentError(f"path={str(path)!r} records use_sde={use_sde!r}; expected true or false")
    policy = ActorCriticPolicy(observation_space, action_space, lambda _: 0.0, use_sde=use_sde, **policy_kwargs)
    try:
        policy.load_state_dict(state)
    except RuntimeError as exc:
        raise InvalidArgumentError(
            f"path={str(path)!r} does not fit this env's agents ({observation_space.shape[0]} flattened observation numbers, "
            f"{action_space}): load it into the env ids, sensors, resolution and embodiment it was trained with ({_first_line(exc)})"
        ) from None
    policy.to(device)
    policy.set_training_mode(False)
    return policy


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[1:3] if len(lines) > 1 else lines)


def shared_policy_actions(model, par_env, observations: dict[str, Any], deterministic: bool = True) -> dict[str, Any]:
    """Actions of a trained shared policy (a PPO model, or :func:`load_shared_policy`'s policy)
    for the live agents of an (unwrapped) parallel env."""
    actions = {}
    for agent, obs in observations.items():
        if agent not in par_env.agents:
            continue
        flat = spaces.flatten(par_env.observation_space(agent), obs).astype(np.float32)
        action, _ = model.predict(flat, deterministic=deterministic)
        actions[agent] = action
    return actions
