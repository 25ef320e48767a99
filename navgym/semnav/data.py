"""The automated SemanticNav data pipeline (the dual-heatmap paper's Sec. 3.3, on ProcHouse):
``navgym semnav-data --houses N --out DIR`` and :func:`generate`.

For each house and each body it draws views where a target instance is in the body's camera
(SemanticNav's own episode generation: :meth:`SemanticNavTask.make_prochouse_episode`, so the
views, targets and prompts are distributed as the env's first observations), renders the body's
RGB and depth, writes the target's prompts of the three kinds (text, image, interleaved, as far
as the target has them) and the ground-truth navigation and facing heatmaps
(:mod:`navgym.semnav.heatmaps`); some views also get a *negative* sample, a prompt about an
instance that is not in view, whose heatmaps are all zero (the paper's negative samples).

Folder layout (docs/semnav_data.md has every field)::

    DIR/manifest.json                          format, options, bodies' cameras, split, houses, counts
    DIR/houses/h<seed>/<body>/samples.jsonl    one JSON line per sample
    DIR/houses/h<seed>/<body>/<i>_rgb.png      the body's view (uint8 RGB)
    DIR/houses/h<seed>/<body>/<i>_prompt.png   the prompt photo (samples with an image prompt)
    DIR/houses/h<seed>/<body>/<i>.npz          depth (float32), nav / facing heatmaps (float16),
                                               traversable and target masks (bool), region distance (float16)

Split by house: a house's split is its ProcHouse split (:data:`navgym.scenes.prochouse.SPLITS`:
disjoint seed ranges), so the data's val / test houses are never train houses and the env's
``split="test"`` episodes run on houses the data's train split never showed (the paper's
"unseen" scenes). ``N`` houses are divided by ``split_fractions`` (largest remainder, each split
with a positive fraction gets a house once ``N`` allows); ``split_seed`` 0 takes the first seeds
of each range (the houses the env's episodes use first, so its ``split="train"`` episodes are on
"seen" houses), another value a seeded draw from each range. Both are recorded in the manifest.

Resumable: a (house, body) pair is finished once its ``samples.jsonl`` is written and the
manifest lists it; a rerun with the same options skips finished pairs; an interrupted run keeps
them. More ``--houses`` or other ``--bodies`` later add pairs; other generation options are refused
(the manifest says which differ). Each pair's samples depend only on its house seed, body and
the options, never on the order or on other pairs.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from navgym.core.paths import data_root
from navgym.core.registry import did_you_mean
from navgym.core.specs import AgentState, CameraSpec
from navgym.datasets import prochouse as gen
from navgym.datasets.episodes import IMAGE_TOKEN, PROMPT_KINDS, Episode, InstanceImageGoal
from navgym.embodiments import EMBODIMENTS, Embodiment
from navgym.errors import DatasetFormatError, EpisodeGenerationError, InvalidArgumentError
from navgym.semnav.dataset import FORMAT, FORMAT_VERSION, MANIFEST_NAME
from navgym.semnav.heatmaps import FACING_SIGMA_SCALE, GROUND_TOLERANCE, facing_heatmap, nav_point, navigation_heatmap
from navgym.tasks.semantic_nav import SemanticNavTask, prompt_texts, reference_view, target_instance

RECORDS_NAME = "samples.jsonl"
DEFAULT_BODIES = ("jetbot", "h1", "aliengo")
#: Train / val / test shares of the houses.
DEFAULT_SPLIT_FRACTIONS = (0.7, 0.15, 0.15)
SPLIT_NAMES = ("train", "val", "test")
#: Mixed into every random stream of the pipeline.
DATA_SALT = 41


@dataclass(frozen=True)
class DataOptions:
    """What decides the samples (recorded in the manifest; a resumed run must match).

    Attributes:
        views_per_house: Views (positive samples) drawn per house and body (fewer when the house
            cannot show that many targets).
        split_seed: 0: the first seeds of each ProcHouse split range; else a seeded draw.
        split_fractions: Train / val / test shares of the houses.
        resolution: Image width in pixels (each body's aspect ratio kept); ``None``: the body's own.
        negative_fraction: Probability that a view also gets a negative sample.
    """

    views_per_house: int = 10
    split_seed: int = 0
    split_fractions: tuple[float, float, float] = DEFAULT_SPLIT_FRACTIONS
    resolution: int | None = None
    negative_fraction: float = 0.1

    def __post_init__(self) -> None:
        def integer(name: str, value: Any, low: int, high: int) -> None:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise InvalidArgumentError(f"{name}={value!r} must be an integer in [{low}, {high}]")

        integer("views_per_house", self.views_per_house, 1, 10_000)
        integer("split_seed", self.split_seed, 0, 2**32 - 1)
        if self.resolution is not None:
            integer("resolution", self.resolution, 16, 1024)
        if not (isinstance(self.negative_fraction, (int, float)) and 0.0 <= self.negative_fraction <= 1.0):
            raise InvalidArgumentError(f"negative_fraction={self.negative_fraction!r} must be a number in [0, 1]")
        fractions = tuple(self.split_fractions)
        if len(fractions) != 3 or not all(isinstance(f, (int, float)) and f >= 0 and math.isfinite(f) for f in fractions) or fractions[0] <= 0:
            raise InvalidArgumentError(
                f"split_fractions={self.split_fractions!r} must be three non-negative train / val / test shares with train > 0, e.g. (0.7, 0.15, 0.15)"
            )
        object.__setattr__(self, "split_fractions", tuple(float(f) for f in fractions))


# -- the split ---------------------------------------------------------------------------------
def split_counts(houses: int, fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS) -> dict[str, int]:
    """Houses per split: largest-remainder shares of ``houses`` (ties: train, val, test); a split
    with a positive share and no house takes one from train while train keeps one (test first:
    2 houses are 1 train + 1 test)."""
    if isinstance(houses, bool) or not isinstance(houses, (int, np.integer)) or houses < 1:
        raise InvalidArgumentError(f"houses={houses!r} must be a positive integer")
    shares = np.asarray(fractions, dtype=np.float64) / float(np.sum(fractions))
    ideal = shares * houses
    counts = np.floor(ideal).astype(int)
    for index in sorted(range(3), key=lambda i: (-(ideal[i] - counts[i]), i))[: houses - int(counts.sum())]:
        counts[index] += 1
    for index in (2, 1):  # test, then val, get a house from train while train keeps one
        if shares[index] > 0 and counts[index] == 0 and counts[0] > 1:
            counts[0] -= 1
            counts[index] += 1
    return dict(zip(SPLIT_NAMES, (int(c) for c in counts)))


def split_seeds(split: str, count: int, split_seed: int = 0) -> list[int]:
    """The first ``count`` house seeds of ``split`` for ``split_seed`` (prefix-stable: more houses
    never change the first ones)."""
    from navgym.scenes.prochouse import SPLITS

    seeds = SPLITS[split]
    if count > len(seeds):
        raise InvalidArgumentError(f"{count} {split} houses asked; ProcHouse's {split} split has {len(seeds)}")
    if split_seed == 0:
        return list(seeds[:count])
    rng = np.random.default_rng([split_seed, DATA_SALT, SPLIT_NAMES.index(split)])
    chosen: dict[int, None] = {}
    while len(chosen) < count:
        chosen.setdefault(int(rng.integers(seeds.start, seeds.stop)), None)
    return list(chosen)


def plan_houses(houses: int, split_seed: int = 0, fractions: Sequence[float] = DEFAULT_SPLIT_FRACTIONS) -> dict[str, list[int]]:
    """House seeds per split for ``houses`` houses (deterministic)."""
    counts = split_counts(houses, fractions)
    return {split: split_seeds(split, counts[split], split_seed) for split in SPLIT_NAMES}


def house_key(seed: int) -> str:
    return f"h{int(seed):07d}"


# -- bodies ------------------------------------------------------------------------------------
def resolve_bodies(names: Sequence[str] | None) -> list[str]:
    """Body names, validated against the embodiment registry (comma-separated entries are split;
    duplicates dropped)."""
    if names is None:
        return list(DEFAULT_BODIES)
    if isinstance(names, str):
        names = [names]
    out: list[str] = []
    for item in names:
        for name in str(item).split(","):
            name = name.strip()
            if not name:
                continue
            if name not in EMBODIMENTS.names():
                raise InvalidArgumentError(
                    f"unknown body {name!r}.{did_you_mean(name, EMBODIMENTS.names())} Bodies: {EMBODIMENTS.names()}"
                )
            if name not in out:
                out.append(name)
    if not out:
        raise InvalidArgumentError(f"no body given; e.g. {','.join(DEFAULT_BODIES)}")
    return out


def body_embodiment(name: str, resolution: int | None = None) -> Embodiment:
    """The registered body ``name``, its camera ``resolution`` pixels wide (aspect ratio kept)."""
    embodiment = EMBODIMENTS.get(name)()
    if resolution is not None:
        camera = embodiment.camera
        height = max(1, round(resolution * camera.height / camera.width))
        embodiment = embodiment.with_(camera=camera.with_(width=int(resolution), height=int(height)))
    return embodiment


def body_info(embodiment: Embodiment) -> dict[str, Any]:
    """A body's entry in the manifest: camera (intrinsics and mount), cylinder, footprint."""
    camera = embodiment.camera
    footprint = getattr(embodiment, "footprint", None)
    return {
        "camera": {
            "width": camera.width, "height": camera.height, "hfov": camera.hfov, "camera_height": camera.camera_height,
            "pitch": camera.pitch, "roll": camera.roll, "min_depth": camera.min_depth, "max_depth": camera.max_depth,
        },
        "body": asdict(embodiment.body),
        "footprint": list(footprint) if footprint is not None else None,
    }  # fmt: skip


def camera_from_info(info: dict[str, Any]) -> CameraSpec:
    """The :class:`CameraSpec` of a manifest body entry's ``camera``."""
    return CameraSpec(**{**info, "outputs": ("rgb", "depth")})


# -- the options a resumed run must match ----------------------------------------------------
def _definitions(task: SemanticNavTask) -> dict[str, Any]:
    """The fixed parts of the definitions (SemanticNav's thresholds, the heatmaps' constants)."""
    from navgym.scenes.prochouse import GENERATOR_VERSION
    from navgym.tasks.semantic_nav import SEMNAV_GENERATION_VERSION

    return {
        "success_distance": task.success_distance,
        "goal_region_distance": task.goal_region_distance,
        "facing_angle": task.facing_angle,
        "min_target_coverage": task.min_target_coverage,
        "start_distance_bin": list(start_distance_bin(task)),
        "categories": list(task.categories),
        "ground_tolerance": GROUND_TOLERANCE,
        "facing_sigma_scale": FACING_SIGMA_SCALE,
        "prochouse_generator_version": GENERATOR_VERSION,
        "semnav_generation_version": SEMNAV_GENERATION_VERSION,
    }


def start_distance_bin(task: SemanticNavTask) -> tuple[float, float]:
    """The start-region geodesic bin of the env's default SemanticNav episodes (easy to hard,
    capped by the task's 5 m: ``prochouse_dataset`` with no difficulty)."""
    low, high = gen.DIFFICULTY_BINS["easy"][0], gen.DIFFICULTY_BINS["hard"][1]
    cap = task.default_max_goal_distance
    return low, (min(high, cap) if cap is not None and cap > low else high)


# -- one (house, body) pair --------------------------------------------------------------------
@dataclass
class PairResult:
    records: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


def _rng(seed: int, body: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(body.encode()), DATA_SALT, stream])


def _prompts(graph, inst, view_available: bool) -> tuple[dict[str, str], list[str]]:
    """The prompt texts of ``inst`` and the kinds it has (text and interleaved need a referring
    expression, image and interleaved a photo)."""
    texts = prompt_texts(graph, inst) or {}
    has = {"text": "text" in texts, "image": view_available, "interleaved": view_available and "interleaved" in texts}
    kinds = [k for k in PROMPT_KINDS if has[k]]
    return dict(texts), kinds


def _write_png(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(path, format="PNG", optimize=False)


def _write_arrays(path: Path, **arrays: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def _sample(
    sim, task: SemanticNavTask, embodiment: Embodiment, episode: Episode, inst, frame: dict[str, np.ndarray], folder: Path,
    rel: str, index: int, split: str, seed: int, body: str, negative: bool, prompt_image: np.ndarray | None,
    kinds: list[str], texts: dict[str, str], drawn_kind: str,
) -> dict[str, Any]:
    """Label one view for one target and write its files; returns its JSON record."""
    camera = embodiment.camera
    state = AgentState(np.asarray(episode.start_position, dtype=np.float64), np.asarray(episode.start_rotation, dtype=np.float64))
    region = task.goal_points(sim, episode)
    labels = navigation_heatmap(
        sim, frame["depth"], camera, state, inst.center, region, task.success_distance, embodiment=embodiment,
    )  # fmt: skip
    mask = frame["semantic"] == inst.id
    if negative:  # the named instance is not in view: all-zero maps
        nav = np.zeros_like(labels.heatmap)
        face, centre = np.zeros(mask.shape, dtype=np.float32), None
    else:
        nav = labels.heatmap
        face, centre = facing_heatmap(mask)
    point = nav_point(nav, labels.points, inst.center)
    name = f"{index:04d}"
    files = {"rgb": f"{rel}/{name}_rgb.png", "arrays": f"{rel}/{name}.npz", "prompt_image": None}
    _write_png(folder / f"{name}_rgb.png", frame["rgb"])
    if prompt_image is not None:
        files["prompt_image"] = f"{rel}/{name}_prompt.png"
        _write_png(folder / f"{name}_prompt.png", prompt_image)
    _write_arrays(
        folder / f"{name}.npz",
        depth=frame["depth"].reshape(camera.height, camera.width).astype(np.float32),
        nav_heatmap=nav.astype(np.float16),
        facing_heatmap=face.astype(np.float16),
        traversable=labels.traversable,
        target_mask=mask,
        region_distance=labels.region_distance.astype(np.float16),
    )
    view = None
    if episode.goal_image_id is not None:
        stored = episode.goals[0].image_goals[episode.goal_image_id]
        view = {"position": list(stored.position), "rotation": list(stored.rotation), "hfov": stored.hfov}
    return {
        "id": f"{house_key(seed)}-{body}-{name}",
        "house": int(seed),
        "split": split,
        "scene_id": sim.scene_id,
        "body": body,
        "index": index,
        "negative": negative,
        "files": files,
        "pose": {"position": [float(v) for v in episode.start_position], "rotation": [float(v) for v in episode.start_rotation]},
        "target": {
            "object_id": int(inst.id), "category": inst.category, "center": [round(float(v), 4) for v in inst.center],
            "bbox_min": [round(float(v), 4) for v in inst.bbox_min], "bbox_max": [round(float(v), 4) for v in inst.bbox_max],
            "pixels": int(mask.sum()), "coverage": round(float(mask.mean()), 5),
        },
        "prompt_kind": drawn_kind,
        "prompt_kinds": kinds,
        "prompts": {k: texts[k] for k in ("text", "interleaved") if k in texts and k in kinds},
        "reference_view": view,
        "nav_point": None if point is None else {"pixel": list(point), "position": [round(float(v), 4) for v in labels.points[point]]},
        "facing_point": None if centre is None else {"pixel": list(centre)},
        "nav_pixels": int((nav > 0).sum()),
        "traversable_pixels": int(labels.traversable.sum()),
        "start_distance": None if negative else (episode.info or {}).get("geodesic_distance"),
    }  # fmt: skip


def _negative_target(sim, task: SemanticNavTask, graph, semantic: np.ndarray, rng: np.random.Generator):
    """An instance of the task's categories, reachable by the body, with no pixel in view."""
    visible = set(np.unique(semantic).tolist())
    candidates = [i for c in task.categories for i in graph.objects(c) if i.id not in visible]
    rng.shuffle(candidates)
    for inst in candidates:
        if gen.reachable(sim, inst, task.goal_region_distance):
            return inst
    return None


def generate_pair(
    seed: int, body: str, options: DataOptions, folder: Path, rel: str, split: str,
    sim_factory: Callable[[str], Any] | None = None,
) -> PairResult:  # fmt: skip
    """Generate and write the samples of one (house, body) pair into ``folder`` (``rel``: its
    path relative to the data root, for the records)."""
    from navgym.envs.factory import SimFactory
    from navgym.scenes.sources import prochouse_scene_id

    embodiment = body_embodiment(body, options.resolution)
    camera = embodiment.camera.with_(outputs=("rgb", "depth", "semantic"))
    factory = sim_factory or SimFactory("auto", embodiment.body, data_root(None))
    sim = factory(prochouse_scene_id(seed))
    result = PairResult()
    try:
        task = SemanticNavTask()  # a fresh task per pair: its give-up counters start at zero
        graph = sim.scene_graph()
        try:
            episodes = gen.generate_scene_episodes(
                task, embodiment, sim, _rng(seed, body, 0), str(seed), options.views_per_house, start_distance_bin(task)
            )
        except EpisodeGenerationError as exc:
            result.note = f"no view: {exc}"
            return result
        if len(episodes) < options.views_per_house:
            result.note = f"{len(episodes)} of {options.views_per_house} views (the house shows no more targets to the {body})"
        negatives = _rng(seed, body, 1)
        index = 0
        for episode in episodes:
            inst = target_instance(sim, episode)
            state = AgentState(np.asarray(episode.start_position, dtype=np.float64), np.asarray(episode.start_rotation, dtype=np.float64))
            frame = sim.render([(state, camera)])[0]
            has_view = episode.goal_image_id is not None
            texts, kinds = _prompts(graph, inst, has_view)
            image = task.prompt_image(sim, episode, embodiment.camera) if has_view else None
            result.records.append(
                _sample(sim, task, embodiment, episode, inst, frame, folder, rel, index, split, seed, body, False, image, kinds, texts,
                        episode.prompt_kind)  # fmt: skip
            )
            index += 1
            if options.negative_fraction <= 0 or negatives.random() >= options.negative_fraction:
                continue
            other = _negative_target(sim, task, graph, frame["semantic"], negatives)
            if other is None:
                continue
            view = reference_view(sim, other, negatives, episode.start_position, embodiment.camera)
            texts, kinds = _prompts(graph, other, view is not None)
            if not kinds:
                continue
            kind = kinds[int(negatives.integers(len(kinds)))]
            goal = gen.object_goal(other, graph, cls=InstanceImageGoal, image_goals=[view] if view is not None else [])
            negative = gen.make_episode(
                sim, f"{seed}_neg_{index}", episode.start_position, episode.start_rotation, [goal], 0.0,
                object_category=other.category, goal_object_id=int(other.id), goal_image_id=0 if view is not None else None,
                instruction=texts.get(kind), prompt_kind=kind,
            )  # fmt: skip
            image = task.prompt_image(sim, negative, embodiment.camera) if view is not None else None
            result.records.append(
                _sample(sim, task, embodiment, negative, other, frame, folder, rel, index, split, seed, body, True, image, kinds, texts, kind)
            )
            index += 1
    finally:
        sim.close()
    return result


# -- the folder ----------------------------------------------------------------------------------
def _write_json_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _clear_pair(folder: Path) -> None:
    """Remove what an unfinished run of this pair left (only files the pipeline writes)."""
    if not folder.is_dir():
        return
    for pattern in ("*_rgb.png", "*_prompt.png", "*.npz", RECORDS_NAME, f".{RECORDS_NAME}.*.tmp"):
        for path in folder.glob(pattern):
            path.unlink()


def _counts(houses: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = {"samples": 0, "negatives": 0, "houses": 0, "by_split": {}, "by_body": {}, "by_split_body": {}}
    for entry in houses.values():
        split = entry["split"]
        counts["houses"] += 1
        for body, pair in entry["bodies"].items():
            n = pair["samples"]
            counts["samples"] += n
            counts["negatives"] += pair["negatives"]
            counts["by_split"][split] = counts["by_split"].get(split, 0) + n
            counts["by_body"][body] = counts["by_body"].get(body, 0) + n
            counts["by_split_body"].setdefault(split, {})
            counts["by_split_body"][split][body] = counts["by_split_body"][split].get(body, 0) + n
    return counts


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new)):
            found += _differences(old.get(key), new.get(key), f"{prefix}{key}.")
        return found
    return [] if old == new else [f"{prefix[:-1]}: folder {json.dumps(old)} vs now {json.dumps(new)}"]


def _load_manifest(out: Path) -> dict[str, Any] | None:
    path = out / MANIFEST_NAME
    if not path.exists():
        if out.exists() and any(out.iterdir()):
            raise InvalidArgumentError(
                f"{out} is not empty and has no {MANIFEST_NAME}: not a semnav-data folder; give a new or empty folder"
            )
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetFormatError(
            f"{path} is unreadable ({exc}): the folder cannot be resumed; write the data into a new folder"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DatasetFormatError(f"{path} is not a {FORMAT} manifest; give a new or empty folder")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DatasetFormatError(
            f"{path} has format_version {manifest.get('format_version')!r}, this navgym writes {FORMAT_VERSION}; "
            "write the data into a new folder"
        )
    return manifest


@dataclass
class GenerateResult:
    """What :func:`generate` did.

    Attributes:
        manifest: The manifest as written.
        made: (house seed, body) pairs generated now; ``skipped``: those already finished.
        seconds: Wall time per pair generated now (the manifest also has each pair's CPU time).
    """

    manifest: dict[str, Any]
    made: list[tuple[int, str]]
    skipped: list[tuple[int, str]]
    seconds: dict[tuple[int, str], float]


def generate(
    out: str | os.PathLike[str],
    houses: int,
    bodies: Sequence[str] | None = None,
    options: DataOptions | None = None,
    progress: bool = True,
    sim_factory: Callable[[str], Any] | None = None,
) -> GenerateResult:
    """Write (or complete) a SemanticNav dataset in ``out`` (module docstring).

    Args:
        houses: Number of ProcHouse houses, split by :func:`plan_houses`.
        bodies: Registered embodiment names (default: jetbot, h1, aliengo).
        options: The generation options (:class:`DataOptions`).
        progress: Show a progress bar (tqdm, on stderr) over (house, body) pairs.
        sim_factory: Builds a simulator for a scene id (default: the embedded backend with the
            body's own body spec; ``None`` recommended).

    Raises:
        InvalidArgumentError: Bad options, or ``out`` is a non-empty folder that is not a dataset.
        DatasetFormatError: ``out`` holds a dataset written with other options (named) or an
            unreadable manifest.
    """
    from tqdm.auto import tqdm

    import navgym

    options = options or DataOptions()
    bodies = resolve_bodies(bodies)
    plan = plan_houses(houses, options.split_seed, options.split_fractions)
    out = Path(out).expanduser()
    config = {**asdict(options), "split_fractions": list(options.split_fractions), "definitions": _definitions(SemanticNavTask())}
    body_infos = {body: body_info(body_embodiment(body, options.resolution)) for body in bodies}
    manifest = _load_manifest(out)
    if manifest is not None:
        differ = _differences(manifest.get("options"), config)
        for body in bodies:
            if body in manifest.get("bodies", {}):
                differ += _differences(manifest["bodies"][body], body_infos[body], f"bodies.{body}.")
        if differ:
            raise DatasetFormatError(
                f"{out} holds semnav data written with other options ({'; '.join(differ)}); rerun with the folder's options "
                f"(see {out / MANIFEST_NAME}) or write into a new folder"
            )
    else:
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "navgym_version": navgym.__version__,
            "created_by": "navgym semnav-data", "image_token": IMAGE_TOKEN, "options": config, "bodies": {}, "splits": {}, "houses": {},
        }  # fmt: skip
    manifest["bodies"] = {**manifest["bodies"], **body_infos}
    manifest["splits"] = {
        "rule": (
            "a house's split is its ProcHouse split (seed range: train [0, 1e6), val [1e6, 1e6+1000), test [2e6, 2e6+1000)); "
            "split_seed 0 takes the first seeds of each range, another value a seeded draw (numpy default_rng([split_seed, 41, split index]))"
        ),
        "split_seed": options.split_seed,
        "fractions": list(options.split_fractions),
        "planned": {split: seeds for split, seeds in plan.items()},
    }
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(seed, split, body) for split in SPLIT_NAMES for seed in plan[split] for body in bodies]

    def finished(seed: int, body: str) -> bool:
        entry = manifest["houses"].get(house_key(seed), {}).get("bodies", {}).get(body)
        return entry is not None and (out / entry["records"]).is_file()

    skipped = [(seed, body) for seed, _, body in jobs if finished(seed, body)]
    todo = [job for job in jobs if not finished(job[0], job[2])]
    made, seconds = [], {}
    interactive = sys.stderr.isatty()
    with tqdm(total=len(jobs), initial=len(skipped), desc="semnav-data", unit="house-body", disable=not progress,
              mininterval=0.1 if interactive else 10.0) as bar:  # fmt: skip
        for seed, split, body in todo:
            rel = f"houses/{house_key(seed)}/{body}"
            folder = out / rel
            _clear_pair(folder)
            folder.mkdir(parents=True, exist_ok=True)
            began, began_cpu = time.perf_counter(), time.process_time()
            result = generate_pair(seed, body, options, folder, rel, split, sim_factory=sim_factory)
            _write_json_atomic(folder / RECORDS_NAME, "".join(json.dumps(r, sort_keys=True) + "\n" for r in result.records))
            took, took_cpu = time.perf_counter() - began, time.process_time() - began_cpu
            house = manifest["houses"].setdefault(house_key(seed), {"seed": int(seed), "split": split, "bodies": {}})
            house["bodies"][body] = {
                "records": f"{rel}/{RECORDS_NAME}", "samples": len(result.records),
                "negatives": sum(r["negative"] for r in result.records), "seconds": round(took, 2), "cpu_seconds": round(took_cpu, 2), "note": result.note,
            }  # fmt: skip
            manifest["houses"] = dict(sorted(manifest["houses"].items()))
            manifest["counts"] = _counts(manifest["houses"])
            _write_json_atomic(out / MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=False) + "\n")
            made.append((seed, body))
            seconds[(seed, body)] = took
            bar.set_postfix_str(f"{house_key(seed)} {body}: {len(result.records)} samples, {took:.1f} s", refresh=False)
            bar.update(1)
    manifest["counts"] = _counts(manifest["houses"])
    _write_json_atomic(out / MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=False) + "\n")
    return GenerateResult(manifest, made, skipped, seconds)


__all__ = [
    "DEFAULT_BODIES", "DEFAULT_SPLIT_FRACTIONS", "DataOptions", "FORMAT", "FORMAT_VERSION", "GenerateResult", "MANIFEST_NAME",
    "RECORDS_NAME", "body_embodiment", "body_info", "camera_from_info", "generate", "generate_pair", "house_key", "plan_houses",
    "resolve_bodies", "split_counts", "split_seeds", "start_distance_bin",
]  # fmt: skip
