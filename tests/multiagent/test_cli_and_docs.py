"""`navgym evaluate` with a team (one agent per seat), and docs/multiagent.md's example runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("pettingzoo")

from navgym.cli import main  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "multiagent.md"


def _run(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_evaluate_a_team_writes_agent_and_team_rows(tmp_path, capsys):
    out = tmp_path / "team"
    argv = [
        "evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "random,random", "--episodes", "1", "--out", str(out), "--video",
        "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=2", "--env-option", "resolution=16",
        "--env-option", "max_episode_steps=10", "--env-option", 'embodiments=["habitat","jetbot"]',
    ]
    code, stdout, stderr = _run(argv, capsys)
    assert code == 0, stderr
    assert "habitat_0" in stdout and "jetbot_1" in stdout and "team all succeeded" in stdout
    records = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert [r["episode_index"] for r in records] == [0]
    assert set(records[0]["agents"]) == {"habitat_0", "jetbot_1"} and "team_path_length" in records[0]["team"]
    assert len(list((out / "videos").glob("*.mp4"))) == 1
    code, _, stderr = _run(argv + ["--resume"], capsys)
    assert code == 0 and "were read from" in stderr


def test_team_errors_are_one_line(capsys):
    code, _, stderr = _run(["evaluate", "--env", "ObjectNav-ProcHouse-v0,ImageNav-ProcHouse-v0", "--agent", "random,random,random"], capsys)
    assert code == 2 and "--env lists 2 ids for 3 agents" in stderr and stderr.count("\n") == 1


def test_docs_example_runs(capsys):
    example = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)[0]
    exec(compile(example, str(DOC), "exec"), {"__name__": "docs_example"})
    assert "(128, 128, 3)" in capsys.readouterr().out


def test_the_documented_team_command_gives_each_agent_the_sensors_it_needs(tmp_path, capsys):
    """docs/multiagent.md's `--agent frontier,random`: the frontier agent reads `semantic`, which
    ObjectNav does not emit by default; as `navgym evaluate` does for one agent, each seat gets
    its agent's sensors (old code: exit 2, "The frontier agent needs the sensors ['semantic']")."""
    command = re.search(r"navgym evaluate --env ObjectNav-ProcHouse-v0 --agent frontier,random[^\n]*\n[^\n]*", DOC.read_text()).group(0)
    assert "--env-option 'embodiments=[\"habitat\",\"habitat\"]'" in command
    argv = [
        "evaluate", "--env", "ObjectNav-ProcHouse-v0", "--agent", "frontier,random", "--episodes", "1", "--out", str(tmp_path / "team"),
        "--env-option", 'embodiments=["habitat","habitat"]', "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=2",
        "--env-option", "resolution=32",
    ]
    code, stdout, stderr = _run(argv, capsys)
    assert code == 0, stderr
    assert "habitat_0" in stdout and "habitat_1" in stdout
    run = json.loads((tmp_path / "team" / "run.json").read_text())
    assert "semantic" in json.dumps(run)  # the frontier seat's sensors are recorded with the env
    code, _, stderr = _run(argv + ["--env-option", "sensors=['rgb','depth','gps','compass','objectgoal']"], capsys)
    assert code == 2 and "needs the sensors ['semantic']" in stderr  # sensors= given by hand are kept as given
