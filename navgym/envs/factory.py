"""Building NavEnvs from a task name, a dataset name and keyword arguments."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from gymnasium.error import DependencyNotInstalled

from navgym.sims.base import AgentSpec, CameraSpec, Simulator
from navgym.tasks.base import Task
from navgym.tasks.episodes import EpisodeDataset
from navgym.tasks.imagenav import ImageNavTask
from navgym.tasks.instance_imagenav import InstanceImageNavTask
from navgym.tasks.objectnav import MP3D_CATEGORIES, ObjectNavTask
from navgym.tasks.textnav import TextNavTask

TASKS: dict[str, type[Task]] = {
    "ImageNav": ImageNavTask,
    "InstanceImageNav": InstanceImageNavTask,
    "ObjectNav": ObjectNavTask,
    "TextNav": TextNavTask,
}
#: Datasets backed by the user's Habitat data: the folder names used under scene_datasets/ and datasets/<task>/.
HABITAT_DATASETS: dict[str, tuple[str, ...]] = {
    "Gibson": ("gibson",),
    "MP3D": ("mp3d",),
    "HM3D": ("hm3d", "hm3d_v0.2"),
    "HSSD": ("hssd-hab", "hssd"),
}
DATASETS = ("ProcHouse",) + tuple(HABITAT_DATASETS)
#: Task folders under datasets/ in Habitat's layout (ImageNav reuses PointNav episodes).
TASK_DIRS: dict[str, tuple[str, ...]] = {
    "ImageNav": ("imagenav", "pointnav"),
    "InstanceImageNav": ("instance_imagenav",),
    "ObjectNav": ("objectnav",),
    "TextNav": ("textnav", "text_nav", "textgoal_nav"),
}
DATA_SOURCES = {
    "Gibson": "Gibson scenes: https://github.com/facebookresearch/habitat-lab/blob/main/DATASETS.md (Gibson database agreement)",
    "MP3D": "Matterport3D: https://niessner.github.io/Matterport/ (terms of use), episodes from habitat-lab's DATASETS.md",
    "HM3D": "HM3D: https://aihabitat.org/datasets/hm3d/ (Matterport terms), episodes from habitat-lab's DATASETS.md",
    "HSSD": "HSSD: https://huggingface.co/datasets/hssd/hssd-hab, episodes from habitat-lab's DATASETS.md",
}
SIMULATORS = ("auto", "embedded", "habitat")


def data_root(data_dir: str | Path | None = None) -> Path:
    """The data root: ``data_dir``, else ``$NAVGYM_DATA``, else ``./data`` (Habitat's default)."""
    return Path(data_dir or os.environ.get("NAVGYM_DATA") or "data").expanduser()


def find_episode_file(task: str, dataset: str, split: str, root: Path) -> Path:
    """The newest-version episode file of a task on a Habitat dataset, or a helpful error."""
    looked = []
    for task_dir in TASK_DIRS[task]:
        for name in HABITAT_DATASETS[dataset]:
            base = root / "datasets" / task_dir / name
            looked.append(str(base / "<version>" / split / f"{split}.json.gz"))
            candidates = sorted(base.glob(f"*/{split}/{split}.json.gz")) + sorted(base.glob(f"*/{split}/{split}.json"))
            if candidates:
                return candidates[-1]
    if task == "TextNav" and dataset == "HM3D":
        # PSL's text-goal set: datasets/instancenav/<split>/<split>_text.json.gz (HM3D only).
        base = root / "datasets" / "instancenav" / split
        looked.append(str(base / f"{split}_text.json.gz"))
        for name in (f"{split}_text.json.gz", f"{split}_text.json"):
            if (base / name).exists():
                return base / name
    raise FileNotFoundError(
        f"No {task} episodes for {dataset} split {split!r}. Looked for:\n  "
        + "\n  ".join(looked)
        + f"\nThe data root is {root.resolve()} (set it with data_dir=... or the NAVGYM_DATA environment variable; "
        f"it is laid out like Habitat's data/ folder, see docs/datasets.md).\nWhere the data comes from: {DATA_SOURCES[dataset]}"
    )


def _make_sim_factory(sim: str, agent: AgentSpec, root: Path) -> Callable[[str], Simulator]:
    if sim not in SIMULATORS:
        raise ValueError(f"sim={sim!r} is not a simulator backend; valid backends are {SIMULATORS}")
    if sim == "habitat":
        try:
            import habitat_sim  # noqa: F401
        except ImportError as exc:
            raise DependencyNotInstalled(
                "sim='habitat' needs habitat-sim, which has no pip wheel: `conda install habitat-sim -c conda-forge -c aihabitat`. "
                "Use sim='embedded' (the default) to run on the CPU without it."
            ) from exc
        raise NotImplementedError(
            "The habitat-sim backend is not implemented yet (see docs/architecture.md); use sim='embedded'."
        )
    return EmbeddedSimFactory(agent, root)


class EmbeddedSimFactory:
    """Builds an embedded simulator per scene id (a class, not a closure, so envs pickle)."""

    def __init__(self, agent: AgentSpec, root: Path):
        self.agent = agent
        self.root = root

    def __call__(self, scene_id: str) -> Simulator:
        from navgym.sims.embedded.simulator import EmbeddedSimulator

        return EmbeddedSimulator(scene_id, agent_spec=self.agent, data_root=self.root)


def make_nav_env(
    task: str,
    dataset: str,
    split: str = "val",
    sensors: Sequence[str] | None = None,
    render_mode: str | None = None,
    sim: str = "auto",
    data_dir: str | Path | None = None,
    dataset_path: str | Path | None = None,
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
        task: ``"ImageNav"``, ``"InstanceImageNav"``, ``"ObjectNav"`` or ``"TextNav"``.
        dataset: ``"ProcHouse"`` (generated, runs everywhere) or ``"Gibson"``, ``"MP3D"``,
            ``"HM3D"``, ``"HSSD"`` (the user's Habitat data).
        split: ``"train"``, ``"val"`` or ``"test"`` (Habitat data: any split folder it has).
        sensors: Observation keys (Habitat's names); defaults follow the task's papers.
        render_mode: ``"rgb_array"`` for egocentric view + top-down map frames.
        sim: Simulator backend: ``"auto"``/``"embedded"`` (CPU ray casting) or ``"habitat"``.
        data_dir: Habitat-style data root (default ``$NAVGYM_DATA`` or ``./data``).
        dataset_path: An explicit episode file (``.json.gz``), overriding the data-root lookup.
        resolution: Square side or (height, width) of the agent's camera.
        hfov, camera_height: The agent's camera.
        forward_step, turn_angle: The agent's motion.
        success_distance: Success radius in metres.
        difficulty: ProcHouse: ``"near"``, ``"easy"``, ``"medium"``, ``"hard"`` geodesic bins, or ``None`` (easy to hard).
        num_scenes, episodes_per_scene, max_goal_distance: ProcHouse episode generation.
        scene_repeat_episodes: Random resets stay in one scene for this many episodes.
        **task_kwargs: Further task fields (e.g. ``categories``, ``success_reward``).
    """
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not a navgym task; valid tasks are {list(TASKS)}")
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r} is not a navgym dataset; valid datasets are {list(DATASETS)}")
    task_cls = TASKS[task]
    defaults = task_cls()
    camera_changes: dict[str, Any] = {}
    if resolution is not None:
        height, width = (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)
        camera_changes.update(width=int(width), height=int(height))
    if hfov is not None:
        camera_changes["hfov"] = float(hfov)
    if camera_height is not None:
        camera_changes["camera_height"] = float(camera_height)
    camera: CameraSpec = defaults.camera.with_(**camera_changes)
    agent_changes = {k: float(v) for k, v in (("forward_step", forward_step), ("turn_angle", turn_angle)) if v is not None}
    agent = AgentSpec(**{**defaults.agent.__dict__, **agent_changes})
    if dataset != "ProcHouse" and task in ("ObjectNav", "TextNav") and "categories" not in task_kwargs and dataset in ("MP3D", "Gibson"):
        task_kwargs["categories"] = MP3D_CATEGORIES
    fields = {"camera": camera, "agent": agent, **task_kwargs}
    if success_distance is not None:
        fields["success_distance"] = float(success_distance)
    try:
        task_obj = task_cls(**fields)
    except TypeError as exc:
        raise TypeError(f"{task}: {exc}; see docs/tasks.md for the keyword arguments") from exc

    root = data_root(data_dir)
    if dataset == "ProcHouse" and dataset_path is None:
        from navgym.tasks.generation import prochouse_dataset

        episodes = prochouse_dataset(
            task_obj,
            split,
            difficulty=difficulty,
            num_scenes=num_scenes,
            episodes_per_scene=episodes_per_scene,
            max_goal_distance=max_goal_distance,
        )
    else:
        from navgym.tasks.episodes import read_dataset

        path = Path(dataset_path) if dataset_path is not None else find_episode_file(task, dataset, split, root)
        episodes = read_dataset(path, data_root=root)
        episodes = _with_resolved_scenes(episodes, root)
    from navgym.envs.nav_env import NavEnv

    return NavEnv(
        task_obj, episodes, _make_sim_factory(sim, agent, root), sensors=sensors, render_mode=render_mode,
        scene_repeat_episodes=scene_repeat_episodes,
    )


def _with_resolved_scenes(dataset: EpisodeDataset, root: Path) -> EpisodeDataset:
    """Habitat scene ids become paths inside the data root (checked to exist once per scene)."""
    from navgym.tasks.episodes import resolve_scene_path

    resolved: dict[str, str] = {}
    for episode in dataset.episodes:
        if episode.scene_id not in resolved:
            path = resolve_scene_path(episode.scene_id, root)
            if not path.exists():
                raise FileNotFoundError(
                    f"Scene {episode.scene_id!r} of episode {episode.episode_id} not found at {path}. "
                    f"The data root is {root.resolve()} (data_dir=... or NAVGYM_DATA); scene meshes go under "
                    "<data root>/scene_datasets/ as in Habitat (see docs/datasets.md)."
                )
            resolved[episode.scene_id] = str(path)
        episode.scene_id = resolved[episode.scene_id]
    return dataset
