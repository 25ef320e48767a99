"""UserMatchedGoalCamera and RSRNavReward: ranges, seeding, images and rewards checked against
geometry that can be worked out by hand (a box room) and on registered ProcHouse envs."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import navgym  # noqa: F401  (registers the ids)
from navgym.envs.nav_env import NavEnv
from navgym.scenes.builder import SceneBuilder
from navgym.core.geometry import wrap_angle
from navgym.embodiments.habitat import HabitatDiscreteAgent
from navgym.sims.base import AgentState, CameraSpec
from navgym.sims.embedded.simulator import EmbeddedSimulator
from navgym.datasets.episodes import Episode, EpisodeDataset, NavigationGoal
from navgym.tasks.imagenav import ImageNavTask
from navgym.wrappers import (
    EXTREME,
    USER_MATCHED,
    GoalCameraRanges,
    RSRNavReward,
    UserMatchedGoalCamera,
    draw_goal_camera,
)
from navgym.wrappers.privileged import LookThenGoalView, follow_shortest_path, follow_to_goal_view

SMALL = {"num_scenes": 2, "episodes_per_scene": 3}
AGENT_CAMERA = CameraSpec(128, 128, 90.0, 1.25)

# -- a box room with one ImageNav episode --------------------------------------------------------
#: The goal photo is taken at GOAL facing -z, i.e. the north wall (z = 0) GOAL[2] metres away.
START, GOAL = [0.5, 0.0, 3.5], [5.0, 0.0, 2.0]


def room_env(embodiment=None, **task_kwargs) -> NavEnv:
    """A 6 m x 4 m room (x in [0, 6], z in [0, 4]), walls 2.5 m high, nothing inside."""
    b = SceneBuilder("room")
    floor = b.material("wood", "wood", (150, 100, 60), np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8))
    paint = b.material("paint", "paint", (200, 200, 220))
    b.add_box((-0.1, -0.1, -0.1), (6.1, 0.0, 4.1), floor, category="floor")
    b.add_box((-0.1, 2.5, -0.1), (6.1, 2.6, 4.1), paint, category="ceiling")
    b.add_box((-0.1, 0.0, -0.1), (6.1, 2.5, 0.0), paint, category="wall")
    b.add_box((-0.1, 0.0, 4.0), (6.1, 2.5, 4.1), paint, category="wall")
    b.add_box((-0.1, 0.0, 0.0), (0.0, 2.5, 4.0), paint, category="wall")
    b.add_box((6.0, 0.0, 0.0), (6.1, 2.5, 4.0), paint, category="wall")
    scene = b.build()
    episode = Episode(
        episode_id="0",
        scene_id="room",
        start_position=START,
        start_rotation=[0.0, 0.0, 0.0, 1.0],
        goals=[NavigationGoal(position=GOAL)],
        info={"goal_rotation": [0.0, 0.0, 0.0, 1.0]},
    )
    return NavEnv(ImageNavTask(**task_kwargs), EpisodeDataset(episodes=[episode], kind="imagenav"), lambda _: EmbeddedSimulator(scene),
                  embodiment=embodiment)


def make_small(env_id: str, **kwargs) -> gym.Env:
    return gym.make(env_id, **{**SMALL, **kwargs})


def fixed(height: float, pitch: float = 0.0, hfov: float = 90.0) -> GoalCameraRanges:
    return GoalCameraRanges(height=(height, height), pitch=(pitch, pitch), hfov=(hfov, hfov))


# -- the draws -------------------------------------------------------------------------------------
def _assert_in_and_covering(values: np.ndarray, low: float, high: float, name: str) -> None:
    assert values.min() >= low and values.max() <= high, f"{name} outside [{low}, {high}]: [{values.min()}, {values.max()}]"
    tenth = (high - low) / 10.0
    assert (values <= low + tenth).any(), f"{name}: no draw in the lowest 10% of [{low}, {high}]"
    assert (values >= high - tenth).any(), f"{name}: no draw in the highest 10% of [{low}, {high}]"


CUSTOM = GoalCameraRanges(height=(0.3, 0.6), pitch=(-45.0, 10.0), hfov=(20.0, 30.0), roll=(-10.0, 10.0))


@pytest.mark.parametrize("ranges", [USER_MATCHED, EXTREME, CUSTOM], ids=["user", "extreme", "custom"])
@pytest.mark.parametrize("agent_pitch", [0.0, -10.0])
def test_draws_stay_inside_the_ranges_and_cover_them(ranges, agent_pitch):
    rng = np.random.default_rng(0)
    agent = AGENT_CAMERA.with_(pitch=agent_pitch)
    cameras = [draw_goal_camera(ranges, agent, rng) for _ in range(1000)]
    height = np.array([c.camera_height for c in cameras])
    pitch_delta = np.array([c.pitch for c in cameras]) - agent_pitch
    hfov = np.array([c.hfov for c in cameras])
    roll = np.array([c.roll for c in cameras])
    _assert_in_and_covering(height, *ranges.height, "height")
    _assert_in_and_covering(pitch_delta, *ranges.pitch, "pitch")
    if ranges.integer_hfov:  # FGPrompt's randint(60, 120): 60..119, every value drawn
        assert np.array_equal(hfov, np.round(hfov))
        assert set(hfov.astype(int)) == set(range(int(ranges.hfov[0]), int(ranges.hfov[1])))
    else:
        _assert_in_and_covering(hfov, *ranges.hfov, "hfov")
    if ranges.roll == (0.0, 0.0):
        assert not roll.any()
    else:
        _assert_in_and_covering(roll, *ranges.roll, "roll")
    # The image keeps the observation's size; only the colour image is rendered.
    assert {(c.width, c.height, c.outputs) for c in cameras} == {(128, 128, ("rgb",))}


def test_user_setting_is_fgprompts_and_extreme_contains_it():
    # FGPrompt: 1.25 m + U(-0.45, 0.25); pitch delta U(-5°, 5°); HFOV randint(60, 120).
    assert USER_MATCHED.height == pytest.approx((1.25 - 0.45, 1.25 + 0.25))
    assert (USER_MATCHED.pitch, USER_MATCHED.hfov, USER_MATCHED.integer_hfov) == ((-5.0, 5.0), (60.0, 120.0), True)
    for field in ("height", "pitch", "hfov"):
        (user_lo, user_hi), (ext_lo, ext_hi) = getattr(USER_MATCHED, field), getattr(EXTREME, field)
        assert ext_lo < user_lo and user_hi < ext_hi, field


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"height": (0.0, 1.0)}, "height"),
        ({"height": (1.0, 11.0)}, "height"),
        ({"height": (1.5, 0.8)}, "height"),
        ({"pitch": (-91.0, 0.0)}, "pitch"),
        ({"hfov": (60.0, 180.0)}, "hfov"),
        ({"hfov": (float("nan"), 90.0)}, "hfov"),
        ({"hfov": (90.2, 90.9), "integer_hfov": True}, "hfov"),
        ({"roll": (0.0, 181.0)}, "roll"),
        ({"height": 1.0}, "height"),
    ],
)
def test_bad_ranges_are_refused_naming_the_field(kwargs, field):
    base = {"height": (0.8, 1.5), "pitch": (-5.0, 5.0), "hfov": (60.0, 120.0)}
    with pytest.raises(ValueError, match=f"GoalCameraRanges.{field}="):
        GoalCameraRanges(**{**base, **kwargs})


def test_unknown_setting_and_envs_without_an_image_goal_are_refused():
    with pytest.raises(ValueError, match="setting='phone'"):
        UserMatchedGoalCamera(room_env(), setting="phone")
    no_goal_image = NavEnv(room_env().task, room_env().dataset, room_env().sim_factory, sensors=("rgb",))
    with pytest.raises(ValueError, match="image goal"):
        UserMatchedGoalCamera(no_goal_image)
    with pytest.raises(ValueError, match="ObjectNav"):
        UserMatchedGoalCamera(make_small("ObjectNav-ProcHouse-v0"))


def test_the_goal_camera_refuses_to_sit_outside_an_observation_wrapper():
    """Below a frame stack the re-taken goal would be merged unstacked into stacked observations
    (and the stack's older slot keep the agent's goal image); below a filter or a flattener the
    goal key is gone or changed: each is refused at construction, saying where the wrapper goes.
    Around gym.make (a TimeLimit, order enforcing and checker below it) and inside the frame stack
    it works."""
    for inner in (
        gym.wrappers.FrameStackObservation(make_small("ImageNav-ProcHouse-v0", resolution=32), 2),
        gym.wrappers.FilterObservation(make_small("ImageNav-ProcHouse-v0", resolution=32), ["rgb"]),
        gym.wrappers.FlattenObservation(make_small("ImageNav-ProcHouse-v0", resolution=32)),
    ):
        with pytest.raises(ValueError, match=r"'imagegoal'.*directly around gym.make"):
            UserMatchedGoalCamera(inner, "extreme")
    env = gym.wrappers.FrameStackObservation(UserMatchedGoalCamera(make_small("ImageNav-ProcHouse-v0", resolution=32), "extreme"), 2)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    obs, *_ = env.step(2)
    np.testing.assert_array_equal(obs["imagegoal"][0], obs["imagegoal"][1])  # the re-taken goal in both slots
    env.close()


# -- the wrapper on real resets --------------------------------------------------------------------
@pytest.mark.parametrize("task", ["ImageNav", "InstanceImageNav"])
def test_real_resets_draw_inside_the_ranges_and_same_seed_same_camera(task):
    env = UserMatchedGoalCamera(make_small(f"{task}-ProcHouse-v0"), setting="user")
    twin = UserMatchedGoalCamera(make_small(f"{task}-ProcHouse-v0"), setting="user")
    goal_key = env.goal_sensors[0]
    cameras = []
    for seed in range(12):
        obs, info = env.reset(seed=seed)
        twin_obs, twin_info = twin.reset(seed=seed)
        camera = info["goal_camera"]
        assert camera == twin_info["goal_camera"]
        np.testing.assert_array_equal(obs[goal_key], twin_obs[goal_key])
        assert 0.8 <= camera["camera_height"] <= 1.5 and -5.0 <= camera["pitch"] <= 5.0
        assert camera["hfov"] == int(camera["hfov"]) and 60 <= camera["hfov"] < 120
        assert all(type(v) in (str, float, int) for v in camera.values())
        assert obs[goal_key].shape == env.observation_space[goal_key].shape and obs[goal_key].dtype == np.uint8
        cameras.append((camera["camera_height"], camera["pitch"], camera["hfov"]))
    assert len(set(cameras)) == len(cameras), "different seeds should draw different cameras"
    # Unseeded resets continue the seeded stream: a fresh draw each time.
    assert env.reset()[1]["goal_camera"] != env.reset()[1]["goal_camera"]


@pytest.mark.parametrize("task", ["ImageNav", "InstanceImageNav"])
def test_agent_setting_leaves_the_goal_image_bit_identical(task):
    plain = make_small(f"{task}-ProcHouse-v0")
    wrapped = UserMatchedGoalCamera(make_small(f"{task}-ProcHouse-v0"), setting="agent")
    key = wrapped.goal_sensors[0]
    for seed in (0, 1, 2):
        obs, info = plain.reset(seed=seed)
        wrapped_obs, wrapped_info = wrapped.reset(seed=seed)
        assert wrapped_info["episode_id"] == info["episode_id"]
        np.testing.assert_array_equal(wrapped_obs[key], obs[key])
        assert wrapped_info["goal_camera"]["setting"] == "agent"
        np.testing.assert_array_equal(wrapped.step(1)[0][key], plain.step(1)[0][key])


def test_the_wrapper_does_not_change_which_episodes_are_played():
    # Paired agent- vs user-matched evaluation needs the same episodes in the same order.
    plain = make_small("ImageNav-ProcHouse-v0")
    wrapped = UserMatchedGoalCamera(make_small("ImageNav-ProcHouse-v0"), setting="extreme")
    plain_ids = [plain.reset(seed=7)[1]["episode_id"]] + [plain.reset()[1]["episode_id"] for _ in range(8)]
    wrapped_ids = [wrapped.reset(seed=7)[1]["episode_id"]] + [wrapped.reset()[1]["episode_id"] for _ in range(8)]
    assert wrapped_ids == plain_ids


@pytest.mark.parametrize("task", ["ImageNav", "InstanceImageNav"])
def test_the_goal_image_is_the_drawn_camera_at_the_goal_view_for_the_whole_episode(task):
    env = UserMatchedGoalCamera(make_small(f"{task}-ProcHouse-v0"), setting="extreme")
    nav = env.unwrapped
    key = env.goal_sensors[0]
    obs, info = env.reset(seed=3)
    plain_goal = nav.render_goal_observations()[key]
    assert not np.array_equal(obs[key], plain_goal)
    np.testing.assert_array_equal(obs[key], nav.render_goal_observations(env.goal_camera)[key])
    camera = info["goal_camera"]
    drawn = env.goal_camera
    assert (camera["camera_height"], camera["pitch"], camera["hfov"]) == (drawn.camera_height, drawn.pitch, drawn.hfov)
    for action in (1, 2, 1):
        np.testing.assert_array_equal(env.step(action)[0][key], obs[key])


def test_a_higher_goal_camera_moves_the_horizon_down_by_the_pinhole_amount():
    # Level camera, hfov 90° at 128 px: f = 64 px. The wall/floor edge of a wall D metres ahead
    # lies f * h / D pixels below the image centre, so 0.8 m -> 25.6 px, 1.5 m -> 48 px (D = 2).
    first_floor_rows = {}
    for height in (0.8, 1.5):
        env = UserMatchedGoalCamera(room_env(), setting=fixed(height))
        obs, info = env.reset(seed=0)
        nav = env.unwrapped
        pose = nav.task.goal_camera_pose(nav.episode)
        frame = nav.sim.render([(pose, AGENT_CAMERA.with_(camera_height=height, outputs=("rgb", "semantic")))])[0]
        # What the wrapper returns is exactly this camera's picture...
        np.testing.assert_array_equal(obs["imagegoal"], frame["rgb"])
        # ...in which the floor (instance 1) starts at the predicted row in every column that
        # sees the north wall (x < 6 at z = 0: columns below 64 + 64 * 1 / 2 = 96).
        floor = frame["semantic"][:, :90] == 1
        rows = np.argmax(floor, axis=0)
        expected = 64 + 64 * height / GOAL[2] - 0.5
        assert np.all(np.abs(rows - expected) <= 1.0), (height, rows.min(), rows.max(), expected)
        first_floor_rows[height] = rows.mean()
    assert first_floor_rows[1.5] - first_floor_rows[0.8] == pytest.approx(64 * 0.7 / GOAL[2], abs=1.0)


def test_goal_images_at_0_8_and_1_5_m_differ_as_heights_should_on_prochouse():
    # Pixel-wise, for a level pinhole camera a floor point in row v lies at depth f * h / (v - cy):
    # where both pictures see the floor the depth ratio is exactly 1.5 / 0.8.
    env = UserMatchedGoalCamera(make_small("ImageNav-ProcHouse-v0"), setting="agent")
    ratios = []
    for seed in range(4):
        env.reset(seed=seed)
        nav = env.unwrapped
        floors = {i.id for i in nav.sim.object_instances() if i.category == "floor"}
        pose = nav.task.goal_camera_pose(nav.episode)
        low, high = (nav.sim.render([(pose, AGENT_CAMERA.with_(camera_height=h, outputs=("depth", "semantic")))])[0] for h in (0.8, 1.5))
        both = np.isin(low["semantic"], list(floors)) & np.isin(high["semantic"], list(floors))
        both &= (low["depth"][..., 0] < AGENT_CAMERA.max_depth) & (high["depth"][..., 0] < AGENT_CAMERA.max_depth)
        ratios.extend((high["depth"][..., 0][both] / low["depth"][..., 0][both]).tolist())
        # The higher camera sees the floor start lower in the picture (the horizon is the centre
        # row for both; the nearest walls' foot moves down).
        low_floor, high_floor = np.isin(low["semantic"], list(floors)), np.isin(high["semantic"], list(floors))
        assert np.nonzero(high_floor)[0].mean() > np.nonzero(low_floor)[0].mean()
    assert len(ratios) > 1000
    np.testing.assert_allclose(ratios, 1.5 / 0.8, rtol=0.02)


# -- the reward ----------------------------------------------------------------------------------
ONE_STEP = math.radians(30.0)


def place(env: gym.Env, position, yaw: float) -> None:
    """Place the agent and refresh the wrapper's previous measures with a stop-free no-op pair."""
    env.unwrapped.sim.set_agent_state(AgentState.from_yaw(position, yaw))
    env.step("turn_left")
    env.step("turn_right")


def test_turning_to_the_goal_view_at_the_goal_and_stopping_earns_both_bonuses():
    env = RSRNavReward(room_env())
    env.reset(seed=0)
    place(env, GOAL, 3 * ONE_STEP)  # at the goal, 90° off the goal view
    for _ in range(3):
        _, reward, terminated, _, info = env.step("turn_right")
        assert info["reward_terms"]["angle"] == pytest.approx(ONE_STEP)
        assert reward == pytest.approx(ONE_STEP - 0.01)
        assert not terminated
    _, reward, terminated, _, info = env.step("stop")
    assert terminated and info["success"] and info["angle_to_goal"] == pytest.approx(0.0, abs=1e-9)
    assert reward == pytest.approx(5.0 + 5.0 - 0.01)
    assert info["reward_terms"] == pytest.approx({"distance": 0.0, "angle": 0.0, "slack": -0.01, "success": 5.0, "angle_success": 5.0, "failed_stop": 0.0})


def test_stopping_at_the_goal_facing_away_earns_only_the_success_bonus():
    env = RSRNavReward(room_env())
    env.reset(seed=0)
    place(env, GOAL, ONE_STEP)  # 30° off: more than the 25° of the angle bonus
    _, reward, _, _, info = env.step("stop")
    assert info["success"] and reward == pytest.approx(5.0 - 0.01)
    # Turning away near the goal is punished by the angle term.
    env.reset(seed=0)
    place(env, [GOAL[0] - 0.5, 0.0, GOAL[2]], 0.0)
    _, reward, _, _, info = env.step("turn_left")
    assert reward == pytest.approx(-ONE_STEP - 0.01)


def test_far_from_the_goal_turning_is_not_shaped_and_stopping_earns_nothing():
    env = RSRNavReward(room_env())
    _, info = env.reset(seed=0)
    assert info["distance_to_goal"] > 4.0
    for action in ("turn_left", "turn_left", "turn_right"):
        _, reward, *_ = env.step(action)
        assert reward == pytest.approx(-0.01)
    _, reward, terminated, _, info = env.step("stop")
    assert terminated and not info["success"] and reward == pytest.approx(-0.01)
    # failed_stop_reward (navgym's addition) penalises exactly that stop, and no step before it
    env = RSRNavReward(room_env(), failed_stop_reward=-2.5)
    env.reset(seed=0)
    _, reward, *_ = env.step("turn_left")
    assert reward == pytest.approx(-0.01)
    _, reward, terminated, _, info = env.step("stop")
    assert terminated and reward == pytest.approx(-2.51) and info["reward_terms"]["failed_stop"] == -2.5


def test_failed_stop_per_metre_grows_with_the_distance_left_beyond_the_success_radius():
    env = RSRNavReward(room_env(), failed_stop_per_metre=-1.5, failed_stop_reward=-0.25)
    _, info = env.reset(seed=0)
    _, reward, terminated, _, info = env.step("stop")
    beyond = info["distance_to_goal"] - 1.0  # ImageNav's success radius
    assert terminated and not info["success"] and beyond > 3.0
    assert info["reward_terms"]["failed_stop"] == pytest.approx(-0.25 - 1.5 * beyond)
    assert reward == pytest.approx(-0.01 - 0.25 - 1.5 * beyond)
    # Just outside the radius (not facing the goal: no success) it costs almost only the flat part;
    # a successful stop costs nothing.
    env.reset(seed=0)
    place(env, [GOAL[0] - 1.05, 0.0, GOAL[2]], 0.0)
    _, _, terminated, _, info = env.step("stop")
    assert terminated and not info["success"]
    assert info["reward_terms"]["failed_stop"] == pytest.approx(-0.25 - 1.5 * (info["distance_to_goal"] - 1.0)) and info["reward_terms"]["failed_stop"] > -0.4
    env.reset(seed=0)
    place(env, GOAL, 0.0)
    _, _, _, _, info = env.step("stop")
    assert info["success"] and info["reward_terms"]["failed_stop"] == 0.0


@pytest.mark.parametrize("make", [room_env, lambda: make_small("ImageNav-ProcHouse-v0")], ids=["room", "prochouse"])
def test_following_the_shortest_path_is_rewarded_by_the_distance_covered(make):
    env = RSRNavReward(make())
    _, info = env.reset(seed=1)
    start_distance, forward_rewards = info["distance_to_goal"], []
    totals = {"reward": 0.0, "distance": 0.0, "slack": 0.0, "terms": 0.0}
    for _ in range(300):
        action = follow_shortest_path(env)
        _, reward, terminated, truncated, info = env.step(action)
        terms = info["reward_terms"]
        totals["reward"] += reward
        totals["distance"] += terms["distance"]
        totals["slack"] += terms["slack"]
        totals["terms"] += sum(terms.values())
        if action == "move_forward" and not info["collided"]:
            forward_rewards.append(reward)
        if terminated or truncated:
            break
    assert terminated and info["success"]
    assert forward_rewards and min(forward_rewards) > 0.0
    # The distance terms telescope to the distance covered; the reward is the sum of its terms.
    assert totals["distance"] == pytest.approx(start_distance - info["distance_to_goal"])
    assert totals["slack"] == pytest.approx(-0.01 * info["num_steps"])
    assert totals["reward"] == pytest.approx(totals["terms"])
    facing = info["angle_to_goal"] < math.radians(25)
    assert terms["success"] == 5.0 and terms["angle_success"] == (5.0 if facing else 0.0)


@pytest.mark.parametrize("make", [room_env, lambda: make_small("ImageNav-ProcHouse-v0")], ids=["room", "prochouse"])
def test_the_goal_view_follower_stops_where_the_goal_photo_was_taken(make):
    """bc_teacher="view": on past the success radius to within 0.3 m of the goal, turned to the
    goal photo's heading (within half a turn step). The shortest-path follower stops earlier."""
    env = make()
    half_turn = math.radians(env.unwrapped.embodiment.turn_angle) / 2
    for seed in (1, 2):
        ends = []
        for follow in (follow_shortest_path, follow_to_goal_view):
            env.reset(seed=seed)
            for _ in range(300):
                _, _, terminated, truncated, info = env.step(follow(env))
                if terminated or truncated:
                    break
            assert terminated and info["success"], follow.__name__
            ends.append(info)
        path, view = ends
        assert view["distance_to_goal"] <= 0.3 + 1e-6 and view["num_steps"] > path["num_steps"]
        assert view["angle_to_goal"] <= half_turn + 1e-6, view["angle_to_goal"]


@pytest.mark.parametrize("offset_deg", [0.0, 30.0, -60.0, 80.0, 120.0, -150.0, 180.0])
def test_the_look_teacher_turns_until_the_goal_photos_scene_is_in_view_then_follows_the_view_teacher(offset_deg):
    """bc_teacher="look": before any move it turns toward the goal photo's heading until that
    heading is within half the field of view: the shorter way while the two views overlap (less
    than one field of view apart), else to the left; then every label is the view teacher's, and
    the episode ends in success."""
    env = room_env()
    env.reset(seed=0)
    nav = env.unwrapped
    heading = nav.task.goal_heading(nav.episode)
    hfov = math.radians(nav.embodiment.camera.hfov)
    env.unwrapped.sim.set_agent_state(AgentState.from_yaw(START, heading + math.radians(offset_deg)))
    teacher = LookThenGoalView()
    turns, checked = 0, False
    for _ in range(300):
        error = wrap_angle(heading - nav.sim.get_agent_state().yaw)
        action = teacher(env)
        if not teacher.looked:
            turns += 1
            assert abs(error) > hfov / 2
            expected = "turn_left" if abs(error) >= hfov or error > 0 else "turn_right"
            assert action == expected, (error, action)
        else:
            if not checked:  # the look ends facing within half the field of view of the heading
                assert abs(error) <= hfov / 2 + 1e-6
                checked = True
            assert action == follow_to_goal_view(env)
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert terminated and info["success"]
    assert (turns == 0) == (abs(offset_deg) <= 45)


@pytest.mark.parametrize("hfov, turn_angle", [(20.0, 30.0), (120.0, 10.0)])
def test_the_look_teacher_ends_its_look_with_other_cameras_and_turn_steps(hfov, turn_angle):
    """A field of view narrower than a turn step (20° against 30°) must not make it turn back and
    forth for ever; a wide one ends the look sooner."""
    env = room_env(embodiment=HabitatDiscreteAgent(camera=AGENT_CAMERA.with_(hfov=hfov), turn_angle=turn_angle))
    env.reset(seed=0)
    nav = env.unwrapped
    heading = nav.task.goal_heading(nav.episode)
    nav.sim.set_agent_state(AgentState.from_yaw(START, heading + math.radians(105.0)))  # reaches 15° off: within no 20° window
    teacher = LookThenGoalView()
    for turns in range(40):
        action = teacher(env)
        if teacher.looked:
            break
        env.step(action)
    assert teacher.looked and turns <= 360 / turn_angle
    error = abs(wrap_angle(heading - nav.sim.get_agent_state().yaw))
    assert error <= math.radians(max(hfov, turn_angle)) / 2 + 1e-6


def test_the_look_teacher_stops_looking_once_the_agent_has_moved():
    """In DAgger rounds the learner acts: a move before the look is over ends the look."""
    env = room_env()
    env.reset(seed=0)
    nav = env.unwrapped
    heading = nav.task.goal_heading(nav.episode)
    nav.sim.set_agent_state(AgentState.from_yaw(START, heading + math.pi / 2 + 0.3))  # facing into the room, away from the heading
    teacher = LookThenGoalView()
    assert teacher(env) == "turn_left" and not teacher.looked
    env.step("move_forward")
    assert teacher(env) == follow_to_goal_view(env) and teacher.looked
    teacher.reset()
    assert not teacher.looked


def test_angle_terms_are_zero_without_a_goal_view():
    env = RSRNavReward(make_small("ObjectNav-ProcHouse-v0"))
    _, info = env.reset(seed=0)
    assert math.isnan(info.get("angle_to_goal", math.nan))  # no goal view: not reported
    place(env, env.unwrapped.goal_points[0], 0.0)
    for action in ("turn_left", "turn_left", "stop"):
        _, reward, _, _, info = env.step(action)
        assert info["reward_terms"]["angle"] == 0.0 and info["reward_terms"]["angle_success"] == 0.0
        assert np.isfinite(reward)
    assert info["success"] and reward == pytest.approx(5.0 - 0.01)


def test_a_custom_success_distance_switches_the_angle_shaping_on_further_away():
    env = RSRNavReward(room_env(), success_distance=3.0)
    env.reset(seed=0)
    place(env, [GOAL[0] - 2.0, 0.0, GOAL[2]], 0.0)
    _, reward, *_ = env.step("turn_left")
    assert reward == pytest.approx(-ONE_STEP - 0.01)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"success_reward": float("inf")}, "success_reward"),
        ({"angle_success": 25.0}, "angle_success"),
        ({"success_distance": 0.0}, "success_distance"),
        ({"slack_reward": "x"}, "slack_reward"),
        ({"failed_stop_reward": float("nan")}, "failed_stop_reward"),
        ({"failed_stop_per_metre": float("inf")}, "failed_stop_per_metre"),
        ({"success_reward": "5"}, "success_reward"),
        ({"angle_reward": True}, "angle_reward"),
        ({"success_distance": np.True_}, "success_distance"),
    ],
)
def test_bad_reward_parameters_are_refused_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=f"{name}="):
        RSRNavReward(room_env(), **kwargs)


# -- Gymnasium's checker on the wrapped envs -------------------------------------------------------
@pytest.mark.parametrize("task", ["ImageNav", "InstanceImageNav"])
def test_gymnasium_check_env_passes_on_the_wrapped_env(task):
    env = RSRNavReward(UserMatchedGoalCamera(make_small(f"{task}-ProcHouse-v0"), setting="user"))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*different from the unwrapped version.*")
        check_env(env)
