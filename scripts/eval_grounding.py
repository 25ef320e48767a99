"""Evaluate a grounding checkpoint (docs/grounding.md) on a split of a ``navgym semnav-data``
folder: the dual-heatmap paper's Table 1 metrics (Nav / Facing / Overall P, R, F1, AR, MSE).

Usage:
    python scripts/eval_grounding.py --data data/semnav --split val --checkpoint models/grounding_heatmap.pt
    python scripts/eval_grounding.py --data data/semnav --split test --checkpoint models/grounding_point.pt --out point_test.json

Prints a Markdown table (rows: the recorded prompt kinds, each kind alone, each body) and writes the
full metrics JSON to ``--out`` (default ``<checkpoint stem>_<split>_metrics.json`` beside the
checkpoint). Exit status: 0 done, 2 bad arguments, data or checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a navgym semnav-data folder")
    parser.add_argument("--split", choices=("train", "val", "test"), default="val")
    parser.add_argument("--checkpoint", required=True, help="a checkpoint written by scripts/train_grounding.py")
    parser.add_argument("--bodies", default=None, help="comma-separated bodies (default: all in the folder)")
    parser.add_argument("--modes", default="recorded,text,image,interleaved", help="prompt modes to score (recorded = each sample's own kind)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many samples per mode")
    parser.add_argument("--out", default=None, help="metrics JSON (default: beside the checkpoint)")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from navgym.agents.grounding.evaluate import evaluate_checkpoint, summary_rows
    from navgym.agents.grounding.metrics import format_table
    from navgym.errors import NavgymError

    checkpoint = Path(args.checkpoint)
    out = Path(args.out) if args.out else checkpoint.with_name(f"{checkpoint.stem}_{args.split}_metrics.json")
    try:
        result = evaluate_checkpoint(
            checkpoint, args.data, split=args.split,
            bodies=[b.strip() for b in args.bodies.split(",") if b.strip()] if args.bodies else None,
            modes=[m.strip() for m in args.modes.split(",") if m.strip()], limit=args.limit, progress=not args.no_progress,
        )
    except (NavgymError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(summary_rows(result)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
