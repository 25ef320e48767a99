"""Noisy perception: any :class:`~navgym.agents.perception.detection.Perception` with seeded
misses, false positives, category confusions and position noise, to measure how an agent copes.

Per frame, independently (one ``numpy`` generator seeded once, so the same seed and the same
frames give the same output):

1. each detection is **missed** with probability ``miss_rate``;
2. a kept detection whose category is in a confusion set with other members is **confused** with
   probability ``confusion_rate``: its category becomes another member, uniformly;
3. a kept detection's position (and extent) is shifted by Gaussian **position noise**, standard
   deviation ``position_noise`` metres on x and z and ``height_noise`` on y;
4. ``Poisson(false_positives_per_frame)`` **false positives** are added: a category drawn from
   ``false_positive_categories``, confidence U(0.2, 0.6), no instance id, at the 3D point of a
   random pixel with a usable depth (so somewhere the camera really sees), with a 5x5 pixel mask.

:attr:`NoisyPerception.counts` counts each kind; :meth:`NoisyPerception.rates` turns them into
the observed rates (misses per input detection, confusions per confusable kept detection, false
positives per frame).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from navgym.agents.mapping.geometry import Pose2D
from navgym.agents.perception.detection import CAMERA_FRAME, Detection, FramePoints, Perception, mask_box
from navgym.core.checks import check_range
from navgym.errors import InvalidArgumentError

#: Visual look-alikes a detector confuses, chosen by shape and appearance (never by where things
#: stand: no room or co-occurrence knowledge). Disjoint; categories outside them are never confused.
DEFAULT_CONFUSION_SETS: tuple[frozenset[str], ...] = (
    frozenset({"chair", "stool", "seating", "sofa"}),
    frozenset({"table", "desk", "counter"}),
    frozenset({"cabinet", "chest_of_drawers", "nightstand", "wardrobe", "bookshelf"}),
    frozenset({"tv_monitor", "laptop", "picture", "mirror"}),
    frozenset({"dishwasher", "washing_machine", "refrigerator", "stove", "microwave"}),
    frozenset({"cushion", "towel", "clothes"}),
    frozenset({"toilet", "sink", "bathtub", "shower"}),
    frozenset({"plant", "vase", "lamp", "bowl"}),
)

#: Keys of :attr:`NoisyPerception.counts`.
COUNT_KEYS = ("frames", "detections_in", "missed", "confusable", "confused", "false_positives", "emitted")


class NoisyPerception:
    """Wraps a perception backend and corrupts its detections (seeded; see the module docstring).

    Args:
        inner: The backend to corrupt (ground truth, a detector...).
        seed: Seed of the noise generator.
        miss_rate: Probability that a detection is dropped, in [0, 1].
        false_positives_per_frame: Mean number of invented detections per frame (Poisson), >= 0.
        confusion_rate: Probability that a confusable detection changes category, in [0, 1].
        confusion_sets: Disjoint sets of categories confused with each other.
        position_noise: Standard deviation of the x and z shift, metres.
        height_noise: Standard deviation of the y shift, metres.
        false_positive_categories: Categories false positives are drawn from (default: every
            category of ``confusion_sets``).
        drop_instance_ids: Remove instance ids, as a real detector has none (the scene graph then
            merges detections by category and distance).
    """

    def __init__(
        self,
        inner: Perception,
        *,
        seed: int = 0,
        miss_rate: float = 0.0,
        false_positives_per_frame: float = 0.0,
        confusion_rate: float = 0.0,
        confusion_sets: Iterable[Iterable[str]] = DEFAULT_CONFUSION_SETS,
        position_noise: float = 0.0,
        height_noise: float = 0.0,
        false_positive_categories: Sequence[str] | None = None,
        drop_instance_ids: bool = False,
    ):
        self.inner = inner
        self.miss_rate = check_range("miss_rate", miss_rate, 0.0, 1.0)
        self.false_positives_per_frame = check_range("false_positives_per_frame", false_positives_per_frame, 0.0, 100.0)
        self.confusion_rate = check_range("confusion_rate", confusion_rate, 0.0, 1.0)
        self.position_noise = check_range("position_noise", position_noise, 0.0, 10.0)
        self.height_noise = check_range("height_noise", height_noise, 0.0, 10.0)
        self.confusion_sets = tuple(frozenset(s) for s in confusion_sets)
        self._alternatives: dict[str, tuple[str, ...]] = {}
        for group in self.confusion_sets:
            for category in sorted(group):
                if category in self._alternatives:
                    raise InvalidArgumentError(f"confusion_sets must be disjoint: {category!r} is in two sets")
                self._alternatives[category] = tuple(sorted(group - {category}))
        categories = false_positive_categories if false_positive_categories is not None else sorted(set().union(*self.confusion_sets))
        self.false_positive_categories = tuple(categories)
        if self.false_positives_per_frame > 0 and not self.false_positive_categories:
            raise InvalidArgumentError("false_positives_per_frame > 0 needs false_positive_categories (or confusion_sets) to draw from")
        self.drop_instance_ids = bool(drop_instance_ids)
        self.seed = seed
        self.reset_noise(seed)

    @property
    def privileged(self) -> bool:
        return bool(getattr(self.inner, "privileged", False))

    @property
    def camera(self):
        return self.inner.camera

    def reset_noise(self, seed: int | None = None) -> None:
        """Restart the noise generator (``seed``: a new seed, default the constructor's) and zero the counts."""
        self.rng = np.random.default_rng(self.seed if seed is None else seed)
        self.counts = {key: 0 for key in COUNT_KEYS}

    def rates(self) -> dict[str, float]:
        """Observed rates so far: ``miss_rate`` (misses / input detections), ``confusion_rate``
        (confusions / confusable kept detections), ``false_positives_per_frame``."""
        c = self.counts
        return {
            "miss_rate": c["missed"] / c["detections_in"] if c["detections_in"] else 0.0,
            "confusion_rate": c["confused"] / c["confusable"] if c["confusable"] else 0.0,
            "false_positives_per_frame": c["false_positives"] / c["frames"] if c["frames"] else 0.0,
        }

    def detect(self, obs: dict[str, Any], pose: Pose2D, pitch: float = 0.0) -> list[Detection]:
        detections = self.inner.detect(obs, pose, pitch)
        frame = FramePoints(obs["depth"], self.inner.camera, pose, pitch) if self._need_points() and "depth" in obs else None
        return self._corrupt(detections, frame)

    def detect_image(
        self, rgb: np.ndarray, depth: np.ndarray | None = None, *, hfov: float | None = None, semantic: np.ndarray | None = None
    ) -> list[Detection]:
        detections = self.inner.detect_image(rgb, depth, hfov=hfov, semantic=semantic)
        frame = FramePoints(depth, self.inner.camera, None, hfov=hfov) if self._need_points() and depth is not None else None
        return self._corrupt(detections, frame, shape=np.asarray(rgb).shape[:2])

    def _need_points(self) -> bool:
        return self.false_positives_per_frame > 0

    def _corrupt(self, detections: list[Detection], frame: FramePoints | None, shape: tuple[int, int] | None = None) -> list[Detection]:
        rng, counts = self.rng, self.counts
        counts["frames"] += 1
        out: list[Detection] = []
        for det in detections:
            counts["detections_in"] += 1
            if rng.random() < self.miss_rate:
                counts["missed"] += 1
                continue
            det = det.copy()
            alternatives = self._alternatives.get(det.category, ())
            if alternatives:
                counts["confusable"] += 1
                if rng.random() < self.confusion_rate:
                    counts["confused"] += 1
                    det.category = alternatives[int(rng.integers(len(alternatives)))]
                    det.source = f"{det.source}+confused" if det.source else "confused"
            if det.position is not None and (self.position_noise > 0 or self.height_noise > 0):
                shift = rng.normal(0.0, 1.0, 3) * np.array([self.position_noise, self.height_noise, self.position_noise])
                det.position = det.position + shift
                if det.extent is not None:
                    det.extent = (det.extent[0] + shift, det.extent[1] + shift)
            if self.drop_instance_ids:
                det.instance_id = None
            out.append(det)
        if self.false_positives_per_frame > 0:
            for _ in range(int(rng.poisson(self.false_positives_per_frame))):
                counts["false_positives"] += 1
                out.append(self._false_positive(frame, shape))
        counts["emitted"] += len(out)
        return out

    def _false_positive(self, frame: FramePoints | None, shape: tuple[int, int] | None) -> Detection:
        rng = self.rng
        category = self.false_positive_categories[int(rng.integers(len(self.false_positive_categories)))]
        confidence = float(rng.uniform(0.2, 0.6))
        height, width = frame.shape if frame is not None else (shape or (1, 1))
        if frame is not None and frame.valid.any():
            rows, cols = np.nonzero(frame.valid)
            k = int(rng.integers(len(rows)))
            row, col = int(rows[k]), int(cols[k])
        else:
            row, col = int(rng.integers(height)), int(rng.integers(width))
        mask = np.zeros((height, width), dtype=bool)
        mask[max(0, row - 2) : row + 3, max(0, col - 2) : col + 3] = True
        position = extent = None
        if frame is not None and frame.valid[row, col]:
            position = frame.points[row, col].copy()
            extent = (position - 0.1, position + 0.1)
        return Detection(
            category=category,
            confidence=confidence,
            instance_id=None,
            mask=mask,
            box=mask_box(mask),
            position=position,
            extent=extent,
            frame=frame.frame if frame is not None else CAMERA_FRAME,
            pixels=int(mask.sum()),
            source="false_positive",
        )
