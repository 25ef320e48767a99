"""Test-session setup: a fresh navgym cache, so every run generates houses and episodes itself
(a stale cache left on a machine can never hide a bug)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def fresh_navgym_cache(tmp_path_factory):
    if os.environ.get("NAVGYM_TEST_REUSE_CACHE"):
        yield
        return
    previous = os.environ.get("NAVGYM_CACHE")
    os.environ["NAVGYM_CACHE"] = str(tmp_path_factory.mktemp("navgym_cache"))
    yield
    if previous is None:
        os.environ.pop("NAVGYM_CACHE", None)
    else:
        os.environ["NAVGYM_CACHE"] = previous
