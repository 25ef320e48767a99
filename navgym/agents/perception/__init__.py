"""The perception seam of zero-shot agents: what objects an image shows, and where (issue 11).

* :mod:`~navgym.agents.perception.detection`: :class:`Detection`, the :class:`Perception` protocol
  (``detect(obs, pose)``, ``detect_image(rgb, depth)``) and the depth -> 3D geometry.
* :mod:`~navgym.agents.perception.ground_truth`: :class:`GroundTruthPerception` from the semantic
  sensor + :class:`SceneInstanceLabels` (privileged: see that module for what it gives away).
* :mod:`~navgym.agents.perception.noisy`: :class:`NoisyPerception`, seeded misses, false
  positives, confusions and position noise around any backend.
* :mod:`~navgym.agents.perception.detector`: the :class:`Detector` seam (Grounded-SAM, YOLO-World)
  and :class:`DetectorPerception`, which lifts 2D detections to 3D with depth.
* :mod:`~navgym.agents.perception.matching`: :class:`KeypointMatcher` (OpenCV ORB / SIFT +
  RANSAC) for image goals; OpenCV (the ``zeroshot`` extra) is imported when one is built.
* :mod:`~navgym.agents.perception.goal_image`: detections in goal photos and the privileged
  :class:`GoalImageSemantics` wrapper ground truth needs for them.

See ``docs/perception.md``. Nothing here reads the ProcHouse generator (its room-object priors
would leak the benchmark's answer into a zero-shot agent); a test checks it.
"""

from navgym.agents.perception.detection import CAMERA_FRAME, START_FRAME, Detection, FramePoints, Perception
from navgym.agents.perception.detector import Detection2D, Detector, DetectorPerception
from navgym.agents.perception.goal_image import GoalImageSemantics, central_detection, goal_image_detections
from navgym.agents.perception.ground_truth import GroundTruthPerception, InstanceLabel, SceneInstanceLabels
from navgym.agents.perception.matching import ImageFeatures, KeypointMatcher, MatchResult, require_cv2
from navgym.agents.perception.noisy import DEFAULT_CONFUSION_SETS, NoisyPerception


__all__ = [
    "CAMERA_FRAME",
    "DEFAULT_CONFUSION_SETS",
    "START_FRAME",
    "Detection",
    "Detection2D",
    "Detector",
    "DetectorPerception",
    "FramePoints",
    "GoalImageSemantics",
    "GroundTruthPerception",
    "ImageFeatures",
    "InstanceLabel",
    "KeypointMatcher",
    "MatchResult",
    "NoisyPerception",
    "Perception",
    "SceneInstanceLabels",
    "central_detection",
    "goal_image_detections",
    "require_cv2",
]
