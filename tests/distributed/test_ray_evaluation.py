"""Evaluation on Ray actors: the serial run's records, nothing lost when a worker dies, the CLI.

A local Ray with 2 CPUs starts once for the module and stops after it (about 6 s here).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import warnings

import pytest

ray = pytest.importorskip("ray")

from navgym.distributed import RayEpisodeRunner, WorkerError, WorkerLostWarning  # noqa: E402
from navgym.evaluation import EvalSpec, evaluate, read_records  # noqa: E402

ENV = "PointNav-ProcHouseSmall-v0"
#: The random agent stops early now and then: short episodes of varied length.
SPEC = EvalSpec(ENV, "random", "val", agent_options={"stop_probability": 0.03})
EPISODES = 20


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def serial_records():
    agent, env = SPEC.build()
    try:
        return evaluate(env, agent, EPISODES, seed=3, progress=False).records
    finally:
        env.close()


def test_ray_run_gives_the_serial_records(local_ray, serial_records, tmp_path):
    agent, env = SPEC.build()
    runner = RayEpisodeRunner(SPEC, workers=2)
    result = evaluate(env, agent, EPISODES, out=tmp_path, seed=3, progress=False, runner=runner)
    env.close()
    assert len(set(runner.pids)) == 2 and os.getpid() not in runner.pids  # two worker processes ran them
    assert result.records == serial_records
    written, _ = read_records(tmp_path / "episodes.jsonl")
    assert sorted(written, key=lambda r: r["episode_index"]) == serial_records
    assert len({r["num_steps"] for r in serial_records}) > 3  # varied episodes: a shuffled order would show


def test_a_killed_worker_loses_nothing(local_ray, serial_records, tmp_path):
    """SIGKILL one worker process after the first finished episode: its episode runs again on a
    new worker; every record is written once and equals the serial run's."""
    runner = RayEpisodeRunner(SPEC, workers=2)

    def killing(indices, seed, frames):
        for count, item in enumerate(runner(indices, seed, frames)):
            if count == 1:
                os.kill(runner.pids[0], signal.SIGKILL)
            yield item

    agent, env = SPEC.build()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate(env, agent, EPISODES, out=tmp_path, seed=3, progress=False, runner=killing)
    env.close()
    assert any(issubclass(w.category, WorkerLostWarning) for w in caught)
    assert len(runner.pids) == 3  # the replacement
    assert result.records == serial_records
    lines = (tmp_path / "episodes.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["episode_index"] for line in lines) == list(range(EPISODES))


def test_an_interrupted_ray_run_resumes(local_ray, serial_records, tmp_path):
    """A run stopped after 5 episodes keeps them; --resume runs only the other 15 on Ray."""
    runner = RayEpisodeRunner(SPEC, workers=2)

    def interrupted(indices, seed, frames):
        for count, item in enumerate(runner(indices, seed, frames)):
            if count == 5:
                raise KeyboardInterrupt
            yield item

    agent, env = SPEC.build()
    with pytest.raises(KeyboardInterrupt):
        evaluate(env, agent, EPISODES, out=tmp_path, seed=3, progress=False, runner=interrupted)
    kept, _ = read_records(tmp_path / "episodes.jsonl")
    assert len(kept) == 5
    resumed = evaluate(env, agent, EPISODES, out=tmp_path, seed=3, progress=False, resume=True, runner=RayEpisodeRunner(SPEC, workers=2))
    env.close()
    assert resumed.reused == 5
    assert resumed.records == serial_records


def test_a_worker_that_cannot_build_its_agent_says_why(local_ray):
    bad = EvalSpec(ENV, "random", "val", agent_options={"stop_probability": 5})
    with pytest.raises(WorkerError, match="stop_probability"):
        list(RayEpisodeRunner(bad, workers=1)([0, 1], 0, False))


def test_bad_runner_arguments_are_named():
    with pytest.raises(ValueError, match="workers"):
        RayEpisodeRunner(SPEC, workers=0)
    with pytest.raises(ValueError, match="max_attempts"):
        RayEpisodeRunner(SPEC, max_attempts=0)


def test_without_ray_the_extra_is_named(monkeypatch):
    from gymnasium.error import DependencyNotInstalled

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(DependencyNotInstalled, match=r"navgym\[ray\]"):
        RayEpisodeRunner(SPEC)


def test_cli_ray_evaluation_and_resume(local_ray, serial_records, tmp_path, capsys):
    from navgym.cli import main

    out = tmp_path / "run"
    args = ["evaluate", "--env", ENV, "--agent", "random", "--agent-option", "stop_probability=0.03", "--seed", "3", "--out", str(out)]
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--episodes", "6", "--ray", "--workers", "2"])
    assert exit_.value.code == 0
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--episodes", "8", "--resume", "--ray"])  # --ray last: no ADDRESS
    assert exit_.value.code == 0
    records, _ = read_records(out / "episodes.jsonl")
    assert sorted(records, key=lambda r: r["episode_index"]) == serial_records[:8]
    assert "6 of these 8 episodes were read" in capsys.readouterr().err


def test_cli_without_ray_names_the_extra(monkeypatch, capsys):
    from navgym.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--env", ENV, "--agent", "random", "--episodes", "2", "--ray", "auto"])
    assert exit_.value.code == 2
    assert 'pip install "navgym[ray]"' in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "address"), [(["--ray"], None), (["--ray", "auto"], "auto"), ([], None)])
def test_cli_train_ray_option_reaches_train_args(monkeypatch, tmp_path, extra, address):
    """`navgym train --ray [ADDRESS]` sets TrainArgs.ray / ray_address (the run itself is stubbed:
    test_ray_vec_env.py trains on Ray for real)."""
    import navgym.training
    from navgym.cli import main

    seen = {}

    def fake_train(args):
        seen["args"] = args
        raise SystemExit(0)

    monkeypatch.setattr(navgym.training, "train", fake_train)
    with pytest.raises(SystemExit):
        main(["train", "--head", "dense", "--timesteps", "64", "--out", str(tmp_path / "run"), *extra])
    args = seen["args"]
    assert args.ray is bool(extra) and args.ray_address == address
