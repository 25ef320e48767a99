"""Train a SemanticNav grounding model (docs/grounding.md): the dual-heatmap network or the
point-regression baseline, on a ``navgym semnav-data`` folder, under a CPU-time budget.

Usage:
    python scripts/train_grounding.py --data data/semnav --model heatmap --minutes 30 --out models/grounding_heatmap.pt
    python scripts/train_grounding.py --data data/semnav --model point --minutes 30 --out models/grounding_point.pt

``--out`` is the checkpoint, saved every ``--save-every`` steps (atomically), at the end and on
Ctrl-C; rerunning the same command resumes it (``--fresh`` starts over); ``--export FILE`` also
writes a weights-only copy (about a third of the size) for committing or shipping. Logs go to TensorBoard
(``<out stem>_tb/``, when tensorboard is installed) and to ``<out stem>_train.csv``.
Exit status: 0 done, 2 bad arguments or data, 130 interrupted (checkpoint kept).
"""

from __future__ import annotations

import argparse
import json
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a navgym semnav-data folder (its train split trains, its val split validates)")
    parser.add_argument("--model", choices=("heatmap", "point"), default="heatmap", help="dual-heatmap network or point-regression baseline")
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget in minutes of the --clock (default 30)")
    parser.add_argument("--out", required=True, help="checkpoint file (resumed when it exists)")
    parser.add_argument("--bodies", default=None, help="comma-separated bodies to train on (default: all in the folder)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument("--eval-every", type=int, default=250, help="steps between validation losses")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="what --minutes counts: process CPU time (default) or wall time")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (earlier than the budget)")
    parser.add_argument("--config", default=None, help="JSON of GroundingConfig fields to override, e.g. '{\"dim\": 96}'")
    parser.add_argument("--export", default=None, help="also write a weights-only copy (no optimiser state, not resumable) here when training ends")
    parser.add_argument("--fresh", action="store_true", help="start over even if --out exists")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-tensorboard", action="store_true", help="log to the CSV only")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from navgym.agents.grounding.train import TrainOptions, train
    from navgym.errors import NavgymError

    try:
        options = TrainOptions(
            data=args.data, out=args.out, model=args.model, minutes=args.minutes,
            bodies=[b.strip() for b in args.bodies.split(",") if b.strip()] if args.bodies else None,
            batch_size=args.batch_size, lr=args.lr, seed=args.seed, save_every=args.save_every, eval_every=args.eval_every,
            clock=args.clock, max_steps=args.max_steps, fresh=args.fresh, progress=not args.no_progress,
            tensorboard=not args.no_tensorboard, config=json.loads(args.config) if args.config else {},
        )
        train(options)
        if args.export:
            from navgym.agents.grounding.models import export_weights

            print(f"exported {export_weights(args.out, args.export)} (weights only)")
    except KeyboardInterrupt:
        return 130
    except (NavgymError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
