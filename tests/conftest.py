"""Test-session setup: a fresh navgym cache, so every run generates houses and episodes itself
(a stale cache left on a machine can never hide a bug). Under pytest-xdist (README's `-n 2`) the
workers of one run share it: each house and episode set is generated once, not once per worker,
and the cache's cross-process locks are exercised by the suite itself."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def fresh_navgym_cache(tmp_path_factory):
    if os.environ.get("NAVGYM_TEST_REUSE_CACHE"):
        yield
        return
    previous = os.environ.get("NAVGYM_CACHE")
    if os.environ.get("PYTEST_XDIST_WORKER"):  # this run's base folder, shared by its workers
        cache = tmp_path_factory.getbasetemp().parent / "navgym_cache"
        cache.mkdir(exist_ok=True)
    else:
        cache = tmp_path_factory.mktemp("navgym_cache")
    os.environ["NAVGYM_CACHE"] = str(cache)
    yield
    if previous is None:
        os.environ.pop("NAVGYM_CACHE", None)
    else:
        os.environ["NAVGYM_CACHE"] = previous


@pytest.fixture(scope="session", autouse=True)
def sb3_logs_in_the_run_folder(tmp_path_factory):
    """stable-baselines3 makes a folder in the system temp folder (SB3-<date>) for every learn()
    without a TensorBoard folder; the suite's go under its own temp folder instead."""
    previous = os.environ.get("SB3_LOGDIR")
    os.environ["SB3_LOGDIR"] = str(tmp_path_factory.mktemp("sb3_logs"))
    yield
    if previous is None:
        os.environ.pop("SB3_LOGDIR", None)
    else:
        os.environ["SB3_LOGDIR"] = previous


@pytest.fixture(autouse=True)
def progress_setting_restored():
    """`navgym ... --no-progress` run in this process (typer's CliRunner) sets TQDM_DISABLE for the
    rest of the process; tests after it get the setting they started with."""
    previous = os.environ.get("TQDM_DISABLE")
    yield
    if previous is None:
        os.environ.pop("TQDM_DISABLE", None)
    else:
        os.environ["TQDM_DISABLE"] = previous


@pytest.fixture
def fill_caches_in_processes():
    """The function below, for tests that check caches are byte-identical across processes."""
    return _fill_caches_in_processes


def _fill_caches_in_processes(tmp_path, code: str, count: int = 3):
    """Run ``code`` in ``count`` separate Python processes (other pids and hash seeds), each with a
    fresh NAVGYM_CACHE under ``tmp_path``; returns the cache folders and, per cache, the sha256
    of every file in it (relative path -> digest)."""
    import hashlib
    import subprocess
    import sys

    caches = [tmp_path / f"cache{i}" for i in range(count)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env={**os.environ, "NAVGYM_CACHE": str(cache), "PYTHONHASHSEED": str(i)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for i, cache in enumerate(caches)
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
    digests = [
        {str(p.relative_to(cache)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(cache.rglob("*")) if p.is_file()}
        for cache in caches
    ]
    return caches, digests
