"""Ground-truth perception: the ``semantic`` sensor's instance ids + a lookup the env gives.

This is the "GT perception" setting of the zero-shot papers' ablations (an upper bound on what
a perfect detector would do), and it is **privileged**: an agent using it must say so
(``privileged = True`` here, and the lookup object is marked the same way).

What it gives away, exactly:

* the instance id and category (and, with ``attributes=True``, the annotated colour, material and
  size; with ``fronts=True``, the facing direction) of every instance that covers at least
  ``min_pixels`` pixels of the *current* frame: perfect segmentation, classification and
  re-identification of what the camera sees;
* nothing about instances the camera has not seen: the lookup is only ever indexed by ids read
  from the frame's semantic pixels;
* no positions, boxes or rooms from the scene: every 3D position comes from the depth image and
  the agent's own GPS + compass pose, exactly as it would for a real detector.

``fronts=True`` additionally rotates each seen object's annotated front into the start frame,
which reads the agent's world heading from the simulator: it gives away an object's orientation
(what a 6-DoF pose estimator would return), never where anything is. It is off by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Union

import numpy as np

from navgym.agents.mapping.geometry import Pose2D
from navgym.agents.perception.detection import CAMERA_FRAME, Detection, FramePoints, mask_box, start_frame_front
from navgym.core.specs import CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.scenes.scene import STRUCTURAL_CATEGORIES

#: Attributes of the scene annotations that ground-truth perception passes on (ProcHouse's).
LABEL_ATTRIBUTES = ("color", "material", "size")


@dataclass(frozen=True)
class InstanceLabel:
    """What ground-truth perception may say about one instance id: its category, descriptive
    attributes, and (only where asked for) its facing direction in the world frame."""

    category: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    front: tuple[float, float] | None = None


LabelTable = Mapping[int, Union[str, InstanceLabel]]
Labels = Union[LabelTable, Callable[[], LabelTable]]


class SceneInstanceLabels:
    """PRIVILEGED lookup: instance id -> :class:`InstanceLabel` for the env's current scene.

    Read once per scene through ``sim.object_instances()`` (the semantic annotations, as
    Habitat's ``sim.semantic_annotations()``) and cached. It keeps categories, the attributes
    named in :data:`LABEL_ATTRIBUTES` (``attributes=True``) and fronts (``fronts=True``) only:
    boxes, centres and rooms are dropped here so no position can leak through it.

    Args:
        env: The navgym env (any wrapper of a ``NavEnv``).
        attributes: Pass on colour / material / size.
        fronts: Pass on facing directions (and let :meth:`world_yaw` read the agent's heading).
    """

    privileged = True

    def __init__(self, env: Any, attributes: bool = True, fronts: bool = False):
        self.env = env
        self.attributes = bool(attributes)
        self.fronts = bool(fronts)
        self._scene_id: str | None = None
        self._table: dict[int, InstanceLabel] = {}

    def __call__(self) -> Mapping[int, InstanceLabel]:
        sim = self.env.unwrapped.sim
        if sim.scene_id != self._scene_id:
            table = {}
            for inst in sim.object_instances():
                attributes = {k: inst.attributes[k] for k in LABEL_ATTRIBUTES if self.attributes and k in inst.attributes}
                front = tuple(float(v) for v in inst.front) if self.fronts and inst.front is not None else None
                table[int(inst.id)] = InstanceLabel(str(inst.category), attributes, front)
            self._table = table
            self._scene_id = sim.scene_id
        return self._table

    def world_yaw(self) -> float:
        """The agent's world heading (radians); only used to rotate fronts into the start frame."""
        if not self.fronts:
            raise InvalidArgumentError("SceneInstanceLabels(fronts=False) gives no fronts; build it with fronts=True")
        return float(self.env.unwrapped.sim.get_agent_state().yaw)


class GroundTruthPerception:
    """Detections from the ``semantic`` sensor: one per instance id in view (privileged).

    Positions come from ``depth`` and the pose, never from the scene (see the module docstring
    for what this mode gives away). Needs ``semantic`` and ``depth`` in the observation.

    Args:
        labels: Instance id -> category name or :class:`InstanceLabel` (a mapping, or a
            zero-argument callable returning the current scene's table, e.g.
            :class:`SceneInstanceLabels`). Ids missing from it are skipped.
        camera: The agent's camera (``hfov``, ``camera_height``, ``pitch``, depth range).
        min_pixels: Instances covering fewer pixels are not reported (a detector would miss them).
        ignore_categories: Categories never reported (default: walls, floors, ceilings, door frames).
        world_yaw: Zero-argument callable giving the agent's world heading, needed to rotate
            labels' fronts into the start frame (default: ``labels.world_yaw`` when it has one).
    """

    privileged = True
    name = "ground_truth"

    def __init__(
        self,
        labels: Labels,
        camera: CameraSpec | None = None,
        *,
        min_pixels: int = 20,
        ignore_categories: Iterable[str] = STRUCTURAL_CATEGORIES,
        world_yaw: Callable[[], float] | None = None,
    ):
        if isinstance(min_pixels, bool) or not isinstance(min_pixels, (int, np.integer)) or min_pixels < 1:
            raise InvalidArgumentError(f"min_pixels={min_pixels!r} must be an integer >= 1")
        self.labels = labels
        self.camera = camera if camera is not None else CameraSpec()
        self.min_pixels = int(min_pixels)
        self.ignore_categories = frozenset(ignore_categories)
        self.world_yaw = world_yaw if world_yaw is not None else getattr(labels, "world_yaw", None)

    @classmethod
    def from_env(cls, env: Any, *, attributes: bool = True, fronts: bool = False, **kwargs: Any) -> "GroundTruthPerception":
        """Ground-truth perception for ``env``: its camera and a :class:`SceneInstanceLabels`."""
        sensors = tuple(getattr(env.unwrapped, "sensors", ()))
        missing = [s for s in ("semantic", "depth") if s not in sensors]
        if missing:
            raise InvalidArgumentError(
                f"GroundTruthPerception needs the sensors {missing}, which this env does not emit (sensors={list(sensors)}); "
                f"make it with sensors={tuple(dict.fromkeys(list(sensors) + missing))}"
            )
        return cls(SceneInstanceLabels(env, attributes=attributes, fronts=fronts), env.unwrapped.embodiment.camera, **kwargs)

    def _table(self) -> LabelTable:
        return self.labels() if callable(self.labels) else self.labels

    def detect(self, obs: dict[str, Any], pose: Pose2D, pitch: float = 0.0) -> list[Detection]:
        for key in ("semantic", "depth"):
            if key not in obs:
                raise KeyError(f"GroundTruthPerception needs obs[{key!r}]; make the env with {key!r} in sensors=")
        frame = FramePoints(obs["depth"], self.camera, pose, pitch)
        detections = self._detections(obs["semantic"], frame)
        fronts = [d for d in detections if d.front is not None]
        if fronts:
            if self.world_yaw is None:
                raise InvalidArgumentError("The labels give fronts but GroundTruthPerception has no world_yaw= to rotate them into the start frame")
            world_yaw = float(self.world_yaw())
            for d in fronts:
                d.front = start_frame_front(d.front, world_yaw, pose)
        return detections

    def detect_image(
        self, rgb: np.ndarray, depth: np.ndarray | None = None, *, hfov: float | None = None, semantic: np.ndarray | None = None
    ) -> list[Detection]:
        if semantic is None:
            raise InvalidArgumentError(
                "GroundTruthPerception.detect_image needs the image's instance ids (semantic=): for InstanceImageNav goal "
                "images wrap the env with navgym.agents.perception.GoalImageSemantics (privileged), which adds them"
            )
        semantic = np.asarray(semantic)
        frame = FramePoints(depth, self.camera, None, hfov=hfov) if depth is not None else None
        detections = self._detections(semantic, frame, shape=semantic.shape[:2])
        for d in detections:
            d.front = None  # no pose: a world direction means nothing in a photo's frame
            d.frame = CAMERA_FRAME
        return detections

    def _detections(self, semantic: np.ndarray, frame: FramePoints | None, shape: tuple[int, ...] | None = None) -> list[Detection]:
        semantic = np.asarray(semantic)
        if semantic.ndim == 3:
            semantic = semantic[..., 0]
        if frame is not None and semantic.shape != frame.shape:
            raise ValueError(f"semantic has shape {semantic.shape}; expected the depth image's {frame.shape}")
        table = self._table()
        ids, counts = np.unique(semantic, return_counts=True)
        detections = []
        for instance_id, count in zip(ids.tolist(), counts.tolist()):
            if instance_id == 0 or count < self.min_pixels or instance_id not in table:
                continue
            label = table[instance_id]
            label = label if isinstance(label, InstanceLabel) else InstanceLabel(str(label))
            if label.category in self.ignore_categories:
                continue
            mask = semantic == instance_id
            position, extent = frame.locate(mask) if frame is not None else (None, None)
            detections.append(
                Detection(
                    category=label.category,
                    confidence=1.0,
                    instance_id=int(instance_id),
                    mask=mask,
                    box=mask_box(mask),
                    position=position,
                    extent=extent,
                    frame=frame.frame if frame is not None else CAMERA_FRAME,
                    pixels=int(count),
                    attributes=dict(label.attributes),
                    front=np.asarray(label.front, dtype=np.float64) if label.front is not None else None,
                    source=self.name,
                )
            )
        return detections
