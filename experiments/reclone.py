"""Clone again on the frozen encoder of a finished ``--bc-freeze encoder`` run, with other cloning settings.

The one-command RSRNav recipe (docs/results/rsrnav_log.md, "Cloning on a frozen pose-trained encoder")
trains the encoder on goal-pose pairs, then clones the oracle with that encoder held fixed. Only
the recurrent core and the action and value layers learn in the cloning, so the run's
``pretrain.zip`` still holds the pose-trained encoder unchanged. This script starts a new run from
that encoder alone: the encoder's weights come from ``RUN/pretrain.zip``, everything else is built
fresh from the run's seed exactly as the run built it (so with the run's own cloning settings it
reproduces the run's clone), and it clones with the settings given here (``--bc-epochs``,
``--bc-lr-schedule``, ``--bc-learning-rate``, ``--seed``, ``--num-scenes``: the houses the
demonstrations come from; ``--bc-teacher``: who labels them; ``--pretrain dagger`` with ``--dagger-rounds``, ``--dagger-episodes``,
``--dagger-epochs``: DAgger rounds after the cloning, the learner's own states labelled by the
run's teacher, on the same frozen encoder). No pose training is repeated.

    python experiments/reclone.py --run runs/pipeg30_direction_s1 --bc-epochs 24 --out runs/reclone_s1_e24
    python experiments/reclone.py --run runs/pipeg30_direction_s3 --pretrain dagger --dagger-rounds 2 --out runs/dagger_s3

Run folders are not kept with the repository; the committed records are enough: ``--run`` also
takes a run's ``train_args.json`` file and ``--encoder-from`` the run's committed policy-only
export (the encoder in it is the run's: the cloning leaves it unchanged), e.g.

    python experiments/reclone.py --run docs/results/rsrnav/pose_grouped/pipeg30_direction_s1_train_args.json \
        --encoder-from docs/results/rsrnav/checkpoints/pipeg30_direction_s1.zip --bc-teacher look --out runs/look_direction_s1

The new run folder is an ordinary one (``pretrain.zip``, ``pretrain.jsonl``, ``train_args.json``);
export and evaluate it as the recipe's runs. The same run by hand: ``navgym train`` with the run's
options and ``--init-from RUN/pretrain.zip --init-parts encoder --pose-episodes 0``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True,
                        help="a finished run with bc_freeze='encoder' (its folder: pretrain.zip, train_args.json; or its train_args.json file)")
    parser.add_argument("--encoder-from", type=Path, default=None,
                        help="the checkpoint the encoder comes from (default: RUN/pretrain.zip; e.g. the run's committed policy-only export)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bc-epochs", type=int, default=None, help="default: the run's")
    parser.add_argument("--bc-lr-schedule", default=None, help="constant or cosine (checked by TrainArgs)")
    parser.add_argument("--bc-learning-rate", type=float, default=None)
    parser.add_argument("--seed", type=int, default=None, help="the cloning's seed (default: the run's; the fresh layers are built from it)")
    parser.add_argument("--num-scenes", type=int, default=None,
                        help="houses the demonstrations come from (the env's num_scenes; default: the run's)")
    parser.add_argument("--pretrain", choices=["bc", "dagger"], default=None, help="dagger: DAgger rounds after the cloning (default: the run's)")
    parser.add_argument("--dagger-rounds", type=int, default=None, help="with --pretrain dagger (default: the run's)")
    parser.add_argument("--dagger-episodes", type=int, default=None, help="episodes the learner runs per DAgger round")
    parser.add_argument("--dagger-epochs", type=int, default=None, help="cloning passes after each DAgger round")
    parser.add_argument("--bc-teacher", default=None, help="who labels the demonstrations: path, view or look (default: the run's)")
    options = parser.parse_args(argv)

    from navgym.training import train

    folder = options.run.is_dir()
    args_file = options.run / "train_args.json" if folder else options.run
    if not args_file.is_file():
        raise SystemExit(f"--run {options.run}: no {args_file}; give a run folder or its train_args.json file")
    encoder_from = options.encoder_from or (options.run / "pretrain.zip" if folder else None)
    if encoder_from is None:
        raise SystemExit(f"--run {options.run} is a train_args.json file: give --encoder-from, the run's pretrain.zip or its policy-only export")
    settings = json.loads(args_file.read_text())
    if settings.get("bc_freeze") != "encoder" or settings.get("pretrain") is None:
        raise SystemExit(f"--run {options.run}: cloned with bc_freeze={settings.get('bc_freeze')!r}; its encoder changed in the cloning, use a run with bc_freeze='encoder'")
    if not encoder_from.is_file():
        raise SystemExit(f"--encoder-from {encoder_from}: no such file; give the run's pretrain.zip or its policy-only export")
    settings.update(out=str(options.out), init_from=str(encoder_from), init_parts="encoder", pose_episodes=0, resume=False)
    for key in ("bc_epochs", "bc_lr_schedule", "bc_learning_rate", "seed", "pretrain", "dagger_rounds", "dagger_episodes", "dagger_epochs", "bc_teacher"):
        if getattr(options, key) is not None:
            settings[key] = getattr(options, key)
    if options.num_scenes is not None:
        settings["env_kwargs"] = {**settings.get("env_kwargs", {}), "num_scenes": options.num_scenes}
    train(**settings)


if __name__ == "__main__":
    main()
