"""Goal-pose pretraining: teach an encoder where an ImageNav goal is before cloning a policy on it.

An ImageNav policy has to read from its view and the goal photo which way the goal lies. The
encoders RSRNav's heads learn by behaviour cloning barely do (docs/results/rsrnav_log.md, "What the
encoder knows of where the goal is"); trained directly on that question over many houses they do
much better, and cloning on top of such an encoder, held fixed (``TrainArgs.bc_freeze``), gave
the first policies above SR 0.5 on ``ImageNav-ProcHouseNear-v0``.

* :func:`collect_pairs`: for episodes of an ImageNav env, the goal photo and views from the
  episode's start and from random poses within ``max_distance`` m of the goal (the env's own
  camera), each labelled (:data:`LABELS`) with the goal as seen from the view: distance,
  bearing, the goal photo's heading relative to the view, geodesic distance. The goal's position
  is privileged state: it labels pairs, it is never an input.
* :func:`fit_goal_pose`: a small MLP on the encoder's features of (view, goal photo), fit to
  :func:`targets` by squared error, the encoder trained along (or held fixed: a probe of what it
  knows); each pass is scored on val pairs (:func:`score`: median bearing error and the like).
* :func:`pretrain_goal_pose`: both for a training run (``TrainArgs.pose_episodes`` and the other
  ``pose_*`` fields): the pairs rendered once and cached, then the run's encoder trained on
  them before BC. ``experiments/goal_pose_probe.py`` uses the same pieces from the command line.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from navgym.errors import UnusableEpisodeError

#: Columns of a pair's label.
LABELS = ("distance_m", "sin_bearing", "cos_bearing", "sin_heading", "cos_heading", "geodesic_m")
#: Metres per unit of the distance target (as the BC auxiliary loss's).
DISTANCE_SCALE = 5.0
#: Version of the cached pair files' layout (part of their cache key).
PAIRS_FORMAT = 1


def goal_label(state, goal_position, goal_heading: float | None, geodesic: float) -> list[float]:
    """A view's label (:data:`LABELS`) for an agent in ``state`` and a goal photo taken at
    ``goal_position`` facing ``goal_heading`` (radians, navgym's yaw; ``None``: 0)."""
    from navgym.core.geometry import wrap_angle
    from navgym.training.imitation import pose_from

    relative = wrap_angle(goal_heading - state.yaw) if goal_heading is not None else 0.0
    return [*pose_from(state, goal_position).tolist(), math.sin(relative), math.cos(relative), float(geodesic)]


def collect_pairs(env, episodes: list[int], per_goal: int, seed: int, max_distance: float = 3.0, progress: bool = False) -> dict[str, np.ndarray]:
    """Views and labels for ``episodes`` (indices of ``env``'s dataset): per episode the start view
    and up to ``per_goal - 1`` views from random poses within ``max_distance`` m (geodesic) of the
    goal. Returns ``rgb (N, H, W, 3)``, ``goal (E, H, W, 3)``, ``goal_index (N,)`` (each view's
    goal photo row), ``labels (N, 6)`` (:data:`LABELS`) and ``episode_index (E,)``."""
    from navgym.core.specs import AgentState

    rng = np.random.default_rng(seed)
    rgb, goals, goal_index, labels, kept = [], [], [], [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(episodes), unit="goal", desc="goal-pose pairs", dynamic_ncols=True)
    try:
        for index in episodes:
            try:
                obs, _ = env.reset(options={"episode_index": int(index)})
            except UnusableEpisodeError as error:  # a start off the navigable area: no pairs from it
                warnings.warn(f"no goal-pose pairs from episode index {index}: {error}", stacklevel=2)
                if bar is not None:
                    bar.update(1)
                continue
            nav = env.unwrapped
            position = np.asarray(nav.episode.goals[0].position, dtype=np.float64)
            heading = nav.task.goal_heading(nav.episode)
            states = [nav.sim.get_agent_state()]
            cells = nav.sim.navigable_points_near(position, position, max_distance)
            for _ in range(8 * per_goal):
                if len(states) >= per_goal or len(cells) == 0:
                    break
                point = cells[rng.integers(len(cells))]
                if nav.sim.geodesic_distance(point, [position]) <= max_distance:
                    states.append(AgentState.from_yaw(point, float(rng.uniform(-math.pi, math.pi))))
            goals.append(obs["imagegoal"])
            kept.append(int(index))
            camera = nav.embodiment.mounted_camera(nav._camera)
            for state in states:
                rgb.append(nav.sim.render([(state, camera)])[0]["rgb"])
                goal_index.append(len(goals) - 1)
                labels.append(goal_label(state, position, heading, nav.sim.geodesic_distance(state.position, [position])))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if not goals:
        raise UnusableEpisodeError(f"none of the {len(episodes)} episodes asked for goal-pose pairs can start (each starts off the navigable area)")
    return {"rgb": np.stack(rgb), "goal": np.stack(goals), "goal_index": np.asarray(goal_index, np.int32),
            "labels": np.asarray(labels, np.float32), "episode_index": np.asarray(kept, np.int32)}


def targets(labels: np.ndarray) -> np.ndarray:
    """The regression targets of ``labels``: ``[distance / DISTANCE_SCALE, sin b, cos b, sin h, cos h]``."""
    return np.concatenate([labels[:, :1] / DISTANCE_SCALE, labels[:, 1:5]], axis=1).astype(np.float32)


def _angle_error(sin_cos_pred: np.ndarray, sin_cos_true: np.ndarray) -> np.ndarray:
    predicted = np.arctan2(sin_cos_pred[:, 0], sin_cos_pred[:, 1])
    true = np.arctan2(sin_cos_true[:, 0], sin_cos_true[:, 1])
    return np.degrees(np.abs((predicted - true + np.pi) % (2 * np.pi) - np.pi))


def score(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Val metrics of ``predicted`` targets against ``labels``: the median bearing error
    (degrees), the shares within 30 and 45 degrees, the median heading error and the mean distance
    error (m)."""
    bearing = _angle_error(predicted[:, 1:3], labels[:, 1:3])
    heading = _angle_error(predicted[:, 3:5], labels[:, 3:5])
    return {"bearing_median_deg": float(np.median(bearing)), "bearing_within_30": float((bearing <= 30).mean()),
            "bearing_within_45": float((bearing <= 45).mean()), "heading_median_deg": float(np.median(heading)),
            "distance_mae_m": float(np.abs(predicted[:, 0] * DISTANCE_SCALE - labels[:, 0]).mean())}


def start_views(pairs: dict[str, np.ndarray]) -> np.ndarray:
    """Rows of ``pairs`` that are their episode's start view (each goal's first view)."""
    return np.flatnonzero(np.diff(pairs["goal_index"], prepend=-1) != 0)


def minibatch_order(goal_index, group: int, generator):
    """A pass's order of the pairs (rows of ``goal_index``, a 1-D int tensor): a random
    permutation, with ``group`` > 1 made of runs of up to ``group`` views of one goal photo, the
    runs in random order. Consecutive minibatches then hold ``batch / group`` goal photos each,
    and the encoder computes each photo's features once per minibatch
    (:func:`navgym.agents.rsrnav.encoders.unique_images`): fewer images per step."""
    import torch

    count = len(goal_index)
    shuffled = torch.randperm(count, generator=generator)
    if group <= 1:
        return shuffled
    goals = goal_index[shuffled]
    by_goal = torch.argsort(goals, stable=True)
    rows, goals = shuffled[by_goal], goals[by_goal]  # grouped by goal, random order within each
    counts = torch.unique_consecutive(goals, return_counts=True)[1]
    rank = torch.arange(count) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)  # 0, 1, ... within a photo
    run = torch.cumsum((rank % group == 0).long(), 0) - 1
    run_rank = torch.randperm(int(run[-1]) + 1, generator=generator)[run]
    return rows[torch.argsort(run_rank, stable=True)]


def fit_goal_pose(encoder, train: dict[str, np.ndarray], val: dict[str, np.ndarray] | None = None, *, freeze: bool = False, epochs: int = 30,
                  learning_rate: float = 3e-4, batch: int = 64, group: int = 1, max_minutes: float | None = None,
                  max_cpu_minutes: float | None = None, seed: int = 0, log: Callable[[str], None] = print, progress: bool = False) -> dict[str, Any]:
    """Fit an MLP (``features_dim`` -> 256 -> 5) on ``encoder``'s features of ``train``'s pairs
    to their :func:`targets`, training ``encoder`` along unless ``freeze``, for ``epochs`` passes
    or until ``max_minutes`` of wall clock or ``max_cpu_minutes`` of this process's CPU time
    (:func:`time.process_time`: other jobs on the machine do not shorten it; every thread
    counts), checked after every minibatch of ``batch`` pairs (a pass drops the last,
    incomplete one). ``group`` > 1 puts up to that many views of one goal photo side by
    side in a minibatch (:func:`minibatch_order`; 1: every pair drawn independently). The MLP's
    initial weights come from the global torch random state; the minibatch order from ``seed``.

    Returns ``train_pairs`` and ``passes`` (one record per pass: ``train_loss``, ``minutes``,
    ``cpu_minutes`` and,
    with ``val``, its :func:`score` and ``start_views``, the same on the episodes' start views);
    with ``val`` also ``val_pairs``, ``constant`` and ``constant_start_views`` (the training
    mean's scores: chance). ``encoder`` is left in eval mode."""
    import torch
    from torch import nn

    device = next(encoder.parameters()).device
    head = nn.Sequential(nn.Linear(encoder.features_dim, 256), nn.ReLU(), nn.Linear(256, 5)).to(device)

    def images(array):  # no copy: 48,000 views are 2.4 GB; each minibatch is made channels-first below
        return torch.from_numpy(np.ascontiguousarray(array))

    def channels_first(batch):  # the policy reads channels-first images (SB3's transposed observation space)
        return batch.permute(0, 3, 1, 2).contiguous().to(device)

    train_rgb, train_goal = images(train["rgb"]), images(train["goal"])
    train_index, train_target = torch.from_numpy(train["goal_index"]).long(), torch.from_numpy(targets(train["labels"]))
    parameters = list(head.parameters()) + ([] if freeze else [p for p in encoder.parameters() if p.requires_grad])
    optimiser = torch.optim.Adam(parameters, lr=learning_rate)
    batch = max(1, min(batch, len(train_rgb)))  # fewer pairs than a minibatch: one minibatch of all, not none
    result: dict[str, Any] = {"train_pairs": len(train_rgb), "passes": []}
    if val is not None:
        val_rgb, val_goal, val_index = images(val["rgb"]), images(val["goal"]), torch.from_numpy(val["goal_index"]).long()
        constant = np.repeat(train_target.mean(0, keepdim=True).numpy(), len(val_rgb), axis=0)
        starts = start_views(val)
        result.update({"val_pairs": len(val_rgb), "constant": score(constant, val["labels"]),
                       "constant_start_views": score(constant[starts], val["labels"][starts])})
        log(f"goal pose, constant predictor: {json.dumps(result['constant'])}")
    began, began_cpu = time.time(), time.process_time()
    generator = torch.Generator().manual_seed(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, unit="pass", desc="goal-pose pretraining", dynamic_ncols=True)
    try:
        for epoch in range(epochs):
            encoder.train(not freeze)
            head.train()
            losses = []
            order = minibatch_order(train_index, group, generator)
            out_of_time = False
            for start in range(0, len(order) - batch + 1, batch):
                rows = order[start : start + batch]
                obs = {"rgb": channels_first(train_rgb[rows]), "imagegoal": channels_first(train_goal[train_index[rows]])}
                with torch.set_grad_enabled(not freeze):
                    features = encoder(obs)
                loss = ((head(features) - train_target[rows].to(device)) ** 2).mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                losses.append(loss.item())
                if (max_minutes is not None and time.time() - began > 60 * max_minutes) or (
                    max_cpu_minutes is not None and time.process_time() - began_cpu > 60 * max_cpu_minutes
                ):
                    out_of_time = True
                    break
            encoder.eval()
            head.eval()
            record: dict[str, Any] = {"pass": epoch + 1, "batches": len(losses), "train_loss": float(np.mean(losses)) if losses else math.nan}
            if val is not None:
                predicted = []
                with torch.no_grad():
                    for start in range(0, len(val_rgb), 128):
                        obs = {"rgb": channels_first(val_rgb[start : start + 128]), "imagegoal": channels_first(val_goal[val_index[start : start + 128]])}
                        predicted.append(head(encoder(obs)).cpu().numpy())
                predicted = np.concatenate(predicted)
                record.update({**score(predicted, val["labels"]), "start_views": score(predicted[starts], val["labels"][starts])})
            record["minutes"] = (time.time() - began) / 60
            record["cpu_minutes"] = (time.process_time() - began_cpu) / 60
            result["passes"].append(record)
            log(json.dumps(record))
            if bar is not None:
                bar.update(1)
            if out_of_time:
                break
    finally:
        if bar is not None:
            bar.close()
    encoder.eval()
    return result


# -- in a training run ---------------------------------------------------------------------------------------
def pairs_cache_path(env_id: str, split: str, goal_camera: str, env_kwargs: dict[str, Any], indices: list[int], per_goal: int,
                     seed: int, max_distance: float) -> Path:
    """Where :func:`cached_pairs` keeps a set of pairs: under the navgym cache folder, keyed by
    everything that makes them (env, split, goal camera, env options, episodes, views per goal,
    seed, distance) and navgym's version."""
    from navgym import __version__
    from navgym.core.paths import cache_dir

    fields = {"format": PAIRS_FORMAT, "navgym": __version__, "env": [env_id, split, goal_camera, sorted(env_kwargs.items())],
              "indices": [int(i) for i in indices], "per_goal": int(per_goal), "seed": int(seed), "max_distance": float(max_distance)}
    key = json.dumps(fields, sort_keys=True, default=str)
    return cache_dir() / "pose_pairs" / f"{env_id}-{split}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def cached_pairs(env_id: str, split: str, goal_camera: str, env_kwargs: dict[str, Any], episodes: int, per_goal: int, seed: int,
                 max_distance: float = 3.0, progress: bool = False, log: Callable[[str], None] = print) -> dict[str, np.ndarray]:
    """:func:`collect_pairs` for ``episodes`` episodes of ``split`` (drawn with ``seed``, at most
    all of them) of a training env (:func:`navgym.training.envs.make_training_env` with
    ``goal_camera``), rendered on first use and then read from the cache (:func:`pairs_cache_path`;
    an unreadable file is rendered again). Runs that need the same missing pairs at once render
    them once (:func:`navgym.core.paths.cache_lock`)."""
    from navgym.core.paths import cache_lock
    from navgym.training.envs import make_training_env

    env = make_training_env(env_id, split, goal_camera, "rsrnav", agent="rsrnav", **env_kwargs)
    try:
        available = len(env.unwrapped.dataset.episodes)
        chosen = sorted(np.random.default_rng(seed).choice(available, size=min(episodes, available), replace=False).tolist())
        path = pairs_cache_path(env_id, split, goal_camera, env_kwargs, chosen, per_goal, seed, max_distance)
        # Locked from the check to the write: a second run needing the same pairs waits and reads them.
        with cache_lock(path, log):
            if path.exists():
                try:
                    with np.load(path) as data:
                        pairs = {key: data[key] for key in data.files}
                    log(f"goal-pose pairs ({split}): {len(pairs['rgb'])} views of {len(pairs['goal'])} goal photos, read from {path}")
                    return pairs
                except (OSError, ValueError, KeyError) as exc:
                    log(f"goal-pose pairs: {path} cannot be read ({exc}); rendering them again")
            began = time.time()
            pairs = collect_pairs(env, chosen, per_goal, seed, max_distance, progress=progress)
            _write_pairs(path, pairs)
    finally:
        env.close()
    log(f"goal-pose pairs ({split}): {len(pairs['rgb'])} views of {len(pairs['goal'])} goal photos in {time.time() - began:.0f} s, cached in {path}")
    return pairs


def _write_pairs(path: Path, pairs: dict[str, np.ndarray]) -> None:
    """Write ``pairs`` to ``path`` atomically (:func:`navgym.core.paths.replace_atomically`): two
    runs rendering the same pairs at once (two seeds' runs side by side on a fresh machine) each
    finish, the last rename wins, and no reader ever sees half a file."""
    from navgym.core.paths import replace_atomically

    replace_atomically(path, lambda tmp: np.savez(tmp, **pairs), suffix=".tmp.npz")


def pretrain_goal_pose(encoder, args, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train ``encoder`` (a run's features extractor) on goal-pose pairs as a training run's
    :class:`navgym.training.TrainArgs` say: ``pose_episodes`` train episodes of ``env_id`` with
    ``env_kwargs`` updated by ``pose_env_kwargs`` (more houses than the demonstrations', say),
    ``pose_views`` views each, ``pose_epochs`` passes, ``pose_max_minutes`` or
    ``pose_max_cpu_minutes``, step size
    ``pose_learning_rate``, ``pose_group`` views of a goal photo side by side in a minibatch;
    scored on ``pose_val_episodes`` val episodes (0: not scored).
    Returns :func:`fit_goal_pose`'s result."""
    import torch

    kwargs = {**args.env_kwargs, **args.pose_env_kwargs}
    train = cached_pairs(args.env_id, "train", args.goal_camera, kwargs, args.pose_episodes, args.pose_views, args.seed,
                         progress=args.progress, log=log)
    val = None
    if args.pose_val_episodes:
        val_kwargs = {**args.env_kwargs, **args.eval_env_kwargs}
        val = cached_pairs(args.env_id, "val", args.goal_camera, val_kwargs, args.pose_val_episodes, args.pose_views, args.seed + 1,
                           progress=args.progress, log=log)
    torch.set_num_threads(args.update_threads or 1)
    result = fit_goal_pose(encoder, train, val, epochs=args.pose_epochs, learning_rate=args.pose_learning_rate, max_minutes=args.pose_max_minutes,
                           max_cpu_minutes=args.pose_max_cpu_minutes, group=args.pose_group, seed=args.seed, log=log, progress=args.progress)
    last = result["passes"][-1]
    message = f"goal-pose pretraining: {last['pass']} passes over {result['train_pairs']} pairs in {last['minutes']:.1f} min ({last['cpu_minutes']:.1f} CPU min)"
    if val is not None:
        message += f"; val bearing error {last['bearing_median_deg']:.0f} deg median (chance {result['constant']['bearing_median_deg']:.0f})"
    log(message)
    return result


def check_pose_args(args) -> None:
    """Validate the ``pose_*`` fields of :class:`navgym.training.TrainArgs`."""
    from navgym.core.checks import check_int, check_minutes
    from navgym.errors import InvalidArgumentError

    for name, low in (("pose_episodes", 0), ("pose_views", 1), ("pose_val_episodes", 0), ("pose_epochs", 1), ("pose_group", 1)):
        check_int(name, getattr(args, name), low)
    if not isinstance(args.pose_env_kwargs, dict):
        raise InvalidArgumentError(f"pose_env_kwargs={args.pose_env_kwargs!r} must be a dict of env options (e.g. {{'num_scenes': 240}})")
    rate = args.pose_learning_rate
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < float("inf"):
        raise InvalidArgumentError(f"pose_learning_rate={rate!r} must be a positive finite number")
    for name in ("pose_max_minutes", "pose_max_cpu_minutes"):
        check_minutes(name, getattr(args, name))
    if args.pose_episodes and args.pretrain is None:
        raise InvalidArgumentError(
            f"pose_episodes={args.pose_episodes} pretrains the encoder before cloning, but pretrain=None; set pretrain='bc' or 'dagger' "
            "(with bc_freeze='encoder' to keep what it learns), or pose_episodes=0"
        )
    if args.pose_episodes and not hasattr(args.trainer, "encoder"):
        raise InvalidArgumentError(f"pose_episodes={args.pose_episodes}: agent={args.agent!r}'s trainer has no encoder to pretrain; use pose_episodes=0")
