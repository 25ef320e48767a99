"""Building NavEnvs from a task name, a dataset name and keyword arguments (``gym.make`` calls
:func:`make_nav_env`)."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from navgym.core.checks import check_range
from navgym.core.paths import data_root
from navgym.core.registry import did_you_mean
from navgym.core.specs import MAX_CAMERA_SIDE, BodySpec, CameraSpec
from navgym.datasets import DATASETS, GENERATED_DATASETS
from navgym.datasets.episodes import EpisodeDataset
from navgym.datasets.habitat import find_episode_file
from navgym.embodiments import EMBODIMENTS, Embodiment
from navgym.errors import DataNotFoundError, DatasetFormatError, InvalidArgumentError, UnknownNameError
from navgym.sims import SIMULATORS
from navgym.sims.base import Simulator
from navgym.tasks import TASKS


class SimFactory:
    """Builds a simulator of one backend per scene id, for one body (a class, so envs pickle).

    Args:
        sim: A registered backend name (``"auto"`` is ``"embedded"``).
        body: Agent 0's body.
        root: The data root, for scene ids that are paths.
    """

    def __init__(self, sim: str, body: BodySpec, root: Path, options: Mapping[str, Any] | None = None):
        self.sim = "embedded" if sim == "auto" else SIMULATORS.check(sim)
        if options is not None and not isinstance(options, Mapping):
            raise InvalidArgumentError(f"sim_options={options!r} must be a dict of backend keyword arguments, e.g. {{'port': 41451}}")
        self.options = dict(options or {})
        backend = SIMULATORS.get(self.sim)
        while isinstance(backend, functools.partial):  # a backend registered with preset options
            backend = backend.func
        require = getattr(backend, "require", None)
        if require is not None:  # a backend that cannot run here says why, at make time
            require()
        if self.options:
            _check_backend_options(self.sim, backend, self.options)
        self.body = body
        self.root = root
        #: scene id -> the ``scene_dataset_config`` its episodes name (resolved in the data root,
        #: existing files only), set by :func:`make_nav_env`; given to a backend that takes a
        #: ``scene_dataset_config`` keyword (habitat-sim, the embedded simulator's scene instances)
        #: in place of ``sim_options``' one, as habitat-lab configures a scene from its episode.
        self.scene_configs: dict[str, str] = {}
        try:
            self._takes_config = "scene_dataset_config" in inspect.signature(backend).parameters
        except (TypeError, ValueError):
            self._takes_config = False

    def __call__(self, scene_id: str) -> Simulator:
        options = self.options
        config = self.scene_configs.get(scene_id)
        if config is not None and self._takes_config:
            options = {**options, "scene_dataset_config": config}
        return SIMULATORS.get(self.sim)(scene_id, body=self.body, data_root=self.root, **options)


def _check_backend_options(name: str, backend: Any, options: Mapping[str, Any]) -> None:
    """Unknown ``sim_options`` keys are an error naming the backend's keyword arguments (a backend
    taking ``**kwargs`` checks its own)."""
    import inspect

    try:
        params = inspect.signature(backend).parameters
    except (TypeError, ValueError):  # a builtin or an odd callable: let it check its own
        return
    fixed = {"scene", "body", "data_root"}
    accepted = [n for n, p in params.items() if n not in fixed and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    clash = sorted(set(options) & fixed)
    if clash:
        raise InvalidArgumentError(f"sim_options {clash} are set by the env itself; pass data_dir= / embodiment= to gym.make instead")
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InvalidArgumentError(f"sim_options {unknown} are not options of sim={name!r}; it takes {accepted}")


def resolve_embodiment(task, embodiment: str | Embodiment | None) -> Embodiment:
    """The task's default embodiment, a registered one by name, or the instance given.

    A name keeps what it can of the task's default (docs/embodiments.md, "Choosing by name"): the
    kind the default already is gives the default itself (``"habitat"`` for ObjectNav keeps its
    0.88 m camera and look up/down); another kind gets the default's body and camera unless its
    class defines its own (``"unicycle"`` gets the task's, the robots keep theirs).
    """
    if embodiment is None:
        return task.default_embodiment()
    if isinstance(embodiment, Embodiment):
        return embodiment
    if isinstance(embodiment, str):
        kind = EMBODIMENTS.get(embodiment)
        default = task.default_embodiment()
        if type(default) is kind:
            return default
        return kind(**_generic_rig(kind, default))
    raise InvalidArgumentError(f"embodiment={embodiment!r} must be a registered name {EMBODIMENTS.names()} or an Embodiment")


def _generic_rig(kind: Any, default: Embodiment) -> dict[str, Any]:
    """The task default's ``body`` and ``camera`` for those fields an embodiment class leaves at
    :class:`Embodiment`'s generic defaults (a robot class defines its own: they stay)."""
    if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        return {}  # a factory function registered by a plug-in: its own choice
    fields = {f.name: f for f in dataclasses.fields(kind)}
    generic = {"body": BodySpec, "camera": CameraSpec}
    return {name: getattr(default, name) for name, spec in generic.items() if name in fields and fields[name].default_factory is spec}


def _resolution(value: Any) -> tuple[int, int]:
    """(height, width) from a side or a pair of sides."""

    def side(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InvalidArgumentError(
                f"resolution={value!r} must be an integer side or (height, width) integers, e.g. resolution=128 or (96, 128)"
            )
        if not 1 <= v <= MAX_CAMERA_SIDE:
            raise InvalidArgumentError(
                f"resolution={value!r} is out of range: each side must be an integer in [1, {MAX_CAMERA_SIDE}], e.g. resolution=128"
            )
        return int(v)

    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise InvalidArgumentError(f"resolution={value!r} must be (height, width): two integers")
        return side(value[0]), side(value[1])
    return side(value), side(value)


def _keyword_hint(message: str, task_cls: type) -> str:
    """`` Did you mean 'resolution'?`` for a misspelt ``gym.make`` keyword (a task's TypeError
    names only the keyword), from make_nav_env's keywords, Gymnasium's and the task's fields."""
    import inspect
    import re

    match = re.search(r"unexpected keyword argument '(\w+)'", message)
    if match is None:
        return ""
    known = [n for n, p in inspect.signature(make_nav_env).parameters.items() if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD]
    known = [n for n in known if n not in ("task", "dataset")] + ["max_episode_steps", "disable_env_checker"]
    if dataclasses.is_dataclass(task_cls):
        known += [f.name for f in dataclasses.fields(task_cls) if f.init]
    return did_you_mean(match.group(1), sorted(set(known)))


def make_nav_env(
    task: str,
    dataset: str,
    split: str = "val",
    sensors: Sequence[str] | None = None,
    render_mode: str | None = None,
    sim: str = "auto",
    sim_options: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
    dataset_path: str | Path | None = None,
    embodiment: str | Embodiment | None = None,
    resolution: int | tuple[int, int] | None = None,
    hfov: float | None = None,
    camera_height: float | None = None,
    forward_step: float | None = None,
    turn_angle: float | None = None,
    success_distance: float | None = None,
    difficulty: str | None = None,
    num_scenes: int | None = None,
    episodes_per_scene: int | None = None,
    max_goal_distance: float | None = None,
    scene_repeat_episodes: int = 10,
    **task_kwargs: Any,
):
    """Build a :class:`~navgym.envs.nav_env.NavEnv` (``gym.make`` calls this).

    Args:
        task: A registered task (``"ImageNav"``, ``"InstanceImageNav"``, ``"ObjectNav"``, ``"TextNav"``).
        dataset: ``"ProcHouse"`` or ``"ProcHouseHard"`` (generated, run everywhere; the hard one
            has multi-storey 8-20 room buildings, docs/datasets.md) or ``"Gibson"``, ``"MP3D"``,
            ``"HM3D"``, ``"HSSD"`` (the user's Habitat data).
        split: ``"train"``, ``"val"`` or ``"test"`` (Habitat data: any split folder it has).
        sensors: Observation keys (Habitat's names); defaults follow the task's papers.
        render_mode: ``"rgb_array"`` for egocentric view + top-down map frames.
        sim: Simulator backend: ``"auto"``/``"embedded"`` (CPU ray casting), ``"habitat"``, or a
            third-party backend registered under the ``navgym.simulators`` entry points.
        sim_options: Keyword arguments for the backend's constructor, e.g. ``{"port": 41452}``
            for ``sim="airsim"`` or ``{"motion": "velocity"}`` for ``sim="isaac"`` (each backend's
            docs list them; an unknown one is the backend's error).
        data_dir: Habitat-style data root (default ``$NAVGYM_DATA`` or ``./data``).
        dataset_path: An explicit episode file (``.json.gz``), overriding the data-root lookup.
        embodiment: Who acts: a registered name (``"habitat"``, ``"unicycle"``, ``"jetbot"``,
            ``"h1"``, ``"aliengo"``; docs/embodiments.md) or an
            :class:`~navgym.embodiments.Embodiment`; default: the task's (Habitat's discrete agent).
        resolution: Square side or (height, width) of the embodiment's camera.
        hfov, camera_height: The embodiment's camera.
        forward_step, turn_angle: The discrete agent's motion.
        success_distance: Success radius in metres.
        difficulty: ProcHouse: ``"near"``, ``"easy"``, ``"medium"``, ``"hard"`` geodesic bins, or ``None`` (easy to hard).
        num_scenes, episodes_per_scene, max_goal_distance: ProcHouse episode generation.
        scene_repeat_episodes: Random resets stay in one scene for this many episodes.
        **task_kwargs: Further task fields (e.g. ``categories``, ``success_reward``).
    """
    if task not in TASKS:
        TASKS.check(task)
    if dataset not in DATASETS:
        raise UnknownNameError(f"dataset={dataset!r} is not a navgym dataset.{did_you_mean(str(dataset), list(DATASETS))} Valid datasets: {list(DATASETS)}")
    task_cls = TASKS.get(task)
    if dataset not in GENERATED_DATASETS:
        task_kwargs = {**task_cls.dataset_defaults(dataset), **task_kwargs}
    if success_distance is not None:
        task_kwargs["success_distance"] = check_range("success_distance", success_distance, 0.0, 10.0, low_open=True)
    try:
        task_obj = task_cls(**task_kwargs)
    except TypeError as exc:
        raise TypeError(f"{task}: {str(exc).rstrip('.')}.{_keyword_hint(str(exc), task_cls)} See docs/tasks.md for the keyword arguments") from exc

    body = resolve_embodiment(task_obj, embodiment)
    camera_changes: dict[str, Any] = {}
    if resolution is not None:
        height, width = _resolution(resolution)
        camera_changes.update(width=width, height=height)
    if hfov is not None:
        camera_changes["hfov"] = check_range("hfov", hfov, 0.0, 179.0, low_open=True)
    if camera_height is not None:
        camera_changes["camera_height"] = check_range("camera_height", camera_height, 0.0, 10.0, low_open=True)
    motion = {}
    if forward_step is not None:
        motion["forward_step"] = check_range("forward_step", forward_step, 0.0, 5.0, low_open=True)
    if turn_angle is not None:
        motion["turn_angle"] = check_range("turn_angle", turn_angle, 0.0, 180.0, low_open=True)
    body = body.with_(camera=body.camera.with_(**camera_changes), **motion)
    if not body.camera.camera_height > 0:  # an Embodiment instance's camera: one on the floor sees depth 0 everywhere
        raise InvalidArgumentError(
            f"camera_height={body.camera.camera_height!r} (the embodiment's camera) is out of range; allowed (0.0, 10.0]: "
            "pass camera_height=... (metres above the floor) or an embodiment whose camera is above the floor"
        )

    root = data_root(data_dir)
    sim_factory = SimFactory(sim, body.body, root, sim_options)
    if dataset in GENERATED_DATASETS and dataset_path is None:
        from navgym.datasets.prochouse import prochouse_dataset

        _check_prochouse_categories(task_obj)
        episodes = prochouse_dataset(
            task_obj, body, split, sim_factory,
            difficulty=difficulty, num_scenes=num_scenes, episodes_per_scene=episodes_per_scene, max_goal_distance=max_goal_distance,
            hard=dataset == "ProcHouseHard",
        )
        source = f"{dataset} generation ({split} split, difficulty={difficulty!r}, num_scenes={num_scenes}, episodes_per_scene={episodes_per_scene})"
    else:
        from navgym.datasets.episodes import read_dataset

        path = Path(dataset_path) if dataset_path is not None else habitat_episode_file(task, dataset, split, root)
        episodes = _with_resolved_scenes(read_dataset(path, data_root=root), root)
        sim_factory.scene_configs = _scene_configs(episodes, root)
        source = f"the episode file {path}"
        try:
            task_obj.check_dataset(episodes)  # e.g. ObjectNav: every episode's category is the task's
        except (InvalidArgumentError, DatasetFormatError) as error:
            kind = InvalidArgumentError if isinstance(error, InvalidArgumentError) else DatasetFormatError
            raise kind(f"{path}: {error}") from None
    if not episodes.episodes:
        if dataset_path is not None or dataset not in GENERATED_DATASETS:
            content = path.parent / "content"
            files = sorted(content.glob("*.json*")) if content.is_dir() else []
            if not content.is_dir():
                why = (f"its 'episodes' list is empty and there is no content/ folder beside it ({content}): Habitat's "
                       "ObjectNav and v2 datasets keep each scene's episodes in content/<scene>.json.gz; download or copy that folder too")
            elif not files:
                why = f"its 'episodes' list is empty and {content} holds no <scene>.json.gz files"
            else:
                why = f"its 'episodes' list is empty and so are those of the {len(files)} files in {content}"
            raise InvalidArgumentError(f"{source} gave no {task} episodes: {why}")
        settings = "num_scenes, episodes_per_scene, the camera (hfov, camera_height, resolution) and body, difficulty, max_goal_distance"
        if hasattr(task_obj, "categories"):
            settings += ", categories"
        raise InvalidArgumentError(
            f"{source} gave no {task} episodes: no house could host one. How many are made depends on {settings}; "
            "raise num_scenes or episodes_per_scene, or relax the others (docs/datasets.md)"
        )
    from navgym.envs.nav_env import NavEnv

    return NavEnv(
        task_obj, episodes, sim_factory, sensors=sensors, render_mode=render_mode,
        scene_repeat_episodes=scene_repeat_episodes, embodiment=body,
    )


def _nav_env_metadata() -> dict[str, Any]:
    from navgym.envs.nav_env import NavEnv

    return dict(NavEnv.metadata)


#: Gymnasium's ``make`` reads the entry point's render modes: with them ``render_mode="rgb_array_list"``
#: gets Gymnasium's RenderCollection and ``"human"`` its HumanRendering (pygame), as for any env class.
make_nav_env.metadata = _nav_env_metadata()  # type: ignore[attr-defined]


def habitat_episode_file(task: str, dataset: str, split: str, root: Path) -> Path:
    """Where a registered task's episodes of a Habitat dataset are under ``root`` (or a
    :class:`~navgym.errors.DataNotFoundError` saying where it looked)."""
    task_cls = TASKS.get(task)
    extra = task_cls.extra_episode_files(dataset, split, root)
    return find_episode_file(task, task_cls.habitat_dirs, dataset, split, root, extra)


def _check_prochouse_categories(task) -> None:
    """ProcHouse houses hold only the generator's categories: an object-goal task asking for
    others would generate nothing."""
    categories = getattr(task, "categories", None)
    if categories is None:
        return
    from navgym.scenes.prochouse import CATEGORIES

    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        hints = "".join(did_you_mean(str(c), sorted(CATEGORIES)) for c in unknown[:3])
        raise InvalidArgumentError(
            f"categories={list(categories)} has {unknown}, which ProcHouse houses never contain.{hints} "
            f"ProcHouse categories: {sorted(CATEGORIES)}"
        )


def _scene_configs(dataset: EpisodeDataset, root: Path) -> dict[str, str]:
    """Each scene's ``scene_dataset_config`` as its (first) episode names it, resolved in the data
    root like a scene id, where that file exists; ``"default"`` and configs not downloaded (the
    embedded simulator reads a mesh scene without one) are left out. A config path leaving the
    data root is refused (:func:`~navgym.core.paths.resolve_scene_path`)."""
    from navgym.core.paths import resolve_scene_path

    configs: dict[str, str] = {}
    for episode in dataset.episodes:
        config = episode.scene_dataset_config
        if episode.scene_id in configs or not config or config == "default":
            continue
        try:
            path = resolve_scene_path(config, root)
        except InvalidArgumentError as exc:
            raise DatasetFormatError(f"Episode {episode.episode_id}: scene_dataset_config: {exc}") from None
        if path.is_file():
            configs[episode.scene_id] = str(path)
    return configs


def _with_resolved_scenes(dataset: EpisodeDataset, root: Path) -> EpisodeDataset:
    """Habitat scene ids become paths inside the data root (checked to exist once per scene);
    generated-scene ids (``prochouse/<seed>``, ``prochousehard/<seed>``: files navgym wrote) stay
    as they are, and the simulator generates those houses."""
    from navgym.core.paths import resolve_scene_path
    from navgym.scenes.sources import PROCHOUSE_HARD_PREFIX, PROCHOUSE_PREFIX, prochouse_seed

    resolved: dict[str, str] = {}
    for episode in dataset.episodes:
        if episode.scene_id not in resolved and episode.scene_id.startswith((PROCHOUSE_PREFIX, PROCHOUSE_HARD_PREFIX)):
            try:
                prochouse_seed(episode.scene_id)
            except ValueError as exc:
                raise DatasetFormatError(f"Episode {episode.episode_id}: {exc}, e.g. 'prochouse/1000000'") from None
            resolved[episode.scene_id] = episode.scene_id
        if episode.scene_id not in resolved:
            path = resolve_scene_path(episode.scene_id, root)
            if not path.exists():
                raise DataNotFoundError(
                    f"Scene {episode.scene_id!r} of episode {episode.episode_id} not found at {path}. "
                    f"The data root is {root.resolve()} (data_dir=... or NAVGYM_DATA); scene meshes go under "
                    "<data root>/scene_datasets/ as in Habitat (see docs/datasets.md)."
                )
            resolved[episode.scene_id] = str(path)
        episode.scene_id = resolved[episode.scene_id]
    return dataset
