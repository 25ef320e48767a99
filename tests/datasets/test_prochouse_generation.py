"""ProcHouse generation goes through the Simulator interface and its cache never changes what a
seed gives: episodes depend on the embodiment's camera (goal views), so the cache key does too."""

from __future__ import annotations

import gymnasium as gym
import pytest

import navgym  # noqa: F401
from navgym.datasets.prochouse import prochouse_dataset

SMALL = {"num_scenes": 1, "episodes_per_scene": 4}


def _episodes(env_id: str, use_cache: bool, **kwargs):
    nav = gym.make(env_id, **SMALL, **kwargs).unwrapped
    dataset = prochouse_dataset(nav.task, nav.embodiment, "val", nav.sim_factory, use_cache=use_cache, **SMALL)
    return [(e.episode_id, e.start_position, e.goals[0].position, (e.info or {}).get("goal_rotation")) for e in dataset.episodes]


def test_a_cached_dataset_equals_a_fresh_one_for_another_camera():
    gym.make("ImageNav-ProcHouse-v0", **SMALL)  # fills the cache for the default camera first
    assert _episodes("ImageNav-ProcHouse-v0", True, hfov=45, camera_height=0.6) == _episodes("ImageNav-ProcHouse-v0", False, hfov=45, camera_height=0.6)


def test_generation_reads_only_the_simulator_interface():
    # The generator module names no backend and never reaches into a backend's own scene.
    import inspect

    import navgym.datasets.prochouse as generation

    source = inspect.getsource(generation)
    assert "EmbeddedSimulator" not in source and "sim.scene." not in source and "sims.embedded" not in source


def test_generation_shows_progress_off_a_terminal_too(tmp_path):
    # Issue 19: a training job logging to a file showed nothing for minutes while episodes generated.
    import os
    import subprocess
    import sys

    code = "import gymnasium as gym, navgym; gym.make('ObjectNav-ProcHouse-v0', num_scenes=1, episodes_per_scene=2)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NAVGYM_CACHE": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Generating ObjectNav val episodes" in result.stderr


def test_accept_distance_skips_the_field_when_the_straight_line_is_already_too_long():
    import numpy as np

    from navgym.datasets.prochouse import accept_distance

    class Geodesics:  # counts the (costly) geodesic queries; returns 1.2 x the straight line
        calls = 0

        def geodesic_distance(self, start, goals):
            Geodesics.calls += 1
            return 1.2 * float(np.min(np.hypot(goals[:, 0] - start[0], goals[:, 2] - start[2])))

    sim, rng = Geodesics(), np.random.default_rng(0)
    start = np.zeros(3)
    state = rng.bit_generator.state
    # 3 m away on the floor (and 5 m up: height does not count) against a 1.25-2 m bin: no query, no draw.
    assert accept_distance(sim, rng, start, np.array([[3.0, 5.0, 0.0]]), (1.25, 2.0)) is None
    assert Geodesics.calls == 0 and rng.bit_generator.state == state
    # 1.5 m away: the geodesic (1.8 m) is asked for and accepted.
    assert accept_distance(sim, rng, start, np.array([[0.0, 0.0, 1.5], [9.0, 0.0, 9.0]]), (1.25, 2.0)) == pytest.approx(1.8)
    assert Geodesics.calls == 1
