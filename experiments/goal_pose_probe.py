"""How well can an RSRNav encoder tell where an ImageNav goal is? A probe of its perception.

The ImageNav goals of ``ImageNav-ProcHouseNear-v0`` are 1.25-2 m away and mostly in a straight
line, so an agent that knew the goal's bearing to within about 45 degrees would reach it with a few
steps forward. This script measures how much of that bearing (and of the distance, and of the goal
photo's heading) the encoder can read from one view and the goal photo:

1. ``pairs``: takes episodes of an env (``env.reset(options={"episode_index": i})``), keeps the
   goal photo, and renders views from the episode's start and from random poses (random
   navigable points within ``--max-distance`` m of the goal, geodesically, random heading), with
   the env's own camera. Each view's label is the goal as seen from it: the straight-line distance
   on the ground, the bearing (0 ahead, positive to the left), the goal photo's heading relative to
   the view's, and the geodesic distance (privileged: targets only).
2. ``train``: a small MLP on the encoder's features of (view, goal photo) (the policy's
   features extractor from an RSRNav checkpoint, frozen with ``--freeze`` or trained along) is fit
   to ``[distance / 5, sin, cos of the bearing, sin, cos of the relative heading]`` by squared
   error; after each pass over the training pairs the val pairs are scored: median bearing error
   (degrees), the share within 30 and 45 degrees, median heading error, distance error (m). The
   constant predictor (the training pairs' mean) is scored alongside as chance. ``start_views``
   repeats the scores on the episodes' start views alone (what a policy sees at its first step).

    python experiments/goal_pose_probe.py pairs --split train --episodes 2000 --per-goal 8 --seed 1 \\
        --env-option num_scenes=80 --out runs/pose_pairs/near_train.npz
    python experiments/goal_pose_probe.py pairs --split val --episodes 300 --per-goal 8 --seed 2 \\
        --env-option num_scenes=40 --out runs/pose_pairs/near_val.npz
    python experiments/goal_pose_probe.py train --train runs/pose_pairs/near_train.npz --val runs/pose_pairs/near_val.npz \\
        --checkpoint docs/results/rsrnav/checkpoints/bcn_near_direction_l1_view.zip --freeze \\
        --out docs/results/rsrnav/goal_pose_probe/direction_bc_frozen.json
    python experiments/goal_pose_probe.py table docs/results/rsrnav/goal_pose_probe/*.json

Privileged state (the goal's position) is read only to label the pairs; the probe never acts.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

#: Columns of a pair's label.
LABELS = ("distance_m", "sin_bearing", "cos_bearing", "sin_heading", "cos_heading", "geodesic_m")
#: Metres per unit of the distance target (as the BC auxiliary loss's).
DISTANCE_SCALE = 5.0


def goal_label(state, goal_position, goal_heading: float | None, geodesic: float) -> list[float]:
    """A view's label (:data:`LABELS`) for an agent in ``state`` and a goal photo taken at
    ``goal_position`` facing ``goal_heading`` (radians, navgym's yaw; ``None``: 0)."""
    from navgym.core.geometry import wrap_angle
    from navgym.training.imitation import pose_from

    relative = wrap_angle(goal_heading - state.yaw) if goal_heading is not None else 0.0
    return [*pose_from(state, goal_position).tolist(), math.sin(relative), math.cos(relative), float(geodesic)]


def collect_pairs(env, episodes: list[int], per_goal: int, seed: int, max_distance: float = 3.0) -> dict[str, np.ndarray]:
    """Views and labels for ``episodes`` (indices of ``env``'s dataset): per episode the start view
    and up to ``per_goal - 1`` views from random poses within ``max_distance`` m (geodesic) of the
    goal. Returns ``rgb (N, H, W, 3)``, ``goal (E, H, W, 3)``, ``goal_index (N,)`` (each view's
    goal photo row), ``labels (N, 6)`` (:data:`LABELS`) and ``episode_index (E,)``."""
    from navgym.core.specs import AgentState

    rng = np.random.default_rng(seed)
    rgb, goals, goal_index, labels, kept = [], [], [], [], []
    for index in episodes:
        obs, _ = env.reset(options={"episode_index": int(index)})
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
    """Val metrics of ``predicted`` targets against ``labels`` (see the module docstring)."""
    bearing = _angle_error(predicted[:, 1:3], labels[:, 1:3])
    heading = _angle_error(predicted[:, 3:5], labels[:, 3:5])
    return {"bearing_median_deg": float(np.median(bearing)), "bearing_within_30": float((bearing <= 30).mean()),
            "bearing_within_45": float((bearing <= 45).mean()), "heading_median_deg": float(np.median(heading)),
            "distance_mae_m": float(np.abs(predicted[:, 0] * DISTANCE_SCALE - labels[:, 0]).mean())}


def train_probe(train: dict[str, np.ndarray], val: dict[str, np.ndarray], checkpoint: str, freeze: bool, epochs: int,
                learning_rate: float = 3e-4, batch: int = 64, max_minutes: float | None = None, seed: int = 0,
                reinit: bool = False, save_policy: str | None = None, log=print) -> dict[str, Any]:
    """Fit the probe (see the module docstring); returns the constant predictor's val scores and
    one record per pass (at most ``max_minutes`` of training in all). ``reinit``: the encoder's
    weights drawn afresh (the checkpoint gives only its architecture). ``save_policy``: write the
    checkpoint's policy with the probe-trained encoder there (policy-only, for ``init_from``;
    the probe's MLP is not part of it). With ``reinit`` the rest of that policy is fresh too
    (:func:`fresh_policy`); without, it is the checkpoint's."""
    import torch
    from torch import nn

    from navgym.agents.rsrnav.model import load_policy

    torch.manual_seed(seed)
    policy = load_policy(checkpoint)[0]
    encoder = policy.features_extractor
    if reinit:
        for module in encoder.modules():
            if module is not encoder and hasattr(module, "reset_parameters"):
                module.reset_parameters()
    head = nn.Sequential(nn.Linear(encoder.features_dim, 256), nn.ReLU(), nn.Linear(256, 5))

    def images(array):  # the policy reads channels-first images (SB3's transposed observation space)
        return torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2).contiguous()

    train_rgb, train_goal = images(train["rgb"]), images(train["goal"])
    train_index, train_target = torch.from_numpy(train["goal_index"]).long(), torch.from_numpy(targets(train["labels"]))
    val_rgb, val_goal, val_index = images(val["rgb"]), images(val["goal"]), torch.from_numpy(val["goal_index"]).long()
    parameters = list(head.parameters()) + ([] if freeze else list(encoder.parameters()))
    optimiser = torch.optim.Adam(parameters, lr=learning_rate)
    constant = np.repeat(train_target.mean(0, keepdim=True).numpy(), len(val_rgb), axis=0)
    # each goal's first view is its episode's start (what the policy sees at its first step)
    starts = np.flatnonzero(np.diff(val["goal_index"], prepend=-1) != 0)
    result: dict[str, Any] = {"train_pairs": len(train_rgb), "val_pairs": len(val_rgb), "constant": score(constant, val["labels"]),
                              "constant_start_views": score(constant[starts], val["labels"][starts]), "passes": []}
    log(f"constant predictor: {json.dumps(result['constant'])}")
    began = time.time()
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        encoder.train(not freeze)
        head.train()
        losses = []
        order = torch.randperm(len(train_rgb), generator=generator)
        out_of_time = False
        for start in range(0, len(order) - batch + 1, batch):
            rows = order[start : start + batch]
            obs = {"rgb": train_rgb[rows], "imagegoal": train_goal[train_index[rows]]}
            with torch.set_grad_enabled(not freeze):
                features = encoder(obs)
            loss = ((head(features) - train_target[rows]) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            if max_minutes is not None and time.time() - began > 60 * max_minutes:
                out_of_time = True
                break
        encoder.eval()
        head.eval()
        predicted = []
        with torch.no_grad():
            for start in range(0, len(val_rgb), 128):
                obs = {"rgb": val_rgb[start : start + 128], "imagegoal": val_goal[val_index[start : start + 128]]}
                predicted.append(head(encoder(obs)).numpy())
        predicted = np.concatenate(predicted)
        record = {"pass": epoch + 1, "batches": len(losses), "train_loss": float(np.mean(losses)) if losses else math.nan,
                  **score(predicted, val["labels"]), "start_views": score(predicted[starts], val["labels"][starts]),
                  "minutes": (time.time() - began) / 60}
        result["passes"].append(record)
        log(json.dumps(record))
        if out_of_time:
            break
    if save_policy is not None:
        if reinit:  # the rest of the saved policy fresh too, as a new run's (the same seed): only the encoder learned
            state = fresh_policy(checkpoint, seed).state_dict()
            state.update({k: v for k, v in policy.state_dict().items() if k.split(".")[0].endswith("features_extractor")})
            policy.load_state_dict(state)
        write_policy(policy, checkpoint, save_policy, {"goal_pose_probe": {"checkpoint": str(checkpoint), "passes": len(result["passes"]),
                                                                           "reinit": reinit}})
    return result


def fresh_policy(checkpoint: str, seed: int = 0):
    """An untrained policy with ``checkpoint``'s settings, initialised as a new training run's
    (SB3's initialisation and RSRNav's initial stop probability), drawn with ``seed``."""
    import torch

    from navgym.agents.rsrnav.model import build_policy, read_checkpoint_meta, set_initial_stop_probability

    meta = read_checkpoint_meta(checkpoint)
    torch.manual_seed(seed)
    policy = build_policy(meta)
    set_initial_stop_probability(policy, meta["config"]["initial_stop_probability"])
    return policy


def write_policy(policy, source: str, path: str, extra: dict[str, Any]) -> Path:
    """A policy-only checkpoint at ``path``: ``policy``'s weights and ``source``'s JSON with
    ``extra`` added."""
    import io
    import zipfile

    import torch

    from navgym.agents.rsrnav.model import META_NAME, read_checkpoint_meta

    meta = {**read_checkpoint_meta(source), **extra, "policy_only": True}
    buffer = io.BytesIO()
    torch.save(policy.state_dict(), buffer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        target.writestr("policy.pth", buffer.getvalue())
        target.writestr(META_NAME, json.dumps(meta, indent=2))
    return path


def table(paths: list[str]) -> str:
    """A markdown table of saved probe results (their last pass), chance first."""
    header = ("| file | encoder | pairs (train) | passes, minutes | bearing error, median (start views) | within 45° (start views) "
              "| heading error, median | distance error (m) |\n|---|---|---|---|---|---|---|---|")
    rows = []
    for i, path in enumerate(paths):
        result = json.loads(Path(path).read_text())
        settings = result["settings"]
        if i == 0:
            c, cs = result["constant"], result["constant_start_views"]
            rows.append(f"| chance (the training mean, {Path(path).stem}'s pairs) | | | | {c['bearing_median_deg']:.0f}° ({cs['bearing_median_deg']:.0f}°) "
                        f"| {c['bearing_within_45']:.2f} ({cs['bearing_within_45']:.2f}) | {c['heading_median_deg']:.0f}° | {c['distance_mae_m']:.2f} |")
        last = result["passes"][-1]
        start = last["start_views"]
        stem = Path(settings["checkpoint"]).stem
        if stem in ("pretrain", "checkpoint"):  # a run folder's checkpoint: name the run
            stem = f"{Path(settings['checkpoint']).parent.name}/{stem}"
        encoder = (f"fresh weights ({stem}'s architecture)" if settings.get("reinit") else stem) + (", frozen" if settings.get("freeze") else ", trained")
        rows.append(f"| {Path(path).stem} | {encoder} | {result['train_pairs']:,} | {last['pass']}, {last['minutes']:.1f} "
                    f"| {last['bearing_median_deg']:.0f}° ({start['bearing_median_deg']:.0f}°) | {last['bearing_within_45']:.2f} ({start['bearing_within_45']:.2f}) "
                    f"| {last['heading_median_deg']:.0f}° | {last['distance_mae_m']:.2f} |")
    return "\n".join([header, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pairs", help="render labelled (view, goal photo) pairs from an env's episodes")
    p.add_argument("--env", default="ImageNav-ProcHouseNear-v0")
    p.add_argument("--split", default="train")
    p.add_argument("--episodes", type=int, required=True, help="how many of the split's episodes (drawn without replacement)")
    p.add_argument("--per-goal", type=int, default=8, help="views per goal photo: the start and random poses")
    p.add_argument("--max-distance", type=float, default=3.0, help="random poses within this geodesic distance of the goal (m)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--env-option", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", required=True)
    t = sub.add_parser("train", help="fit the probe on one encoder and score it on val pairs")
    t.add_argument("--train", required=True)
    t.add_argument("--val", required=True)
    t.add_argument("--checkpoint", required=True, help="an RSRNav checkpoint whose encoder is probed")
    t.add_argument("--freeze", action="store_true", help="train only the MLP (what the encoder knows now)")
    t.add_argument("--reinit", action="store_true", help="draw the encoder's weights afresh (the checkpoint gives the architecture)")
    t.add_argument("--epochs", type=int, default=6)
    t.add_argument("--learning-rate", type=float, default=3e-4)
    t.add_argument("--max-minutes", type=float, default=None)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--save-policy", default=None, help="also write the policy with the probe-trained encoder here (for init_from)")
    t.add_argument("--out", required=True, help="JSON file for the scores")
    tb = sub.add_parser("table", help="print saved results as a markdown table")
    tb.add_argument("results", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "table":
        print(table(args.results))
        return 0
    for name in ("episodes", "per_goal", "epochs", "threads"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')}={value} must be at least 1")
    if args.command == "pairs":
        import gymnasium as gym

        import navgym  # noqa: F401  (registers the ids)
        from navgym.core.options import key_values

        try:
            options = key_values(args.env_option, "--env-option")
        except ValueError as error:
            parser.error(str(error))
        options.setdefault("sim_options", {"render_backend": "raster"})
        env = gym.make(args.env, split=args.split, **options)
        available = len(env.unwrapped.dataset.episodes)
        if args.episodes > available:
            parser.error(f"--episodes={args.episodes} is more than the {available} episodes of split {args.split!r}; ask for at most {available}")
        chosen = sorted(np.random.default_rng(args.seed).choice(available, size=args.episodes, replace=False).tolist())
        began = time.time()
        pairs = collect_pairs(env, chosen, args.per_goal, args.seed, args.max_distance)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.out, **pairs)
        print(f"{args.out}: {len(pairs['rgb'])} views of {len(pairs['goal'])} goal photos in {time.time() - began:.0f} s")
        return 0
    import torch

    torch.set_num_threads(args.threads)
    train, val = dict(np.load(args.train)), dict(np.load(args.val))
    result = train_probe(train, val, args.checkpoint, args.freeze, args.epochs, args.learning_rate, max_minutes=args.max_minutes, seed=args.seed,
                         reinit=args.reinit, save_policy=args.save_policy)
    result["settings"] = {k: v for k, v in vars(args).items() if k != "command"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
