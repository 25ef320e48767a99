"""Evaluate an agent on an env the way the papers report it: SR, SPL, SoftSPL with 95% intervals.

A run folder (``out``) holds:

* ``run.json``: what made the run (env id and kwargs, split, agent and its options, seed, episodes
  asked, goal camera, checkpoint path and sha256, navgym version), written before the first
  episode;
* ``episodes.jsonl``: one line per finished episode, appended (and flushed) as each one ends, so
  an interrupted run keeps what it finished: its measures (:data:`RECORDED_MEASURES`, those the
  task reports), the episode's ``goal_object_ids`` and, for agents with an ``episode_summary()``
  method, what it returns as ``"agent"`` (RAGNav: the instance retrieved per sub-task, scored
  against the goals afterwards). An episode whose start is off the navigable area
  (:class:`~navgym.errors.UnusableEpisodeError`) gets a line with ``"skipped"`` (the reason)
  instead of measures: it is left out of the means and counted as ``skipped`` in the summary;
* ``summary.json``: the summary of the folder's episodes; ``videos/``, ``maps/``.

``resume=True`` continues a folder only when its ``run.json`` matches this run (the number of
episodes may differ: more continues the run, fewer reports exactly the first ones and runs
nothing else) and otherwise refuses, naming each differing field with both values. A crash at any
byte leaves the folder readable: JSON files are written to a temporary name and renamed, and a
cut-off last line of ``episodes.jsonl`` is dropped (with a warning) and its episode run again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Protocol

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from navgym.core.checks import check_int
from navgym.core.paths import replace_atomically
from navgym.errors import InvalidArgumentError, NavgymError, UnusableEpisodeError

#: The measures summarised, in the order printed (those an env does not report are left out:
#: ``navigation_error``, NE, is SemanticNav's).
SUMMARY_KEYS = ("success", "spl", "soft_spl", "distance_to_goal", "navigation_error", "num_steps", "collisions", "progress", "wall_time")
#: File names in a run folder.
MANIFEST_NAME, RECORDS_NAME, SUMMARY_NAME = "run.json", "episodes.jsonl", "summary.json"
#: Version of ``run.json``'s layout.
MANIFEST_FORMAT = 1
#: ``run.json`` fields that must match for ``resume`` (``episodes`` may differ; ``checkpoint``, the
#: path, may move while its ``checkpoint_sha256`` stays).
MANIFEST_KEYS = (
    "navgym_version", "env_id", "env_kwargs", "split", "agent", "agent_options", "goal_camera", "wrappers", "seed", "checkpoint_sha256",
)
#: Env kwargs that do not change results (left out of ``run.json``).
_IGNORED_ENV_KWARGS = ("render_mode", "split")


class RunFolderError(NavgymError, ValueError):
    """A run folder cannot be continued as asked (another setup, an unreadable record); the
    message names the folder and the fix."""


class RunExistsError(NavgymError, FileExistsError):
    """The output folder already holds a run and ``resume`` is false."""


class RunFolderWarning(UserWarning):
    """Something a user should know about a run folder: a repaired file, episodes reported from an
    earlier run."""


@dataclass
class EvaluationResult:
    """Per-episode records and their summary (mean and 95% confidence half-width per measure).

    Attributes:
        records: One dict per episode asked, in episode order.
        reused: How many of ``records`` were read from the run folder (finished by an earlier,
            matching run) rather than run now.
        folder_episodes: Episodes recorded in the run folder after this call (0 without ``out``);
            more than ``len(records)`` when a resume asked for fewer episodes than the folder has.
        repaired: Cut-off lines dropped from ``episodes.jsonl`` (their episodes were run again).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    reused: int = 0
    folder_episodes: int = 0
    repaired: int = 0

    def summary(self) -> dict[str, dict[str, float]]:
        return summarize(self.records)


def _finite(records: list[dict[str, Any]], key: str) -> np.ndarray:
    """The finite values of one measure over records (missing and None skipped)."""
    return np.array([float(r[key]) for r in records if r.get(key) is not None and math.isfinite(float(r[key]))])


def summarize(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean and 95% confidence half-width (Student t) of each measure over episodes; for the
    success rate also its Wilson interval (``interval95``, see :func:`success_interval`)."""
    from scipy import stats

    out: dict[str, dict[str, float]] = {}
    ran = finished(records)
    skipped, records = len(records) - len(ran), ran
    n = len(records)
    for key in SUMMARY_KEYS:
        values = _finite(records, key)
        if len(values) == 0:
            continue
        half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")
        out[key] = {"mean": float(values.mean()), "ci95": half, "n": float(len(values))}
        if key == "success" and np.isin(values, (0.0, 1.0)).all():
            out[key]["interval95"] = success_interval(int(values.sum()), len(values))
    out["episodes"] = {"mean": float(n), "ci95": 0.0, "n": float(n)}
    if skipped:
        out["skipped"] = {"mean": float(skipped), "ci95": 0.0, "n": float(skipped)}
    return out


def success_interval(successes: int, episodes: int) -> list[float]:
    """The 95 % Wilson score interval of a success rate (``scipy.stats.binomtest``): unlike the
    Student-t half-width it is not zero when every episode succeeded or failed, and it stays in
    [0, 1] for few episodes (10 of 10 successes: [0.72, 1.0])."""
    from scipy import stats

    ci = stats.binomtest(successes, episodes).proportion_ci(confidence_level=0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def mean_measures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Plain means of an evaluation's records (``None`` where no episode has the measure): SR,
    SPL, SoftSPL, distance to goal, steps, and the angle to the goal view in degrees over all
    episodes and over successful ones (for training logs and results tables). Skipped episodes
    (``"skipped"`` records) are counted apart, not averaged."""
    ran = finished(records)
    skipped, records = len(records) - len(ran), ran

    def mean(key: str, rows=records) -> float | None:
        values = _finite(rows, key)
        return float(values.mean()) if len(values) else None

    successes = [r for r in records if r.get("success")]
    angle_all, angle_success = mean("angle_to_goal"), mean("angle_to_goal", successes)
    return {
        "episodes": len(records),
        "success": mean("success"),
        "spl": mean("spl"),
        "soft_spl": mean("soft_spl"),
        "distance_to_goal": mean("distance_to_goal"),
        "angle_to_goal_deg": None if angle_all is None else math.degrees(angle_all),
        "angle_to_goal_success_deg": None if angle_success is None else math.degrees(angle_success),
        "num_steps": mean("num_steps"),
        "skipped": skipped,
    }


def finished(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of episodes that ran (those with ``"skipped"`` left out)."""
    return [r for r in records if not r.get("skipped")]


def skipped_record(episode_index: int, error: UnusableEpisodeError) -> dict[str, Any]:
    """The record of an episode the env refused to start: which one, and why (no measures)."""
    return {"episode_index": episode_index, "episode_id": error.episode_id, "scene_id": error.scene_id, "skipped": str(error)}


def sr_spl(measures: dict[str, Any], digits: int = 2) -> str:
    """``"SR 0.50  SPL 0.41"`` from :func:`mean_measures`'s dict (``"-"`` for a measure no episode
    has, e.g. when every episode was skipped; the skipped count is added when there are any)."""

    def show(value: Any) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    skipped = measures.get("skipped") or 0
    return f"SR {show(measures.get('success'))}  SPL {show(measures.get('spl'))}" + (f" ({skipped} skipped)" if skipped else "")


def episode_problem(env: gym.Env, options: dict[str, Any]) -> UnusableEpisodeError | None:
    """The :class:`~navgym.errors.UnusableEpisodeError` a reset with ``options`` would raise, asked
    without resetting (``env.unwrapped.unusable_episode``; ``None`` for envs without it). Ask it
    before ``reset``: with Gymnasium 1.4 an env whose first reset raised cannot check its first
    step later (its passive env checker fails)."""
    check = getattr(env.unwrapped, "unusable_episode", None)
    return check(options) if callable(check) else None


def format_summary(summary: dict[str, dict[str, float]], title: str = "") -> str:
    """A small text table: measure, mean ± 95% CI."""
    names = {
        "success": "SR", "spl": "SPL", "soft_spl": "SoftSPL", "distance_to_goal": "DTG (m)", "navigation_error": "NE (m)",
        "num_steps": "steps", "collisions": "collisions", "progress": "progress", "wall_time": "time (s)",
    }  # fmt: skip
    lines = [title] if title else []
    lines.append(f"{'measure':<12}{'mean':>10}{'± 95% CI':>12}")
    for key in SUMMARY_KEYS:
        if key in summary:
            s = summary[key]
            half = s["ci95"]  # None where summary.json was read back (its null: one episode, no interval)
            line = f"{names[key]:<12}{s['mean']:>10.3f}" + (f"{'-':>12}" if half is None or not math.isfinite(half) else f"{half:>12.3f}")
            if "interval95" in s:
                line += f"   Wilson 95%: [{s['interval95'][0]:.3f}, {s['interval95'][1]:.3f}]"
            lines.append(line)
    lines.append(f"{'episodes':<12}{int(summary['episodes']['n']):>10d}")
    if summary.get("skipped"):
        lines.append(f"{'skipped':<12}{int(summary['skipped']['n']):>10d}  (starts off the navigable area: see episodes.jsonl)")
    return "\n".join(lines)


#: The measures an episode record keeps, where the task reports them (MultiGoalVLN's progress,
#: sub-goals, wrong ``found`` calls, shortest tour and, with ``measure_wall_time=True``, wall time).
RECORDED_MEASURES = (
    "success", "spl", "soft_spl", "distance_to_goal", "navigation_error", "angle_to_goal", "num_steps", "collisions", "path_length",
    "progress", "subgoals_reached", "wrong_found", "shortest_tour", "wall_time",
)  # fmt: skip


def run_episode(env: gym.Env, agent, episode_index: int, seed: int, video: bool = False) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Run one episode (picked by index) to its end; returns its final measures and frames. An
    episode the env refuses to start (:class:`~navgym.errors.UnusableEpisodeError`) gives a
    record with ``"skipped"`` (the reason) and no measures."""
    options = {"episode_index": episode_index}
    try:
        problem = episode_problem(env, options)  # asked first: see its docstring
        if problem is not None:
            raise problem
        obs, info = env.reset(seed=seed + episode_index, options=options)
    except UnusableEpisodeError as error:
        return skipped_record(episode_index, error), []
    reset_agent(agent, seed + episode_index)
    frames = [with_agent_panel(env.render(), agent)] if video else []
    total_reward, terminated, truncated = 0.0, False, False
    while not (terminated or truncated):
        obs, reward, terminated, truncated, info = env.step(agent.policy(obs))
        total_reward += float(reward)
        if video:
            frames.append(with_agent_panel(env.render(), agent))
    record = {
        "episode_index": episode_index,
        "episode_id": info.get("episode_id"),
        "scene_id": info.get("scene_id"),
        **{
            k: _plain(info[k])
            for k in RECORDED_MEASURES
            if k in info
        },
        "reward": total_reward,
        "truncated": bool(truncated and not terminated),  # ran out of steps; a stop on the last step is not (as SB3 reads it)
    }
    episode = getattr(env.unwrapped, "episode", None)
    goals = getattr(episode, "goals", None)
    if goals:
        record["goal_object_ids"] = [_plain(getattr(g, "object_id", None)) for g in goals]
    summary = getattr(agent, "episode_summary", None)
    if callable(summary):
        record["agent"] = json.loads(json.dumps(summary(), default=_json_default))
    return record, frames


def reset_agent(agent: Any, seed: int) -> None:
    """``agent.reset(seed=seed)`` when the agent's ``reset`` takes a ``seed`` (agents that draw
    random numbers: their draws then depend on the episode, not on which episodes the same agent
    object ran before, so a run spread over workers gives the serial run's records), else
    ``agent.reset()``."""
    import inspect

    try:
        takes_seed = "seed" in inspect.signature(agent.reset).parameters
    except (TypeError, ValueError):  # builtins and C extensions without a signature
        takes_seed = False
    if takes_seed:
        agent.reset(seed=seed)
    else:
        agent.reset()


def with_agent_panel(frame: np.ndarray, agent: Any) -> np.ndarray:
    """``frame`` with the agent's own picture (``agent.render()``, e.g. BeliefMapNav's belief map)
    to its right, scaled to the frame's height; ``frame`` itself for agents without ``render``."""
    render = getattr(agent, "render", None)
    if frame is None or not callable(render):
        return frame
    panel = np.asarray(render())
    if panel.ndim != 3 or panel.shape[2] != 3:
        return frame
    from PIL import Image

    height = frame.shape[0]
    width = max(1, round(panel.shape[1] * height / panel.shape[0]))
    panel = np.asarray(Image.fromarray(panel.astype(np.uint8)).resize((width, height), Image.NEAREST))
    return np.concatenate([frame, panel], axis=1)


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.integer, int)):
        return int(value)
    return value


def evaluate(
    env: gym.Env,
    agent,
    episodes: int,
    out: str | Path | None = None,
    seed: int = 0,
    resume: bool = False,
    video: bool = False,
    maps: bool = False,
    progress: bool = True,
    *,
    run_info: dict[str, Any] | None = None,
    threads: int | None = 1,
    desc: str = "episodes",
    runner: EpisodeRunner | None = None,
) -> EvaluationResult:
    """Evaluate ``agent`` on the first ``episodes`` episodes of ``env``'s dataset.

    Args:
        env: A navgym env (``gym.make`` output); ``render_mode="rgb_array"`` is needed for video/maps.
        agent: Anything with ``reset()`` and ``policy(obs)``.
        episodes: How many episodes (in dataset order).
        out: Output folder for ``run.json``, ``episodes.jsonl``, ``summary.json``, ``videos/``, ``maps/``.
        seed: Base seed (an integer >= 0); episode i is reset with ``seed + i``.
        resume: Keep the episodes already in ``out`` and run only the rest. Refused (a
            :class:`RunFolderError`, a ``ValueError``) when ``out/run.json`` records another setup;
            with fewer ``episodes`` than the folder holds, the first ``episodes`` are reported
            (a :class:`RunFolderWarning` says so) and the folder's files keep all of them.
        video, maps: Write an mp4 per episode / a top-down map PNG of each episode's end.
        progress: Show a progress bar (tqdm, on stderr) titled ``desc``.
        run_info: What the caller knows about the run beyond the env, recorded in ``run.json``
            and compared on resume: ``agent`` (a name; default: the agent's class), ``agent_options``,
            ``goal_camera``, ``checkpoint`` (a path; hashed). The CLI passes all of them.
        threads: Torch CPU threads while evaluating (when torch is in use), restored afterwards;
            ``None`` leaves torch's setting alone. One per process avoids oversubscription when
            several evaluations or envs share the cores.
        runner: Who runs the episodes: ``None`` runs them here, one after another, with ``env``
            and ``agent``; :class:`navgym.distributed.RayEpisodeRunner` spreads them over Ray
            actors (``env`` and ``agent`` then only describe the run: dataset size, ``run.json``).
            Records are written as episodes finish, in any order, and reported in episode order.

    Raises:
        InvalidArgumentError: a bad ``episodes``, ``seed`` or ``threads``.
        RunExistsError: ``out`` holds a run and ``resume`` is false (a ``FileExistsError``).
        RunFolderError: ``resume`` into a folder made by another setup, or with an unreadable record.
    """
    total = len(env.unwrapped.dataset.episodes)
    episodes = check_int("episodes", episodes, 1)
    seed = check_int("seed", seed, 0)
    if threads is not None:
        threads = check_int("threads", threads, 1)
    if episodes > total:
        raise InvalidArgumentError(f"episodes={episodes} exceeds the {total} episodes of this split; ask for at most {total}")
    out_dir = Path(out) if out is not None else None
    records: list[dict[str, Any]] = []
    repaired = 0
    log_path = None
    if out_dir is not None:
        manifest = run_manifest(env, agent, episodes, seed, run_info)
        records, repaired = _open_run_folder(out_dir, manifest, resume)
        log_path = out_dir / RECORDS_NAME
    done = {r["episode_index"] for r in records}
    todo = [i for i in range(episodes) if i not in done]
    reported = [r for r in records if r["episode_index"] < episodes]
    reused = len(reported)
    if out_dir is not None and resume and len(done) > episodes:
        warnings.warn(
            f"{out_dir} holds {len(done)} finished episodes; reporting the first {episodes} as asked "
            f"(its {SUMMARY_NAME} keeps all {len(done)})",
            RunFolderWarning,
            stacklevel=2,
        )
    want_frames = video or maps
    with _TorchThreads(threads), tqdm(total=episodes, initial=episodes - len(todo), desc=desc, disable=not progress, unit="ep") as bar:
        episodes_run = runner(todo, seed, want_frames) if runner is not None else _serial(env, agent, todo, seed, want_frames)
        try:
            for record, frames in episodes_run:
                record = strict_json(record)  # as episodes.jsonl holds it: NaN as None
                records.append(record)
                reported.append(record)
                if log_path is not None:
                    _write_media(out_dir, record, frames, video, maps)
                    append_jsonl(log_path, record)
                bar.update(1)
                run = [r["success"] for r in finished(reported)]
                bar.set_postfix(SR=f"{np.mean(run):.2f}" if run else "-", skipped=len(reported) - len(run))
        finally:
            close = getattr(episodes_run, "close", None)
            if callable(close):
                close()  # a runner's workers stop now, also when an episode or the user interrupts
    skipped = [r for r in reported if r.get("skipped")]
    if skipped:
        warnings.warn(
            f"{len(skipped)} of {len(reported)} episodes were skipped and are left out of the means (episode indices "
            f"{[r['episode_index'] for r in skipped][:10]}{' ...' if len(skipped) > 10 else ''}); the first: {skipped[0]['skipped']}",
            stacklevel=2,
        )
    folder = sorted(records, key=lambda r: r["episode_index"])
    if out_dir is not None:
        write_json_atomic(out_dir / SUMMARY_NAME, strict_json(summarize(folder)))
    result = EvaluationResult(
        sorted(reported, key=lambda r: r["episode_index"]), reused=reused, folder_episodes=len(folder) if out_dir is not None else 0,
        repaired=repaired,
    )
    return result


class EpisodeRunner(Protocol):
    """Runs episodes for :func:`evaluate`: called with the episode indices to run, the base seed
    and whether frames are wanted; yields ``(record, frames)`` per finished episode (as
    :func:`run_episode` returns them), in any order, each index once."""

    def __call__(self, indices: list[int], seed: int, frames: bool) -> Iterator[tuple[dict[str, Any], list[np.ndarray]]]: ...


def _serial(env: gym.Env, agent: Any, indices: list[int], seed: int, frames: bool) -> Iterator[tuple[dict[str, Any], list[np.ndarray]]]:
    for index in indices:
        yield run_episode(env, agent, index, seed, video=frames)


@dataclass(frozen=True)
class EvalSpec:
    """A picklable recipe for an evaluation's env and agent, the way ``navgym evaluate`` builds
    them: :meth:`make_env` then :meth:`make_agent` (what a Ray worker does on its machine).

    Attributes:
        env_id: A registered env id.
        agent: An agent name (``navgym list``); ``None`` builds the env only.
        split: Dataset split.
        env_options: Keyword arguments of ``gym.make``; ``sensors`` defaults to what the agent needs.
        agent_options: Keyword arguments of the agent (``checkpoint`` among them for learned ones).
        goal_camera: ``"agent"``, or a :class:`~navgym.wrappers.UserMatchedGoalCamera` setting.
        render: Build the env with ``render_mode="rgb_array"`` (videos, maps).
    """

    env_id: str
    agent: str | None
    split: str = "val"
    env_options: dict[str, Any] = field(default_factory=dict)
    agent_options: dict[str, Any] = field(default_factory=dict)
    goal_camera: str = "agent"
    render: bool = False

    def make_kwargs(self) -> dict[str, Any]:
        """``gym.make``'s keyword arguments: the env options, with the sensors the agent needs
        unless ``sensors`` is given."""
        import navgym  # noqa: F401  (registers the ids)
        from navgym.agents import sensors_for
        from navgym.tasks import TASKS

        options = dict(self.env_options)
        task = gym.spec(self.env_id).kwargs.get("task")
        if self.agent is not None and "sensors" not in options and task in TASKS:
            sensors = sensors_for(self.agent, TASKS.get(task))
            if sensors is not None:
                options["sensors"] = sensors
        return {"split": self.split, "render_mode": "rgb_array" if self.render else None, **options}

    def wrap_goal_camera(self, env: gym.Env) -> gym.Env:
        """``env`` with the goal camera asked (itself for ``"agent"``)."""
        if self.goal_camera == "agent":
            return env
        from navgym.wrappers import UserMatchedGoalCamera

        return UserMatchedGoalCamera(env, self.goal_camera)

    def make_env(self) -> gym.Env:
        """The env, before the agent's own wrappers."""
        return self.wrap_goal_camera(gym.make(self.env_id, **self.make_kwargs()))

    def make_agent(self, env: gym.Env) -> tuple[Any, gym.Env]:
        """The agent and the env it acts in (its wrappers added: privileged observation, perception)."""
        from navgym.agents import make_for_env

        if self.agent is None:
            raise InvalidArgumentError(f"this EvalSpec of {self.env_id} names no agent; give agent= (a name from `navgym list`)")
        return make_for_env(self.agent, env, **self.agent_options)

    def build(self) -> tuple[Any, gym.Env]:
        """:meth:`make_env` then :meth:`make_agent`."""
        return self.make_agent(self.make_env())

    def run_info(self) -> dict[str, Any]:
        """What :func:`evaluate` records in ``run.json`` beyond the env."""
        return {"agent": self.agent, "agent_options": dict(self.agent_options), "goal_camera": self.goal_camera,
                "checkpoint": self.agent_options.get("checkpoint")}


# -- run folders: manifest, records, atomic writes ------------------------------------------------------------
def run_manifest(env: gym.Env, agent: Any, episodes: int, seed: int, run_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``run.json`` of an evaluation: what made it (see the module docstring)."""
    import navgym

    info = dict(run_info or {})
    unknown = set(info) - {"agent", "agent_options", "goal_camera", "checkpoint"}
    if unknown:
        raise InvalidArgumentError(f"run_info has unknown keys {sorted(unknown)}; use agent, agent_options, goal_camera, checkpoint")
    spec = env.spec or env.unwrapped.spec
    kwargs = dict(spec.kwargs) if spec is not None else {}
    agent_options = dict(info.get("agent_options") or {})
    checkpoint = info.get("checkpoint") or agent_options.pop("checkpoint", None) or getattr(agent, "checkpoint", None)
    agent_options.pop("checkpoint", None)
    checkpoint_hash = file_sha256(checkpoint) if checkpoint is not None and Path(checkpoint).is_file() else None
    manifest = {
        "format": MANIFEST_FORMAT,
        "navgym_version": navgym.__version__,
        "env_id": spec.id if spec is not None else None,
        "env_kwargs": {k: v for k, v in kwargs.items() if k not in _IGNORED_ENV_KWARGS},
        "split": kwargs.get("split", getattr(env.unwrapped, "split", None)),
        "agent": info.get("agent") or f"{type(agent).__module__}:{type(agent).__qualname__}",
        "agent_options": agent_options,
        "goal_camera": info.get("goal_camera") or _goal_camera(env),
        "wrappers": _wrappers(env),
        "seed": seed,
        "episodes": episodes,
        "checkpoint": None if checkpoint is None else str(Path(checkpoint).resolve()),
        "checkpoint_sha256": checkpoint_hash,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return json.loads(json.dumps(manifest, default=_json_default))  # as it reads back from the file


def strict_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float as ``None``: JSON has no NaN (Python writes a
    bare ``NaN`` that jq, JavaScript and other strict readers refuse). A summary of one episode
    has no interval: its ``ci95`` is ``null``."""
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    text = repr(value)
    return text if " at 0x" not in text else f"<{type(value).__module__}.{type(value).__qualname__}>"


def _goal_camera(env: gym.Env) -> str:
    """The goal-camera setting of the wrappers around ``env`` (``"agent"`` without one)."""
    while isinstance(env, gym.Wrapper):
        if hasattr(env, "setting_name") and hasattr(env, "ranges"):
            return str(env.setting_name)
        env = env.env
    return "agent"


def _wrappers(env: gym.Env) -> list[str]:
    """The wrapper classes around the env, outermost first."""
    names = []
    while isinstance(env, gym.Wrapper):
        names.append(type(env).__qualname__)
        env = env.env
    return names


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``"field: <recorded> (folder) vs <current> (now)"`` for each compared field that differs
    (dict fields by key, e.g. ``env_kwargs.num_scenes``)."""
    diffs = []
    for key in MANIFEST_KEYS:
        old, new = recorded.get(key), current.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            for sub in sorted(set(old) | set(new)):
                if old.get(sub, "<unset>") != new.get(sub, "<unset>"):
                    diffs.append(f"{key}.{sub}: {_show(old.get(sub, '<unset>'))} (folder) vs {_show(new.get(sub, '<unset>'))} (now)")
        else:
            diffs.append(f"{key}: {_show(old)} (folder) vs {_show(new)} (now)")
    return diffs


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) or value.startswith("<") else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _open_run_folder(out_dir: Path, manifest: dict[str, Any], resume: bool) -> tuple[list[dict[str, Any]], int]:
    """Check ``out_dir`` against ``manifest``, (re)write its ``run.json``; returns the records
    already in it and how many cut-off lines were dropped."""
    manifest_path, log_path = out_dir / MANIFEST_NAME, out_dir / RECORDS_NAME
    records: list[dict[str, Any]] = []
    repaired = 0
    if manifest_path.exists() or log_path.exists():
        if not resume:
            raise RunExistsError(f"{out_dir} already holds a run ({MANIFEST_NAME}, {RECORDS_NAME}): pass resume=True (--resume) to continue it, or choose another --out")
        if not manifest_path.exists():
            raise RunFolderError(
                f"{log_path} exists but {manifest_path.name} does not (a folder from navgym before 0.1.0's run manifests, or another tool): "
                "nothing says which env and agent made it, so it cannot be resumed safely; evaluate into a new --out"
            )
        recorded = _read_manifest(manifest_path)
        diffs = manifest_differences(recorded, manifest)
        if diffs:
            raise RunFolderError(f"cannot resume {out_dir}: it was made by another setup: {'; '.join(diffs)}; use the same options or another --out")
        if log_path.exists():
            records, repaired = read_records(log_path)
        manifest = {**manifest, "episodes": max(int(recorded.get("episodes", 0)), manifest["episodes"]), "created": recorded.get("created")}
        if manifest == recorded:
            return records, repaired
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(manifest_path, manifest)
    return records, repaired


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path} is not valid JSON ({exc}); it cannot say what made the run, so the folder cannot be resumed") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise RunFolderError(f"{path} is not a format-{MANIFEST_FORMAT} navgym run manifest; evaluate into another --out")
    return manifest


def read_records(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """The records of an ``episodes.jsonl`` and how many cut-off lines were dropped.

    A last line that is not a complete record (a write cut by a crash or a kill) is dropped, the
    file truncated to the records before it, and a :class:`RunFolderWarning` says how many bytes
    went; that episode has no record, so a resume runs it again. A bad line before the last one
    is not a cut-off write and raises :class:`RunFolderError` naming it. Repeated episode indices
    keep their first record.
    """
    path = Path(path)
    data = path.read_bytes()
    lines = data.split(b"\n")
    parsed: list[tuple[int, int, dict[str, Any] | None]] = []  # (line number, start byte, record or None)
    start = 0
    for number, raw in enumerate(lines, 1):
        if raw.strip():
            parsed.append((number, start, _parse_record(raw)))
        start += len(raw) + 1
    records: list[dict[str, Any]] = []
    seen: set[int] = set()
    dropped = 0
    for position, (number, begin, record) in enumerate(parsed):
        if record is None:
            if position < len(parsed) - 1:
                raise RunFolderError(
                    f"{path}: line {number} is not a complete episode record and records follow it (not a cut-off write); "
                    "remove that line (its episode then runs again) and resume"
                )
            dropped = len(data) - begin
            with open(path, "r+b") as f:
                f.truncate(begin)
                f.flush()
                os.fsync(f.fileno())
            warnings.warn(
                f"{path}: dropped 1 cut-off last line ({dropped} bytes, an interrupted write); its episode runs again",
                RunFolderWarning,
                stacklevel=2,
            )
            return records, 1
        if record["episode_index"] not in seen:
            seen.add(record["episode_index"])
            records.append(record)
    return records, 0


def _parse_record(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    index = record.get("episode_index") if isinstance(record, dict) else None
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        return None
    return record


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one JSON line, flushed and synced. The line starts on a line of its
    own even when the file ends in a cut-off write (so that write stays one bad last line and is
    never glued to this record). A NaN or infinite measure (an angle with no goal in view, a
    measure a task could not compute) is written as ``null`` (:func:`strict_json`): JSON has no
    NaN, and jq or a JavaScript reader refuses Python's bare ``NaN``."""
    record = strict_json(json.loads(json.dumps(record, default=_json_default)))
    line = (json.dumps(record, allow_nan=False) + "\n").encode()
    with open(path, "a+b") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                line = b"\n" + line
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def write_json_atomic(path: str | Path, value: Any, indent: int | None = 2) -> Path:
    """Write ``value`` as JSON to a temporary file next to ``path``, then rename it onto ``path``:
    readers see the old file or the new one, never a half-written one."""
    def write(tmp: Path) -> None:
        with open(tmp, "w") as f:
            json.dump(value, f, indent=indent, default=_json_default)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())

    return replace_atomically(path, write)


class _TorchThreads:
    """Sets torch's CPU threads for a block when torch is in use, and restores them after."""

    def __init__(self, threads: int | None):
        self.threads = threads
        self.previous: int | None = None

    def __enter__(self) -> _TorchThreads:
        torch = sys.modules.get("torch")
        if self.threads is not None and torch is not None:
            self.previous = torch.get_num_threads()
            if self.previous != self.threads:
                torch.set_num_threads(self.threads)
        return self

    def __exit__(self, *exc: object) -> None:
        torch = sys.modules.get("torch")
        if self.previous is not None and torch is not None and torch.get_num_threads() != self.previous:
            torch.set_num_threads(self.previous)


def _write_media(out_dir: Path, record: dict[str, Any], frames: list[np.ndarray], video: bool, maps: bool) -> None:
    if not frames or frames[0] is None:
        return
    name = f"episode_{record['episode_index']:04d}"
    if maps:
        from PIL import Image

        (out_dir / "maps").mkdir(exist_ok=True)
        Image.fromarray(frames[-1]).save(out_dir / "maps" / f"{name}.png")
    if video:
        write_video(out_dir / "videos" / f"{name}.mp4", frames)


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    """Write frames as an mp4 (imageio-ffmpeg), falling back to a gif if ffmpeg is unavailable."""
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    even = [f[: f.shape[0] // 2 * 2, : f.shape[1] // 2 * 2] for f in frames]  # h264 wants even sizes
    try:
        imageio.mimwrite(path, even, fps=fps, macro_block_size=1)
        return path
    except (ImportError, RuntimeError, OSError, ValueError):
        gif = path.with_suffix(".gif")
        imageio.mimwrite(gif, even, duration=1.0 / fps)
        return gif
