"""Odd inputs to the Ray runner and vec env: bad or unreachable addresses fail at once with the
address named, more workers than the cluster's CPUs is refused (it used to wait forever), and an
episode that raises lets the other workers' running episodes finish and be kept.
"""

from __future__ import annotations

import socket
import sys
import time

import pytest

ray = pytest.importorskip("ray")

from navgym.distributed import RayConnectionError, RayEpisodeRunner, RayVecEnv, check_address, connect  # noqa: E402
from navgym.distributed import evaluation as ray_evaluation  # noqa: E402
from navgym.errors import InvalidArgumentError, NavgymError  # noqa: E402
from navgym.evaluation import EvalSpec, evaluate, read_records  # noqa: E402

ENV = "PointNav-ProcHouseSmall-v0"
SPEC = EvalSpec(ENV, "random", "val", agent_options={"stop_probability": 0.3})


def _closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def no_ray_init(monkeypatch):
    """ray.init must not be reached (for an unreachable address it retries for minutes)."""
    if ray.is_initialized():
        pytest.skip("a Ray from another test module is still up")
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail(f"ray.init({a}, {k}) was called"))


@pytest.mark.parametrize("address", ["notanaddress", "host:notaport", "host:0", ":6379", "", "ray://", 6379,
                                     "http://127.0.0.1:8265", "head node:6379", "head/x:6379"])
def test_malformed_addresses_are_named_when_built(address):
    with pytest.raises(InvalidArgumentError, match="address=") as err:
        RayEpisodeRunner(SPEC, address=address)
    assert repr(address) in str(err.value) and "auto" in str(err.value)
    with pytest.raises(InvalidArgumentError, match="address="):
        check_address(address)


@pytest.mark.parametrize("address", ["auto", "localhost:6379", "10.0.0.5:6379", "ray://head:10001", "[::1]:6379", None])
def test_good_addresses_pass(address):
    assert check_address(address) == address


def test_rays_own_local_means_a_new_local_ray():
    """address='local' (Ray's word, which connect() and RayVecEnv passed to ray.init before the
    address check) means what no address means."""
    assert check_address("local") is None and check_address(" local ") is None


def test_unreachable_address_fails_fast_naming_it(no_ray_init):
    address = f"127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(RayConnectionError, match="ray start --head") as err:
        connect(address)
    assert address in str(err.value)
    assert isinstance(err.value, ConnectionError) and isinstance(err.value, NavgymError)
    assert time.monotonic() - start < 15


def test_vec_env_unreachable_address_fails_fast(no_ray_init):
    address = f"127.0.0.1:{_closed_port()}"
    with pytest.raises(RayConnectionError, match=address):
        RayVecEnv([lambda: None], address=address, ray_init_kwargs={"runtime_env": {}})
    with pytest.raises(RayConnectionError, match=address):
        RayVecEnv([lambda: None], address=address)
    with pytest.raises(InvalidArgumentError, match="address='nohost'"):
        RayVecEnv([lambda: None], address="nohost")


def test_cli_unreachable_address_is_a_one_line_error(no_ray_init, capsys, tmp_path):
    from navgym.cli import main

    address = f"127.0.0.1:{_closed_port()}"
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--env", ENV, "--agent", "random", "--episodes", "2", "--ray", address])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert address in err and "Traceback" not in err
    # with --out: refused before the run folder is made
    with pytest.raises(SystemExit):
        main(["evaluate", "--env", ENV, "--agent", "random", "--episodes", "2", "--ray", address, "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_cli_malformed_address_is_a_usage_error(capsys, tmp_path):
    from navgym.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--env", ENV, "--agent", "random", "--episodes", "2", "--ray", "headnode"])
    assert exit_.value.code == 2
    assert "address='headnode'" in capsys.readouterr().err
    # the dashboard's job address is named as such; train names its option as the user wrote it
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--env", ENV, "--agent", "random", "--episodes", "2", "--ray", "http://127.0.0.1:8265"])
    assert exit_.value.code == 2 and "the dashboard's address" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--ray", "nonsense", "--timesteps", "64", "--out", str(tmp_path / "t")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--ray='nonsense' is not a Ray address" in err and "ray_address" not in err and not (tmp_path / "t").exists()


def test_no_address_starts_a_local_ray_even_with_ray_address_set(monkeypatch):
    """`--ray` alone means a local Ray. With RAY_ADDRESS set (a `ray job submit` driver has it) or
    `ray start` running here, ray.init(num_cpus=...) joined that cluster and refused num_cpus
    ("When connecting to an existing cluster, num_cpus and num_gpus must not be provided")."""
    if ray.is_initialized():
        pytest.skip("a Ray from another test module is still up")
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{_closed_port()}")
    try:
        assert connect(None, num_cpus=1) is True
        assert ray.cluster_resources().get("CPU") == 1.0
    finally:
        ray.shutdown()


# -- on a local Ray of 2 CPUs ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def test_more_workers_than_cluster_cpus_is_refused(local_ray, monkeypatch):
    """3 one-CPU workers on a 2-CPU Ray: the third could never start, and the run waited for it
    forever. Now: an error naming workers, the cluster's CPUs and the fix, before any worker starts."""

    def no_start(self, worker_class, count):  # starting 3 actors here would hang the test
        raise AssertionError(f"{count} workers were started on a 2-CPU Ray")

    monkeypatch.setattr(RayEpisodeRunner, "_start", no_start)
    with pytest.raises(InvalidArgumentError) as err:
        list(RayEpisodeRunner(SPEC, workers=3)([0, 1, 2, 3], 0, False))
    assert "workers=3" in str(err.value) and "has 2" in str(err.value) and "--workers 2" in str(err.value)


def test_more_workers_than_episodes_starts_only_what_is_needed(local_ray):
    runner = RayEpisodeRunner(SPEC, workers=2)
    records = [record for record, _ in runner([4], 0, False)]
    assert [r["episode_index"] for r in records] == [4] and len(runner.pids) == 1


class _FailingWorker(ray_evaluation._EpisodeWorker):
    """Episode 0 raises at once; episode 1 takes a while, then finishes."""

    def run(self, index, seed, frames):
        if index == 0:
            raise RuntimeError("episode 0 is broken")
        if index == 1:
            time.sleep(2.0)
        return super().run(index, seed, frames)


def test_an_episode_error_keeps_the_episodes_other_workers_were_running(local_ray, tmp_path, monkeypatch):
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    try:
        monkeypatch.setattr(ray_evaluation, "_EpisodeWorker", _FailingWorker)
        agent, env = SPEC.build()
        with pytest.raises(RuntimeError, match="episode 0 is broken"):
            evaluate(env, agent, 4, out=tmp_path, seed=0, progress=False, runner=RayEpisodeRunner(SPEC, workers=2))
        env.close()
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    kept, _ = read_records(tmp_path / "episodes.jsonl")
    assert [r["episode_index"] for r in kept] == [1]  # finished while episode 0 failed: kept, not run again on resume
