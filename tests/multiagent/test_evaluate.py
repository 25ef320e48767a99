"""Team evaluation: per-agent and team rows, resumable run folders, videos of every agent."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pettingzoo")

from navgym.errors import InvalidArgumentError  # noqa: E402
from navgym.evaluation import RunFolderError  # noqa: E402
from navgym.multiagent import parallel_env  # noqa: E402
from navgym.multiagent.evaluate import evaluate_team, format_team_summary, make_team  # noqa: E402

SMALL = dict(num_scenes=1, episodes_per_scene=3, resolution=16, max_episode_steps=15)


def test_team_rows_resume_and_videos(tmp_path):
    env = parallel_env("ObjectNav-ProcHouse-v0", num_agents=2, embodiments=["habitat", "jetbot"], render_mode="rgb_array", **SMALL)
    team = make_team(env, ["random", "random"])
    out = tmp_path / "run"
    result = evaluate_team(env, team, 2, out=out, video=True, maps=True, progress=False, run_info={"agents": ["random", "random"]})
    rows = result.rows()
    assert [r["row"] for r in rows] == ["agent", "agent", "team"] * 2
    assert {r["agent"] for r in rows if r["row"] == "agent"} == set(env.possible_agents)
    for record in result.records:
        successes = [a["success"] for a in record["agents"].values()]
        assert record["team"]["team_success_any"] == float(any(successes))
        assert record["team"]["team_path_length"] == pytest.approx(sum(a["path_length"] for a in record["agents"].values()))
    lines = (out / "episodes.jsonl").read_text().splitlines()
    assert len(lines) == 2 and set(json.loads(lines[0])) == {"episode_index", "team", "agents"}
    assert sorted(p.name for p in (out / "videos").iterdir()) == ["episode_0000.mp4", "episode_0001.mp4"]
    assert (out / "maps" / "episode_0000.png").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["agents"]) == set(env.possible_agents) and "team_success_all" in summary["team"]
    assert "team all succeeded" in format_team_summary(summary)

    again = evaluate_team(env, team, 3, out=out, resume=True, progress=False, run_info={"agents": ["random", "random"]})
    assert again.reused == 2 and len(again.records) == 3
    assert again.records[:2] == result.records
    assert len((out / "episodes.jsonl").read_text().splitlines()) == 3
    with pytest.raises(RunFolderError, match="agent"):
        evaluate_team(env, team, 3, out=out, resume=True, progress=False, run_info={"agents": ["random", "frontier"]})


def test_one_agent_name_per_seat():
    env = parallel_env("ObjectNav-ProcHouse-v0", num_agents=2, **SMALL)
    with pytest.raises(InvalidArgumentError, match="one agent name per seat"):
        make_team(env, ["random"])
    with pytest.raises(InvalidArgumentError, match="privileged"):
        make_team(env, ["oracle", "random"])


def test_a_mixed_team_keeps_each_tasks_measures_and_prints_no_nan(tmp_path):
    """A MultiGoalVLN seat beside a SemanticNav one: each keeps what a one-agent evaluation records
    (progress and sub-goals; navigation error), and the table prints '-' for a measure a seat's
    task does not have (it printed nan), with the long seat name in its column."""
    env = parallel_env(["MultiGoalVLN-ProcHouse-v0", "SemanticNav-ProcHouse-v0"], num_agents=2, **SMALL)
    result = evaluate_team(env, make_team(env, ["random", "random"]), 1, out=tmp_path / "run", progress=False)
    multigoal, semnav = (result.records[0]["agents"][a] for a in env.possible_agents)
    assert {"progress", "subgoals_reached", "wrong_found", "shortest_tour"} <= set(multigoal) and "soft_spl" not in multigoal
    assert "navigation_error" in semnav and "progress" not in semnav
    table = format_team_summary(json.loads((tmp_path / "run" / "summary.json").read_text()))
    assert "nan" not in table and "progress" in table and "NE (m)" in table
    header, first, second = table.splitlines()[:3]
    assert first.startswith("habitat_found_0 ") and len(header) == len(first) == len(second)
    assert first.split()[3] == "-" and second.split()[-1] == "-"  # MultiGoalVLN has no SoftSPL, SemanticNav no progress
