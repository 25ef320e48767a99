"""Table 1 metrics of a trained grounding checkpoint on a split of a ``navgym semnav-data`` folder.

``python scripts/eval_grounding.py --data DIR --split val --checkpoint FILE`` calls
:func:`evaluate_checkpoint`. Each sample is read at its own resolution, letterboxed into the model,
and its prediction mapped back to the sample's pixels (:mod:`navgym.agents.grounding.models`); the
predicted navigation pixel's ground point comes from the sample's depth, camera and pose
(:func:`navgym.semnav.heatmaps.pixel_points`). Scored (:mod:`navgym.agents.grounding.metrics`):

* ``recorded``: every sample with the prompt kind the env would have drawn (the headline row);
* ``text`` / ``image`` / ``interleaved``: the samples that have that kind, prompted with it;
* ``by_body``: the ``recorded`` row per body.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from navgym.agents.grounding.metrics import GroundingMetrics
from navgym.agents.grounding.models import TextEmbedder, decode_predictions, letterbox, load_model
from navgym.semnav import SemNavDataset
from navgym.semnav.heatmaps import pixel_points

MODES = ("recorded", "text", "image", "interleaved")


def evaluate_checkpoint(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    split: str = "val",
    bodies: Sequence[str] | None = None,
    modes: Sequence[str] = MODES,
    batch_size: int = 32,
    limit: int | None = None,
    embedder: TextEmbedder | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """The metrics JSON (see the module doc); ``limit`` caps the samples per mode."""
    torch.set_num_threads(1)
    model, config, meta = load_model(checkpoint)
    embedder = embedder or TextEmbedder()
    result: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "model": config.model,
        "data": str(data),
        "split": split,
        "bodies": list(bodies) if bodies else None,
        "thresholds": {"confidence": config.threshold, "distance_m": GroundingMetrics().distance_threshold},
        "training": {k: meta.get("training", {}).get(k) for k in ("step", "samples", "elapsed_s", "clock", "finished", "parameters", "train_samples")},
        "metrics": {},
        "by_body": {},
    }
    started = time.perf_counter()
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {list(MODES)}")
        dataset = SemNavDataset(data, split=split, bodies=bodies, prompt_kind=None if mode == "recorded" else mode)
        total = len(dataset) if limit is None else min(limit, len(dataset))
        overall = GroundingMetrics()
        per_body: dict[str, GroundingMetrics] = {}
        confidences: dict[str, list[float]] = {"nav_positive": [], "nav_negative": [], "facing_positive": [], "facing_negative": []}
        starts = range(0, total, batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc=f"{split} {mode}", unit="batch", leave=False)
        for start in starts:
            items = [dataset[i] for i in range(start, min(total, start + batch_size))]
            view = torch.stack([letterbox(item["rgb"], config.input_height, config.input_width) for item in items])
            photo = torch.stack(
                [
                    letterbox(item["prompt_image"], config.input_height, config.input_width) if item["prompt_kind"] != "text" else torch.zeros_like(view[0])
                    for item in items
                ]
            )
            text = torch.from_numpy(embedder([item["prompt_text"] for item in items]))
            has_text = torch.tensor([item["prompt_kind"] != "image" for item in items])
            has_image = torch.tensor([item["prompt_kind"] != "text" for item in items])
            with torch.inference_mode():
                outputs = model(view, photo, text, has_text, has_image)
            predictions = decode_predictions(outputs, [item["rgb"].shape[:2] for item in items], config)
            for item, prediction in zip(items, predictions):
                index = item["index"]
                record = dataset.records[index]
                body = record["body"]
                points = pixel_points(item["depth"], dataset.camera(body), dataset.pose(index))
                gt = record.get("nav_point")
                kwargs = dict(
                    nav_point=prediction.nav_point,
                    facing_point=prediction.facing_point,
                    traversable=item["traversable"],
                    target_mask=item["target_mask"],
                    gt_nav_pixel=None if gt is None else gt["pixel"],
                    gt_nav_position=None if gt is None else gt["position"],
                    points=points,
                    nav_heatmap=item["nav_heatmap"],
                )
                score = overall.add(**kwargs)
                confidences["nav_positive" if score.nav_positive else "nav_negative"].append(prediction.nav_confidence)
                confidences["facing_positive" if score.facing_positive else "facing_negative"].append(prediction.facing_confidence)
                if mode == "recorded":
                    per_body.setdefault(body, GroundingMetrics()).add(**kwargs)
        result["metrics"][mode] = overall.result()
        # Mean confidence (heatmap maximum or presence probability) by ground truth: how far the
        # model is from the 0.5 threshold on each side.
        result["metrics"][mode]["mean_confidence"] = {k: (float(np.mean(v)) if v else None) for k, v in confidences.items()}
        if mode == "recorded":
            result["by_body"] = {body: metrics.result() for body, metrics in sorted(per_body.items())}
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def summary_rows(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rows for :func:`navgym.agents.grounding.metrics.format_table`: each mode, then each body."""
    rows = {f"{result['model']} / {mode}": metrics for mode, metrics in result["metrics"].items()}
    rows.update({f"{result['model']} / {body}": metrics for body, metrics in result["by_body"].items()})
    return rows


__all__ = ["MODES", "evaluate_checkpoint", "summary_rows"]
