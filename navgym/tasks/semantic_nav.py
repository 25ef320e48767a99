"""SemanticNav: in-view semantic navigation with text, image or interleaved prompts (the
dual-heatmap paper's setting, ``../shared/papers/dual-heatmap.txt``).

Each episode starts with the target instance **in view** of the body's own camera and gives a
short prompt about it, of one of three kinds (:data:`~navgym.datasets.episodes.PROMPT_KINDS`):

* ``text``: a referring expression from the scene graph, "the sofa", "the chair next to the bed"
  (:func:`navgym.scenes.describe.referring_expression`: the shortest one that singles the instance
  out in the house);
* ``image``: a photo of the instance from another viewpoint (a level camera 0.8-3 m from the
  object, 0.8-1.5 m high, on another side than the start: its bearing around the object differs
  from the start's by at least 30°; the field of view frames the object);
* ``interleaved``: the text with the noun phrase replaced by an image token, "the <image> next to
  the bed", plus the photo of the instance (where the expression has no relation or room, as for
  "the sofa", one is added: "the <image> in the living room").

Observations (goal sensors): ``prompt_kind`` ``Discrete(3)`` (index into ``PROMPT_KINDS``: 0 text,
1 image, 2 interleaved), ``prompt_text`` (a Gymnasium ``Text``: the expression, ``""`` for image
prompts), ``prompt_image`` ``(H, W, 3) uint8`` at the body camera's size (zeros for text prompts).

Success (``stop`` at a pose that is all of):

1. **traversable for the body**: its centre is navigable for its own cylinder
   (``sim.is_navigable(position, agent_id)``) and, for bodies with a rectangular ``footprint``
   (H1, Aliengo), the rectangle at the final heading covers no obstacle cell
   (``sim.footprint_collisions``);
2. **within** ``success_distance`` **= 1.0 m** (geodesic) **of the target's reachable region**:
   the paper's threshold ("In all simulation experiments, the success threshold is set to 1.0 m",
   Sec. 4.3; the grounding benchmark's distance threshold is 1.0 m as well, Sec. 4.1). The region
   is every point navigable for the body within ``goal_region_distance`` = 0.5 m of the target's
   bounding box: the "reachable standing point adjacent to the object" where the paper's
   navigation heatmap peaks (Sec. 3.1). The paper gives no width for it: 0.5 m is navgym's
   choice, wider than every body's radius (Jetbot 0.1, Aliengo 0.155, H1 0.25 m) so each body has
   standing points there;
3. **facing the target**: the heading is within ``facing_angle`` = 30° of the direction to the
   target's centre (the paper's facing heatmap is a Gaussian on the target mask's centre,
   Sec. 3.1, but it states no angle: 30° is navgym's choice, inside the half field of view of
   every body's camera, 43.5° for the H1 / Aliengo and 64° for the Jetbot, so the target's
   centre is in view with a margin).

Measures: ``success`` (its mean is the paper's SR), ``navigation_error`` (NE: the Euclidean
distance from the body's position to the nearest point of the reachable region; the paper's NE is
the distance from the final position to the ground-truth point, Sec. 4.3), ``distance_to_goal``
(geodesic to the region), ``angle_to_target`` (radians), ``traversable``, ``spl``,
``soft_spl``, ``path_length``, ``collisions``, ``num_steps``.

ProcHouse episodes: a target of ``categories`` reachable by the body; a start pose drawn until the
target covers at least ``min_target_coverage`` of the body camera's frame in a semantic render
at the camera's own resolution (the first observation), with a bounded number of tries
(``start_tries``) and :class:`~navgym.errors.EpisodeGenerationError` when a configuration cannot
show targets at all; start-to-region geodesic distances in the difficulty bin, capped at 5 m
(``default_max_goal_distance``: in-view targets; the paper gives no distances). Defaults: the
Jetbot (the paper's first body), 200 steps (100 s at the bodies' 0.5 s control period; the paper
gives no limit).
"""

from __future__ import annotations

import math
import string
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from navgym.core.checks import check_range
from navgym.core.options import flag
from navgym.core.geometry import quaternion_to_yaw, wrap_angle, yaw_to_quaternion, yaw_toward
from navgym.core.registry import did_you_mean
from navgym.core.specs import AgentState, CameraSpec
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import IMAGE_TOKEN, PROMPT_KINDS, Episode, ImageGoalView, InstanceImageGoal
from navgym.datasets.goals import instance_id_of, object_goal_points
from navgym.embodiments import Embodiment, JetbotAgent
from navgym.errors import DatasetFormatError, EpisodeGenerationError, InvalidArgumentError
from navgym.scenes.describe import context_phrase, referring_expression
from navgym.scenes.scene import ObjectInstance
from navgym.sims.base import Simulator
from navgym.tasks.base import Task
from navgym.tasks.imagenav import fit_image
from navgym.tasks.measures import (
    SPL, Collisions, DistanceToGoal, Measure, NumSteps, PathLength, SoftSPL, StepContext,
)  # fmt: skip
from navgym.tasks.text_goals import goal_text

#: Floor-standing objects of ProcHouse large enough to be seen and walked to (small things such as
#: books, vases or pictures are left out: they rarely cover enough of a frame from 1.5 m or more).
DEFAULT_CATEGORIES = (
    "bathtub", "bed", "bookshelf", "cabinet", "chair", "chest_of_drawers", "counter", "desk", "dishwasher",
    "fireplace", "gym_equipment", "nightstand", "plant", "refrigerator", "seating", "shower", "sink", "sofa",
    "stool", "stove", "table", "toilet", "tv_monitor", "wardrobe", "washing_machine",
)  # fmt: skip
#: Longest prompt text the ``prompt_text`` space admits.
MAX_PROMPT_LENGTH = 256
PROMPT_CHARSET = string.ascii_letters + string.digits + " ,.;:'-_()/&!?\"<>"
#: The image prompt's camera must see the target from a bearing at least this far (degrees) from the start's.
MIN_VIEW_CHANGE = 30.0
#: Grey of the background of masked prompt images.
MASK_GREY = 128
#: Generation gives up (EpisodeGenerationError) after this many targets in a row that no start
#: pose showed, before any episode was made: the settings, not bad luck.
GIVE_UP_AFTER = 25
#: Bumped when SemanticNav's generation changes (part of the episode cache key).
SEMNAV_GENERATION_VERSION = 1

# Goals by target instance of each generation simulator: episodes on one target share its goal (the
# episode file's ``goals`` table has one entry per instance), their prompt images appended to it.
_SCENE_GOALS: "weakref.WeakKeyDictionary[Simulator, dict[int, InstanceImageGoal]]" = weakref.WeakKeyDictionary()


def prompt_texts(graph, inst: ObjectInstance) -> dict[str, str] | None:
    """The texts of ``inst``'s text and interleaved prompts, e.g. ``{"text": "the chair next to the
    bed", "interleaved": "the <image> next to the bed"}``; ``None`` when no expression singles it
    out (only an image prompt can name it)."""
    expression = referring_expression(graph, inst)
    if expression is None:
        return None
    head, tail = expression
    return {"text": f"{head} {tail}".strip(), "interleaved": f"the {IMAGE_TOKEN} {tail or context_phrase(graph, inst)}".strip()}


def required_pixels(camera: CameraSpec, min_coverage: float) -> int:
    """Target pixels a ``camera`` frame must show for a coverage of ``min_coverage`` (at least 1)."""
    return max(1, math.ceil(min_coverage * camera.width * camera.height - 1e-9))


def target_instance(sim: Simulator, episode: Episode) -> ObjectInstance | None:
    """The episode's target instance in ``sim``'s annotations (``None`` without one)."""
    object_id = episode.goal_object_id
    if object_id is None and episode.goals:
        object_id = getattr(episode.goals[0], "object_id", None)
    wanted = instance_id_of(object_id) if object_id is not None else None
    if wanted is None:
        return None
    for inst in sim.object_instances():
        if inst.id == wanted:
            return inst
    return None


def target_center(sim: Simulator, episode: Episode) -> np.ndarray:
    """What "facing the target" aims at: the centre of its bounding box (the goal position when
    the scene has no annotation for it)."""
    inst = target_instance(sim, episode)
    if inst is not None:
        return np.asarray(inst.center, dtype=np.float64)
    if not episode.goals:
        raise DatasetFormatError(f"Episode {episode.episode_id}: a SemanticNav episode needs a goal")
    return np.asarray(episode.goals[0].position, dtype=np.float64)


def is_traversable(sim: Simulator, position, yaw: float, embodiment: Any = None, agent_id: int = 0) -> bool:
    """Whether the body can stand at this pose: its centre is navigable for its cylinder and, for a
    body with a rectangular ``footprint`` (length, width), the rectangle covers no obstacle."""
    if not sim.is_navigable(position, agent_id):
        return False
    footprint = getattr(embodiment, "footprint", None)
    if footprint is None:
        return True
    length, width = footprint
    return sim.footprint_collisions(position, yaw, length, width, agent_id) == 0


def angle_to(position, yaw: float, target) -> float:
    """Absolute angle (radians) between heading ``yaw`` at ``position`` and the direction to
    ``target`` (horizontal)."""
    return abs(float(wrap_angle(yaw - yaw_toward(position, target))))


def sample_visible_start(
    sim: Simulator,
    inst: ObjectInstance,
    rng: np.random.Generator,
    camera: CameraSpec,
    goal_points: np.ndarray,
    distance_bin: tuple[float, float],
    *,
    min_coverage: float,
    success_distance: float = 0.0,
    footprint: tuple[float, float] | None = None,
    tries: int = 40,
    agent_id: int = 0,
) -> tuple[list[float], list[float], float, float]:
    """A start pose whose ``camera`` view shows ``inst`` on at least ``min_coverage`` of the frame.

    Candidates are navigable points around the target whose geodesic distance to ``goal_points``
    is in ``distance_bin`` and above ``success_distance`` (no episode starts solved), facing the
    target's centre within a quarter of the field of view either way (and, with a ``footprint``,
    whose rectangle is free there). Each is checked with a semantic render at the camera's own
    resolution from exactly the pose the episode stores (a small probe first when the camera is
    large). At most ``tries`` renders and ``20 * tries`` candidates are drawn.

    Returns:
        ``(position, rotation, coverage, geodesic)``: the rounded position and rotation as the
        episode stores them, the target's share of the frame and the start-region distance.

    Raises:
        EpisodeGenerationError: No candidate passed; the message gives the best coverage seen.
    """
    check_range("min_coverage", min_coverage, 0.0, 1.0, low_open=True)
    low, high = distance_bin
    goal_points = np.asarray(goal_points, dtype=np.float64).reshape(-1, 3)
    # A start within `high` (geodesic, so also straight-line) of a region point lies within `high`
    # plus the region's largest distance to the box of the box.
    lo_box, hi_box = np.asarray(inst.bbox_min, dtype=np.float64), np.asarray(inst.bbox_max, dtype=np.float64)
    dx = np.maximum(np.maximum(lo_box[0] - goal_points[:, 0], goal_points[:, 0] - hi_box[0]), 0.0)
    dz = np.maximum(np.maximum(lo_box[2] - goal_points[:, 2], goal_points[:, 2] - hi_box[2]), 0.0)
    reach = high + (float(np.max(np.hypot(dx, dz))) if len(goal_points) else 0.0)
    candidates = sim.navigable_points_near(inst.bbox_min, inst.bbox_max, reach, agent_id=agent_id)
    problem = f"no start pose shows {inst.category}_{inst.id} on >= {min_coverage:g} of the {camera.width}x{camera.height} frame"
    if len(candidates) == 0 or len(goal_points) == 0:
        raise EpisodeGenerationError(f"{sim.scene_id}: {problem}: no navigable point near it")
    need = required_pixels(camera, min_coverage)
    full = camera.with_(outputs=("semantic",))
    probe = None
    if camera.width > 64:
        probe = full.with_(width=64, height=max(1, round(64 * camera.height / camera.width)))
    jitter = 0.25 * math.radians(camera.hfov)
    best, renders, in_bin = 0.0, 0, 0
    for _ in range(20 * tries):
        if renders >= tries:
            break
        point = candidates[int(rng.integers(len(candidates)))]
        geodesic = sim.geodesic_distance(point, goal_points, agent_id=agent_id)
        if not (low <= geodesic <= high and geodesic > success_distance):
            continue
        in_bin += 1
        yaw = yaw_toward(point, inst.center) + float(rng.uniform(-jitter, jitter))
        position = gen.rounded(point)
        rotation = gen.rounded(yaw_to_quaternion(yaw))
        # Exactly the state the env will set: rounded x, z (same grid cell), the cell's floor height.
        state = AgentState(np.array([position[0], float(point[1]), position[2]]), np.asarray(rotation))
        if footprint is not None and sim.footprint_collisions(state.position, state.yaw, footprint[0], footprint[1], agent_id) > 0:
            continue
        renders += 1
        if probe is not None:
            coarse = float((sim.render([(state, probe)])[0]["semantic"] == inst.id).mean())
            best = max(best, coarse)
            if coarse < 0.5 * min_coverage:
                continue
        pixels = int((sim.render([(state, full)])[0]["semantic"] == inst.id).sum())
        coverage = pixels / (camera.width * camera.height)
        best = max(best, coverage)
        if pixels >= need:
            return position, rotation, coverage, float(geodesic)
    raise EpisodeGenerationError(
        f"{sim.scene_id}: {problem} ({need} pixels) after {renders} renders of {in_bin} candidates in the "
        f"{low:g}-{high:g} m bin (best coverage {best:.4f}, camera hfov {camera.hfov:g}°, height {camera.camera_height:g} m, "
        f"pitch {camera.pitch:g}°); lower min_target_coverage or widen the distance bin"
    )


def view_rotation(yaw: float, pitch: float) -> np.ndarray:
    """Quaternion [x, y, z, w] of a camera turned by ``yaw`` and then pitched by ``pitch`` radians
    (positive looks up): Habitat's sensor rotation for a tilted camera."""
    q_yaw = yaw_to_quaternion(yaw)
    s, c = math.sin(pitch / 2.0), math.cos(pitch / 2.0)
    x1, y1, z1, w1 = q_yaw
    # q_yaw * q_pitch, q_pitch = (sin(p/2), 0, 0, cos(p/2)) about +x.
    return np.array([w1 * s + x1 * c, y1 * c + z1 * s, z1 * c - y1 * s, w1 * c - x1 * s])


def view_pitch(rotation) -> float:
    """Pitch (degrees, positive up) of a camera rotation quaternion [x, y, z, w]: the elevation of
    its viewing direction (0 for the level views of Habitat's InstanceImageNav goals)."""
    x, y, z, w = (float(v) for v in rotation)
    norm = math.sqrt(x * x + y * y + z * z + w * w) or 1.0
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    forward_y = -(2.0 * (y * z - w * x))  # the y of R @ (0, 0, -1)
    return math.degrees(math.asin(max(-1.0, min(1.0, forward_y))))


def framing_hfov(inst: ObjectInstance, position: np.ndarray, yaw: float, aspect: float, pitch: float = 0.0, margin: float = 1.15) -> float:
    """A horizontal field of view (degrees, 30-120) in which a camera at ``position`` facing
    ``yaw``, pitched by ``pitch`` radians, sees all of ``inst``'s box with ``margin`` (approximately:
    the vertical extent is measured at the box's nearest depth); ``aspect`` is height / width."""
    lo, hi = np.asarray(inst.bbox_min, dtype=np.float64), np.asarray(inst.bbox_max, dtype=np.float64)
    corners = np.array([[x, z] for x in (lo[0], hi[0]) for z in (lo[2], hi[2])])
    offsets = corners - position[[0, 2]]
    forward = np.array([-math.sin(yaw), -math.cos(yaw)])
    right = np.array([math.cos(yaw), -math.sin(yaw)])
    depth = np.maximum(offsets @ forward, 0.2)
    tan_h = float(np.max(np.abs(offsets @ right) / depth))
    near = max(0.2, float(np.min(depth)))
    a_v = max(abs(math.atan2(hi[1] - position[1], near) - pitch), abs(math.atan2(lo[1] - position[1], near) - pitch))
    tan_v = math.tan(min(a_v, math.radians(80.0)))
    half = math.atan(margin * max(tan_h, tan_v / max(aspect, 1e-6)))
    return float(np.clip(math.degrees(2.0 * half), 30.0, 120.0))


def view_state(position, rotation) -> AgentState:
    """The agent state that renders a stored camera view: its position (the camera's own, render
    with zero mount height), heading and pitch (as the state's tilt)."""
    rotation = np.asarray(rotation, dtype=np.float64)
    return AgentState(np.asarray(position, dtype=np.float64), yaw_to_quaternion(quaternion_to_yaw(rotation)), view_pitch(rotation))


def reference_view(
    sim: Simulator, inst: ObjectInstance, rng: np.random.Generator, start, camera: CameraSpec, tries: int = 12
) -> ImageGoalView | None:
    """A photo of ``inst`` for image prompts, from another viewpoint than ``start``: a camera
    0.8-1.5 m high (a person's photo) on a navigable point 0.8-3 m from the object whose bearing
    around the object differs from the start's by at least :data:`MIN_VIEW_CHANGE`, aimed at the
    object's centre (pitch stored in the rotation quaternion), its field of view framing the
    object. A view counts only when the object is what the photo is of: no other object shows more
    pixels in the frame's central half (an occluded target behind a bed is not a photo of it); kept
    when the object covers at least 5% of a probe frame (else the best above 2%)."""
    centre = np.asarray(inst.center, dtype=np.float64)
    points = sim.navigable_points_near(inst.bbox_min, inst.bbox_max, 3.0)
    if len(points) == 0:
        return None
    offsets = points[:, [0, 2]] - centre[[0, 2]]
    distance = np.hypot(offsets[:, 0], offsets[:, 1])
    start_bearing = math.atan2(start[2] - centre[2], start[0] - centre[0])
    change = np.abs(wrap_angle(np.arctan2(offsets[:, 1], offsets[:, 0]) - start_bearing))
    points = points[(distance >= 0.8) & (change >= math.radians(MIN_VIEW_CHANGE))]
    if len(points) == 0:
        return None
    aspect = camera.height / camera.width
    structural = {i.id for i in sim.object_instances() if i.structural}
    best, best_coverage = None, 0.0
    for _ in range(tries):
        p = points[int(rng.integers(len(points)))]
        position = np.array([p[0], p[1] + float(rng.uniform(0.8, 1.5)), p[2]])
        yaw = yaw_toward(position, centre)
        pitch = float(np.clip(math.atan2(centre[1] - position[1], math.hypot(*(centre - position)[[0, 2]])), -1.0, 1.0))
        hfov = round(framing_hfov(inst, position, yaw, aspect, pitch), 2)
        rotation = gen.rounded(view_rotation(yaw, pitch))
        spec = CameraSpec(48, max(1, round(48 * aspect)), hfov, 0.0, outputs=("semantic",))
        semantic = sim.render([(view_state(position, rotation), spec)])[0]["semantic"]
        coverage = float((semantic == inst.id).mean())
        h, w = semantic.shape
        ids, counts = np.unique(semantic[h // 4 : h - h // 4, w // 4 : w - w // 4], return_counts=True)
        others = [n for i, n in zip(ids.tolist(), counts.tolist()) if i not in structural and i not in (0, inst.id)]
        own = int(counts[ids == inst.id].sum())
        if own == 0 or (others and max(others) > own):
            continue
        if coverage > best_coverage:
            best_coverage = coverage
            best = ImageGoalView(
                position=gen.rounded(position), rotation=rotation, hfov=hfov,
                image_dimensions=[camera.height, camera.width], frame_coverage=round(coverage, 4),
            )
        if coverage >= 0.05:
            break
    return best if best_coverage >= 0.02 else None


class AngleToTarget:
    """Radians between the body's heading and the direction to the target's centre."""

    name = "angle_to_target"

    def __init__(self) -> None:
        self.value = float("nan")
        self._target: np.ndarray | None = None

    def reset(self, ctx: StepContext) -> None:
        self._target = target_center(ctx.sim, ctx.episode)
        self.update(ctx)

    def update(self, ctx: StepContext) -> None:
        self.value = angle_to(ctx.state.position, ctx.state.yaw, self._target)


class Traversable:
    """Whether the body can stand where it is (:func:`is_traversable`: its cylinder's centre on
    navigable ground, its rectangular footprint, if any, free)."""

    name = "traversable"

    def __init__(self) -> None:
        self.value = False

    def reset(self, ctx: StepContext) -> None:
        self.update(ctx)

    def update(self, ctx: StepContext) -> None:
        self.value = bool(is_traversable(ctx.sim, ctx.state.position, ctx.state.yaw, ctx.embodiment, ctx.agent_id))


class NavigationError:
    """NE: Euclidean distance (metres) from the body's position to the nearest point of the
    target's reachable region (the paper's "distance between the robot's final position and the
    ground-truth position"; its value after the last step is the final one)."""

    name = "navigation_error"

    def __init__(self) -> None:
        self.value = float("inf")

    def reset(self, ctx: StepContext) -> None:
        self.update(ctx)

    def update(self, ctx: StepContext) -> None:
        points = np.asarray(ctx.goal_points, dtype=np.float64)
        if len(points) == 0:
            self.value = float("inf")
            return
        self.value = float(np.min(np.linalg.norm(points - ctx.state.position, axis=1)))


class SemanticNavSuccess:
    """``stop`` at a pose traversable for the body, within the task's ``success_distance`` (geodesic)
    of the target's reachable region and facing the target within ``facing_angle``."""

    name = "success"

    def __init__(self) -> None:
        self.value = False

    def reset(self, ctx: StepContext) -> None:
        self.value = False

    def update(self, ctx: StepContext) -> None:
        m = ctx.measures
        self.value = bool(
            ctx.stopped
            and m["traversable"]
            and m["distance_to_goal"] <= ctx.task.goal_radius(ctx.episode)
            and m["angle_to_target"] <= math.radians(ctx.task.facing_angle)
        )


@dataclass
class SemanticNavTask(Task):
    """Reach a pose near the in-view target a text, image or interleaved prompt names, facing it.

    Attributes:
        success_distance: Metres (geodesic) from the target's reachable region; the paper's 1.0.
        facing_angle: Degrees between the heading and the target's centre; navgym's 30.
        goal_region_distance: Metres from the target's box within which navigable points form its
            reachable region; navgym's 0.5.
        min_target_coverage: Share of the start frame the target must cover; navgym's 0.01.
        prompt_kinds: Kinds an episode's prompt is drawn from, uniformly (generation).
        categories: Target categories (generation).
        mask_prompt_image: Grey out everything but the target in prompt images (the paper's
            reference images are masked object crops, Sec. 3.3); default: the whole photo.
        start_tries: Renders per target when drawing a start pose that shows it.
    """

    name: ClassVar[str] = "SemanticNav"
    goal_sensors: ClassVar[tuple[str, ...]] = ("prompt_kind", "prompt_text", "prompt_image")
    goal_naming_sensors: ClassVar[tuple[str, ...] | None] = ("prompt_text", "prompt_image")
    default_sensors: ClassVar[tuple[str, ...]] = ("rgb", "depth", "prompt_kind", "prompt_text", "prompt_image")
    max_episode_steps: ClassVar[int] = 200
    episode_kind: ClassVar[str] = "semantic_nav"
    habitat_dirs: ClassVar[tuple[str, ...]] = ("semantic_nav",)
    generation_salt: ClassVar[int] = 29
    default_max_goal_distance: ClassVar[float | None] = 5.0

    success_distance: float = 1.0
    facing_angle: float = 30.0
    goal_region_distance: float = 0.5
    min_target_coverage: float = 0.01
    prompt_kinds: tuple[str, ...] = PROMPT_KINDS
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    mask_prompt_image: bool = False
    start_tries: int = 40
    _failures_in_a_row: int = field(default=0, init=False, repr=False, compare=False)
    _made: int = field(default=0, init=False, repr=False, compare=False)
    _last_failure: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "mask_prompt_image", flag("mask_prompt_image", self.mask_prompt_image))  # "no" is no
        check_range("facing_angle", self.facing_angle, 0.0, 180.0, low_open=True)
        check_range("goal_region_distance", self.goal_region_distance, 0.0, 5.0, low_open=True)
        check_range("min_target_coverage", self.min_target_coverage, 0.0, 1.0, low_open=True)
        if isinstance(self.start_tries, bool) or not isinstance(self.start_tries, (int, np.integer)) or not 1 <= self.start_tries <= 10_000:
            raise InvalidArgumentError(f"start_tries={self.start_tries!r} must be an integer in [1, 10000]")
        kinds = (self.prompt_kinds,) if isinstance(self.prompt_kinds, str) else self.prompt_kinds
        try:
            kinds = tuple(kinds)
        except TypeError:
            raise InvalidArgumentError(f"prompt_kinds={self.prompt_kinds!r} must be prompt kinds from {list(PROMPT_KINDS)}") from None
        if not kinds:
            raise InvalidArgumentError(f"prompt_kinds=() is empty; use some of {list(PROMPT_KINDS)}")
        for kind in kinds:
            if kind not in PROMPT_KINDS:
                hint = did_you_mean(kind, list(PROMPT_KINDS)) if isinstance(kind, str) else ""
                raise InvalidArgumentError(f"prompt_kinds has unknown {kind!r}.{hint} Prompt kinds: {list(PROMPT_KINDS)}")
        self.prompt_kinds = tuple(dict.fromkeys(kinds))
        if isinstance(self.categories, str) or not self.categories or not all(isinstance(c, str) for c in self.categories):
            raise InvalidArgumentError(f"categories={self.categories!r} must be a non-empty list of category names, e.g. ['sofa', 'chair']")
        self.categories = tuple(self.categories)

    # -- declarations ----------------------------------------------------------------------------
    def default_embodiment(self) -> Embodiment:
        """The Jetbot: the first of the paper's three bodies (``embodiment="h1"`` / ``"aliengo"``)."""
        return JetbotAgent()

    def generation_key(self, embodiment: Embodiment) -> str:
        footprint = getattr(embodiment, "footprint", None)
        fp = "none" if footprint is None else f"{footprint[0]:g}x{footprint[1]:g}"
        kinds = "".join(str(PROMPT_KINDS.index(k)) for k in self.prompt_kinds)
        return (
            f"sn{SEMNAV_GENERATION_VERSION}r{self.goal_region_distance:g}v{self.min_target_coverage:g}"
            f"k{kinds}t{self.start_tries}fp{fp}"
        )

    def prepare_dataset(self, dataset) -> None:
        if not dataset.episodes:
            raise EpisodeGenerationError(
                f"SemanticNav generated no episode. Last reason: {self._last_failure or 'no reachable target of the categories'}"
            )

    # -- goal ------------------------------------------------------------------------------------
    def goal_points(self, sim: Simulator, episode: Episode, agent_id: int = 0) -> np.ndarray:
        """The target's reachable region: points navigable for the body within
        ``goal_region_distance`` of the target's box (a dataset's view points where it has them)."""
        return object_goal_points(sim, episode.goals[:1], self.goal_region_distance, agent_id)

    def goal_radius(self, episode: Episode) -> float:
        return self.success_distance

    def goal_observation_space(self, camera: CameraSpec) -> dict[str, spaces.Space]:
        return {
            "prompt_kind": spaces.Discrete(len(PROMPT_KINDS)),
            "prompt_text": spaces.Text(max_length=MAX_PROMPT_LENGTH, min_length=0, charset=PROMPT_CHARSET),
            "prompt_image": spaces.Box(0, 255, (camera.height, camera.width, 3), dtype=np.uint8),
        }

    def prompt_kind(self, episode: Episode) -> str:
        kind = episode.prompt_kind
        if kind not in PROMPT_KINDS:
            raise DatasetFormatError(f"Episode {episode.episode_id}: prompt_kind must be one of {list(PROMPT_KINDS)}, got {kind!r}")
        return kind

    def goal_observations(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None) -> dict[str, Any]:
        kind = self.prompt_kind(episode)
        text = ""
        if kind in ("text", "interleaved"):
            if not episode.instruction:
                raise DatasetFormatError(f"Episode {episode.episode_id}: a {kind!r} prompt needs its text in `instruction`")
            text = goal_text(str(episode.instruction), episode, "instruction", "prompt_text", PROMPT_CHARSET, MAX_PROMPT_LENGTH)
        image = np.zeros((camera.height, camera.width, 3), dtype=np.uint8)
        if kind in ("image", "interleaved"):
            image = self.prompt_image(sim, episode, camera, goal_camera)
        return {"prompt_kind": PROMPT_KINDS.index(kind), "prompt_text": text, "prompt_image": image}

    def prompt_image(self, sim: Simulator, episode: Episode, camera: CameraSpec, goal_camera: CameraSpec | None = None) -> np.ndarray:
        """The prompt's photo: the stored view (``goals[0].image_goals[goal_image_id]``) rendered at
        ``camera``'s size with its own HFOV, or with ``goal_camera`` at the same spot."""
        goal = episode.goals[0] if episode.goals else None
        index = episode.goal_image_id
        views = goal.image_goals if isinstance(goal, InstanceImageGoal) else []
        if index is None or not 0 <= index < len(views):
            raise DatasetFormatError(
                f"Episode {episode.episode_id}: goal_image_id={index!r} does not index the goal's {len(views)} image_goals"
            )
        view = views[index]
        pose = view_state(view.position, view.rotation)
        outputs = ("rgb", "semantic") if self.mask_prompt_image else ("rgb",)
        if goal_camera is None:
            taker = CameraSpec(camera.width, camera.height, float(view.hfov), 0.0, outputs=outputs)
        else:  # another camera at the same spot, its height counted from the target's floor
            taker = goal_camera.with_(outputs=outputs)
            pose.position = np.array([pose.position[0], float(episode.start_position[1]), pose.position[2]])
        frame = sim.render([(pose, taker)])[0]
        image = frame["rgb"]
        if self.mask_prompt_image:
            wanted = instance_id_of(episode.goal_object_id) if episode.goal_object_id is not None else None
            image = np.where((frame["semantic"] == wanted)[..., None], image, np.uint8(MASK_GREY)).astype(np.uint8)
        return fit_image(image, camera.height, camera.width)

    # -- measures --------------------------------------------------------------------------------
    def measures(self) -> list[Measure]:
        return [
            NumSteps(), Collisions(), PathLength(), DistanceToGoal(), AngleToTarget(), Traversable(), NavigationError(),
            SemanticNavSuccess(), SPL(), SoftSPL(),
        ]  # fmt: skip

    # -- ProcHouse generation --------------------------------------------------------------------
    def make_prochouse_episode(self, sim, rng, distance_bin, episode_id, embodiment) -> Episode | None:
        graph = sim.scene_graph()
        kind = self.prompt_kinds[int(rng.integers(len(self.prompt_kinds)))]
        targets = [i for c in self.categories for i in graph.objects(c) if gen.reachable(sim, i, self.goal_region_distance)]
        if not targets:
            self._last_failure = f"{sim.scene_id}: no instance of {list(self.categories)} is reachable by the body"
            return None
        inst = targets[int(rng.integers(len(targets)))]
        expression = referring_expression(graph, inst)
        texts = prompt_texts(graph, inst)
        if texts is None and kind != "image":
            return None
        points = sim.navigable_points_near(inst.bbox_min, inst.bbox_max, self.goal_region_distance)
        try:
            start, rotation, coverage, geodesic = sample_visible_start(
                sim, inst, rng, embodiment.camera, points, distance_bin, min_coverage=self.min_target_coverage,
                success_distance=self.success_distance, footprint=getattr(embodiment, "footprint", None), tries=self.start_tries,
            )
        except EpisodeGenerationError as exc:
            self._last_failure = str(exc)
            self._failures_in_a_row += 1
            if self._made == 0 and self._failures_in_a_row >= GIVE_UP_AFTER:
                raise EpisodeGenerationError(
                    f"SemanticNav: {GIVE_UP_AFTER} targets in a row, no start pose showed the target to the "
                    f"{getattr(embodiment, 'name', 'body')}'s camera. Last: {exc}"
                ) from None
            return None
        view = reference_view(sim, inst, rng, start, embodiment.camera)
        if view is None and kind != "text":
            return None
        goals = _SCENE_GOALS.setdefault(sim, {})
        goal = goals.get(inst.id)
        if goal is None:
            goal = goals[inst.id] = gen.object_goal(inst, graph, cls=InstanceImageGoal, image_goals=[])
        image_id = None
        if view is not None:
            goal.image_goals.append(view)
            image_id = len(goal.image_goals) - 1
        attributes = None
        instruction = None
        if expression is not None and texts is not None:
            head, tail = expression
            attributes = {"intrinsic_attributes": head, "extrinsic_attributes": tail}
            instruction = texts.get(kind)
        self._failures_in_a_row = 0
        self._made += 1
        return gen.make_episode(
            sim, episode_id, start, rotation, [goal], geodesic,
            object_category=inst.category, goal_object_id=int(inst.id), goal_image_id=image_id,
            goal_attributes=attributes, instruction=instruction, prompt_kind=kind,
            info={"target_coverage": round(coverage, 4)},
        )


def prompt_summary(episode: Episode) -> str:
    """One line describing an episode's prompt, e.g. ``interleaved: "the <image> next to the bed" + image``."""
    kind = episode.prompt_kind or "?"
    text = f'"{episode.instruction}"' if episode.instruction else ""
    image = "image" if kind in ("image", "interleaved") else ""
    return f"{kind}: " + " + ".join(p for p in (text, image) if p)


__all__ = [
    "DEFAULT_CATEGORIES", "SemanticNavTask", "angle_to", "framing_hfov", "is_traversable", "prompt_summary", "prompt_texts",
    "reference_view", "required_pixels", "sample_visible_start", "target_center", "target_instance", "view_pitch",
    "view_rotation", "view_state",
]  # fmt: skip
