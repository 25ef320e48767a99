"""navgym.evaluation's run folders: the run.json manifest, resume rules, crash-safe results files."""

from __future__ import annotations

import json
import os
import warnings

import gymnasium as gym
import pytest

import navgym
from navgym.agents import make, make_for_env
from navgym.evaluation import evaluate


def small_env(task: str = "ObjectNav", **kwargs):
    options = {"num_scenes": 1, "episodes_per_scene": 6, "resolution": 32, **kwargs}
    return gym.make(f"{task}-ProcHouse-v0", split="val", **options)


class Counting:
    """An agent wrapper that counts the episodes it plays."""

    def __init__(self, agent):
        self.agent, self.episodes = agent, 0

    def reset(self):
        self.episodes += 1
        self.agent.reset()

    def policy(self, obs):
        return self.agent.policy(obs)


RANDOM = {"agent": "random"}  # the Counting wrapper plays the random agent


def indices(path):
    """The episode indices of an episodes.jsonl; every line must parse."""
    return [json.loads(line)["episode_index"] for line in path.read_text().splitlines()]


def test_run_folder_records_what_made_it(tmp_path):
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 2, out=tmp_path, seed=5, progress=False)
    manifest = json.loads((tmp_path / "run.json").read_text())
    assert manifest["env_id"] == "ObjectNav-ProcHouse-v0" and manifest["split"] == "val"
    assert manifest["env_kwargs"]["num_scenes"] == 1 and manifest["env_kwargs"]["resolution"] == 32
    assert manifest["seed"] == 5 and manifest["episodes"] == 2 and manifest["goal_camera"] == "agent"
    assert manifest["navgym_version"] == navgym.__version__ and "RandomAgent" in manifest["agent"]
    assert manifest["checkpoint"] is None and manifest["checkpoint_sha256"] is None


def test_results_files_are_written_by_rename(tmp_path, monkeypatch):
    """summary.json and run.json reach their final names only through os.replace (a crash
    mid-write leaves the old file, never half a file), and no temporary file is left."""
    renamed = []
    real_replace = os.replace

    def spy(src, dst, *args, **kwargs):
        renamed.append(os.path.basename(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", spy)
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 2, out=tmp_path, progress=False)
    assert "summary.json" in renamed and "run.json" in renamed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["episodes.jsonl", "run.json", "summary.json"]


def test_resume_refuses_a_folder_made_by_another_agent(tmp_path):
    env = small_env("ImageNav")
    evaluate(env, make("random", env=env, seed=0), 2, out=tmp_path, progress=False)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    oracle, wrapped = make_for_env("oracle", env)
    with pytest.raises(ValueError, match=r"agent: 'navgym\.agents\.baselines\.random:RandomAgent' \(folder\) vs .*OracleAgent"):
        evaluate(wrapped, oracle, 2, out=tmp_path, resume=True, progress=False)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing touched


@pytest.mark.parametrize(
    "change, message",
    [
        ({"env_kwargs": {"episodes_per_scene": 5}}, r"env_kwargs\.episodes_per_scene: 6 \(folder\) vs 5 \(now\)"),
        ({"seed": 1}, r"seed: 0 \(folder\) vs 1 \(now\)"),
        ({"run_info": {"agent": "mine"}}, r"agent: .*RandomAgent' \(folder\) vs 'mine' \(now\)"),
        ({"run_info": {"goal_camera": "user"}}, r"goal_camera: 'agent' \(folder\) vs 'user' \(now\)"),
    ],
)
def test_resume_refuses_another_setup_naming_the_field_and_both_values(tmp_path, change, message):
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 2, out=tmp_path, progress=False)
    other = small_env(**change.get("env_kwargs", {}))
    with pytest.raises(ValueError, match=message):
        evaluate(other, make("random", env=other, seed=0), 2, out=tmp_path, resume=True, progress=False,
                 seed=change.get("seed", 0), run_info=change.get("run_info"))


def test_resume_refuses_a_changed_checkpoint(tmp_path):
    checkpoint = tmp_path / "weights.bin"
    checkpoint.write_bytes(b"first")
    env = small_env()
    out = tmp_path / "run"
    evaluate(env, make("random", env=env, seed=0), 1, out=out, progress=False, run_info={"checkpoint": checkpoint})
    checkpoint.write_bytes(b"second")  # e.g. training went on
    with pytest.raises(ValueError, match="checkpoint_sha256"):
        evaluate(env, make("random", env=env, seed=0), 1, out=out, resume=True, progress=False, run_info={"checkpoint": checkpoint})


def test_resume_without_a_manifest_is_refused(tmp_path):
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 1, out=tmp_path, progress=False)
    (tmp_path / "run.json").unlink()
    with pytest.raises(ValueError, match="run.json"):
        evaluate(env, make("random", env=env, seed=0), 2, out=tmp_path, resume=True, progress=False)


def test_resume_with_fewer_episodes_reports_exactly_the_first_n(tmp_path):
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 4, out=tmp_path, progress=False, run_info=RANDOM)
    agent = Counting(make("random", env=env, seed=0))
    with pytest.warns(UserWarning, match="reporting the first 2"):
        result = evaluate(env, agent, 2, out=tmp_path, resume=True, progress=False, run_info=RANDOM)
    assert [r["episode_index"] for r in result.records] == [0, 1] and result.summary()["episodes"]["n"] == 2
    assert agent.episodes == 0 and result.reused == 2 and result.folder_episodes == 4
    assert json.loads((tmp_path / "run.json").read_text())["episodes"] == 4


def test_resume_with_more_episodes_continues(tmp_path):
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 2, out=tmp_path, progress=False, run_info=RANDOM)
    agent = Counting(make("random", env=env, seed=0))
    result = evaluate(env, agent, 4, out=tmp_path, resume=True, progress=False, run_info=RANDOM)
    assert [r["episode_index"] for r in result.records] == [0, 1, 2, 3]
    assert agent.episodes == 2 and result.reused == 2
    assert indices(tmp_path / "episodes.jsonl") == [0, 1, 2, 3]
    assert json.loads((tmp_path / "run.json").read_text())["episodes"] == 4
    assert json.loads((tmp_path / "summary.json").read_text())["episodes"]["n"] == 4


@pytest.mark.parametrize("cut", ["in the 2nd line", "3 bytes into the last line", "mid last line", "before the last newline's last byte", "before the last newline"])
def test_a_results_file_cut_at_any_byte_resumes_without_losses(tmp_path, cut):
    """A crash mid-write leaves a cut-off last line: the next resume drops it (with a warning),
    reruns that episode, and the file stays readable through later resumes."""
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 3, out=tmp_path, progress=False)
    log = tmp_path / "episodes.jsonl"
    data = log.read_bytes()
    lines = data.split(b"\n")
    last_start = len(lines[0]) + len(lines[1]) + 2
    offset = {
        "in the 2nd line": len(lines[0]) + 1 + len(lines[1]) // 2,
        "3 bytes into the last line": last_start + 3,
        "mid last line": last_start + len(lines[2]) // 2,
        "before the last newline's last byte": len(data) - 2,
        "before the last newline": len(data) - 1,  # a complete record without its newline
    }[cut]
    with open(log, "r+b") as f:
        f.truncate(offset)
    torn = cut != "before the last newline"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate(env, make("random", env=env, seed=0), 3, out=tmp_path, resume=True, progress=False)
    assert [r["episode_index"] for r in result.records] == [0, 1, 2]
    assert sorted(indices(log)) == [0, 1, 2]  # every line parses; nothing repeated, nothing lost
    again = evaluate(env, make("random", env=env, seed=0), 4, out=tmp_path, resume=True, progress=False)
    assert [r["episode_index"] for r in again.records] == [0, 1, 2, 3]
    assert sorted(indices(log)) == [0, 1, 2, 3]
    messages = [str(w.message) for w in caught]
    assert any("dropped 1 cut-off last line" in m for m in messages) == torn, messages


def test_a_bad_line_before_the_last_is_an_error_naming_it(tmp_path):
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 3, out=tmp_path, progress=False)
    log = tmp_path / "episodes.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join([lines[0], "{not json", lines[2]]) + "\n")
    with pytest.raises(ValueError, match="line 2"):
        evaluate(env, make("random", env=env, seed=0), 3, out=tmp_path, resume=True, progress=False)


def test_new_run_into_a_used_folder_needs_resume(tmp_path):
    env = small_env()
    evaluate(env, make("random", env=env, seed=0), 1, out=tmp_path, progress=False)
    with pytest.raises(FileExistsError, match="resume"):
        evaluate(env, make("random", env=env, seed=0), 1, out=tmp_path, progress=False)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"seed": -1}, "seed=-1"), ({"episodes": 0}, "episodes=0"), ({"episodes": 1.5}, "episodes=1.5"), ({"threads": 0}, "threads=0")],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    from navgym.errors import InvalidArgumentError

    env = small_env()
    with pytest.raises(InvalidArgumentError, match=name):
        evaluate(env, make("random", env=env), **{"episodes": 1, "progress": False, **kwargs})


def test_threads_are_set_while_evaluating_and_restored():
    torch = pytest.importorskip("torch")
    seen = []

    class Probe:
        def reset(self):
            seen.append(torch.get_num_threads())

        def policy(self, obs):
            return 0  # stop

    env = small_env()
    before = torch.get_num_threads()
    evaluate(env, Probe(), 1, progress=False)
    evaluate(env, Probe(), 1, progress=False, threads=2)
    assert seen == [1, 2] and torch.get_num_threads() == before


def test_format_summary_names_every_summary_measure():
    """Every measure ``summarize`` can report has a row name (MultiGoalVLN's progress and wall time too)."""
    from navgym.evaluation import SUMMARY_KEYS, format_summary, summarize

    records = [{key: float(i) for key in SUMMARY_KEYS} for i in range(3)]
    text = format_summary(summarize(records))
    assert len(text.splitlines()) == len(SUMMARY_KEYS) + 2 and "progress" in text and "time (s)" in text


def test_skipped_records_are_counted_apart_and_printed_as_such():
    from navgym.evaluation import finished, format_summary, mean_measures, sr_spl, summarize

    records = [{"episode_index": 0, "skipped": "starts 3.00 m off the navigable area"},
               {"episode_index": 1, "success": 1.0, "spl": 0.5, "num_steps": 10}]
    assert finished(records) == records[1:]
    measures = mean_measures(records)
    assert (measures["episodes"], measures["skipped"], measures["success"]) == (1, 1, 1.0)
    assert sr_spl(measures, 3) == "SR 1.000  SPL 0.500 (1 skipped)"
    assert sr_spl(mean_measures(records[:1])) == "SR -  SPL - (1 skipped)"  # every episode skipped: no crash
    summary = summarize(records)
    assert (summary["episodes"]["n"], summary["skipped"]["n"]) == (1, 1)
    assert "skipped" in format_summary(summary) and "skipped" not in format_summary(summarize(records[1:]))


def test_success_rate_has_a_wilson_interval_that_is_not_zero_width():
    """All successes over few episodes: the Student-t half-width is 0, the Wilson interval is not
    (scipy's binomtest; 10 of 10: [0.722, 1.0]); it is printed beside SR and stays inside [0, 1]."""
    from navgym.evaluation import format_summary, success_interval, summarize

    summary = summarize([{"success": 1.0, "spl": 0.9}] * 10)
    assert summary["success"]["ci95"] == 0.0
    low, high = summary["success"]["interval95"]
    assert low == pytest.approx(0.7225, abs=1e-3) and high == 1.0
    assert "Wilson 95%: [0.722, 1.000]" in format_summary(summary)
    assert "interval95" not in summary["spl"]
    assert success_interval(0, 3)[0] == 0.0 and 0.5 < success_interval(0, 3)[1] < 0.6
    half = summarize([{"success": 1.0}, {"success": 0.0}] * 128)["success"]
    assert half["interval95"][0] == pytest.approx(0.5 - half["ci95"], abs=0.002)  # many episodes: the two agree
    assert json.loads(json.dumps(summary)) == summary  # summary.json stays plain JSON


def _strict(text):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


class Unsure(Counting):
    """An agent whose episode summary holds a NaN (a score it could not compute)."""

    def episode_summary(self):
        return {"confidence": float("nan"), "plans": [1.0, float("inf")]}


def test_episode_records_are_strict_json_with_null_for_nan(tmp_path):
    """A NaN in a record (here an agent's episode summary; a measure already was) is written as
    null in episodes.jsonl (a bare NaN is refused by jq and JavaScript), and the records returned
    hold None as well, the same as a resumed run reads back."""
    agent, env = make_for_env("random", small_env("ObjectNav"), seed=0)
    result = evaluate(env, Unsure(agent), episodes=2, out=tmp_path / "run", seed=0, progress=False)
    lines = (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()
    records = [_strict(line) for line in lines]
    assert len(records) == 2 and all(r["agent"] == {"confidence": None, "plans": [1.0, None]} for r in records)
    assert [r["agent"] for r in result.records] == [r["agent"] for r in records]
    summary = _strict((tmp_path / "run" / "summary.json").read_text())
    assert summary["success"]["n"] == 2
    env.close()


def test_a_stop_on_the_last_step_is_not_recorded_as_truncated(tmp_path):
    """With one step allowed, a stop ends the episode (terminated) on the step the time limit
    also ends it (truncated): the record says it was not cut off, as SB3 reads it."""

    class Stop:
        def reset(self):
            pass

        def policy(self, obs):
            return 0

    class Forward(Stop):
        def policy(self, obs):
            return 1

    env = small_env("ObjectNav", max_episode_steps=1)
    stopped = evaluate(env, Stop(), episodes=1, seed=0, progress=False).records[0]
    walked = evaluate(env, Forward(), episodes=1, seed=0, progress=False).records[0]
    assert (stopped["num_steps"], stopped["truncated"]) == (1, False)
    assert (walked["num_steps"], walked["truncated"]) == (1, True)
    env.close()
