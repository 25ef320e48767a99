"""Evaluate a team (one policy per seat) on a parallel env: per-agent and team rows, resumable
run folders like :mod:`navgym.evaluation`, videos and maps with every agent on the top-down map.

This module sits in the evaluation layer (it imports ``navgym.agents`` and ``navgym.evaluation``);
the rest of :mod:`navgym.multiagent` sits just above ``navgym.envs``.

A run folder holds ``run.json`` (what made the run), ``episodes.jsonl`` (one line per finished
episode: ``{"episode_index", "team": {...}, "agents": {name: {...}}}``, appended as each ends),
``summary.json`` (per agent: :func:`navgym.evaluation.summarize`; team: the same for the team
measures) and ``videos/`` / ``maps/``. An episode whose start is off the navigable area gets
``{"episode_index", "skipped": reason, "team": {}, "agents": {}}`` and is left out of the means. :meth:`TeamEvaluationResult.rows` flattens the records to
one row per agent and one team row per episode.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from navgym.core.checks import check_int
from navgym.errors import InvalidArgumentError, UnusableEpisodeError
from navgym.evaluation import (
    MANIFEST_FORMAT, RECORDED_MEASURES, RECORDS_NAME, SUMMARY_NAME, _json_default, _open_run_folder, _plain, append_jsonl, finished, skipped_record,
    strict_json, summarize,
    write_json_atomic, write_video,
)
from navgym.multiagent.parallel import TEAM_KEYS, NavParallelEnv

#: Per-agent measures recorded: those of a one-agent evaluation (MultiGoalVLN's progress and
#: sub-goals, SemanticNav's navigation error ...); those a seat's task does not report are left out.
AGENT_KEYS = RECORDED_MEASURES


class SeatEnv(gym.Env):
    """One seat of a parallel env seen as a Gymnasium env, for building navgym agents
    (``navgym.agents.make(name, env=SeatEnv(...))``): its spaces and what agents read from
    ``env.unwrapped`` (``task``, ``embodiment``, ``sensors``, ``actions``, ``sim``, ``episode``).
    It cannot step: the parallel env does."""

    def __init__(self, par_env: NavParallelEnv, agent: str):
        self.par_env = par_env
        self.seat = par_env.seat(agent)
        self.observation_space = par_env.observation_space(agent)
        self.action_space = par_env.action_space(agent)
        self.task = self.seat.task
        self.embodiment = self.seat.embodiment
        self.sensors = self.seat.env.sensors
        self.actions = self.seat.env.actions
        self.dataset = self.seat.env.dataset

    @property
    def sim(self):
        return self.par_env.sim

    @property
    def episode(self):
        return self.seat.goal_episode

    def reset(self, *, seed=None, options=None):  # pragma: no cover - the parallel env resets
        raise NotImplementedError("a SeatEnv does not reset by itself: reset the parallel env")

    def step(self, action):  # pragma: no cover
        raise NotImplementedError("a SeatEnv does not step by itself: step the parallel env")


def make_team(par_env: NavParallelEnv, names: Sequence[str], options: Sequence[dict[str, Any]] | None = None) -> list[Any]:
    """One registered navgym agent per seat (``names[i]`` for seat i). Privileged agents and
    agents that wrap their env are refused (the parallel env has no per-seat wrappers)."""
    from navgym.agents import make

    names = list(names)
    if len(names) != len(par_env.possible_agents):
        raise InvalidArgumentError(
            f"agents={names} has {len(names)} names for {len(par_env.possible_agents)} seats {par_env.possible_agents}; give one agent name per seat"
        )
    options = list(options) if options is not None else [{} for _ in names]
    team = []
    for name, agent, opts in zip(names, par_env.possible_agents, options):
        policy = make(name, env=SeatEnv(par_env, agent), **dict(opts or {}))
        if getattr(policy, "privileged", False) or callable(getattr(policy, "wrap_env", None)):
            raise InvalidArgumentError(
                f"agent {name!r} needs a wrapped env (privileged or perception wrappers), which multi-agent evaluation does not provide; "
                "use agents that act on observations (random, frontier, rsrnav ...)"
            )
        team.append(policy)
    return team


@dataclass
class TeamEvaluationResult:
    """Per-episode records (team and per-agent measures), how many were read from the folder."""

    records: list[dict[str, Any]] = field(default_factory=list)
    reused: int = 0

    def rows(self) -> list[dict[str, Any]]:
        """One row per agent and episode (``"row": "agent"``) and one per episode for the team (``"row": "team"``)."""
        out = []
        for record in self.records:
            if record.get("skipped"):
                continue
            for agent, values in record["agents"].items():
                out.append({"row": "agent", "episode_index": record["episode_index"], "agent": agent, **values})
            out.append({"row": "team", "episode_index": record["episode_index"], **record["team"]})
        return out

    def summary(self) -> dict[str, Any]:
        return team_summary(self.records)


def team_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per agent: mean ± 95% CI of its measures (:func:`navgym.evaluation.summarize`); team: of
    ``team_success_all``, ``team_success_any``, ``team_path_length``, ``team_collisions``.
    Skipped episodes are counted (``"skipped"``), not averaged."""
    ran = finished(records)
    skipped, records = len(records) - len(ran), ran
    agents = sorted({a for r in records for a in r["agents"]})
    per_agent = {a: summarize([r["agents"][a] for r in records if a in r["agents"]]) for a in agents}
    from scipy import stats

    team: dict[str, Any] = {}
    for key in TEAM_KEYS:
        values = np.array([float(r["team"][key]) for r in records if r["team"].get(key) is not None])
        if len(values):
            half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")
            team[key] = {"mean": float(values.mean()), "ci95": half, "n": float(len(values))}
    return {"agents": per_agent, "team": team, "episodes": len(records), "skipped": skipped}


def format_team_summary(summary: dict[str, Any], title: str = "") -> str:
    """A small text table: per agent SR / SPL / SoftSPL / steps, and NE or progress where a seat's
    task reports them ("-" for a seat whose task does not), then the team."""
    lines = [title] if title else []
    columns = [("success", "SR", 8, 3), ("spl", "SPL", 8, 3), ("soft_spl", "SoftSPL", 9, 3), ("num_steps", "steps", 8, 1)]
    columns += [(key, label, 9, 3) for key, label in (("navigation_error", "NE (m)"), ("progress", "progress"))
                if any(key in s for s in summary["agents"].values())]
    width = max([14, *(len(agent) + 2 for agent in summary["agents"])])
    lines.append(f"{'agent':<{width}}" + "".join(f"{label:>{size}}" for _, label, size, _ in columns))
    for agent, s in summary["agents"].items():
        cells = []
        for key, _, size, digits in columns:
            mean = s.get(key, {}).get("mean")
            cells.append(f"{'-':>{size}}" if mean is None or not math.isfinite(mean) else f"{mean:>{size}.{digits}f}")
        lines.append(f"{agent:<{width}}" + "".join(cells))
    team = summary["team"]
    for key, label in (("team_success_all", "all succeeded"), ("team_success_any", "any succeeded"), ("team_path_length", "path (m)")):
        if key in team:
            half = team[key]["ci95"]  # None (summary.json's null) or nan: one episode, no interval
            lines.append(f"{'team ' + label:<24}{team[key]['mean']:>8.3f}" + ("" if half is None or not math.isfinite(half) else f" ± {half:.3f}"))
    lines.append(f"{'episodes':<14}{summary['episodes']:>8d}")
    if summary.get("skipped"):
        lines.append(f"{'skipped':<14}{summary['skipped']:>8d}  (starts off the navigable area: see episodes.jsonl)")
    return "\n".join(lines)


def run_team_episode(env: NavParallelEnv, team: Sequence[Any], episode_index: int, seed: int, video: bool = False):
    """One episode (seat 0's ``episode_index``), every policy acting on its own observation (a
    record with ``"skipped"`` when the episode starts off the navigable area)."""
    try:
        observations, infos = env.reset(seed=seed + episode_index, options={"episode_index": episode_index})
    except UnusableEpisodeError as error:
        return {**skipped_record(episode_index, error), "team": {}, "agents": {}}, []
    policies = dict(zip(env.possible_agents, team))
    for policy in team:
        policy.reset()
    frames = [env.render()] if video else []
    returns = {a: 0.0 for a in env.possible_agents}
    last = dict(infos)
    truncated = {a: False for a in env.possible_agents}
    while env.agents:
        actions = {a: policies[a].policy(observations[a]) for a in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)
        for agent, reward in rewards.items():
            returns[agent] += float(reward)
        last.update(infos)
        truncated.update({a: bool(t) and not terminations.get(a, False) for a, t in truncations.items()})
        if video:
            frames.append(env.render())
    agents = {
        a: {
            "episode_id": last[a].get("episode_id"), "scene_id": last[a].get("scene_id"),
            **{k: _plain(last[a][k]) for k in AGENT_KEYS if k in last[a]},
            "reward": returns[a], "truncated": bool(truncated[a]),
        }
        for a in env.possible_agents
    }
    team_row = {k: _plain(v) for k, v in env.team_measures().items()}
    return {"episode_index": episode_index, "team": team_row, "agents": agents}, frames


def evaluate_team(
    env: NavParallelEnv,
    team: Sequence[Any],
    episodes: int,
    out: str | Path | None = None,
    seed: int = 0,
    resume: bool = False,
    video: bool = False,
    maps: bool = False,
    progress: bool = True,
    run_info: dict[str, Any] | None = None,
) -> TeamEvaluationResult:
    """Evaluate ``team`` (one object with ``reset()`` and ``policy(obs)`` per seat) on the first
    ``episodes`` episodes of seat 0's dataset (the other seats draw theirs in the same house,
    seeded by ``seed + episode``). ``out``, ``resume``, ``video`` and ``maps`` work as in
    :func:`navgym.evaluation.evaluate`; videos and maps show every agent (``render_mode="rgb_array"``).
    ``run_info``: ``agents`` (names) and ``agent_options``, recorded in ``run.json``."""
    import navgym

    if not isinstance(env, NavParallelEnv):
        raise InvalidArgumentError(f"env={env!r} must be a navgym parallel env (navgym.multiagent.parallel_env(...))")
    if len(team) != len(env.possible_agents):
        raise InvalidArgumentError(f"team has {len(team)} policies for {len(env.possible_agents)} seats {env.possible_agents}; give one per seat")
    episodes = check_int("episodes", episodes, 1)
    seed = check_int("seed", seed, 0)
    total = len(env.seats[0].env.dataset.episodes)
    if episodes > total:
        raise InvalidArgumentError(f"episodes={episodes} exceeds the {total} episodes of seat 0's dataset; ask for at most {total}")
    if (video or maps) and env.render_mode != "rgb_array":
        raise InvalidArgumentError("video=True / maps=True need the env made with render_mode='rgb_array'")
    out_dir = Path(out) if out is not None else None
    records: list[dict[str, Any]] = []
    if out_dir is not None:
        info = dict(run_info or {})
        manifest = {
            "format": MANIFEST_FORMAT, "navgym_version": navgym.__version__,
            "env_id": list(env.config["env_ids"]),
            "env_kwargs": {k: v for k, v in env.config.items() if k != "env_ids"},
            "split": env.config["kwargs"].get("split", "val"),
            "agent": info.get("agents") or [f"{type(p).__module__}:{type(p).__qualname__}" for p in team],
            "agent_options": info.get("agent_options") or {}, "goal_camera": "agent", "wrappers": [], "seed": seed,
            "episodes": episodes, "checkpoint": None, "checkpoint_sha256": None,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        manifest = json.loads(json.dumps(manifest, default=_json_default))
        records, _ = _open_run_folder(out_dir, manifest, resume)
    done = {r["episode_index"] for r in records}
    todo = [i for i in range(episodes) if i not in done]
    reused = len([r for r in records if r["episode_index"] < episodes])
    with tqdm(total=episodes, initial=episodes - len(todo), desc="team episodes", disable=not progress, unit="ep") as bar:
        for index in todo:
            record, frames = run_team_episode(env, team, index, seed, video=video or maps)
            record = strict_json(record)  # as episodes.jsonl holds it: NaN as None
            records.append(record)
            if out_dir is not None:
                name = f"episode_{index:04d}"
                if maps and frames:
                    from PIL import Image

                    (out_dir / "maps").mkdir(exist_ok=True)
                    Image.fromarray(frames[-1]).save(out_dir / "maps" / f"{name}.png")
                if video and frames:
                    write_video(out_dir / "videos" / f"{name}.mp4", frames)
                append_jsonl(out_dir / RECORDS_NAME, record)
            bar.update(1)
    records = sorted(records, key=lambda r: r["episode_index"])
    if out_dir is not None:
        write_json_atomic(out_dir / SUMMARY_NAME, strict_json(team_summary(records)))
    return TeamEvaluationResult([r for r in records if r["episode_index"] < episodes], reused=reused)
