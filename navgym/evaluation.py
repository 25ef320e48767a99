"""Evaluate an agent on an env the way the papers report it: SR, SPL, SoftSPL with 95% intervals.

Every finished episode is appended to ``episodes.jsonl`` at once (flushed), so an interrupted run
keeps what it finished and ``resume=True`` continues without repeating or losing episodes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

#: The measures summarised, in the order printed.
SUMMARY_KEYS = ("success", "spl", "soft_spl", "distance_to_goal", "num_steps", "collisions")


@dataclass
class EvaluationResult:
    """Per-episode records and their summary (mean and 95% confidence half-width per measure)."""

    records: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        return summarize(self.records)


def _finite(records: list[dict[str, Any]], key: str) -> np.ndarray:
    """The finite values of one measure over records (missing and None skipped)."""
    return np.array([float(r[key]) for r in records if r.get(key) is not None and math.isfinite(float(r[key]))])


def summarize(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean and 95% confidence half-width (Student t) of each measure over episodes."""
    from scipy import stats

    out: dict[str, dict[str, float]] = {}
    n = len(records)
    for key in SUMMARY_KEYS:
        values = _finite(records, key)
        if len(values) == 0:
            continue
        half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")
        out[key] = {"mean": float(values.mean()), "ci95": half, "n": float(len(values))}
    out["episodes"] = {"mean": float(n), "ci95": 0.0, "n": float(n)}
    return out


def mean_measures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Plain means of an evaluation's records (``None`` where no episode has the measure): SR,
    SPL, SoftSPL, distance to goal, steps, and the angle to the goal view in degrees over all
    episodes and over successful ones (for training logs and results tables)."""

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
    }


def format_summary(summary: dict[str, dict[str, float]], title: str = "") -> str:
    """A small text table: measure, mean ± 95% CI."""
    names = {"success": "SR", "spl": "SPL", "soft_spl": "SoftSPL", "distance_to_goal": "DTG (m)", "num_steps": "steps", "collisions": "collisions"}
    lines = [title] if title else []
    lines.append(f"{'measure':<12}{'mean':>10}{'± 95% CI':>12}")
    for key in SUMMARY_KEYS:
        if key in summary:
            s = summary[key]
            lines.append(f"{names[key]:<12}{s['mean']:>10.3f}{s['ci95']:>12.3f}")
    lines.append(f"{'episodes':<12}{int(summary['episodes']['n']):>10d}")
    return "\n".join(lines)


def run_episode(env: gym.Env, agent, episode_index: int, seed: int, video: bool = False) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Run one episode (picked by index) to its end; returns its final measures and frames."""
    obs, info = env.reset(seed=seed + episode_index, options={"episode_index": episode_index})
    agent.reset()
    frames = [env.render()] if video else []
    total_reward, terminated, truncated = 0.0, False, False
    while not (terminated or truncated):
        obs, reward, terminated, truncated, info = env.step(agent.policy(obs))
        total_reward += float(reward)
        if video:
            frames.append(env.render())
    record = {
        "episode_index": episode_index,
        "episode_id": info.get("episode_id"),
        "scene_id": info.get("scene_id"),
        **{k: _plain(info[k]) for k in ("success", "spl", "soft_spl", "distance_to_goal", "angle_to_goal", "num_steps", "collisions", "path_length") if k in info},
        "reward": total_reward,
        "truncated": bool(truncated),
    }
    return record, frames


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
) -> EvaluationResult:
    """Evaluate ``agent`` on the first ``episodes`` episodes of ``env``'s dataset.

    Args:
        env: A navgym env (``gym.make`` output); ``render_mode="rgb_array"`` is needed for video/maps.
        agent: Anything with ``reset()`` and ``policy(obs)``.
        episodes: How many episodes (in dataset order).
        out: Output folder for ``episodes.jsonl``, ``summary.json``, ``videos/`` and ``maps/``.
        seed: Base seed; episode i is reset with ``seed + i``.
        resume: Keep the episodes already in ``out/episodes.jsonl`` and run only the rest.
        video, maps: Write an mp4 per episode / a top-down map PNG of each episode's end.
    """
    total = len(env.unwrapped.dataset.episodes)
    if episodes < 1:
        raise ValueError(f"episodes={episodes} must be at least 1")
    if episodes > total:
        raise ValueError(f"episodes={episodes} exceeds the {total} episodes of this split; ask for at most {total}")
    out_dir = Path(out) if out is not None else None
    records: list[dict[str, Any]] = []
    done: set[int] = set()
    log_path = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        log_path = out_dir / "episodes.jsonl"
        if log_path.exists():
            if not resume:
                raise FileExistsError(f"{log_path} exists: pass resume=True (--resume) to continue it, or choose another --out")
            records = _read_records(log_path)
            done = {r["episode_index"] for r in records}
    todo = [i for i in range(episodes) if i not in done]
    want_frames = video or maps
    with tqdm(total=episodes, initial=episodes - len(todo), desc="episodes", disable=not progress, unit="ep") as bar:
        for index in todo:
            record, frames = run_episode(env, agent, index, seed, video=want_frames)
            records.append(record)
            if out_dir is not None:
                _write_media(out_dir, record, frames, video, maps)
                with log_path.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                    f.flush()
            bar.update(1)
            bar.set_postfix(SR=f"{np.mean([r['success'] for r in records]):.2f}")
    result = EvaluationResult(sorted(records, key=lambda r: r["episode_index"]))
    if out_dir is not None:
        (out_dir / "summary.json").write_text(json.dumps(result.summary(), indent=2))
    return result


def _read_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            # A line cut by an interruption: everything before it is kept, it is run again.
            if number == len(path.read_text().splitlines()):
                break
            raise ValueError(f"{path}: line {number} is not valid JSON; fix or remove it before --resume")
    return records


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
