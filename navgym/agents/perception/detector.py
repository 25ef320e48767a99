"""The seam where a real 2D detector plugs in: ``detect(rgb) -> boxes / masks with labels and
scores``, turned into 3D :class:`~navgym.agents.perception.detection.Detection` s with depth and
the agent's pose by :class:`DetectorPerception`.

No detector ships here (no open-vocabulary detector's weights can be installed offline). A
wrapper around a real one is a few lines; for example YOLO-World through ``ultralytics``
(weights downloaded by the user)::

    from ultralytics import YOLOWorld

    class YoloWorldDetector:
        def __init__(self, classes, weights="yolov8s-worldv2.pt"):
            self.model = YOLOWorld(weights)
            self.model.set_classes(list(classes))
            self.names = list(classes)

        def detect(self, rgb):
            result = self.model.predict(rgb, verbose=False)[0]
            return [
                Detection2D(self.names[int(c)], float(s), box=tuple(b))
                for b, s, c in zip(result.boxes.xyxy.tolist(), result.boxes.conf.tolist(), result.boxes.cls.tolist())
            ]

and Grounded-SAM (Grounding DINO boxes from a text prompt, then SAM masks in those boxes)
returns ``Detection2D(label, score, box=..., mask=...)`` the same way; with masks the 3D
position uses exactly the object's pixels. See ``docs/perception.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence, Union, runtime_checkable

import numpy as np

from navgym.agents.mapping.geometry import Pose2D
from navgym.agents.perception.detection import CAMERA_FRAME, Detection, FramePoints
from navgym.core.checks import check_range
from navgym.core.specs import CameraSpec
from navgym.errors import InvalidArgumentError


@dataclass
class Detection2D:
    """One 2D detection of a detector.

    Attributes:
        label: The detector's label (mapped to a category by ``label_map``).
        score: Confidence in [0, 1].
        box: ``(x0, y0, x1, y1)`` pixels (x = column), ends exclusive; optional with a mask.
        mask: (H, W) bool instance mask (segmenters: SAM, Mask R-CNN), optional.
        attributes: Anything the detector says about the object (e.g. ``{"color": "red"}``).
    """

    label: str
    score: float
    box: tuple[float, float, float, float] | None = None
    mask: np.ndarray | None = None
    attributes: dict[str, Any] | None = None


@runtime_checkable
class Detector(Protocol):
    """A 2D detector: RGB (H, W, 3) uint8 -> its detections."""

    def detect(self, rgb: np.ndarray) -> Sequence[Detection2D]: ...


DetectorLike = Union[Detector, Callable[[np.ndarray], Sequence[Detection2D]]]


class DetectorPerception:
    """Any :class:`Detector` (or a plain function ``rgb -> [Detection2D]``) + depth -> detections.

    3D position: with a mask, the mask's pixels; with a box only, the pixels of the box's central
    ``box_core`` fraction whose depth lies within ``box_thickness`` metres of that region's
    ``box_depth_quantile`` quantile (the nearest surface in the box, which is the object far more
    often than the background behind it). The detector sees nothing else, so this backend is not
    privileged and has no instance ids.

    Args:
        detector: The detector.
        camera: The agent's camera (``hfov``, ``camera_height``, ``pitch``, depth range).
        score_threshold: Detections scoring lower are dropped.
        label_map: Detector label -> category name (labels missing from it are kept as they are;
            map a label to ``None`` to drop it).
        box_core: Fraction of the box (each side) used for box-only depth, in (0, 1].
        box_depth_quantile: Quantile of the core's depths taken as the object's surface.
        box_thickness: Depths within this of that surface count as the object, metres.
    """

    privileged = False
    name = "detector"

    def __init__(
        self,
        detector: DetectorLike,
        camera: CameraSpec | None = None,
        *,
        score_threshold: float = 0.3,
        label_map: Mapping[str, str | None] | None = None,
        box_core: float = 0.5,
        box_depth_quantile: float = 0.3,
        box_thickness: float = 0.5,
    ):
        if not (callable(getattr(detector, "detect", None)) or callable(detector)):
            raise InvalidArgumentError(f"detector={detector!r} has no detect(rgb) method and is not callable")
        self.detector = detector
        self.camera = camera if camera is not None else CameraSpec()
        self.score_threshold = check_range("score_threshold", score_threshold, 0.0, 1.0)
        self.label_map = dict(label_map or {})
        self.box_core = check_range("box_core", box_core, 0.0, 1.0, low_open=True)
        self.box_depth_quantile = check_range("box_depth_quantile", box_depth_quantile, 0.0, 1.0)
        self.box_thickness = check_range("box_thickness", box_thickness, 0.0, 100.0, low_open=True)

    def _run(self, rgb: np.ndarray) -> Sequence[Detection2D]:
        detect = getattr(self.detector, "detect", None)
        return detect(rgb) if callable(detect) else self.detector(rgb)

    def detect(self, obs: dict[str, Any], pose: Pose2D, pitch: float = 0.0) -> list[Detection]:
        for key in ("rgb", "depth"):
            if key not in obs:
                raise KeyError(f"DetectorPerception needs obs[{key!r}]; make the env with {key!r} in sensors=")
        return self._lift(self._run(obs["rgb"]), FramePoints(obs["depth"], self.camera, pose, pitch), np.asarray(obs["rgb"]).shape[:2])

    def detect_image(
        self, rgb: np.ndarray, depth: np.ndarray | None = None, *, hfov: float | None = None, semantic: np.ndarray | None = None
    ) -> list[Detection]:
        frame = FramePoints(depth, self.camera, None, hfov=hfov) if depth is not None else None
        return self._lift(self._run(rgb), frame, np.asarray(rgb).shape[:2])

    def _lift(self, raw: Sequence[Detection2D], frame: FramePoints | None, shape: tuple[int, int]) -> list[Detection]:
        detections = []
        for det in raw:
            score = float(det.score)
            if score < self.score_threshold:
                continue
            category = self.label_map.get(det.label, det.label)
            if category is None:
                continue
            mask, box = self._mask_and_box(det, shape)
            if box is None:
                continue
            region = mask if mask is not None else self._box_region(box, frame, shape)
            position, extent = frame.locate(region) if frame is not None and region is not None else (None, None)
            detections.append(
                Detection(
                    category=str(category),
                    confidence=score,
                    instance_id=None,
                    mask=mask,
                    box=box,
                    position=position,
                    extent=extent,
                    frame=frame.frame if frame is not None else CAMERA_FRAME,
                    pixels=int(mask.sum()) if mask is not None else (box[2] - box[0]) * (box[3] - box[1]),
                    attributes=dict(det.attributes or {}),
                    source=self.name,
                )
            )
        return detections

    @staticmethod
    def _mask_and_box(det: Detection2D, shape: tuple[int, int]) -> tuple[np.ndarray | None, tuple[int, int, int, int] | None]:
        height, width = shape
        mask = None
        if det.mask is not None:
            mask = np.asarray(det.mask, dtype=bool)
            if mask.shape != (height, width):
                raise ValueError(f"Detection2D.mask has shape {mask.shape}; expected the image's {(height, width)}")
            if not mask.any():
                return None, None
        if det.box is not None:
            x0, y0, x1, y1 = (float(v) for v in det.box)
            box = (max(0, int(np.floor(x0))), max(0, int(np.floor(y0))), min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1))))
        elif mask is not None:
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        else:
            raise ValueError(f"Detection2D({det.label!r}) has neither a box nor a mask")
        if box[2] <= box[0] or box[3] <= box[1]:
            return None, None
        return mask, box

    def _box_region(self, box: tuple[int, int, int, int], frame: FramePoints | None, shape: tuple[int, int]) -> np.ndarray | None:
        """Pixels of the box's core whose depth is near its nearest surface (see the class doc)."""
        if frame is None:
            return None
        x0, y0, x1, y1 = box
        margin_x = (x1 - x0) * (1.0 - self.box_core) / 2.0
        margin_y = (y1 - y0) * (1.0 - self.box_core) / 2.0
        cx0, cx1 = int(np.floor(x0 + margin_x)), max(int(np.ceil(x1 - margin_x)), int(np.floor(x0 + margin_x)) + 1)
        cy0, cy1 = int(np.floor(y0 + margin_y)), max(int(np.ceil(y1 - margin_y)), int(np.floor(y0 + margin_y)) + 1)
        core = np.zeros(shape, dtype=bool)
        core[cy0:cy1, cx0:cx1] = True
        core &= frame.valid
        if not core.any():
            return None
        surface = float(np.quantile(frame.depth[core], self.box_depth_quantile))
        return core & (np.abs(frame.depth - surface) <= self.box_thickness)
