"""ProcHouse episode datasets: generated per task and split, deterministic by seed, cached on disk.

Like Habitat's generators, an episode needs a reachable start, a geodesic distance to the goal in
the asked bin (near 1.25-2 m, easy 1.5-3 m, medium 3-5 m, hard 5-10 m, or easy to hard), and rejects most
near-straight episodes (geodesic / Euclidean below 1.1 is kept with probability 0.2). Episodes are
written in Habitat's formats (:mod:`navgym.tasks.episodes`), so they can be read by habitat-lab too.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np
from tqdm.auto import tqdm

from navgym.scenes.scene import ObjectInstance, Scene
from navgym.scenes.sources import cache_dir, prochouse_scene_id
from navgym.sims.base import AgentState, CameraSpec, yaw_to_quaternion
from navgym.tasks.base import Task
from navgym.tasks.episodes import (
    Episode,
    EpisodeDataset,
    ImageGoalView,
    InstanceImageGoal,
    NavigationGoal,
    ObjectGoal,
    read_dataset,
    write_dataset,
)
from navgym.tasks.objectnav import object_goal_points

#: Bump when generation changes: cached datasets of older versions are not reused.
GENERATION_VERSION = 1
DIFFICULTY_BINS = {"near": (1.25, 2.0), "easy": (1.5, 3.0), "medium": (3.0, 5.0), "hard": (5.0, 10.0)}
#: Scenes and episodes per scene of each split, by default.
SPLIT_SIZES = {"train": (40, 50), "val": (10, 10), "test": (10, 10)}
_KINDS = {"ImageNav": "imagenav", "ObjectNav": "objectnav", "InstanceImageNav": "instance_imagenav", "TextNav": "textnav"}
_TASK_SALT = {"ImageNav": 11, "ObjectNav": 13, "InstanceImageNav": 17, "TextNav": 19}
_MAX_TRIES = 60


def prochouse_dataset(
    task: Task,
    split: str,
    difficulty: str | None = None,
    num_scenes: int | None = None,
    episodes_per_scene: int | None = None,
    max_goal_distance: float | None = None,
    use_cache: bool = True,
) -> EpisodeDataset:
    """The ProcHouse episodes of a task and split (generated on first use, then read from cache)."""
    from navgym.scenes.prochouse import SPLITS

    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not a ProcHouse split; valid splits are {list(SPLITS)}")
    if difficulty is not None and difficulty not in DIFFICULTY_BINS:
        raise ValueError(f"difficulty={difficulty!r} is not valid; use one of {list(DIFFICULTY_BINS)} or None")
    default_scenes, default_episodes = SPLIT_SIZES[split]
    num_scenes = default_scenes if num_scenes is None else int(num_scenes)
    episodes_per_scene = default_episodes if episodes_per_scene is None else int(episodes_per_scene)
    if not 1 <= num_scenes <= len(SPLITS[split]):
        raise ValueError(f"num_scenes={num_scenes} is out of range; allowed [1, {len(SPLITS[split])}]")
    if not 1 <= episodes_per_scene <= 10_000:
        raise ValueError(f"episodes_per_scene={episodes_per_scene} is out of range; allowed [1, 10000]")
    low, high = DIFFICULTY_BINS[difficulty] if difficulty else (DIFFICULTY_BINS["easy"][0], DIFFICULTY_BINS["hard"][1])
    if max_goal_distance is not None:
        if not max_goal_distance > low:
            raise ValueError(f"max_goal_distance={max_goal_distance} must exceed the bin's minimum {low} m")
        high = min(high, float(max_goal_distance))
    key = _cache_key(task, split, difficulty, num_scenes, episodes_per_scene, (low, high))
    path = cache_dir() / "episodes" / f"{task.name.lower()}" / f"{key}.json.gz"
    if use_cache and path.exists():
        try:
            return read_dataset(path)
        except ValueError:
            pass  # corrupt cache entry: regenerate
    seeds = list(SPLITS[split][:num_scenes])
    episodes: list[Episode] = []
    for seed in tqdm(seeds, desc=f"Generating {task.name} {split} episodes", disable=None, leave=False):
        episodes.extend(generate_scene_episodes(task, seed, episodes_per_scene, (low, high)))
    dataset = EpisodeDataset(episodes=episodes, kind=_KINDS[task.name])
    if task.name == "ObjectNav":
        dataset.category_to_task_category_id = {c: i for i, c in enumerate(task.categories)}
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.json.gz")
        write_dataset(dataset, tmp)
        os.replace(tmp, path)
        return read_dataset(path)
    return dataset


def _cache_key(task: Task, split: str, difficulty, num_scenes: int, per_scene: int, bin_: tuple[float, float]) -> str:
    from navgym.scenes.prochouse import GENERATOR_VERSION

    agent = task.agent
    parts = [
        f"g{GENERATION_VERSION}h{GENERATOR_VERSION}", split, difficulty or "all", f"s{num_scenes}", f"e{per_scene}",
        f"d{bin_[0]:g}-{bin_[1]:g}", f"r{agent.radius:g}", f"ht{agent.height:g}", f"sd{task.success_distance:g}",
    ]
    if hasattr(task, "categories"):
        parts.append(f"c{_stable_digest(task.categories)}")
    return "_".join(parts)


def _stable_digest(items) -> str:
    import zlib

    return f"{zlib.crc32(json.dumps(list(items)).encode()):08x}"


def generate_scene_episodes(task: Task, seed: int, count: int, distance_bin: tuple[float, float]) -> list[Episode]:
    """``count`` episodes of ``task`` in the ProcHouse house of ``seed`` (fewer if the house cannot
    host them, e.g. an ObjectNav house with no goal category)."""
    from navgym.sims.embedded.simulator import EmbeddedSimulator

    sim = EmbeddedSimulator(prochouse_scene_id(seed), agent_spec=task.agent)
    rng = np.random.default_rng([seed, _TASK_SALT[task.name]])
    make = {
        "ImageNav": _imagenav_episode,
        "ObjectNav": _objectnav_episode,
        "InstanceImageNav": _instance_imagenav_episode,
        "TextNav": _textnav_episode,
    }[task.name]
    episodes = []
    for index in range(count):
        for _ in range(_MAX_TRIES):
            episode = make(task, sim, rng, distance_bin, f"{seed}_{index}")
            if episode is not None:
                episodes.append(episode)
                break
    return episodes


# -- shared pieces -----------------------------------------------------------------------------
def _accept_distance(sim, rng, start, goal_points, distance_bin) -> float | None:
    geodesic = sim.geodesic_distance(start, goal_points)
    if not (distance_bin[0] <= geodesic <= distance_bin[1]):
        return None
    euclid = float(np.min(np.linalg.norm((goal_points - start)[:, [0, 2]], axis=1)))
    if euclid > 0 and geodesic / euclid < 1.1 and rng.random() > 0.2:
        return None
    return geodesic


def _start(sim, rng) -> tuple[list[float], list[float]]:
    position = sim.sample_navigable_point(rng)
    rotation = yaw_to_quaternion(float(rng.uniform(0, 2 * math.pi)))
    return [float(v) for v in position], [float(v) for v in rotation]


def _round(values) -> list[float]:
    return [round(float(v), 4) for v in values]


def _episode(sim, episode_id: str, start, rotation, goals, geodesic: float, **fields) -> Episode:
    return Episode(
        episode_id=episode_id,
        scene_id=sim.scene_id,
        start_position=_round(start),
        start_rotation=_round(rotation),
        goals=goals,
        info={"geodesic_distance": round(float(geodesic), 4), **fields.pop("info", {})},
        **fields,
    )


# -- ImageNav ------------------------------------------------------------------------------------
def _imagenav_episode(task: Task, sim, rng, distance_bin, episode_id) -> Episode | None:
    start, rotation = _start(sim, rng)
    goal = sim.sample_navigable_point(rng)
    geodesic = _accept_distance(sim, rng, np.asarray(start), goal[None], distance_bin)
    if geodesic is None:
        return None
    goal_yaw = _open_view_yaw(sim, goal, rng, task.camera)
    if goal_yaw is None:
        return None
    return _episode(
        sim, episode_id, start, rotation, [NavigationGoal(position=_round(goal), radius=None)], geodesic,
        info={"goal_rotation": _round(yaw_to_quaternion(goal_yaw))},
    )


def _open_view_yaw(sim, position, rng, camera: CameraSpec, min_depth: float = 1.0) -> float | None:
    """A heading whose view is not a wall at arm's length (the goal photo must show something)."""
    probe = camera.with_(width=24, height=24, outputs=("depth",))
    yaws = rng.uniform(0, 2 * math.pi, size=6)
    frames = sim.render([(AgentState.from_yaw(position, float(y)), probe) for y in yaws])
    for yaw, frame in zip(yaws, frames):
        if float(np.median(frame["depth"][6:18, 6:18])) >= min_depth:
            return float(yaw)
    return None


# -- object goals ----------------------------------------------------------------------------------
def _object_goal(inst: ObjectInstance, scene: Scene, cls=ObjectGoal, **extra) -> ObjectGoal:
    room = scene.room(inst.room_id) if inst.room_id is not None and scene.rooms else None
    return cls(
        position=_round(inst.center),
        radius=None,
        object_id=int(inst.id),
        object_name=f"{inst.category}_{inst.id}",
        object_category=inst.category,
        room_id=str(inst.room_id) if inst.room_id is not None else None,
        room_name=room.name if room else None,
        view_points=[],
        **extra,
    )


def _reachable(sim, task, inst) -> bool:
    return len(sim.navigable_points_near(inst.bbox_min, inst.bbox_max, task.success_distance)) > 0


def _objectnav_episode(task, sim, rng, distance_bin, episode_id) -> Episode | None:
    scene = sim.scene
    present = [c for c in task.categories if any(_reachable(sim, task, i) for i in scene.objects(c))]
    if not present:
        return None
    category = present[int(rng.integers(len(present)))]
    goals = [_object_goal(inst, scene) for inst in scene.objects(category) if _reachable(sim, task, inst)]
    points = object_goal_points(sim, goals, task.success_distance)
    start, rotation = _start(sim, rng)
    geodesic = _accept_distance(sim, rng, np.asarray(start), points, distance_bin)
    if geodesic is None:
        return None
    return _episode(sim, episode_id, start, rotation, goals, geodesic, object_category=category)


def _goal_instance(task, sim, rng) -> ObjectInstance | None:
    candidates = [i for c in task.categories for i in sim.scene.objects(c) if _reachable(sim, task, i)]
    if not candidates:
        return None
    return candidates[int(rng.integers(len(candidates)))]


def _instance_imagenav_episode(task, sim, rng, distance_bin, episode_id) -> Episode | None:
    inst = _goal_instance(task, sim, rng)
    if inst is None:
        return None
    view = _instance_view(sim, inst, rng, task.camera)
    if view is None:
        return None
    goal = _object_goal(inst, sim.scene, cls=InstanceImageGoal, image_goals=[view])
    points = object_goal_points(sim, [goal], task.success_distance)
    start, rotation = _start(sim, rng)
    geodesic = _accept_distance(sim, rng, np.asarray(start), points, distance_bin)
    if geodesic is None:
        return None
    return _episode(
        sim, episode_id, start, rotation, [goal], geodesic,
        object_category=inst.category, goal_object_id=int(inst.id), goal_image_id=0,
    )


def _instance_view(sim, inst: ObjectInstance, rng, camera: CameraSpec, tries: int = 12) -> ImageGoalView | None:
    """A photo of the instance from an independent camera: 0.8-3 m away, 0.8-1.5 m high, HFOV
    60-120°, facing the object; kept if the object covers enough of the frame."""
    centre = inst.center
    points = sim.navigable_points_near(inst.bbox_min, inst.bbox_max, 3.0)
    if len(points) == 0:
        return None
    dist = np.hypot(points[:, 0] - centre[0], points[:, 2] - centre[2])
    points = points[dist >= 0.8]
    if len(points) == 0:
        return None
    best, best_coverage = None, 0.0
    for _ in range(tries):
        p = points[int(rng.integers(len(points)))]
        height = float(rng.uniform(0.8, 1.5))
        hfov = float(rng.integers(60, 120))
        yaw = math.atan2(-(centre[0] - p[0]), -(centre[2] - p[2]))
        position = np.array([p[0], p[1] + height, p[2]])
        spec = CameraSpec(48, 48, hfov, 0.0, outputs=("semantic",))
        semantic = sim.render([(AgentState.from_yaw(position, yaw), spec)])[0]["semantic"]
        coverage = float((semantic == inst.id).mean())
        if coverage > best_coverage:
            best_coverage = coverage
            best = ImageGoalView(
                position=_round(position), rotation=_round(yaw_to_quaternion(yaw)), hfov=hfov,
                image_dimensions=[camera.height, camera.width], frame_coverage=round(coverage, 4),
            )
        if coverage >= 0.05:
            break
    return best if best_coverage >= 0.02 else None


# -- TextNav ----------------------------------------------------------------------------------------
def _textnav_episode(task, sim, rng, distance_bin, episode_id) -> Episode | None:
    inst = _goal_instance(task, sim, rng)
    if inst is None:
        return None
    description = describe_instance(sim.scene, inst)
    if description is None:
        return None
    intrinsic, extrinsic = description
    goal = _object_goal(inst, sim.scene)
    points = object_goal_points(sim, [goal], task.success_distance)
    start, rotation = _start(sim, rng)
    geodesic = _accept_distance(sim, rng, np.asarray(start), points, distance_bin)
    if geodesic is None:
        return None
    instruction = f"{intrinsic} {extrinsic}".strip()
    return _episode(
        sim, episode_id, start, rotation, [goal], geodesic,
        object_category=inst.category, goal_object_id=int(inst.id),
        goal_attributes={"intrinsic_attributes": intrinsic, "extrinsic_attributes": extrinsic},
        instruction=instruction,
    )


_RELATION_PHRASES = {"on": "on", "next_to": "next to", "near": "near", "facing": "facing"}


def _noun(category: str) -> str:
    return category.replace("_", " ")


def describe_instance(scene: Scene, inst: ObjectInstance) -> tuple[str, str] | None:
    """An (intrinsic, extrinsic) description that singles ``inst`` out among its category, e.g.
    ("the red wooden chair", "next to the dining table in the kitchen"); ``None`` if no
    combination of its attributes, relations and room tells it apart."""
    attrs = inst.attributes
    adjectives = [a for a in (attrs.get("color"), _material_adjective(attrs.get("material"))) if a]
    intrinsic = " ".join(["the", *adjectives, _noun(inst.category)])
    room = scene.room(inst.room_id) if inst.room_id is not None and scene.rooms else None
    by_id = {i.id: i for i in scene.instances}
    relations = [r for r in scene.relations_of(inst.id) if r.object in by_id and not by_id[r.object].structural]
    relation_text = ""
    if relations:
        rel = min(relations, key=lambda r: list(_RELATION_PHRASES).index(r.relation) if r.relation in _RELATION_PHRASES else 9)
        relation_text = f"{_RELATION_PHRASES.get(rel.relation, rel.relation.replace('_', ' '))} the {_noun(by_id[rel.object].category)}"
    room_text = f"in the {room.type.replace('_', ' ')}" if room else ""
    extrinsic = " ".join(t for t in (relation_text, room_text) if t)

    def signature(other: ObjectInstance) -> tuple:
        other_room = other.room_id
        other_rel = {
            (r.relation, by_id[r.object].category) for r in scene.relations_of(other.id) if r.object in by_id
        }
        rel_key = (rel.relation, by_id[rel.object].category) if relations else None
        return (
            other.attributes.get("color") == attrs.get("color") and other.attributes.get("material") == attrs.get("material"),
            rel_key is None or rel_key in other_rel,
            room is None or (other_room is not None and scene.room(other_room).type == room.type),
        )

    rivals = [o for o in scene.objects(inst.category) if o.id != inst.id and all(signature(o))]
    return None if rivals else (intrinsic, extrinsic)


def _material_adjective(material: str | None) -> str | None:
    if not material:
        return None
    return {"wood": "wooden", "metal": "metal", "fabric": "fabric", "leather": "leather", "plastic": "plastic", "ceramic": "ceramic", "glass": "glass"}.get(material, material)

