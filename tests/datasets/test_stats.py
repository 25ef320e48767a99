"""navgym.datasets.stats and ``navgym dataset-stats``: the numbers behind docs/datasets.md's size table."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from typer.testing import CliRunner

import navgym  # noqa: F401  (registers the envs)
from navgym.cli import app
from navgym.datasets.stats import dataset_statistics, markdown_table, storeys, summary_row


def test_storeys_groups_floor_heights():
    assert storeys([]) == 0
    assert storeys([0.0, 0.02, -0.01]) == 1
    assert storeys([0.0, 2.9, 3.0, 6.1]) == 3


@pytest.fixture(scope="module")
def small():
    env = gym.make("ObjectNav-ProcHouse-v0", split="val", num_scenes=2, episodes_per_scene=3)
    yield env
    env.close()


def test_scene_and_episode_numbers_follow_the_scene(small):
    scenes, episodes = dataset_statistics(small, progress=False)
    assert [s.scene_id for s in scenes] == sorted({e.scene_id for e in small.unwrapped.dataset.episodes}, key=[e.scene_id for e in small.unwrapped.dataset.episodes].index)
    assert len(episodes) == 6
    for s in scenes:
        sim = small.unwrapped.sim_factory(s.scene_id)
        assert s.rooms == len(sim.scene_graph().rooms) >= 3 and s.storeys == 1
        assert s.instances == sum(1 for i in sim.object_instances() if not i.structural) > 10
        rooms_area = sum((r.bounds[2] - r.bounds[0]) * (r.bounds[3] - r.bounds[1]) for r in sim.scene_graph().rooms)
        assert 0.2 * rooms_area < s.navigable_area < rooms_area  # furniture and walls take the rest
    for e in episodes:
        assert e.euclidean > 0 and e.geodesic >= 0.95 * e.euclidean  # a path is never shorter than the straight line
    row = summary_row("small", scenes, episodes)
    assert row["scenes"] == "2" and row["episodes"] == "6" and "| small | 2 | 6 |" in markdown_table([row])


def test_cli_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "stats.json"
    result = CliRunner().invoke(app, ["dataset-stats", "--env", "ObjectNav-ProcHouse-v0", "--split", "val", "--env-option", "num_scenes=1",
                                      "--env-option", "episodes_per_scene=2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "| ObjectNav-ProcHouse-v0 (val) | 1 | 2 |" in result.output
    records = json.loads(out.read_text())["ObjectNav-ProcHouse-v0"]
    assert len(records["scenes"]) == 1 and len(records["episodes"]) == 2
    assert np.isclose(records["episodes"][0]["ratio"], records["episodes"][0]["geodesic"] / records["episodes"][0]["euclidean"])
    bad = CliRunner(env={"COLUMNS": "1000"}).invoke(app, ["dataset-stats", "--env", "NoSuchNav-ProcHouse-v0"])
    assert bad.exit_code != 0 and "NoSuchNav" in bad.output
