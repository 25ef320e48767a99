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
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from navgym.training.goal_pose import DISTANCE_SCALE, LABELS, collect_pairs, fit_goal_pose, goal_label, score, targets  # noqa: F401

# The pairs, their labels and the fit are navgym's (navgym.training.goal_pose, which `navgym train
# --pose-episodes` uses too); this script probes and saves encoders from the command line.


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

    from navgym.agents.rsrnav.model import load_policy

    torch.manual_seed(seed)
    policy = load_policy(checkpoint)[0]
    encoder = policy.features_extractor
    if reinit:
        for module in encoder.modules():
            if module is not encoder and hasattr(module, "reset_parameters"):
                module.reset_parameters()
    result = fit_goal_pose(encoder, train, val, freeze=freeze, epochs=epochs, learning_rate=learning_rate, batch=batch,
                           max_minutes=max_minutes, seed=seed, log=log)
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
