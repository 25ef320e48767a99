"""Imitation before reinforcement: demonstrations from the shortest-path follower, behaviour
cloning (BC) of a recurrent SB3 policy on them, and DAgger rounds that relabel the learner's own
states with the follower's action.

The follower is a privileged oracle (it reads the simulator's shortest path, as
:class:`navgym.wrappers.PrivilegedObservation`'s ``oracle_action`` does): it supervises training
only; the trained policy sees what any RSRNav policy sees (``rgb`` and ``imagegoal``). Which
follower labels the states is the ``teacher`` (:data:`TEACHERS`): the oracle agent's rule, one
that walks on to the goal photo's pose, or one that first turns until the goal photo's scene is in
view and then does the same.

* :func:`collect`: run episodes with the oracle (``beta=1``) or with a learner checkpoint mixed
  with the oracle (``beta`` < 1: each step is the oracle's with probability ``beta``), recording
  the images, the oracle's label for every state, the goal's distance and bearing from the agent
  (privileged, like the label: a target for :func:`behaviour_cloning`'s auxiliary loss, never an
  input), the shaped reward and the outcome. Chunks of episodes run in worker processes with a
  progress bar; oracle demonstrations are cached.
* :func:`behaviour_cloning`: whole episodes through the policy's LSTM (as PPO's updates do), a
  cross-entropy loss on the oracle's labels plus a value loss on the discounted returns (so the
  critic PPO starts from is not random), optionally plus an auxiliary loss predicting the goal's
  distance and bearing from the encoder's features (``aux_coef``).
* :func:`pretrain`: oracle demonstrations, BC, then ``dagger_rounds`` rounds of collect-with-the-
  learner, aggregate, BC again; writes ``out/pretrain.zip`` (a checkpoint
  :func:`navgym.training.train` fine-tunes with PPO) and ``out/pretrain.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from navgym.core.paths import cache_lock, replace_atomically
from navgym.errors import InvalidArgumentError

#: The observations a demonstration keeps (RSRNav's sensors).
SENSORS = ("rgb", "imagegoal")
#: Version of the demonstration files' layout and of what :func:`collect` records (2: with
#: ``goal_pose``; :meth:`Demonstrations.load` still reads format 1, without it).
DEMO_FORMAT = 2
#: Formats :meth:`Demonstrations.load` reads.
DEMO_FORMATS_READ = (1, 2)
#: Metres per unit of the distance target of :func:`behaviour_cloning`'s auxiliary loss (goals of
#: the ImageNav envs are a few metres away, so the target stays near the scale of sin and cos).
AUX_DISTANCE_SCALE = 5.0
#: Episodes per worker task (the progress bar's granularity).
CHUNK = 8
#: The teachers that label states (``bc_teacher``): ``"path"``, the shortest-path follower that
#: stops once well inside the success radius (the oracle agent's rule,
#: :func:`~navgym.wrappers.privileged.follow_shortest_path`); ``"view"``, the same path on to within
#: 0.3 m of where the goal photo was taken, then a turn to its heading before ``stop``
#: (:func:`~navgym.wrappers.privileged.follow_to_goal_view`: the stop state looks like the goal photo);
#: ``"look"``, the view teacher after a first turn, before any move, until the goal photo's scene is
#: in view (:class:`~navgym.wrappers.privileged.LookThenGoalView`: the first turns can be told from
#: the agent's own inputs).
TEACHERS = ("path", "view", "look")


@dataclass
class Demonstrations:
    """Episodes of observations and the oracle's action at each of them.

    Attributes:
        rgb: One ``(T, H, W, 3)`` uint8 array per episode (the egocentric view at each step).
        goal: One ``(H, W, 3)`` uint8 goal photo per episode.
        labels: One ``(T,)`` array per episode: the oracle's action in each state (the target).
        actions: One ``(T,)`` array per episode: the action taken (the oracle's, or the learner's
            in DAgger rounds).
        rewards: One ``(T,)`` float32 array per episode: the reward of each step.
        success: Whether each episode succeeded.
        episode_index: The env's episode index of each episode.
        goal_pose: One ``(T, 3)`` float32 array per episode: the goal as seen from the agent in
            each state (before its action), ``[distance_m, sin(bearing), cos(bearing)]``
            (:func:`goal_pose`). Empty for demonstrations of format 1.
    """

    rgb: list[np.ndarray] = field(default_factory=list)
    goal: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    rewards: list[np.ndarray] = field(default_factory=list)
    success: list[bool] = field(default_factory=list)
    episode_index: list[int] = field(default_factory=list)
    goal_pose: list[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rgb)

    @property
    def steps(self) -> int:
        return int(sum(len(a) for a in self.labels))

    def extend(self, other: "Demonstrations") -> "Demonstrations":
        for name in ("rgb", "goal", "labels", "actions", "rewards", "success", "episode_index", "goal_pose"):
            getattr(self, name).extend(getattr(other, name))
        return self

    @property
    def has_goal_pose(self) -> bool:
        """Whether every episode has its goal poses (not so after extending with format-1 ones)."""
        return len(self.goal_pose) == len(self.labels) > 0

    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` (plain arrays, no pickles), atomically. Goal poses are written only
        when every episode has them (a partial set could not be matched to its episodes when read)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lengths = np.array([len(a) for a in self.labels], dtype=np.int64)
        empty_rgb = np.zeros((0, 1, 1, 3), np.uint8)
        empty_pose = np.zeros((0, 3), np.float32)
        arrays = {
            "format": np.array(DEMO_FORMAT),
            "lengths": lengths,
            "rgb": np.concatenate(self.rgb) if self.rgb else empty_rgb,
            "goal": np.stack(self.goal) if self.goal else empty_rgb,
            "labels": np.concatenate(self.labels).astype(np.int64) if self.labels else np.zeros(0, np.int64),
            "actions": np.concatenate(self.actions).astype(np.int64) if self.actions else np.zeros(0, np.int64),
            "rewards": np.concatenate(self.rewards).astype(np.float32) if self.rewards else np.zeros(0, np.float32),
            "success": np.array(self.success, dtype=bool),
            "episode_index": np.array(self.episode_index, dtype=np.int64),
            "goal_pose": np.concatenate(self.goal_pose).astype(np.float32) if self.has_goal_pose else empty_pose,
        }
        return replace_atomically(path, lambda tmp: np.savez(tmp, **arrays), suffix=".tmp.npz")

    @classmethod
    def load(cls, path: str | Path) -> "Demonstrations":
        """Read a file :meth:`save` wrote (``allow_pickle=False``); format-1 files (older
        navgym) have no goal poses: ``goal_pose`` is then empty."""
        try:
            with np.load(path, allow_pickle=False) as data:
                version = int(data["format"])
                if version not in DEMO_FORMATS_READ:
                    raise InvalidArgumentError(
                        f"demonstrations={str(path)!r} have format {version}; this navgym reads formats {list(DEMO_FORMATS_READ)}: "
                        "collect them again with this navgym"
                    )
                bounds = np.concatenate([[0], np.cumsum(data["lengths"])])
                out = cls()
                rgb, labels, actions, rewards = data["rgb"], data["labels"], data["actions"], data["rewards"]
                for i in range(len(data["lengths"])):
                    a, b = bounds[i], bounds[i + 1]
                    out.rgb.append(rgb[a:b])
                    out.labels.append(labels[a:b])
                    out.actions.append(actions[a:b])
                    out.rewards.append(rewards[a:b])
                poses = data["goal_pose"] if version >= 2 else np.zeros((0, 3), np.float32)
                if len(poses) and len(poses) == bounds[-1]:  # empty: saved from demonstrations without (all) goal poses
                    out.goal_pose = [poses[bounds[i] : bounds[i + 1]] for i in range(len(data["lengths"]))]
                out.goal = list(data["goal"])
                out.success = [bool(s) for s in data["success"]]
                out.episode_index = [int(i) for i in data["episode_index"]]
                return out
        except (OSError, KeyError, ValueError) as exc:
            if isinstance(exc, InvalidArgumentError):
                raise
            raise InvalidArgumentError(f"demonstrations={str(path)!r} cannot be read ({exc}); delete it and collect again") from exc


# -- collection ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CollectSpec:
    """What :func:`collect` runs (picklable, for worker processes)."""

    env_id: str
    split: str = "train"
    goal_camera: str = "agent"
    env_kwargs: tuple[tuple[str, Any], ...] = ()
    policy: str | None = None  # a learner checkpoint (DAgger); None: the oracle acts
    beta: float = 1.0  # probability that a step is the oracle's action
    deterministic: bool = False  # the learner's actions: sampled (default) or most likely
    seed: int = 0
    teacher: str = "path"  # the labels: a key of TEACHERS

    def __post_init__(self):
        check_teacher("teacher", self.teacher)


def check_teacher(name: str, value: Any) -> None:
    """``value`` (parameter ``name``) must be one of :data:`TEACHERS`."""
    if value not in TEACHERS:
        raise InvalidArgumentError(f"{name}={value!r} is not a teacher; use one of {list(TEACHERS)}")


def make_teacher(teacher: str) -> Callable[[Any], int]:
    """A fresh labeller for one episode: called with the env, it returns the action index
    ``teacher`` (a key of :data:`TEACHERS`) takes in the env's current state. Make one per episode
    (the ``look`` teacher remembers whether it has looked)."""
    from navgym.wrappers.privileged import LookThenGoalView, follow_shortest_path, follow_to_goal_view

    check_teacher("teacher", teacher)
    follow = {"path": follow_shortest_path, "view": follow_to_goal_view}.get(teacher) or LookThenGoalView()
    return lambda env: env.unwrapped.actions.index(follow(env))


_WORKER_ENVS: dict[Any, Any] = {}


def _worker_env(spec: CollectSpec):
    # env_kwargs may hold dicts (sim_options={"render_backend": ...}): key by their JSON text.
    key = (spec.env_id, spec.split, spec.goal_camera, json.dumps(spec.env_kwargs, sort_keys=True, default=str))
    if key not in _WORKER_ENVS:
        from navgym.training.envs import make_training_env

        # No PrivilegedObservation: the teacher's label is computed once per state, in _run_chunk.
        _WORKER_ENVS[key] = make_training_env(spec.env_id, spec.split, spec.goal_camera, "rsrnav", agent="rsrnav", **dict(spec.env_kwargs))
    return _WORKER_ENVS[key]


def goal_pose(env) -> np.ndarray:
    """Where the goal of ``env``'s current ImageNav episode is, seen from the agent now:
    ``[distance_m, sin(bearing), cos(bearing)]`` float32. The distance is the straight line on the
    ground (x-z plane); the bearing is the goal's direction from the agent's heading (0: straight
    ahead, positive: to the left, counter-clockwise as navgym's yaw). Privileged (the simulator's
    state), so only a training target."""
    nav = env.unwrapped
    # An ImageNav episode has one goal, the goal photo's camera position (the task's goal_points).
    return pose_from(nav.sim.get_agent_state(), nav.episode.goals[0].position)


def pose_from(state, position) -> np.ndarray:
    """:func:`goal_pose`'s ``[distance_m, sin(bearing), cos(bearing)]`` of a point ``position``
    (x, y, z) seen from an agent in ``state`` (an :class:`~navgym.core.specs.AgentState`)."""
    from navgym.wrappers.privileged import to_ego

    ahead, left = to_ego(state, position)[0]
    bearing = math.atan2(left, ahead)  # atan2(0, 0) = 0: a unit (sin, cos) even on the goal
    return np.array([math.hypot(ahead, left), math.sin(bearing), math.cos(bearing)], np.float32)


def _run_chunk(spec: CollectSpec, indices: list[int], threads: int = 1) -> Demonstrations:
    """Episodes ``indices`` of ``spec``'s env (in a worker process or in this one)."""
    from navgym.evaluation import episode_problem

    env = _worker_env(spec)
    learner = None
    if spec.policy is not None:
        import torch

        from navgym.agents.rsrnav.agent import RSRNavAgent
        from navgym.agents.rsrnav.model import load_policy

        torch.set_num_threads(threads)
        learner = RSRNavAgent(load_policy(spec.policy)[0], deterministic=spec.deterministic)
    out = Demonstrations()
    for index in indices:
        rng = np.random.default_rng([spec.seed, index])
        problem = episode_problem(env, {"episode_index": index})  # asked, not raised: see its docstring
        if problem is not None:  # a start off the navigable area: no demonstration of it
            warnings.warn(f"no demonstration of episode index {index}: {problem}", stacklevel=2)
            continue
        obs, info = env.reset(seed=spec.seed + index, options={"episode_index": index})
        if learner is not None:
            import torch

            learner.reset()
            torch.manual_seed(int(rng.integers(2**31)))  # the learner's sampled actions: the same in any process
        teacher = make_teacher(spec.teacher)
        rgb, labels, actions, rewards, poses = [], [], [], [], []
        goal = np.asarray(obs["imagegoal"], dtype=np.uint8)
        done = False
        while not done:
            label = teacher(env)
            proposed = learner.policy(obs) if learner is not None else label  # the learner sees only rgb + imagegoal
            action = label if learner is None or rng.random() < spec.beta else proposed
            rgb.append(np.asarray(obs["rgb"], dtype=np.uint8))
            poses.append(goal_pose(env))  # the state the label is for (before the action)
            labels.append(label)
            actions.append(action)
            obs, reward, terminated, truncated, info = env.step(action)
            rewards.append(float(reward))
            done = terminated or truncated
        out.rgb.append(np.stack(rgb))
        out.goal.append(goal)
        out.labels.append(np.array(labels, np.int64))
        out.actions.append(np.array(actions, np.int64))
        out.rewards.append(np.array(rewards, np.float32))
        out.goal_pose.append(np.stack(poses).astype(np.float32))
        out.success.append(bool(info.get("success", False)))
        out.episode_index.append(int(index))
    return out


def episode_count(env_id: str, split: str = "train", **env_kwargs: Any) -> int:
    """How many episodes ``env_id``'s ``split`` has with ``env_kwargs``."""
    import gymnasium as gym

    import navgym  # noqa: F401

    env = gym.make(env_id, split=split, **env_kwargs)
    try:
        return len(env.unwrapped.dataset.episodes)
    finally:
        env.close()


def collect(spec: CollectSpec, indices: Iterable[int], workers: int = 1, progress: bool = True, desc: str = "demonstrations") -> Demonstrations:
    """Run episodes ``indices`` of ``spec`` and record them (see the module docstring).

    ``workers`` > 1 runs chunks of :data:`CHUNK` episodes in that many processes (``spawn``; each
    builds its env once and uses one torch thread); results come back in ``indices``' order, so
    the same call gives the same demonstrations whatever the worker count.
    """
    indices = [int(i) for i in indices]
    chunks = [indices[i : i + CHUNK] for i in range(0, len(indices), CHUNK)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(indices), unit="episode", desc=desc, dynamic_ncols=True)
    results: list[Demonstrations | None] = [None] * len(chunks)
    try:
        if workers <= 1 or len(chunks) <= 1:
            for i, chunk in enumerate(chunks):
                results[i] = _run_chunk(spec, chunk)
                if bar is not None:
                    bar.update(len(chunk))
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=mp.get_context("spawn")) as pool:
                futures = {pool.submit(_run_chunk, spec, chunk): i for i, chunk in enumerate(chunks)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    if bar is not None:
                        bar.update(len(chunks[futures[future]]))
    finally:
        if bar is not None:
            bar.close()
    out = Demonstrations()
    for part in results:
        out.extend(part)
    return out


def demonstration_cache_path(spec: CollectSpec, indices: list[int]) -> Path:
    """Where :func:`oracle_demonstrations` caches ``spec``'s episodes ``indices``: under the
    navgym cache folder, keyed by the env id, split, goal camera, env options, episodes, seed,
    teacher and navgym's version."""
    from navgym import __version__
    from navgym.core.paths import cache_dir

    fields = {"format": DEMO_FORMAT, "navgym": __version__, "spec": [spec.env_id, spec.split, spec.goal_camera, list(map(list, spec.env_kwargs)), spec.seed],
              "indices": [int(i) for i in indices]}
    if spec.teacher != "path":  # the default teacher keeps the keys caches had before teachers were added
        fields["teacher"] = spec.teacher
    key = json.dumps(fields, sort_keys=True, default=str)
    return cache_dir() / "demonstrations" / f"{spec.env_id}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def oracle_demonstrations(spec: CollectSpec, indices: list[int], workers: int = 1, progress: bool = True, cache: bool = True,
                          log: Callable[[str], None] | None = None) -> Demonstrations:
    """The oracle's (``spec.teacher``'s) demonstrations of episodes ``indices``, cached
    (:func:`demonstration_cache_path`; runs that need the same missing ones at once record them
    once, :func:`navgym.core.paths.cache_lock`; ``log`` is told when one waits)."""
    if spec.policy is not None:
        raise InvalidArgumentError("oracle_demonstrations() records the oracle; pass a spec without policy=")
    if not cache:
        return collect(spec, indices, workers=workers, progress=progress, desc="oracle demonstrations")
    path = demonstration_cache_path(spec, indices)
    with cache_lock(path, log):  # runs needing the same missing demonstrations record them once
        if path.exists():
            return Demonstrations.load(path)
        demos = collect(spec, indices, workers=workers, progress=progress, desc="oracle demonstrations")
        demos.save(path)
    return demos


# -- behaviour cloning --------------------------------------------------------------------------------------
def discounted_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    out = np.zeros(len(rewards), np.float32)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = float(rewards[t]) + gamma * running
        out[t] = running
    return out


def _batches(lengths: list[int], max_steps: int, rng: np.random.Generator) -> list[list[int]]:
    """Episode index groups of about ``max_steps`` steps (padded to the longest of each group):
    episodes shuffled, then sorted by length inside windows so padding stays small."""
    order = rng.permutation(len(lengths))
    window = 64
    groups: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for start in range(0, len(order), window):
        for i in sorted(order[start : start + window], key=lambda i: lengths[i]):
            if current and max(longest, lengths[i]) * (len(current) + 1) > max_steps:
                groups.append(current)
                current, longest = [], 0
            current.append(int(i))
            longest = max(longest, lengths[i])
    if current:
        groups.append(current)
    return [groups[i] for i in rng.permutation(len(groups))]


def _padded(policy, demos: Demonstrations, group: list[int], returns: list[np.ndarray]):
    """One batch: observations (sequence-major: episode 0's steps, then episode 1's, ... each
    padded to the longest), labels, returns, mask, episode starts and zero LSTM states."""
    import torch
    from sb3_contrib.common.recurrent.type_aliases import RNNStates

    length = max(len(demos.labels[i]) for i in group)
    n, device = len(group), policy.device
    height, width = demos.rgb[group[0]].shape[1:3]
    rgb = np.zeros((n, length, height, width, 3), np.uint8)
    goal = np.zeros((n, length, height, width, 3), np.uint8)
    labels = np.zeros((n, length), np.int64)
    targets = np.zeros((n, length), np.float32)
    mask = np.zeros((n, length), np.float32)
    for row, i in enumerate(group):
        t = len(demos.labels[i])
        rgb[row, :t] = demos.rgb[i]
        goal[row, :] = demos.goal[i]
        labels[row, :t] = demos.labels[i]
        targets[row, :t] = returns[i]
        mask[row, :t] = 1.0
    starts = np.zeros((n, length), np.float32)
    starts[:, 0] = 1.0

    def image(a: np.ndarray):  # channel-first and contiguous, as SB3's rollout buffer gives them (a strided view is slower)
        return torch.as_tensor(np.ascontiguousarray(a.reshape(n * length, height, width, 3).transpose(0, 3, 1, 2))).float().to(device)

    obs = {"rgb": image(rgb), "imagegoal": image(goal)}
    lstm = policy.lstm_actor
    zeros = torch.zeros(lstm.num_layers, n, lstm.hidden_size, device=device)
    critic = policy.lstm_critic if policy.lstm_critic is not None else lstm
    zeros_vf = torch.zeros(critic.num_layers, n, critic.hidden_size, device=device)
    states = RNNStates((zeros, zeros.clone()), (zeros_vf, zeros_vf.clone()))
    flat = lambda a: torch.as_tensor(a.reshape(-1), device=device)  # noqa: E731
    return obs, flat(labels), flat(targets), flat(mask), flat(starts), states


def _goal_pose_targets(demos: Demonstrations, group: list[int], device):
    """The auxiliary loss's targets of a batch, laid out as :func:`_padded`'s labels (zeros on
    padded steps): ``[distance / AUX_DISTANCE_SCALE, sin(bearing), cos(bearing)]`` per step."""
    import torch

    length = max(len(demos.labels[i]) for i in group)
    targets = np.zeros((len(group), length, 3), np.float32)
    for row, i in enumerate(group):
        pose = demos.goal_pose[i]
        targets[row, : len(pose)] = pose
    targets[..., 0] /= AUX_DISTANCE_SCALE
    return torch.as_tensor(targets.reshape(-1, 3), device=device)


def _forward(policy, obs, states, starts):
    """Action logits, values and the actor's encoder features of a recurrent SB3 policy over
    padded sequences (what its ``evaluate_actions`` computes, with the logits kept for the loss and
    the accuracy, and the features for the auxiliary head: the encoder runs once)."""
    features = policy.extract_features(obs)
    pi_features, vf_features = (features, features) if policy.share_features_extractor else features
    latent_pi, _ = policy._process_sequence(pi_features, states.pi, starts, policy.lstm_actor)
    if hasattr(policy, "critic_input"):  # a privileged critic (demonstrations have no obs["critic"]: zeros)
        latent_vf, _ = policy._process_sequence(policy.critic_input(vf_features, obs), states.vf, starts, policy.lstm_critic)
    elif policy.lstm_critic is not None:
        latent_vf, _ = policy._process_sequence(vf_features, states.vf, starts, policy.lstm_critic)
    elif policy.shared_lstm:
        latent_vf = latent_pi.detach()
    else:
        latent_vf = policy.critic(vf_features)
    logits = policy.action_net(policy.mlp_extractor.forward_actor(latent_pi))
    values = policy.value_net(policy.mlp_extractor.forward_critic(latent_vf))
    return logits, values, pi_features


#: Step-size schedules of :func:`behaviour_cloning`.
LR_SCHEDULES = ("constant", "cosine")


def augment_images(images, generator, max_shift: float = 1 / 16, brightness: float = 0.2, contrast: float = 0.2):
    """Randomly altered copies of a batch of float images (N, C, H, W) in [0, 255], one draw per
    image from ``generator`` (a CPU ``torch.Generator``): a translation by up to ``max_shift`` of
    the side in each direction (edge pixels repeated; DrQ's random shift), then the pixels scaled
    about the image's mean by ``1 ± contrast`` and by ``1 ± brightness``, clipped to [0, 255].
    All-zero images (the padding of :func:`_padded`'s batches) stay all zero."""
    import torch
    import torch.nn.functional as F

    n, _, height, width = images.shape
    if n == 0:
        return images
    pad = max(1, round(max_shift * max(height, width)))
    shifts = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator)
    factors = 1 + (torch.rand(n, 2, generator=generator) * 2 - 1) * torch.tensor([contrast, brightness])
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate")
    shifted = torch.stack([padded[i, :, r : r + height, c : c + width] for i, (r, c) in enumerate(shifts.tolist())])
    factors = factors.to(images.device, images.dtype)
    mean = shifted.mean(dim=(1, 2, 3), keepdim=True)
    out = ((shifted - mean) * factors[:, 0, None, None, None] + mean) * factors[:, 1, None, None, None]
    return out.clamp_(0.0, 255.0)


def _batch_loss(policy, demos: Demonstrations, group: list[int], returns: list[np.ndarray], augmenter=None, vf_coef: float = 0.0,
                head=None, aux_coef: float = 0.0):
    """BC's loss on one batch of whole episodes (``group``), and its parts for the record:
    cross-entropy of the labels, plus ``vf_coef`` times the value error against ``returns``, plus
    ``aux_coef`` times the goal-pose error of ``head`` (when given); images altered by
    :func:`augment_images` with ``augmenter`` when given."""
    import torch.nn.functional as F

    obs, labels, targets, mask, starts, states = _padded(policy, demos, group, returns)
    if augmenter is not None:
        obs = {key: augment_images(images, augmenter) for key, images in obs.items()}
    logits, values, features = _forward(policy, obs, states, starts)
    count = mask.sum()
    bc_loss = (F.cross_entropy(logits, labels, reduction="none") * mask).sum() / count
    value_loss = (((values.flatten() - targets) ** 2) * mask).sum() / count
    loss = bc_loss + vf_coef * value_loss
    parts = {"bc_loss": bc_loss.item(), "value_loss": value_loss.item()}
    if head is not None:
        poses = _goal_pose_targets(demos, group, policy.device)
        aux_loss = (((head(features) - poses) ** 2).mean(dim=1) * mask).sum() / count
        loss = loss + aux_coef * aux_loss
        parts["aux_loss"] = aux_loss.item()
    predicted = logits.detach().argmax(dim=1)
    n = float(count)
    parts.update(loss=loss.item(), accuracy=float(((predicted == labels).float() * mask).sum()) / n, steps=n)
    return loss, parts


def behaviour_cloning(
    policy, demos: Demonstrations, epochs: int = 10, learning_rate: float = 5e-4, batch_steps: int = 256, gamma: float = 0.99,
    vf_coef: float = 0.05, max_grad_norm: float = 1.0, seed: int = 0, progress: bool = True,
    on_epoch: Callable[[dict[str, Any]], None] | None = None, aux_coef: float = 0.0, augment: bool = False,
    lr_schedule: str = "constant",
) -> list[dict[str, float]]:
    """Train ``policy`` (an sb3-contrib recurrent actor-critic) to take ``demos.labels``.

    Loss per batch: the mean cross-entropy of the oracle's labels under the policy (whole
    episodes through the LSTM from a zero state, as in PPO's updates) plus ``vf_coef`` times the
    mean squared error of the value against the discounted return of the recorded rewards (the
    default 0.05 keeps that error, tens at first with RSRNav's shaped reward, from swamping the
    cross-entropy in the shared encoder).
    ``aux_coef`` > 0 adds ``aux_coef`` times the mean squared error of a linear head on the actor's
    encoder features predicting ``[distance / 5 m, sin(bearing), cos(bearing)]`` of the goal
    (``demos.goal_pose``), so that the encoder is asked to represent where the goal photo was
    taken relative to the agent. Each call builds a fresh head (seeded with ``seed``, without
    touching torch's global random state), trains it alongside the policy and discards it: the
    policy's architecture and checkpoint are unchanged. ``aux_coef=0`` builds no head and trains
    exactly as without it.
    ``augment=True`` trains on randomly altered copies of the images (:func:`augment_images`: a
    shift of up to 1/16 of the image and a brightness and contrast change, drawn per image, the
    goal photo apart from the view); the labels are unchanged.
    ``lr_schedule`` is ``"constant"`` or ``"cosine"`` (the step size falls from ``learning_rate``
    to 0 over all the passes' minibatches).
    Uses its own Adam optimiser (the policy's PPO optimiser is left as it was).

    Returns one record per epoch: ``loss``, ``bc_loss``, ``value_loss``, ``accuracy`` (the share
    of states where the most likely action is the label), ``steps``, and with ``aux_coef`` > 0
    ``aux_loss`` (the auxiliary head's mean squared error).
    """
    import torch

    if len(demos) == 0:
        raise InvalidArgumentError("behaviour_cloning() got no demonstrations")
    if isinstance(aux_coef, bool) or not isinstance(aux_coef, (int, float)) or not math.isfinite(aux_coef) or aux_coef < 0:
        raise InvalidArgumentError(f"aux_coef={aux_coef!r} must be a finite number >= 0 (0: no auxiliary loss)")
    if aux_coef > 0 and not demos.has_goal_pose:
        raise InvalidArgumentError(
            f"aux_coef={aux_coef!r} needs the goal's pose in every state, but the demonstrations lack goal poses "
            f"({len(demos.goal_pose)} of {len(demos)} episodes have them; files of format 1 have none): collect them again, or use aux_coef=0"
        )
    if lr_schedule not in LR_SCHEDULES:
        raise InvalidArgumentError(f"lr_schedule={lr_schedule!r} is not a schedule; use one of {list(LR_SCHEDULES)}")
    returns = [discounted_returns(r, gamma) for r in demos.rewards]
    lengths = [len(a) for a in demos.labels]
    head = None
    params = [p for p in policy.parameters() if p.requires_grad]  # a frozen part (bc_freeze) stays as it is
    if aux_coef > 0:
        # Seeded in a forked RNG so the head's initial weights depend on ``seed`` only and the
        # global torch random state BC draws from afterwards is the same as without the head.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            head = torch.nn.Linear(policy.features_dim, 3)
        head = head.to(policy.device)
        params += list(head.parameters())
    optimiser = torch.optim.Adam(params, lr=learning_rate)
    rng = np.random.default_rng(seed)
    scheduler = None
    if lr_schedule == "cosine":
        total = epochs * len(_batches(lengths, batch_steps, np.random.default_rng(seed)))
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(total, 1))
    torch.manual_seed(seed)
    augmenter = torch.Generator().manual_seed(seed + 1) if augment else None
    history = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, unit="epoch", desc="behaviour cloning", dynamic_ncols=True)
    try:
        for epoch in range(epochs):
            policy.set_training_mode(True)
            sums = {"loss": 0.0, "bc_loss": 0.0, "value_loss": 0.0, "aux_loss": 0.0, "correct": 0.0, "steps": 0.0}
            for group in _batches(lengths, batch_steps, rng):
                loss, parts = _batch_loss(policy, demos, group, returns, augmenter, vf_coef, head, aux_coef)
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
                optimiser.step()
                if scheduler is not None:
                    scheduler.step()
                n = parts["steps"]
                for key in ("loss", "bc_loss", "value_loss", "aux_loss"):
                    sums[key] += parts.get(key, 0.0) * n
                sums["correct"] += parts["accuracy"] * n
                sums["steps"] += n
            record = {
                "epoch": epoch + 1,
                "loss": sums["loss"] / sums["steps"],
                "bc_loss": sums["bc_loss"] / sums["steps"],
                "value_loss": sums["value_loss"] / sums["steps"],
                "accuracy": sums["correct"] / sums["steps"],
                "steps": int(sums["steps"]),
            }
            if head is not None:
                record["aux_loss"] = sums["aux_loss"] / sums["steps"]
            history.append(record)
            if on_epoch is not None:
                on_epoch(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{record['loss']:.3f}", acc=f"{record['accuracy']:.2f}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
        policy.set_training_mode(False)
    return history


class InterleavedCloning:
    """Behaviour cloning between PPO updates (``TrainArgs.ppo_bc_batches``): after each update,
    ``batches`` minibatches of whole demonstration episodes (about ``batch_steps`` states each),
    each one step of the policy's own PPO optimiser on the labels' cross-entropy (the value head
    is left to PPO: the oracle's returns are not the learner's). It keeps the fine-tuned policy
    near the oracle's actions while PPO moves it, as the imitation term of DAPG or of a
    BC-regularised policy gradient does; with Adam the number of steps, not a loss weight, sets
    how strongly.

    Nothing of it lives outside the policy and its optimiser (both in PPO's checkpoints): the
    minibatches and the augmentation draws come from ``(seed, num_timesteps)``, so a resumed run
    takes the same steps as one that never stopped.
    """

    def __init__(self, policy, demos: Demonstrations, batches: int = 2, batch_steps: int = 64, augment: bool = False, seed: int = 0,
                 max_grad_norm: float = 0.5):
        if len(demos) == 0:
            raise InvalidArgumentError("InterleavedCloning got no demonstrations")
        self.policy, self.demos, self.batches = policy, demos, int(batches)
        self.batch_steps, self.augment, self.seed, self.max_grad_norm = int(batch_steps), bool(augment), int(seed), float(max_grad_norm)
        self.lengths = [len(a) for a in demos.labels]
        self.returns = [np.zeros(n, np.float32) for n in self.lengths]

    def step(self, num_timesteps: int) -> dict[str, float]:
        """The minibatches after the update that ended at ``num_timesteps``; returns their mean
        ``bc_loss`` and ``accuracy`` (before each step)."""
        import torch

        rng = np.random.default_rng([self.seed, int(num_timesteps)])
        groups = _batches(self.lengths, self.batch_steps, rng)[: self.batches]
        augmenter = torch.Generator().manual_seed(int(rng.integers(2**62))) if self.augment else None
        policy, optimiser = self.policy, self.policy.optimizer
        policy.set_training_mode(True)
        sums = {"bc_loss": 0.0, "accuracy": 0.0, "steps": 0.0}
        try:
            for group in groups:
                loss, parts = _batch_loss(policy, self.demos, group, self.returns, augmenter)
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), self.max_grad_norm)
                optimiser.step()
                for key in ("bc_loss", "accuracy"):
                    sums[key] += parts[key] * parts["steps"]
                sums["steps"] += parts["steps"]
        finally:
            policy.set_training_mode(False)
        steps = max(sums["steps"], 1.0)
        return {"bc_loss": sums["bc_loss"] / steps, "accuracy": sums["accuracy"] / steps, "steps": sums["steps"]}


def demonstration_spec(args) -> CollectSpec:
    """What a run's oracle demonstrations record (:class:`navgym.training.TrainArgs`: ``env_id``,
    ``env_kwargs``, ``goal_camera``, ``seed``, ``bc_teacher``)."""
    return CollectSpec(args.env_id, "train", args.goal_camera, tuple(sorted(args.env_kwargs.items())), seed=args.seed, teacher=args.bc_teacher)


def training_demonstrations(args, log: Callable[[str], None] = print, rng: np.random.Generator | None = None,
                            available: int | None = None) -> Demonstrations:
    """The oracle demonstrations of a run (:func:`demonstration_spec`'s fields of
    :class:`navgym.training.TrainArgs`, and ``demos``, ``demo_workers``): collected in parallel
    with a progress bar on first use, then read from the cache. ``args.demos`` episodes are drawn
    with ``rng`` (default: seeded with ``args.seed``) from the ``available`` episodes of the train
    split (default: counted)."""
    spec = demonstration_spec(args)
    if available is None:
        available = episode_count(args.env_id, "train", **args.env_kwargs)
    rng = np.random.default_rng(args.seed) if rng is None else rng
    count = available if args.demos is None else min(args.demos, available)
    indices = sorted(rng.choice(available, size=count, replace=False).tolist())
    began = time.time()
    demos = oracle_demonstrations(spec, indices, workers=args.demo_workers, progress=args.progress, log=log)
    log(f"oracle demonstrations: {len(demos)} episodes, {demos.steps} steps, SR {np.mean(demos.success):.2f} ({time.time() - began:.0f} s)")
    return demos


def action_agreement(policy, demos: Demonstrations) -> float:
    """Share of the demonstrations' states where the policy's most likely action (with the LSTM
    fed the episode's own earlier states) equals the label."""
    import torch

    returns = [np.zeros(len(a), np.float32) for a in demos.labels]
    correct = total = 0.0
    policy.set_training_mode(False)
    with torch.no_grad():
        for group in _batches([len(a) for a in demos.labels], 256, np.random.default_rng(0)):
            obs, labels, _, mask, starts, states = _padded(policy, demos, group, returns)
            predicted = _forward(policy, obs, states, starts)[0].argmax(dim=1)
            correct += float(((predicted == labels).float() * mask).sum())
            total += float(mask.sum())
    return correct / max(total, 1.0)


# -- the pretraining stage of a run ---------------------------------------------------------------------------
PRETRAIN_MODES = ("bc", "dagger")


def pretrain(model, args, config, eval_env=None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Goal-pose pretraining of the encoder (when ``pose_episodes``), then BC (and DAgger rounds)
    for ``model`` (a freshly built RecurrentPPO) as ``args`` say
    (:class:`navgym.training.TrainArgs`: ``pretrain``, ``demos``, ``bc_teacher``, ``bc_epochs``,
    ``bc_aux_coef``, ``bc_freeze``, ``dagger_rounds``, ``dagger_episodes``, ``dagger_beta``,
    ``demo_workers``, the ``pose_*`` fields); writes
    ``args.out/pretrain.zip`` and ``args.out/pretrain.jsonl`` and returns a summary: ``checkpoint``,
    ``records`` (the pretrain.jsonl entries) and ``demonstrations`` (the oracle's, without DAgger's
    episodes: what ``ppo_bc_batches`` clones, so a run does not read them twice)."""
    import torch

    from navgym.evaluation import append_jsonl, evaluate, mean_measures, sr_spl

    trainer = args.trainer
    out = Path(args.out)
    spec = demonstration_spec(args)
    available = episode_count(args.env_id, "train", **args.env_kwargs)
    began = time.time()
    records = []
    if args.pose_episodes:
        from navgym.training.goal_pose import pretrain_goal_pose

        pose = pretrain_goal_pose(trainer.encoder(model), args, log)
        entry = {"stage": "pose", "pose": pose, "wall_seconds": time.time() - began}
        records.append(entry)
        append_jsonl(out / "pretrain.jsonl", entry)
    rng = np.random.default_rng(args.seed)  # draws the demonstrations' episodes, then DAgger's
    demos = training_demonstrations(args, log, rng, available)
    oracle = Demonstrations().extend(demos)  # DAgger rounds extend demos; --ppo-bc-batches clones these

    def record(stage: str, history: list[dict[str, Any]], extra: dict[str, Any]) -> None:
        entry = {"stage": stage, "episodes": len(demos), "steps": demos.steps, "bc": history[-1] if history else None,
                 "bc_epochs": history, **extra}
        if eval_env is not None and args.eval_episodes:
            episodes = min(args.eval_episodes, len(eval_env.unwrapped.dataset.episodes))
            result = evaluate(eval_env, trainer.agent(model.policy), episodes, seed=args.seed, progress=args.progress,
                              threads=args.torch_threads, desc=f"evaluation after {stage} (val)")
            entry["val"] = mean_measures(result.records)
            log(f"{stage}: val {sr_spl(entry['val'])}")
        entry["wall_seconds"] = time.time() - began
        records.append(entry)
        append_jsonl(out / "pretrain.jsonl", entry)

    def bc(epochs: int, seed: int) -> list[dict[str, Any]]:
        torch.set_num_threads(args.update_threads or 1)  # collecting with a learner sets 1 thread
        return behaviour_cloning(
            model.policy, demos, epochs=epochs, learning_rate=args.bc_learning_rate, gamma=config.gamma, seed=seed,
            progress=args.progress, batch_steps=args.bc_batch_steps, aux_coef=args.bc_aux_coef, augment=args.bc_augment,
            lr_schedule=args.bc_lr_schedule,
        )

    freeze = args.bc_freeze
    if freeze != "none":
        # Kept through BC and DAgger; the loop then freezes what ppo_freeze says. With the whole
        # encoder frozen its features are cached for every demonstration state (128 floats each;
        # the cache keeps twice the states, room for DAgger's); the trunk's maps are too large to
        # keep them all (misses are computed again).
        trainer.freeze(model, freeze, rollout_size=demos.steps if freeze == "encoder" else None)
        log(f"cloning with the {freeze} held fixed (bc_freeze)")
    record("bc", bc(args.bc_epochs, args.seed), {})
    learner = out / "dagger_learner.zip"  # the policy each DAgger round runs (pretrain.zip is only the final one)
    rounds = args.dagger_rounds if args.pretrain == "dagger" else 0
    for r in range(rounds):
        trainer.save(model, learner, config, {"env_id": args.env_id, "seed": args.seed, "stage": f"dagger{r}"})
        beta = args.dagger_beta * (0.5**r)
        learner_spec = CollectSpec(spec.env_id, spec.split, spec.goal_camera, spec.env_kwargs, policy=str(learner), beta=beta,
                                   seed=args.seed + 1000 * (r + 1), teacher=spec.teacher)
        episodes = sorted(rng.choice(available, size=min(args.dagger_episodes, available), replace=False).tolist())
        fresh = collect(learner_spec, episodes, workers=args.demo_workers, progress=args.progress, desc=f"DAgger round {r + 1}")
        fresh.save(out / "demonstrations" / f"dagger{r + 1}.npz")
        learner_sr = float(np.mean(fresh.success))
        demos.extend(fresh)
        record(f"dagger{r + 1}", bc(args.dagger_epochs, args.seed + r + 1), {"beta": beta, "collected_success": learner_sr})
    learner.unlink(missing_ok=True)
    if freeze != "none":
        trainer.freeze(model, "none")
    checkpoint = out / "pretrain.zip"
    trainer.save(model, checkpoint, config, {"env_id": args.env_id, "seed": args.seed, "stage": args.pretrain})
    return {"checkpoint": str(checkpoint), "records": records, "demonstrations": oracle}


def check_pretrain_args(args) -> None:
    """Validate the pretraining fields of :class:`navgym.training.TrainArgs`."""
    from navgym.core.checks import check_int

    if args.pretrain is not None and args.pretrain not in PRETRAIN_MODES:
        raise InvalidArgumentError(f"pretrain={args.pretrain!r} is not a pretraining mode; use one of {list(PRETRAIN_MODES)} or None")
    if args.demos is not None:
        check_int("demos", args.demos, 1)
    for name, low in (("bc_epochs", 1), ("dagger_rounds", 0), ("dagger_epochs", 1), ("dagger_episodes", 1), ("demo_workers", 1), ("bc_batch_steps", 1),
                      ("ppo_bc_batches", 0)):
        check_int(name, getattr(args, name), low)
    for name, low_open in (("bc_learning_rate", True), ("dagger_beta", False), ("bc_aux_coef", False)):
        value = getattr(args, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0 or (low_open and value == 0):
            raise InvalidArgumentError(f"{name}={value!r} must be a {'positive' if low_open else 'non-negative'} finite number")
    if args.bc_lr_schedule not in LR_SCHEDULES:
        raise InvalidArgumentError(f"bc_lr_schedule={args.bc_lr_schedule!r} is not a schedule; use one of {list(LR_SCHEDULES)}")
    check_teacher("bc_teacher", args.bc_teacher)
    if not isinstance(args.bc_augment, bool):
        raise InvalidArgumentError(f"bc_augment={args.bc_augment!r} must be True or False")
    if args.dagger_beta > 1:
        raise InvalidArgumentError(f"dagger_beta={args.dagger_beta!r} is a probability: give a number in [0, 1]")
