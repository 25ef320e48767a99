"""Habitat episode datasets (``.json.gz``): read and write them without habitat-lab.

A data root is laid out like Habitat's ``data/`` folder::

    <data_root>/datasets/<task>/<dataset>/<version>/<split>/<split>.json.gz
    <data_root>/datasets/<task>/<dataset>/<version>/<split>/content/<scene>.json.gz   (optional)
    <data_root>/scene_datasets/<dataset>/...                                         (meshes)

When ``content/`` exists the top-level file usually has ``"episodes": []`` and each
``content/<scene>.json.gz`` holds one scene's episodes (and goals).

Formats (every file is one JSON object; ``episodes`` is a list of episode objects):

Every episode (``habitat.core.dataset.Episode`` + ``habitat.tasks.nav.nav.NavigationEpisode``):
    ``episode_id`` (str), ``scene_id`` (str), ``scene_dataset_config`` (str, default
    ``"default"``), ``additional_obj_config_paths`` (list[str], default ``[]``),
    ``start_position`` [x, y, z], ``start_rotation`` quaternion [x, y, z, w], ``info`` (dict or
    null, e.g. ``geodesic_distance``, ``euclidean_distance``, ``difficulty``,
    ``closest_goal_object_id``), ``goals`` (list), ``start_room`` (null), ``shortest_paths``
    (null or list of lists of ``{action, rotation, position}``).

``pointnav`` / ``imagenav`` (``PointNav-v1``): ``goals`` = ``[{position, radius}]`` inline.
    Habitat's ImageNav uses these PointNav episodes unchanged; the goal image is rendered at
    ``goals[0].position`` with a rotation drawn from ``hash(episode_id)`` (``ImageGoalSensor``).
    The two are indistinguishable on disk; auto-detection says ``imagenav`` only when a folder
    of the path is named ``imagenav...``.

``objectnav`` (``ObjectNav-v1``): episode adds ``object_category``; its ``goals`` is ``[]`` on
    disk and filled from the top-level ``goals_by_category[goals_key]`` where
    ``goals_key = f"{os.path.basename(scene_id)}_{object_category}"`` (e.g.
    ``"TEEsavR23oF.basis.glb_chair"``). Top level: ``goals_by_category`` (key -> list of
    ObjectGoal), ``category_to_task_category_id``, ``category_to_scene_annotation_category_id``
    (MP3D files name it ``category_to_mp3d_category_id``; kept in ``extra`` as written).
    ObjectGoal: ``position``, ``radius``, ``object_id``, ``object_name``, ``object_name_id``,
    ``object_category``, ``room_id``, ``room_name``, ``view_points`` = list of
    ``{"agent_state": {"position", "rotation"}, "iou"}`` (``ObjectViewLocation``). Files without
    ``goals_by_category`` (old MP3D) carry goals inline; they are de-duplicated as habitat does.

``instance_imagenav`` (``InstanceImageNav-v1``, HM3D v3): episode adds ``goal_object_id``,
    ``goal_image_id`` (int index into the goal's ``image_goals``), ``object_category``; goals
    ``[]`` on disk, filled with ``[goals[goal_key]]`` from the top-level ``goals`` dict, where
    ``goal_key = f"{basename(scene_id) without .glb/.basis}_{goal_object_id}"`` (e.g.
    ``"TEEsavR23oF_42"``). InstanceImageGoal = ObjectGoal + ``image_goals`` (list of
    ``{position, rotation, hfov, image_dimensions, frame_coverage, object_coverage}``, the
    goal camera's pose, HFOV in degrees and resolution ``[height, width]`` as habitat-sim's
    ``CameraSensorSpec.resolution``) + ``object_surface_area``.

``textnav`` (PSL's text-goal InstanceNav, dataset type ``AttrObjNav-v1``, file
    ``instancenav/val/val_text.json.gz`` whose ``content/`` is InstanceImageNav v3's): the top
    level adds ``attribute_data``: ``{"<scene>_<goal_object_id>": {"intrinsic_attributes": str,
    "extrinsic_attributes": str}}`` with ``<scene> = basename(scene_id).split(".")[0]``; each
    episode gets ``goal_attributes = attribute_data[key]``. Episodes/goals are InstanceImageNav's.
    navgym superset (assumed, not in PSL): an episode may carry ``goal_attributes`` inline and an
    ``instruction`` string; the writer only emits ``instruction`` when set, and inline
    ``goal_attributes`` only when they differ from ``attribute_data``.

``semantic_nav`` (navgym's own, the SemanticNav task; no Habitat counterpart): InstanceImageNav's
    layout (``goal_object_id``, ``object_category``, the top-level ``goals`` dict whose goals carry
    ``image_goals``) plus, per episode, ``prompt_kind`` (one of :data:`PROMPT_KINDS`: ``"text"``,
    ``"image"``, ``"interleaved"``), ``instruction`` (the prompt's text as the agent reads it;
    interleaved prompts hold :data:`IMAGE_TOKEN` where the image goes; absent for image prompts),
    ``goal_image_id`` (the prompt image's index in the goal's ``image_goals``; needed by image and
    interleaved prompts) and ``goal_attributes`` inline (the referring expression's parts,
    ``intrinsic_attributes`` "the chair" and ``extrinsic_attributes`` "next to the bed"). An
    episode with ``prompt_kind`` is detected as this kind.

``multigoal_vln`` (navgym's own, the MultiGoalVLN task; no Habitat counterpart): PointNav's layout
    with the goals inline: ``goals`` is the list of sub-goals **in order**, each an ObjectGoal
    (``object_id``, ``object_category``, ``position``, ``view_points`` ...) plus ``description``
    (its phrase) and ``constraints`` (``{"category", "color", "material", "room", "near"}``, the
    set ones); the episode adds ``instruction`` and ``instruction_kind`` (``"sequential"``,
    ``"any_order"``, ``"spatial"``). An episode with ``instruction_kind`` is detected as this kind.

Differences from habitat-lab, on purpose: ``episode_id`` is kept as written (as a str; habitat's
ObjectNav loader renumbers it ``str(i)`` per file); ``scene_id`` is kept as written (use
:func:`resolve_scene_path`); floats are written at full precision (habitat rounds to 5 decimals)
so read -> write -> read is exact; unknown fields are kept in ``extra`` and written back.

Sources (field names confirmed from):
    facebookresearch/habitat-lab:
      habitat-lab/habitat/core/dataset.py (BaseEpisode, Episode)
      habitat-lab/habitat/tasks/nav/nav.py (NavigationGoal, NavigationEpisode, ImageGoalSensor)
      habitat-lab/habitat/tasks/nav/object_nav_task.py (ObjectGoalNavEpisode.goals_key,
        ObjectViewLocation, ObjectGoal)
      habitat-lab/habitat/datasets/pointnav/pointnav_dataset.py (content/ layout,
        CONTENT_SCENES_PATH_FIELD, DEFAULT_SCENE_PATH_PREFIX "data/scene_datasets/")
      habitat-lab/habitat/datasets/object_nav/object_nav_dataset.py (goals_by_category,
        category_to_task_category_id, category_to_scene_annotation_category_id /
        category_to_mp3d_category_id, dedup_goals, to_json)
      habitat-lab/habitat/tasks/nav/instance_image_nav_task.py (InstanceImageGoalNavEpisode.goal_key,
        InstanceImageParameters, InstanceImageGoal)
      habitat-lab/habitat/datasets/image_nav/instance_image_nav_dataset.py (top-level goals dict)
      habitat-lab/habitat/core/utils.py (DatasetFloatJSONEncoder)
    XinyuSun/PSL-InstanceNav:
      PSL/dataset.py (AttrObjNavEpisode.goal_attributes, goals_key, attribute_data, AttrObjGoal)
      PSL/sensors.py (goal_attributes["intrinsic_attributes" / "extrinsic_attributes"])
      dataset.md, scripts/eval/instancenav_text_hm3d.sh (val_text.json.gz + IIN v3 content/)
"""

from __future__ import annotations

import gzip
import json
import math
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Mapping, get_args

from navgym.core.paths import resolve_scene_path
from navgym.errors import DataNotFoundError, DatasetFormatError, InvalidArgumentError, UnknownNameError

__all__ = [
    "KINDS",
    "PROMPT_KINDS",
    "IMAGE_TOKEN",
    "DEFAULT_SCENE_PATH_PREFIX",
    "Kind",
    "NavigationGoal",
    "ViewPoint",
    "ObjectGoal",
    "ImageGoalView",
    "InstanceImageGoal",
    "Episode",
    "EpisodeDataset",
    "read_dataset",
    "write_dataset",
    "detect_kind",
    "resolve_scene_path",
    "scene_name",
    "objectnav_goals_key",
    "instance_goal_key",
]

Kind = Literal["pointnav", "imagenav", "objectnav", "instance_imagenav", "textnav", "semantic_nav", "multigoal_vln"]
#: The dataset kinds, in the order error messages list them.
KINDS: tuple[str, ...] = get_args(Kind)
#: Habitat's prefix of scene ids written relative to the working directory.
DEFAULT_SCENE_PATH_PREFIX = "data/scene_datasets/"
_CONTENT_DIR = "content"
_INSTANCE_KINDS = ("instance_imagenav", "textnav", "semantic_nav")
#: The prompt kinds of ``semantic_nav`` episodes: a text, an image, or a text holding an image token.
PROMPT_KINDS: tuple[str, ...] = ("text", "image", "interleaved")
#: Where the image goes in an interleaved prompt's text.
IMAGE_TOKEN = "<image>"


# --------------------------------------------------------------------------- data classes


@dataclass
class NavigationGoal:
    """A goal point (``habitat.tasks.nav.nav.NavigationGoal``).

    Attributes:
        position: [x, y, z] in metres.
        radius: Optional success radius (habitat writes ``null``).
        extra: Fields this module does not know, kept and written back.
    """

    position: list[float]
    radius: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)


@dataclass
class ViewPoint:
    """A navigable pose the goal object is visible from (habitat's ``ObjectViewLocation``).

    On disk: ``{"agent_state": {"position": [...], "rotation": [...]}, "iou": ...}``.
    """

    position: list[float]
    rotation: list[float]
    iou: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)


@dataclass(kw_only=True)
class ObjectGoal(NavigationGoal):
    """An object instance to reach (``habitat.tasks.nav.object_nav_task.ObjectGoal``).

    Attributes:
        object_id: Id in the scene's semantic annotation (int in HM3D files).
        object_name: Name such as ``"chair_12"``.
        object_name_id: Optional integer id of the name.
        object_category: Category, e.g. ``"chair"``.
        room_id, room_name: Optional room the object is in.
        view_points: Poses the object is visible from; success is stopping near one.
    """

    object_id: int | str | None = None
    object_name: str | None = None
    object_name_id: int | None = None
    object_category: str | None = None
    room_id: str | None = None
    room_name: str | None = None
    view_points: list[ViewPoint] = field(default_factory=list)


@dataclass
class ImageGoalView:
    """Camera parameters of one goal image (habitat's ``InstanceImageParameters``).

    Attributes:
        position: Camera position [x, y, z].
        rotation: Camera rotation quaternion [x, y, z, w].
        hfov: Horizontal field of view in degrees.
        image_dimensions: Resolution [height, width] (habitat-sim ``resolution`` order).
        frame_coverage: Fraction of the frame the object covers.
        object_coverage: Fraction of the object visible in the frame.
    """

    position: list[float]
    rotation: list[float]
    hfov: float
    image_dimensions: list[int]
    frame_coverage: float | None = None
    object_coverage: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)


@dataclass(kw_only=True)
class InstanceImageGoal(ObjectGoal):
    """An ObjectGoal with the camera parameters of its goal images (``InstanceImageGoal``)."""

    image_goals: list[ImageGoalView] = field(default_factory=list)
    object_surface_area: float | None = None


@dataclass
class Episode:
    """One navigation episode; the task-specific fields are None when unused.

    Attributes:
        episode_id: Id as written in the file (as a string).
        scene_id: Scene as written, e.g. ``"hm3d/val/00800-TEEsavR23oF/TEEsavR23oF.basis.glb"``;
            see :func:`resolve_scene_path`.
        start_position: [x, y, z].
        start_rotation: Quaternion [x, y, z, w].
        goals: Goals; for ObjectNav / InstanceImageNav / TextNav filled from the top-level
            ``goals_by_category`` / ``goals`` when read.
        info: Free-form metadata (``geodesic_distance`` etc.), or None.
        object_category: ObjectNav / InstanceImageNav / TextNav goal category.
        goal_object_id: InstanceImageNav / TextNav goal instance id.
        goal_image_id: Index into ``goals[0].image_goals`` of the goal image.
        goal_attributes: TextNav ``{"intrinsic_attributes", "extrinsic_attributes"}``.
        instruction: Free-text goal description (navgym extension for TextNav; SemanticNav's
            prompt text).
        prompt_kind: SemanticNav's prompt kind (:data:`PROMPT_KINDS`), None for other tasks.
        scene_dataset_config: Habitat SceneDataset config path, ``"default"`` when none.
        additional_obj_config_paths: Extra object config paths (habitat field).
        start_room: Habitat's (unused) start room.
        shortest_paths: Habitat's optional shortest paths, kept as raw JSON.
        extra: Fields this module does not know, kept and written back.
    """

    episode_id: str
    scene_id: str
    start_position: list[float]
    start_rotation: list[float]
    goals: list[NavigationGoal] = field(default_factory=list)
    info: dict[str, Any] | None = None
    object_category: str | None = None
    goal_object_id: int | str | None = None
    goal_image_id: int | None = None
    goal_attributes: dict[str, Any] | None = None
    instruction: str | None = None
    prompt_kind: str | None = None
    scene_dataset_config: str = "default"
    additional_obj_config_paths: list[str] = field(default_factory=list)
    start_room: str | None = None
    shortest_paths: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def goal_key(self) -> str | None:
        """The key of this episode's goals in the dataset, as habitat-lab computes it.

        ``<scene>_<goal_object_id>`` (InstanceImageNav / TextNav) when ``goal_object_id`` is
        set, else ``<scene file>_<object_category>`` (ObjectNav), else None.
        """
        if self.goal_object_id is not None:
            return instance_goal_key(self.scene_id, self.goal_object_id)
        if self.object_category is not None:
            return objectnav_goals_key(self.scene_id, self.object_category)
        return None


@dataclass
class EpisodeDataset:
    """A Habitat episode dataset.

    Attributes:
        episodes: The episodes, goals filled in.
        kind: One of :data:`KINDS`.
        goals_by_category: ObjectNav goals by ``goals_key``.
        category_to_task_category_id: ObjectNav category -> task index.
        category_to_scene_annotation_category_id: ObjectNav category -> annotation id.
        goals: InstanceImageNav / TextNav goals by ``goal_key`` (InstanceImageGoal for
            InstanceImageNav; TextNav goals may be plain ObjectGoals when they have no images).
        attribute_data: TextNav (PSL) goal attributes by ``goal_key``.
        extra: Other top-level fields, kept and written back.
        source: The file read (not compared).
    """

    episodes: list[Episode] = field(default_factory=list)
    kind: Kind = "pointnav"
    goals_by_category: dict[str, list[ObjectGoal]] = field(default_factory=dict)
    category_to_task_category_id: dict[str, int] = field(default_factory=dict)
    category_to_scene_annotation_category_id: dict[str, int] = field(default_factory=dict)
    goals: dict[str, ObjectGoal] = field(default_factory=dict)
    attribute_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    source: Path | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_kind(self.kind)

    def __len__(self) -> int:
        return len(self.episodes)

    def __iter__(self) -> Iterator[Episode]:
        return iter(self.episodes)

    def scene_ids(self) -> list[str]:
        """The distinct scene ids, sorted."""
        return sorted({episode.scene_id for episode in self.episodes})

    def episodes_of_scene(self, scene_id: str) -> list[Episode]:
        """Episodes whose ``scene_id`` is ``scene_id``, or whose scene name is (``"TEEsavR23oF"``)."""
        return [ep for ep in self.episodes if ep.scene_id == scene_id or scene_name(ep.scene_id) == scene_id]

    def get(self, episode_id: str, scene_id: str | None = None) -> Episode:
        """The episode with this id, optionally within one scene.

        Habitat numbers the episodes of each ``content/`` file from 0, so one id may name episodes
        of several scenes: such an id is an error, not the first of them.

        Raises:
            UnknownNameError: (a ``KeyError`` and a ``ValueError``) No such episode.
            InvalidArgumentError: (a ``ValueError``) Several episodes have this id (in this scene);
                the message names their scenes and indices (``reset(options={"episode_index": i})``).
        """
        wanted = str(episode_id)
        indices = self._indices_of(wanted)
        if scene_id is not None:
            indices = [i for i in indices if scene_id in (self.episodes[i].scene_id, scene_name(self.episodes[i].scene_id))]
        if len(indices) == 1:
            return self.episodes[indices[0]]
        if indices:
            raise InvalidArgumentError(self._ambiguous(wanted, scene_id, indices))
        ids = [ep.episode_id for ep in self.episodes[:5]]
        more = ", ..." if len(self.episodes) > 5 else ""
        where = f" in scene {scene_id!r}" if scene_id is not None else ""
        raise UnknownNameError(  # a KeyError (as before) and a ValueError, as every other bad reset option
            f"No episode with episode_id={wanted!r}{where}; the dataset has {len(self.episodes)} episodes "
            f"(ids {', '.join(ids)}{more})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_id_index", None)  # rebuilt on demand: pickles (envs sent to workers) stay as small as before
        return state

    def _indices_of(self, episode_id: str) -> list[int]:
        """Indices of the episodes with this id, from an index of ``episodes`` built on first use
        and again when the list object or its length changes, or when an episode the index holds
        for this id no longer has it (``get`` may run at every reset). Replacing an episode's id in
        place by another's is not seen: edit ``episodes`` by assigning a new list."""
        episodes = self.episodes
        cached = self.__dict__.get("_id_index")
        if cached is not None and cached[0] is episodes and cached[1] == len(episodes):
            indices = cached[2].get(episode_id)
            if indices and all(str(episodes[i].episode_id) == episode_id for i in indices):
                return indices
        by_id: dict[str, list[int]] = {}
        for index, episode in enumerate(episodes):
            by_id.setdefault(str(episode.episode_id), []).append(index)
        self._id_index = (episodes, len(episodes), by_id)
        return by_id.get(episode_id, [])

    def _ambiguous(self, episode_id: str, scene_id: str | None, indices: list[int]) -> str:
        shown = ", ".join(f"{i} in {scene_name(self.episodes[i].scene_id)}" for i in indices[:10])
        more = f", ... ({len(indices) - 10} more)" if len(indices) > 10 else ""
        scenes = {self.episodes[i].scene_id for i in indices}
        where = f" in scene {scene_id!r}" if scene_id is not None else ""
        fix = "" if scene_id is not None or len(scenes) < len(indices) else ", or get(episode_id, scene_id=<scene name>)"
        return (
            f"episode_id={episode_id!r}{where} is ambiguous: {len(indices)} episodes of {len(scenes)} scene(s) have it "
            f"(episode_index {shown}{more}); Habitat numbers the episodes of each content/ file from 0. Pick one by "
            f"index: reset(options={{'episode_index': {indices[0]}}}){fix}"
        )


# --------------------------------------------------------------------------- keys and paths


def scene_name(scene_id: str) -> str:
    """The scene's short name: its file name up to the first dot (``"TEEsavR23oF"``)."""
    return posixpath.basename(str(scene_id).replace("\\", "/")).split(".")[0]


def objectnav_goals_key(scene_id: str, object_category: str) -> str:
    """Habitat's ObjectNav ``goals_key``: ``f"{os.path.basename(scene_id)}_{object_category}"``."""
    return f"{posixpath.basename(str(scene_id).replace(chr(92), '/'))}_{object_category}"


def instance_goal_key(scene_id: str, goal_object_id: int | str) -> str:
    """Habitat's InstanceImageNav ``goal_key``: scene file name without ``.glb`` then ``.basis``."""
    sid = posixpath.basename(str(scene_id).replace("\\", "/"))
    for suffix in (".glb", ".basis"):
        if sid.endswith(suffix):
            sid = sid[: -len(suffix)]
    return f"{sid}_{goal_object_id}"


def _psl_goal_key(scene_id: str, goal_object_id: int | str) -> str:
    """PSL's ``goals_key``: ``f"{basename(scene_id).split('.')[0]}_{goal_object_id}"``."""
    return f"{scene_name(scene_id)}_{goal_object_id}"


def _show(value: Any, limit: int = 100) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_VECTOR_NAMES = {3: "[x, y, z]", 4: "[x, y, z, w]"}


def _vector(value: Any, n: int, where: str, name: str) -> list[float]:
    if not isinstance(value, (list, tuple)) or len(value) != n or not all(_is_number(v) for v in value):
        raise DatasetFormatError(f"{where}: {name} must be {n} numbers {_VECTOR_NAMES[n]}, got {_show(value)}")
    return [float(v) for v in value]


def _quaternion(value: Any, where: str, name: str) -> list[float]:
    """4 numbers [x, y, z, w] of non-zero length (the agent's pose; unit length is not needed)."""
    quaternion = _vector(value, 4, where, name)
    if math.sqrt(sum(v * v for v in quaternion)) < 1e-6:
        raise DatasetFormatError(f"{where}: {name} must be a quaternion [x, y, z, w] of non-zero length (e.g. [0, 0, 0, 1]: facing -z), got {_show(value)}")
    return quaternion


def _opt_number(value: Any, where: str, name: str) -> float | None:
    if value is None:
        return None
    if not _is_number(value):
        raise DatasetFormatError(f"{where}: {name} must be a number or null, got {_show(value)}")
    return value


def _opt_str(value: Any, where: str, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DatasetFormatError(f"{where}: {name} must be a string or null, got {_show(value)}")
    return value


def _opt_int(value: Any, where: str, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DatasetFormatError(f"{where}: {name} must be an integer or null, got {_show(value)}")
    return value


def _opt_id(value: Any, where: str, name: str) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DatasetFormatError(f"{where}: {name} must be an integer or a string, got {_show(value)}")
    return value


def _opt_dict(value: Any, where: str, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DatasetFormatError(f"{where}: {name} must be an object or null, got {_show(value)}")
    return value


def _list(value: Any, where: str, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DatasetFormatError(f"{where}: {name} must be a list, got {_show(value)}")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DatasetFormatError(f"{where}: must be an object, got {_show(value)}")
    return value


def _check_kind(kind: Any) -> Kind:
    if kind not in KINDS:
        raise InvalidArgumentError(f"kind={kind!r} is not a valid kind; valid kinds are {', '.join(KINDS)}")
    return kind


# --------------------------------------------------------------------------- parsing


_NAV_GOAL_KEYS = ("position", "radius")
_OBJECT_GOAL_KEYS = _NAV_GOAL_KEYS + (
    "object_id", "object_name", "object_name_id", "object_category", "room_id", "room_name", "view_points",
)  # fmt: skip
_INSTANCE_GOAL_KEYS = _OBJECT_GOAL_KEYS + ("image_goals", "object_surface_area")
_IMAGE_GOAL_KEYS = ("position", "rotation", "hfov", "image_dimensions", "frame_coverage", "object_coverage")
_EPISODE_KEYS = (
    "episode_id", "scene_id", "scene_dataset_config", "additional_obj_config_paths", "start_position",
    "start_rotation", "info", "goals", "start_room", "shortest_paths", "object_category", "goal_object_id",
    "goal_image_id", "goal_attributes", "instruction", "prompt_kind",
)  # fmt: skip


def _parse_view_point(raw: Any, where: str) -> ViewPoint:
    raw = _object(raw, where)
    if "agent_state" in raw:
        state = _object(raw["agent_state"], f"{where}.agent_state")
        position = _vector(state.get("position"), 3, where, "agent_state.position")
        rotation = _vector(state.get("rotation"), 4, where, "agent_state.rotation")
        extra = {k: v for k, v in raw.items() if k not in ("agent_state", "iou")}
        state_extra = {k: v for k, v in state.items() if k not in ("position", "rotation")}
        if state_extra:
            extra["agent_state"] = state_extra
    else:  # lenient: a flat {position, rotation, iou}
        position = _vector(raw.get("position"), 3, where, "position")
        rotation = _vector(raw.get("rotation"), 4, where, "rotation")
        extra = {k: v for k, v in raw.items() if k not in ("position", "rotation", "iou")}
    return ViewPoint(position, rotation, _opt_number(raw.get("iou"), where, "iou"), extra=extra)


def _parse_image_goal(raw: Any, where: str) -> ImageGoalView:
    raw = _object(raw, where)
    hfov = raw.get("hfov")
    if not _is_number(hfov) or hfov <= 0:
        raise DatasetFormatError(f"{where}: hfov must be a positive number (degrees), got {_show(hfov)}")
    dims = raw.get("image_dimensions")
    if not (isinstance(dims, (list, tuple)) and len(dims) == 2 and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims)):
        raise DatasetFormatError(f"{where}: image_dimensions must be 2 positive integers [height, width], got {_show(dims)}")
    return ImageGoalView(
        position=_vector(raw.get("position"), 3, where, "position"),
        rotation=_vector(raw.get("rotation"), 4, where, "rotation"),
        hfov=hfov,
        image_dimensions=list(dims),
        frame_coverage=_opt_number(raw.get("frame_coverage"), where, "frame_coverage"),
        object_coverage=_opt_number(raw.get("object_coverage"), where, "object_coverage"),
        extra={k: v for k, v in raw.items() if k not in _IMAGE_GOAL_KEYS},
    )


def _parse_goal(raw: Any, where: str, minimum: type[NavigationGoal] = NavigationGoal) -> NavigationGoal:
    """A goal typed by its fields (image_goals -> InstanceImageGoal, object fields -> ObjectGoal),
    and at least ``minimum`` (the table it comes from says what it is)."""
    raw = _object(raw, where)
    position = _vector(raw.get("position"), 3, where, "position")
    radius = _opt_number(raw.get("radius"), where, "radius")
    if "image_goals" in raw or minimum is InstanceImageGoal:
        cls, known = InstanceImageGoal, _INSTANCE_GOAL_KEYS
    elif any(k in raw for k in ("object_id", "view_points", "object_category", "object_name")) or minimum is ObjectGoal:
        cls, known = ObjectGoal, _OBJECT_GOAL_KEYS
    else:
        return NavigationGoal(position, radius, extra={k: v for k, v in raw.items() if k not in _NAV_GOAL_KEYS})
    kwargs: dict[str, Any] = dict(
        position=position,
        radius=radius,
        object_id=_opt_id(raw.get("object_id"), where, "object_id"),
        object_name=_opt_str(raw.get("object_name"), where, "object_name"),
        object_name_id=_opt_int(raw.get("object_name_id"), where, "object_name_id"),
        object_category=_opt_str(raw.get("object_category"), where, "object_category"),
        room_id=_opt_id(raw.get("room_id"), where, "room_id"),
        room_name=_opt_str(raw.get("room_name"), where, "room_name"),
        view_points=[
            _parse_view_point(vp, f"{where}: view_points[{j}]")
            for j, vp in enumerate(_list(raw.get("view_points"), where, "view_points"))
        ],
        extra={k: v for k, v in raw.items() if k not in known},
    )
    if cls is InstanceImageGoal:
        images = _list(raw.get("image_goals"), where, "image_goals")
        kwargs["image_goals"] = [_parse_image_goal(g, f"{where}: image_goals[{j}]") for j, g in enumerate(images)]
        kwargs["object_surface_area"] = _opt_number(raw.get("object_surface_area"), where, "object_surface_area")
    return cls(**kwargs)


def _parse_episode(raw: Any, where: str) -> Episode:
    raw = _object(raw, where)
    episode_id = raw.get("episode_id")
    if isinstance(episode_id, bool) or not isinstance(episode_id, (str, int)):
        raise DatasetFormatError(f"{where}: episode_id must be a string or an integer, got {_show(episode_id)}")
    scene_id = raw.get("scene_id")
    if not isinstance(scene_id, str) or not scene_id:
        raise DatasetFormatError(f"{where}: scene_id must be a non-empty string, got {_show(scene_id)}")
    config = raw.get("scene_dataset_config")
    if config is not None and not isinstance(config, str):
        raise DatasetFormatError(f"{where}: scene_dataset_config must be a string, got {_show(config)}")
    paths = _list(raw.get("additional_obj_config_paths"), where, "additional_obj_config_paths")
    if not all(isinstance(p, str) for p in paths):
        raise DatasetFormatError(f"{where}: additional_obj_config_paths must be a list of strings, got {_show(paths)}")
    goals = _list(raw.get("goals"), where, "goals")
    attributes = _opt_dict(raw.get("goal_attributes"), where, "goal_attributes")
    return Episode(
        episode_id=str(episode_id),
        scene_id=scene_id,
        start_position=_vector(raw.get("start_position"), 3, where, "start_position"),
        start_rotation=_quaternion(raw.get("start_rotation"), where, "start_rotation"),
        goals=[_parse_goal(g, f"{where}: goals[{j}]") for j, g in enumerate(goals)],
        info=_opt_dict(raw.get("info"), where, "info"),
        object_category=_opt_str(raw.get("object_category"), where, "object_category"),
        goal_object_id=_opt_id(raw.get("goal_object_id"), where, "goal_object_id"),
        goal_image_id=_opt_int(raw.get("goal_image_id"), where, "goal_image_id"),
        goal_attributes=attributes,
        instruction=_opt_str(raw.get("instruction"), where, "instruction"),
        prompt_kind=_opt_str(raw.get("prompt_kind"), where, "prompt_kind"),
        scene_dataset_config="default" if config is None else config,
        additional_obj_config_paths=list(paths),
        start_room=_opt_id(raw.get("start_room"), where, "start_room"),
        shortest_paths=None if raw.get("shortest_paths") is None else _list(raw["shortest_paths"], where, "shortest_paths"),
        extra={k: v for k, v in raw.items() if k not in _EPISODE_KEYS},
    )


# --------------------------------------------------------------------------- file access


def _load_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise DataNotFoundError(f"Episode dataset file not found: {path}")
    if path.is_dir():
        raise DatasetFormatError(f"{path}: is a directory; pass the <split>.json.gz file")
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as f:
                data = json.load(f)
        else:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(f"{path}: not valid JSON ({exc})") from exc
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        gz = path.name.endswith(".gz")
        hint = ""
        if not gz:
            with open(path, "rb") as f:
                if f.read(2) == b"\x1f\x8b":
                    hint = f"; it is gzip-compressed: name it {path.name}.gz"
        raise DatasetFormatError(f"{path}: cannot be read as {'gzip-compressed ' if gz else ''}JSON ({exc}){hint}") from exc
    if not isinstance(data, dict):
        raise DatasetFormatError(f"{path}: the top level must be a JSON object with an 'episodes' list, got {type(data).__name__}")
    if not isinstance(data.get("episodes"), list):
        raise DatasetFormatError(f"{path}: episodes must be a list, got {_show(data.get('episodes'))}")
    return data


def _content_ext(path: Path) -> str:
    return ".json" if path.name.endswith(".json") else ".json.gz"


def _content_files(content_dir: Path) -> list[Path]:
    """``content/*.json.gz`` (and plain ``*.json`` where no ``.gz`` twin exists), sorted."""
    gz = {p.name[: -len(".json.gz")]: p for p in content_dir.glob("*.json.gz") if p.is_file()}
    plain = {p.name[: -len(".json")]: p for p in content_dir.glob("*.json") if p.is_file()}
    merged = {**plain, **gz}
    return [merged[name] for name in sorted(merged)]


def _content_file_for(content_dir: Path, scene: str) -> Path:
    tried = []
    for name in dict.fromkeys((scene, scene_name(scene), scene.split("-", 1)[-1])):
        for ext in (".json.gz", ".json"):
            candidate = content_dir / f"{name}{ext}"
            if candidate.is_file():
                return candidate
            tried.append(str(candidate))
    raise DataNotFoundError(f"No content file for scene {scene!r}: tried {', '.join(tried)}")


def _scene_matches(scene_id: str, wanted: set[str]) -> bool:
    base = posixpath.basename(scene_id.replace("\\", "/"))
    names = {scene_id, scene_name(scene_id), os.path.splitext(base)[0], posixpath.basename(posixpath.dirname(scene_id.replace("\\", "/")))}
    return bool(names & wanted) or any(w.split("-", 1)[-1] in names for w in wanted)


# --------------------------------------------------------------------------- kind detection


def _path_says_imagenav(path: Path | None) -> bool:
    """A folder below ``datasets/`` (or of the whole path when there is none) starts with ``imagenav``."""
    if path is None:
        return False
    parts = [part.lower() for part in path.parts[:-1]]
    if "datasets" in parts:
        parts = parts[len(parts) - parts[::-1].index("datasets") :]
    return any(part.startswith("imagenav") for part in parts)


def detect_kind(data: Mapping[str, Any] | Iterable[Mapping[str, Any]], path: str | os.PathLike[str] | None = None) -> Kind:
    """The dataset kind its fields imply (one document, or several: a top level and its content).

    ``instruction_kind`` -> multigoal_vln; ``prompt_kind`` -> semantic_nav; ``attribute_data`` / ``goal_attributes`` / ``instruction`` -> textnav; a top-level ``goals``
    dict, ``goal_object_id`` + ``goal_image_id`` or ``image_goals`` -> instance_imagenav;
    ``goals_by_category`` / ``category_to_task_category_id`` / ``object_category`` / object goals
    -> objectnav; otherwise pointnav, or imagenav when a folder of ``path`` below ``datasets/``
    starts with ``imagenav`` (the two share one format).
    """
    docs = [data] if isinstance(data, Mapping) else list(data)
    found: set[str] = set()
    for doc in docs:
        if "attribute_data" in doc:
            found.add("textnav")
        if isinstance(doc.get("goals"), dict):
            found.add("instance_imagenav")
        if "goals_by_category" in doc or "category_to_task_category_id" in doc:
            found.add("objectnav")
        for ep in doc.get("episodes") or []:
            if not isinstance(ep, dict):
                continue
            if ep.get("prompt_kind") is not None:
                found.add("semantic_nav")
            if ep.get("instruction_kind") is not None:
                found.add("multigoal_vln")
            if ep.get("goal_attributes") is not None or ep.get("instruction") is not None:
                found.add("textnav")
            if "goal_object_id" in ep and "goal_image_id" in ep:
                found.add("instance_imagenav")
            if ep.get("object_category") is not None:
                found.add("objectnav")
            for goal in ep.get("goals") or []:
                if isinstance(goal, dict) and "image_goals" in goal:
                    found.add("instance_imagenav")
                elif isinstance(goal, dict) and ("view_points" in goal or "object_category" in goal):
                    found.add("objectnav")
    for kind in ("multigoal_vln", "semantic_nav", "textnav", "instance_imagenav", "objectnav"):
        if kind in found:
            return kind  # type: ignore[return-value]
    return "imagenav" if _path_says_imagenav(Path(path) if path is not None else None) else "pointnav"


# --------------------------------------------------------------------------- reading


def read_dataset(
    path: str | os.PathLike[str],
    kind: Kind | None = None,
    data_root: str | os.PathLike[str] | None = None,
    *,
    scenes: Iterable[str] | None = None,
) -> EpisodeDataset:
    """Read a Habitat episode dataset (``.json.gz`` or ``.json``).

    When the file has no episodes and a ``content/`` folder sits next to it, every
    ``content/<scene>.json.gz`` is read (or only ``scenes``). ObjectNav episodes get their goals
    from ``goals_by_category``; InstanceImageNav / TextNav episodes get ``[goals[goal_key]]`` and
    TextNav episodes their ``goal_attributes`` from ``attribute_data``, as habitat-lab does.

    Args:
        path: The ``<split>.json.gz`` (or ``.json``) file.
        kind: One of :data:`KINDS`; detected from the fields when None (see :func:`detect_kind`).
        data_root: When given, every scene id must resolve inside it (:func:`resolve_scene_path`).
        scenes: Only these scenes (content file names such as ``"TEEsavR23oF"``, scene ids, or
            HM3D folder names such as ``"00800-TEEsavR23oF"``).

    Raises:
        FileNotFoundError: The file (or a requested scene's content file) does not exist.
        ValueError: A malformed file (message: file, episode index, field), an unknown kind, or a
            scene id outside ``data_root``.
    """
    if kind is not None:
        _check_kind(kind)
    path = Path(path)
    top = _load_json(path)
    wanted = None if scenes is None else {str(s) for s in ([scenes] if isinstance(scenes, str) else scenes)}
    if wanted is not None and not wanted:
        raise DatasetFormatError(f"{path}: scenes is empty; pass scene names or leave scenes=None for all")

    docs: list[tuple[Path, dict[str, Any]]] = [(path, top)]
    content_dir = path.parent / _CONTENT_DIR
    if not top["episodes"] and content_dir.is_dir():
        if wanted is None:
            files = _content_files(content_dir)
        else:
            files = [_content_file_for(content_dir, s) for s in sorted(wanted)]
        docs += [(p, _load_json(p)) for p in dict.fromkeys(files)]
        wanted = None  # the files are the filter

    kind = kind or detect_kind([doc for _, doc in docs], path)
    dataset = EpisodeDataset(kind=kind, source=path)

    # Top-level fields: the top file first, then content files fill what it lacks.
    handled = {"episodes", "goals_by_category", "goals", "attribute_data", "category_to_task_category_id", "category_to_scene_annotation_category_id"}
    for file, doc in docs:
        for name in ("category_to_task_category_id", "category_to_scene_annotation_category_id"):
            if name in doc and not getattr(dataset, name):
                setattr(dataset, name, _category_map(doc[name], f"{file}: {name}"))
        for key, value in doc.items():
            if key not in handled:
                dataset.extra.setdefault(key, value)
        by_category = _opt_dict(doc.get("goals_by_category"), str(file), "goals_by_category") or {}
        for key, goals in by_category.items():
            where = f"{file}: goals_by_category[{key!r}]"
            dataset.goals_by_category[key] = [
                _parse_goal(g, f"{where}[{j}]", ObjectGoal) for j, g in enumerate(_list(goals, where, "value"))
            ]  # type: ignore[misc]
        instance_goals = doc.get("goals")
        if instance_goals is not None:
            if not isinstance(instance_goals, dict):
                raise DatasetFormatError(f"{file}: goals must be an object mapping goal_key to a goal, got {_show(instance_goals)}")
            for key, goal in instance_goals.items():
                if isinstance(goal, list):  # tolerate a one-goal list
                    goal = goal[0] if goal else None
                minimum = InstanceImageGoal if kind == "instance_imagenav" else ObjectGoal
                dataset.goals[key] = _parse_goal(goal, f"{file}: goals[{key!r}]", minimum)  # type: ignore[assignment]
        attributes = _opt_dict(doc.get("attribute_data"), str(file), "attribute_data") or {}
        for key, value in attributes.items():
            dataset.attribute_data[key] = _object(value, f"{file}: attribute_data[{key!r}]")

    for file, doc in docs:
        for index, raw in enumerate(doc["episodes"]):
            where = f"{file}: episode {index}"
            episode = _parse_episode(raw, where)
            if wanted is not None and not _scene_matches(episode.scene_id, wanted):
                continue
            if data_root is not None:  # before its goals are looked up by the scene's name
                try:
                    resolve_scene_path(episode.scene_id, data_root)
                except ValueError as exc:
                    raise DatasetFormatError(f"{where}: {exc}") from None
            _fill_goals(dataset, episode, where)
            dataset.episodes.append(episode)
    if wanted is not None and not dataset.episodes and top["episodes"]:
        names = sorted({scene_name(_object(e, str(path)).get("scene_id", "")) for e in top["episodes"]})
        raise DatasetFormatError(f"{path}: no episodes in scenes {sorted(wanted)}; its scenes are {names}")
    return dataset


def _category_map(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value.values()):
        raise DatasetFormatError(f"{where}: must map category names to integers, got {_show(value)}")
    return dict(value)


def _fill_goals(dataset: EpisodeDataset, episode: Episode, where: str) -> None:
    """Fill goals (and TextNav attributes) from the dataset's top-level tables, as habitat does."""
    kind = dataset.kind
    if kind == "objectnav":
        if episode.object_category is None and episode.goals and isinstance(episode.goals[0], ObjectGoal):
            episode.object_category = episode.goals[0].object_category  # habitat's dedup_goals
        if episode.object_category is None:
            raise DatasetFormatError(f"{where}: object_category must be a string for an ObjectNav episode, got null")
        key = objectnav_goals_key(episode.scene_id, episode.object_category)
        if episode.goals:  # inline goals (old files): de-duplicate by key
            episode.goals = dataset.goals_by_category.setdefault(key, episode.goals)  # type: ignore[arg-type]
        elif key in dataset.goals_by_category:
            episode.goals = dataset.goals_by_category[key]  # type: ignore[assignment]
        else:
            raise DatasetFormatError(f"{where}: object_category: no goals_by_category entry {key!r} for this scene and category")
    elif kind in _INSTANCE_KINDS:
        if episode.goal_object_id is None:
            raise DatasetFormatError(f"{where}: goal_object_id must be set for a {kind} episode, got null")
        key = instance_goal_key(episode.scene_id, episode.goal_object_id)
        if not episode.goals:
            goal = dataset.goals.get(key) or dataset.goals.get(_psl_goal_key(episode.scene_id, episode.goal_object_id))
            if goal is None:
                raise DatasetFormatError(f"{where}: goal_object_id: no goals entry {key!r} for this scene and object")
            episode.goals = [goal]
        else:
            dataset.goals.setdefault(key, episode.goals[0])  # type: ignore[arg-type]
        goal = episode.goals[0]
        if kind == "instance_imagenav":  # habitat requires both (not_none_validator)
            if episode.goal_image_id is None:
                raise DatasetFormatError(f"{where}: goal_image_id must be an integer for an instance_imagenav episode, got null")
            if not isinstance(goal, InstanceImageGoal) or not goal.image_goals:
                raise DatasetFormatError(f"{where}: goals: the goal {key!r} has no image_goals")
        if episode.goal_image_id is not None and isinstance(goal, InstanceImageGoal) and goal.image_goals:
            if not 0 <= episode.goal_image_id < len(goal.image_goals):
                raise DatasetFormatError(
                    f"{where}: goal_image_id {episode.goal_image_id} does not index the goal's {len(goal.image_goals)} image_goals"
                )
        if kind == "semantic_nav":
            _check_prompt(episode, goal, where)
        if kind == "textnav" and episode.goal_attributes is None:
            episode.goal_attributes = dataset.attribute_data.get(key) or dataset.attribute_data.get(
                _psl_goal_key(episode.scene_id, episode.goal_object_id)
            )
            if episode.goal_attributes is None and episode.instruction is None:
                raise DatasetFormatError(f"{where}: goal_attributes: no attribute_data entry {key!r} and no instruction")


def _check_prompt(episode: Episode, goal: NavigationGoal, where: str) -> None:
    """A ``semantic_nav`` episode's prompt fields are complete for its kind."""
    kind = episode.prompt_kind
    if kind not in PROMPT_KINDS:
        raise DatasetFormatError(f"{where}: prompt_kind must be one of {list(PROMPT_KINDS)}, got {_show(kind)}")
    if kind in ("text", "interleaved") and not episode.instruction:
        raise DatasetFormatError(f"{where}: instruction: a {kind!r} prompt needs its text, got {_show(episode.instruction)}")
    if kind == "interleaved" and IMAGE_TOKEN not in str(episode.instruction):
        raise DatasetFormatError(f"{where}: instruction: an interleaved prompt's text must hold {IMAGE_TOKEN!r}, got {_show(episode.instruction)}")
    if kind in ("image", "interleaved"):
        images = goal.image_goals if isinstance(goal, InstanceImageGoal) else []
        if episode.goal_image_id is None or not 0 <= episode.goal_image_id < len(images):
            raise DatasetFormatError(
                f"{where}: goal_image_id: a {kind!r} prompt needs an index into the goal's {len(images)} image_goals, "
                f"got {_show(episode.goal_image_id)}"
            )


# --------------------------------------------------------------------------- writing


def _goal_json(goal: NavigationGoal, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"position": _vector(goal.position, 3, where, "position"), "radius": goal.radius}
    if isinstance(goal, ObjectGoal):
        instance = isinstance(goal, InstanceImageGoal)
        out["object_id"] = goal.object_id
        out["object_name"] = goal.object_name
        # InstanceImageNav v3 / PSL goals have no object_name_id / room fields: write them only when set.
        for name in ("object_name_id", "object_category", "room_id", "room_name"):
            value = getattr(goal, name)
            if not instance or value is not None or name == "object_category":
                out[name] = value
        out["view_points"] = [_view_point_json(vp, f"{where}: view_points[{j}]") for j, vp in enumerate(goal.view_points)]
        if instance:
            out["image_goals"] = [_image_goal_json(g, f"{where}: image_goals[{j}]") for j, g in enumerate(goal.image_goals)]
            out["object_surface_area"] = goal.object_surface_area
    out.update(goal.extra)
    return out


def _view_point_json(vp: ViewPoint, where: str) -> dict[str, Any]:
    extra = dict(vp.extra)
    state = {"position": _vector(vp.position, 3, where, "position"), "rotation": _vector(vp.rotation, 4, where, "rotation")}
    state.update(extra.pop("agent_state", {}) if isinstance(extra.get("agent_state"), dict) else {})
    return {"agent_state": state, "iou": vp.iou, **extra}


def _image_goal_json(view: ImageGoalView, where: str) -> dict[str, Any]:
    return {
        "position": _vector(view.position, 3, where, "position"),
        "rotation": _vector(view.rotation, 4, where, "rotation"),
        "hfov": view.hfov,
        "image_dimensions": list(view.image_dimensions),
        "frame_coverage": view.frame_coverage,
        "object_coverage": view.object_coverage,
        **view.extra,
    }


def _episode_json(episode: Episode, kind: str, goals: list[Any], attribute_data: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "episode_id": str(episode.episode_id),
        "scene_id": episode.scene_id,
        "scene_dataset_config": episode.scene_dataset_config,
        "additional_obj_config_paths": list(episode.additional_obj_config_paths),
        "start_position": _vector(episode.start_position, 3, where, "start_position"),
        "start_rotation": _vector(episode.start_rotation, 4, where, "start_rotation"),
        "info": episode.info,
        "goals": goals,
        "start_room": episode.start_room,
        "shortest_paths": episode.shortest_paths,
    }
    standard = {
        "objectnav": ("object_category",),
        "instance_imagenav": ("goal_object_id", "goal_image_id", "object_category"),
        "textnav": ("goal_object_id", "goal_image_id", "object_category"),
        "semantic_nav": ("goal_object_id", "goal_image_id", "object_category"),
    }.get(kind, ())
    for name in ("goal_object_id", "goal_image_id", "object_category"):
        value = getattr(episode, name)
        if name in standard or value is not None:
            out[name] = value
    if episode.goal_attributes is not None:
        shared = None
        if episode.goal_object_id is not None:
            shared = attribute_data.get(instance_goal_key(episode.scene_id, episode.goal_object_id))
        if kind != "textnav" or shared != episode.goal_attributes:
            out["goal_attributes"] = episode.goal_attributes
    if episode.instruction is not None:
        out["instruction"] = episode.instruction
    if episode.prompt_kind is not None:
        out["prompt_kind"] = episode.prompt_kind
    out.update(episode.extra)
    return out


def _attribute_table(dataset: EpisodeDataset) -> dict[str, Any]:
    """TextNav ``attribute_data`` to write: the dataset's, plus episodes' attributes it lacks."""
    table = dict(dataset.attribute_data)
    if dataset.kind == "textnav":
        for ep in dataset.episodes:
            if ep.goal_attributes is not None and ep.goal_object_id is not None:
                table.setdefault(instance_goal_key(ep.scene_id, ep.goal_object_id), ep.goal_attributes)
    return table


def _serialize(
    dataset: EpisodeDataset, episodes: list[Episode], attributes: Mapping[str, Any], where: str, top_level: bool
) -> dict[str, Any]:
    """The JSON document for ``episodes`` (all of them, or one scene's) in the dataset's format.

    ``top_level`` adds what belongs to the whole dataset: goal-table entries no episode uses,
    ``attribute_data`` and the extra fields.
    """
    kind = _check_kind(dataset.kind)
    doc: dict[str, Any] = {}
    if kind == "objectnav":
        table: dict[str, list[NavigationGoal]] = dict(dataset.goals_by_category) if top_level else {}
        episode_docs = []
        for i, ep in enumerate(episodes):
            if ep.object_category is None:
                raise DatasetFormatError(f"{where}: episode {i}: object_category must be a string for an ObjectNav episode, got null")
            key = objectnav_goals_key(ep.scene_id, ep.object_category)
            if key not in table:
                table[key] = dataset.goals_by_category.get(key) or ep.goals  # type: ignore[assignment]
            episode_docs.append(_episode_json(ep, kind, [], attributes, f"{where}: episode {i}"))
        doc["episodes"] = episode_docs
        doc["goals_by_category"] = {
            k: [_goal_json(g, f"{where}: goals_by_category[{k!r}][{j}]") for j, g in enumerate(v)] for k, v in table.items()
        }
    elif kind in _INSTANCE_KINDS:
        goals: dict[str, NavigationGoal] = dict(dataset.goals) if top_level else {}
        episode_docs = []
        for i, ep in enumerate(episodes):
            if ep.goal_object_id is None:
                raise DatasetFormatError(f"{where}: episode {i}: goal_object_id must be set for a {kind} episode, got null")
            key = instance_goal_key(ep.scene_id, ep.goal_object_id)
            if key not in goals:
                goal = dataset.goals.get(key) or (ep.goals[0] if ep.goals else None)
                if goal is None:
                    raise DatasetFormatError(f"{where}: episode {i}: goals: no goal for goal_key {key!r}")
                goals[key] = goal
            episode_docs.append(_episode_json(ep, kind, [], attributes, f"{where}: episode {i}"))
        doc["episodes"] = episode_docs
        doc["goals"] = {k: _goal_json(g, f"{where}: goals[{k!r}]") for k, g in goals.items()}
        if kind == "textnav" and top_level:
            doc["attribute_data"] = dict(attributes)
    else:
        doc["episodes"] = [
            _episode_json(
                ep, kind, [_goal_json(g, f"{where}: episode {i}: goals[{j}]") for j, g in enumerate(ep.goals)],
                attributes, f"{where}: episode {i}",
            )
            for i, ep in enumerate(episodes)
        ]  # fmt: skip
    # Habitat's ObjectNav files (top level and content) always carry both category maps.
    for name in ("category_to_task_category_id", "category_to_scene_annotation_category_id"):
        value = getattr(dataset, name)
        if kind == "objectnav" or value:
            doc[name] = dict(value)
    if top_level:
        for key in sorted(dataset.extra):
            doc.setdefault(key, dataset.extra[key])
    return doc


def _write_json(doc: dict[str, Any], path: Path) -> None:
    try:
        text = json.dumps(doc, indent=2 if path.name.endswith(".json") else None, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DatasetFormatError(f"{path}: the dataset cannot be written as JSON ({exc})") from exc
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.name.endswith(".gz"):
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(data)
    else:
        tmp.write_bytes(data + b"\n")
    os.replace(tmp, path)


def write_dataset(dataset: EpisodeDataset, path: str | os.PathLike[str], *, per_scene: bool = False) -> Path:
    """Write a dataset in Habitat's format for its kind (gzip when ``path`` ends in ``.gz``).

    ObjectNav writes ``goals_by_category`` and empty per-episode ``goals``; InstanceImageNav and
    TextNav write the ``goals`` dict (and TextNav ``attribute_data``), as habitat-lab does. The
    output is byte-for-byte deterministic (fixed key order, gzip mtime 0).

    Args:
        dataset: The dataset.
        path: The top-level file, e.g. ``.../val/val.json.gz``.
        per_scene: Write Habitat's content layout: ``path`` gets ``"episodes": []`` (plus the
            category maps / ``attribute_data`` / extra fields) and each scene's episodes and goals
            go to ``content/<scene>.json.gz`` next to it. Existing content files of other scenes
            are left alone.

    Returns:
        The path written.
    """
    path = Path(path)
    attributes = _attribute_table(dataset)
    if not per_scene:
        _write_json(_serialize(dataset, list(dataset.episodes), attributes, str(path), top_level=True), path)
        return path
    by_scene: dict[str, list[Episode]] = {}
    for episode in dataset.episodes:
        by_scene.setdefault(scene_name(episode.scene_id), []).append(episode)
    ext = _content_ext(path)
    for name, episodes in by_scene.items():
        if not name or name in (".", ".."):
            raise DatasetFormatError(f"{path}: cannot name a content file after scene_id {episodes[0].scene_id!r}")
        file = path.parent / _CONTENT_DIR / f"{name}{ext}"
        _write_json(_serialize(dataset, episodes, attributes, str(file), top_level=False), file)
    top = _serialize(dataset, [], attributes, str(path), top_level=True)
    top.pop("goals_by_category", None)
    top.pop("goals", None)
    _write_json(top, path)
    return path
