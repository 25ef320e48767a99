"""The grounding metrics of the dual-heatmap paper's Table 1 (``../shared/papers/dual-heatmap.txt``,
Sec. 4.1), on ``navgym semnav-data`` samples. numpy only.

The paper's rules, quoted, and how they are read here:

* **Point extraction**: "We extract the predicted point as the maximum-value location in the
  heatmap if its confidence exceeds a predefined threshold; otherwise, the model is treated as
  making no prediction ... we set the confidence threshold to 0.5" (done by
  :func:`navgym.agents.grounding.models.heatmap_point`: argmax of the sigmoid probabilities,
  prediction when the maximum is >= 0.5; the point baseline predicts when its presence probability
  is >= 0.5). This module takes the points.
* **Navigation**: "a sample is counted as positive when a valid ground-truth waypoint exists" (a
  sample with a ``nav_point``: not a negative, and some traversable floor within the success
  distance of the target is in view). "A true positive (TP) means the model outputs a prediction
  that lies on traversable ground and within a distance threshold of the ground-truth point. A
  false positive (FP) means the model outputs a point when no valid ground-truth waypoint exists,
  or outputs a point that is not on traversable ground or is outside the threshold. A false
  negative (FN) means a valid ground-truth waypoint exists but the model fails to output a
  prediction." Distance threshold 1.0 m. Read as: *on traversable ground* = the predicted pixel is
  in the sample's traversable mask (ground the body can stand on facing the target, connected to
  it: docs/semnav_data.md); *distance* = Euclidean distance **in the floor plane** (x, z) between
  the predicted pixel's ground point (the view's depth back-projected,
  :func:`navgym.semnav.heatmaps.pixel_points`) and the ground-truth ``nav_point``'s position;
  within = ``<= 1.0 m``. So a wrong prediction on a positive sample is an FP, not an FN, and
  recall = TP / (TP + FN) counts as misses only the positives left without any prediction (that is
  the paper's rule; it is why its heatmap model, which nearly always predicts, has Nav R near 1 in
  Table 2). ``nav_hit_rate`` = TP / positives is reported beside it (navgym's addition).
* **Facing**: "TP means that the predicted point falls inside the target-object mask". The paper
  gives no FP / FN wording for facing; the navigation rules are carried over: positive = the
  facing target is in view (non-empty target mask); FP = a point on a negative sample or outside
  the mask; FN = a positive without a prediction.
* **Overall**: the paper "additionally report[s] overall metrics that jointly summarize both
  aspects" without a formula. Here: precision, recall and F1 of the pooled counts (TP, FP, FN of
  navigation plus those of facing): the reading its Table 2 fits (the "VLM feature only" row, with
  almost no facing predictions, has Overall P close to its Nav P).
* **AR** (Affordance Rate): "the fraction of positive samples whose predicted navigation points
  lie in physically reachable regions": over navigation-positive samples, the share whose
  predicted point is on the traversable mask (a positive without a prediction counts as not
  reachable).
* **MSE**: "the average distance between the predicted point and the ground-truth point
  conditioned on the prediction being reachable", unit unstated. Its values in Tables 1-2 (0.90 to
  1.82) exceed what normalised pixel coordinates in [0, 1] allow for a distance (at most 1.41), so
  they are metric. The name says squared error, the text says distance; both are reported, over
  positive samples whose prediction is on the traversable mask: ``mse`` = mean squared floor
  distance (m^2), ``mean_distance`` = mean floor distance (m). ``pixel_mse`` is the same subset's
  mean squared Euclidean distance in normalised image coordinates ((col + 0.5) / W,
  (row + 0.5) / H), and ``pixel_mse_all`` over every positive with a prediction (no survivorship
  filter: the paper warns that conditioning on reachability favours models that rarely predict
  reachable points).
* ``nav_success`` (navgym's addition): the share of navigation positives whose point is on the
  ground-truth navigation heatmap's support (``H_nav > 0``): a pose where stopping, facing the
  target, satisfies SemanticNav's success rule (traversable and within 1.0 m geodesic of the
  target's reachable region).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The paper's confidence threshold (Sec. 4.1).
CONFIDENCE_THRESHOLD = 0.5
#: The paper's distance threshold in metres (Sec. 4.1).
DISTANCE_THRESHOLD = 1.0


def _pixel(point: Sequence[int] | None, shape: tuple[int, ...]) -> tuple[int, int] | None:
    if point is None:
        return None
    row, col = int(point[0]), int(point[1])
    if not (0 <= row < shape[0] and 0 <= col < shape[1]):
        raise ValueError(f"point {tuple(point)} is outside the {shape[0]}x{shape[1]} image")
    return row, col


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall, F1 (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


@dataclass
class SampleScore:
    """How one sample was scored: ``nav`` and ``facing`` are ``"tp"``, ``"fp"``, ``"fn"`` or
    ``"tn"``; ``reachable`` (navigation positives with a prediction), ``distance`` (m, when the
    predicted point is on the traversable mask), ``pixel_sq_error`` (normalised)."""

    nav: str
    facing: str
    nav_positive: bool
    facing_positive: bool
    reachable: bool | None = None
    distance: float | None = None
    pixel_sq_error: float | None = None
    success: bool | None = None


@dataclass
class GroundingMetrics:
    """Accumulates :meth:`add` per sample; :meth:`result` gives the Table 1 metrics."""

    distance_threshold: float = DISTANCE_THRESHOLD
    scores: list[SampleScore] = field(default_factory=list)

    def add(
        self,
        *,
        nav_point: Sequence[int] | None,
        facing_point: Sequence[int] | None,
        traversable: np.ndarray,
        target_mask: np.ndarray,
        gt_nav_pixel: Sequence[int] | None,
        gt_nav_position: Sequence[float] | None = None,
        points: np.ndarray | None = None,
        nav_heatmap: np.ndarray | None = None,
        facing_positive: bool | None = None,
    ) -> SampleScore:
        """Score one sample.

        Args:
            nav_point, facing_point: Predicted (row, col) pixels, or ``None`` (no prediction).
            traversable: ``(H, W)`` bool, the sample's traversable mask.
            target_mask: ``(H, W)`` bool, the target's pixels (empty when not in view).
            gt_nav_pixel: The ground-truth navigation point (row, col); ``None``: no valid
                waypoint (a navigation negative).
            gt_nav_position: Its ground point (x, y, z) in metres (needed for the distance).
            points: ``(H, W, 3)`` world points of the view's pixels
                (:func:`navgym.semnav.heatmaps.pixel_points`); needed when ``nav_point`` is on
                the traversable mask of a positive sample.
            nav_heatmap: The ground-truth navigation heatmap, for ``nav_success`` (optional).
            facing_positive: Whether a facing target is in view (default: the mask is non-empty).
        """
        traversable = np.asarray(traversable, dtype=bool)
        target_mask = np.asarray(target_mask, dtype=bool)
        shape = traversable.shape
        nav, facing = _pixel(nav_point, shape), _pixel(facing_point, shape)
        nav_positive = gt_nav_pixel is not None
        score = SampleScore(nav="tn", facing="tn", nav_positive=nav_positive, facing_positive=bool(target_mask.any()) if facing_positive is None else bool(facing_positive))

        if nav is None:
            score.nav = "fn" if nav_positive else "tn"
        elif not nav_positive:
            score.nav = "fp"
        else:
            score.reachable = bool(traversable[nav])
            gt = _pixel(gt_nav_pixel, shape)
            du = (nav[1] - gt[1]) / shape[1]
            dv = (nav[0] - gt[0]) / shape[0]
            score.pixel_sq_error = du * du + dv * dv
            if nav_heatmap is not None:
                score.success = bool(np.asarray(nav_heatmap)[nav] > 0)
            if score.reachable:
                if points is None or gt_nav_position is None:
                    raise ValueError("points and gt_nav_position are needed to score a reachable prediction on a positive sample")
                predicted = np.asarray(points, dtype=np.float64)[nav]
                target = np.asarray(gt_nav_position, dtype=np.float64)
                score.distance = float(math.hypot(predicted[0] - target[0], predicted[2] - target[2]))
                score.nav = "tp" if score.distance <= self.distance_threshold else "fp"
            else:
                score.nav = "fp"
        if nav_positive and nav is None:
            score.reachable = False
            score.success = False if nav_heatmap is not None else None

        if facing is None:
            score.facing = "fn" if score.facing_positive else "tn"
        elif not score.facing_positive:
            score.facing = "fp"
        else:
            score.facing = "tp" if target_mask[facing] else "fp"
        self.scores.append(score)
        return score

    def result(self) -> dict[str, Any]:
        """The metrics (floats; ``None`` where a mean has no samples) and the counts."""
        counts = {task: {k: 0 for k in ("tp", "fp", "fn", "tn")} for task in ("nav", "facing")}
        for s in self.scores:
            counts["nav"][s.nav] += 1
            counts["facing"][s.facing] += 1
        nav, facing = counts["nav"], counts["facing"]
        positives = [s for s in self.scores if s.nav_positive]
        reachable = [s for s in positives if s.reachable and s.distance is not None]
        predicted = [s for s in positives if s.pixel_sq_error is not None]
        with_success = [s for s in positives if s.success is not None]

        def mean(values):
            return float(np.mean(values)) if len(values) else None

        overall = prf(nav["tp"] + facing["tp"], nav["fp"] + facing["fp"], nav["fn"] + facing["fn"])
        nav_prf, facing_prf = prf(nav["tp"], nav["fp"], nav["fn"]), prf(facing["tp"], facing["fp"], facing["fn"])
        return {
            "samples": len(self.scores),
            "nav_positives": len(positives),
            "facing_positives": sum(s.facing_positive for s in self.scores),
            "nav_precision": nav_prf["precision"],
            "nav_recall": nav_prf["recall"],
            "nav_f1": nav_prf["f1"],
            "ar": (sum(bool(s.reachable) for s in positives) / len(positives)) if positives else None,
            "mse": mean([s.distance**2 for s in reachable]),
            "mean_distance": mean([s.distance for s in reachable]),
            "pixel_mse": mean([s.pixel_sq_error for s in reachable]),
            "pixel_mse_all": mean([s.pixel_sq_error for s in predicted]),
            "facing_precision": facing_prf["precision"],
            "facing_recall": facing_prf["recall"],
            "facing_f1": facing_prf["f1"],
            "overall_precision": overall["precision"],
            "overall_recall": overall["recall"],
            "overall_f1": overall["f1"],
            "nav_hit_rate": (nav["tp"] / len(positives)) if positives else None,
            "nav_success": (sum(bool(s.success) for s in with_success) / len(with_success)) if with_success else None,
            "nav_prediction_rate": (len(predicted) / len(positives)) if positives else None,
            "counts": counts,
        }


#: Table 1's columns, in order, with the keys of :meth:`GroundingMetrics.result`.
TABLE_COLUMNS = (
    ("Nav P", "nav_precision"),
    ("Nav R", "nav_recall"),
    ("Nav F1", "nav_f1"),
    ("AR", "ar"),
    ("MSE (m^2)", "mse"),
    ("dist (m)", "mean_distance"),
    ("Facing P", "facing_precision"),
    ("Facing R", "facing_recall"),
    ("Facing F1", "facing_f1"),
    ("Overall P", "overall_precision"),
    ("Overall R", "overall_recall"),
    ("Overall F1", "overall_f1"),
)


def format_table(rows: dict[str, dict[str, Any]]) -> str:
    """A Markdown table of Table 1's columns, one row per name in ``rows``."""
    head = "| | " + " | ".join(name for name, _ in TABLE_COLUMNS) + " |"
    lines = [head, "|---" * (len(TABLE_COLUMNS) + 1) + "|"]
    for name, result in rows.items():
        cells = ["-" if result.get(key) is None else f"{result[key]:.4f}" for _, key in TABLE_COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__ = ["CONFIDENCE_THRESHOLD", "DISTANCE_THRESHOLD", "GroundingMetrics", "SampleScore", "TABLE_COLUMNS", "format_table", "prf"]
