"""MultiGoalVLN: descriptions that pick out one instance, the shortest feasible tour, the found /
stop rules and measures, the LiDAR / pose / temperature sensors, the episode file format, the
registered ids, the privileged oracle (solvable) and a random agent (not)."""

from __future__ import annotations

import copy
import gzip
import itertools
import json
import math
import socket
import time
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import navgym
from navgym.core.specs import AgentState
from navgym.datasets.episodes import EpisodeDataset, detect_kind, read_dataset, write_dataset
from navgym.errors import InvalidArgumentError, NavgymError, UnknownNameError
from navgym.scenes.prochouse import SPLITS, generate_house
from navgym.scenes.sources import load_scene_by_id
from navgym.tasks.multigoal_language import (
    Description, INSTRUCTION_KINDS, candidate_descriptions, instruction_text, resolve, unique_description,
)  # fmt: skip
from navgym.tasks.multigoal_sensors import (
    CATEGORY_TEMPERATURES, MATERIAL_TEMPERATURES, LidarSpec, lidar_scan, lidar_to_world, temperature_image, temperature_table,
)  # fmt: skip
from navgym.tasks.multigoal_vln import MultiGoalVLNTask, shortest_tour, subgoal_descriptions

ENV_ID = "MultiGoalVLN-ProcHouse-v0"
#: One small generated set shared by the tests (the session cache makes later gym.make calls cheap).
SMALL = dict(split="val", num_scenes=2, episodes_per_scene=6, resolution=32, lidar={"channels": 4, "points_per_ring": 32})


@pytest.fixture(scope="module")
def env():
    env = gym.make(ENV_ID, **SMALL)
    yield env
    env.close()


# -- language ------------------------------------------------------------------------------------
def _independent_matches(graph, inst, constraints: dict, near_distance: float = 1.0) -> bool:
    """The description rule written out again, without the module's helpers."""
    if inst.category != constraints["category"]:
        return False
    for key in ("color", "material"):
        if key in constraints and inst.attributes.get(key) != constraints[key]:
            return False
    if "room" in constraints:
        if inst.room_id is None or graph.room(inst.room_id).type != constraints["room"]:
            return False
    if "near" in constraints:
        def gap(a, b):
            dx = max(a.bbox_min[0] - b.bbox_max[0], b.bbox_min[0] - a.bbox_max[0], 0.0)
            dz = max(a.bbox_min[2] - b.bbox_max[2], b.bbox_min[2] - a.bbox_max[2], 0.0)
            return math.hypot(dx, dz)

        if not any(o.category == constraints["near"] and o.id != inst.id and gap(inst, o) <= near_distance for o in graph.objects()):
            return False
    return True


def test_each_description_picks_out_exactly_one_instance_over_30_houses():
    seeds = list(SPLITS["train"][:20]) + list(SPLITS["test"][:10])
    described = total = spatial_described = 0
    for seed in seeds:
        graph = generate_house(seed).graph
        for inst in graph.objects():
            total += 1
            for spatial in (False, True):
                description = unique_description(graph, inst, spatial)
                if description is None:
                    continue
                described += not spatial
                spatial_described += spatial
                assert resolve(graph, description) == [inst], (seed, description)
                fits = [o for o in graph.objects() if _independent_matches(graph, o, description.as_dict())]
                assert [o.id for o in fits] == [inst.id], (seed, description.text())
                assert description.spatial or not spatial
    # Most instances can be described (ProcHouse houses repeat categories, so not all).
    assert described / total > 0.6 and spatial_described / total > 0.4, (described, spatial_described, total)


def test_descriptions_go_from_short_to_long_and_texts_read_well():
    graph = generate_house(SPLITS["val"][0]).graph
    sofa = graph.objects("sofa")[0]
    options = candidate_descriptions(graph, sofa, spatial=False)
    assert options[0] == Description("sofa")
    assert all(d.spatial for d in candidate_descriptions(graph, sofa, spatial=True))
    assert Description("chair", "red", "wood", "kitchen", "dining_table").text() == "the red wooden chair near the dining table in the kitchen"
    assert instruction_text("sequential", ["the sofa", "the bed"]) == "First go to the sofa, then to the bed."
    assert instruction_text("spatial", ["a", "b", "c"]) == "First go to a, then to b, and finally to c."
    assert instruction_text("any_order", ["a", "b", "c"]) == "Visit a, b and c, in any order."
    assert instruction_text("any_order", ["the desk"]) == instruction_text("sequential", ["the desk"]) == "Go to the desk."
    with pytest.raises(ValueError, match="not an instruction kind"):
        instruction_text("random", ["a"])
    round_trip = Description("lamp", room="bedroom", near="bed")
    assert Description.from_dict(round_trip.as_dict()) == round_trip
    with pytest.raises(ValueError, match="unknown constraint fields"):
        Description.from_dict({"category": "lamp", "colour": "red"})


# -- the shortest feasible tour ---------------------------------------------------------------------
class _OpenPlane:
    """Geodesic = Euclidean distance on an empty floor (enough for the tour helper)."""

    def geodesic_distance(self, start, goals, agent_id=0):
        goals = np.atleast_2d(np.asarray(goals, dtype=float))
        return float(np.min(np.linalg.norm(goals - np.asarray(start, dtype=float), axis=1)))


def _brute_force(start, regions, ordered):
    best = math.inf
    orders = [tuple(range(len(regions)))] if ordered else itertools.permutations(range(len(regions)))
    for order in orders:
        for points in itertools.product(*[regions[i] for i in order]):
            path = [np.asarray(start)] + [np.asarray(p) for p in points]
            best = min(best, sum(float(np.linalg.norm(b - a)) for a, b in zip(path, path[1:])))
    return best


@pytest.mark.parametrize("n", [2, 3, 4])
def test_shortest_tour_is_exact_over_orders_and_entry_points(n):
    rng = np.random.default_rng(n)
    start = np.zeros(3)
    regions = [np.column_stack([rng.uniform(-6, 6, 4), np.zeros(4), rng.uniform(-6, 6, 4)]) for _ in range(n)]
    sim = _OpenPlane()
    ordered = shortest_tour(sim, start, regions, ordered=True)
    any_order = shortest_tour(sim, start, regions, ordered=False)
    assert ordered.order == tuple(range(n))
    assert ordered.length == pytest.approx(_brute_force(start, regions, True), rel=1e-9)
    assert any_order.length == pytest.approx(_brute_force(start, regions, False), rel=1e-9)
    assert any_order.length <= ordered.length + 1e-9
    # The best order really is that order's length.
    permuted = [regions[i] for i in any_order.order]
    assert shortest_tour(sim, start, permuted, ordered=True).length == pytest.approx(any_order.length)


# -- episodes and the file format ----------------------------------------------------------------------
def test_generated_episodes_follow_the_format_and_read_back_equal(env, tmp_path):
    dataset = env.unwrapped.dataset
    episodes = dataset.episodes
    assert len(episodes) >= 10 and dataset.kind == "multigoal_vln"
    kinds = {e.extra["instruction_kind"] for e in episodes}
    assert kinds <= set(INSTRUCTION_KINDS) and len(kinds) >= 2
    sims = {}
    for episode in episodes:
        assert 2 <= len(episode.goals) <= 4
        assert episode.info["shortest_tour"] > 0 and sorted(episode.info["tour_order"]) == list(range(len(episode.goals)))
        if episode.extra["instruction_kind"] != "any_order":
            assert episode.info["tour_order"] == list(range(len(episode.goals)))
        graph = sims.setdefault(episode.scene_id, load_scene_by_id(episode.scene_id).graph)
        for goal, description in zip(episode.goals, subgoal_descriptions(episode)):
            assert goal.extra["description"] in episode.instruction
            assert [i.id for i in resolve(graph, description)] == [int(goal.object_id)]
            if episode.extra["instruction_kind"] == "spatial":
                assert description.spatial
    path = write_dataset(dataset, tmp_path / "val.json.gz")
    back = read_dataset(path)
    assert back.kind == "multigoal_vln" and detect_kind(json.loads(gzip.open(path).read())) == "multigoal_vln"
    assert back.episodes == dataset.episodes
    assert write_dataset(back, tmp_path / "again.json.gz").read_bytes() == path.read_bytes()


def test_habitat_layout_episodes_on_an_annotated_mesh_scene(env, tmp_path):
    """A Habitat-style data root: an annotated mesh under scene_datasets/ and MultiGoalVLN episodes
    under datasets/multigoal_vln/hm3d/v1/val/ (goals without view points: they come from the
    annotations, as on ProcHouse)."""
    from navgym.scenes.io import save_scene
    from navgym.scenes.sources import load_prochouse

    source = [e for e in env.unwrapped.dataset.episodes if e.scene_id == "prochouse/1000000"][:2]
    root = tmp_path / "data"
    save_scene(load_prochouse(1000000), root / "scene_datasets" / "hm3d" / "val" / "house" / "house.glb")
    episodes = [copy.deepcopy(e) for e in source]
    for episode in episodes:
        episode.scene_id = "hm3d/val/house/house.glb"
    write_dataset(EpisodeDataset(episodes=episodes, kind="multigoal_vln"), root / "datasets" / "multigoal_vln" / "hm3d" / "v1" / "val" / "val.json.gz")
    habitat = gym.make("MultiGoalVLN-HM3D-v0", data_dir=root, resolution=32, sensors=("instruction", "pose"))
    obs, info = habitat.reset(options={"episode_index": 1})
    assert obs["instruction"] == source[1].instruction and info["shortest_tour"] == source[1].info["shortest_tour"]
    env.reset(options={"episode_id": source[1].episode_id})
    np.testing.assert_allclose(habitat.unwrapped.goal_points, env.unwrapped.goal_points)
    # An episode file's scene may not leave the data root.
    episodes[0].scene_id = "../../outside.glb"
    outside = write_dataset(EpisodeDataset(episodes=episodes[:1], kind="multigoal_vln"), tmp_path / "outside.json.gz")
    with pytest.raises(ValueError, match="inside the data root"):
        gym.make(ENV_ID, dataset_path=outside, data_dir=root)


# -- env, spaces and checkers ----------------------------------------------------------------------
def test_ids_are_registered_and_the_env_passes_the_checkers(env):
    assert {ENV_ID, "MultiGoalVLN-AirSim-v0"} <= set(navgym.env_ids()) and ENV_ID in gym.registry
    assert gym.spec("MultiGoalVLN-AirSim-v0").kwargs["sim"] == "airsim"
    nav = env.unwrapped
    assert nav.actions == ("stop", "move_forward", "turn_left", "turn_right", "found")
    assert set(nav.observation_space.spaces) == {"rgb", "depth", "instruction", "pose", "lidar", "temperature"}
    assert nav.observation_space["lidar"].shape == (4 * 32, 3)
    check_env(nav, skip_render_check=True)
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    sb3_env = gym.make(ENV_ID, **SMALL, sensors=("rgb", "depth", "pose", "lidar", "temperature"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb3_checker.check_env(sb3_env.unwrapped, warn=True)


def test_same_seed_same_episode_and_observations():
    a, b = gym.make(ENV_ID, **SMALL), gym.make(ENV_ID, **SMALL)
    obs_a, info_a = a.reset(seed=3)
    obs_b, info_b = b.reset(seed=3)
    assert info_a == info_b
    for action in (1, 2, 1, 3, 1):
        obs_a, *_ = a.step(action)
        obs_b, *_ = b.step(action)
    for key, value in obs_a.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, obs_b[key])
        else:
            assert value == obs_b[key]


def test_airsim_id_without_a_server_is_a_clear_error(monkeypatch):
    from navgym.sims import SIMULATORS

    if "airsim" not in SIMULATORS:
        with pytest.raises(UnknownNameError, match="airsim"):
            gym.make("MultiGoalVLN-AirSim-v0", num_scenes=1, episodes_per_scene=1)
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("NAVGYM_AIRSIM_PORT", str(port))
    started = time.monotonic()
    with pytest.raises((NavgymError, ConnectionError, gym.error.DependencyNotInstalled)) as info:
        gym.make("MultiGoalVLN-AirSim-v0", split="val", num_scenes=1, episodes_per_scene=1, resolution=32)
    assert ("airsim" in str(info.value).lower() or str(port) in str(info.value)) and time.monotonic() - started < 30


def test_airsim_id_runs_the_task_through_the_airsim_backend(env, monkeypatch):
    """MultiGoalVLN-AirSim-v0 against navgym's own AirSim server (loopback): the same episode, poses,
    measures, LiDAR and temperature as the embedded simulator."""
    pytest.importorskip("cosysairsim")
    server_module = pytest.importorskip("navgym.sims.airsim.server")
    with server_module.EmbeddedAirSimServer("prochouse/1000000", port=0) as server:
        monkeypatch.setenv("NAVGYM_AIRSIM_PORT", str(server.port))
        airsim = gym.make("MultiGoalVLN-AirSim-v0", **SMALL, sensors=("instruction", "pose", "lidar", "temperature"))
        try:
            index = next(i for i, e in enumerate(env.unwrapped.dataset.episodes) if e.scene_id == "prochouse/1000000")
            obs_a, info_a = airsim.reset(options={"episode_index": index})
            obs_e, info_e = env.reset(options={"episode_index": index})
            assert type(airsim.unwrapped.sim).__name__ == "AirSimSimulator"
            for action in (None, 1, 2, 1, 1):
                if action is not None:
                    obs_a, _, _, _, info_a = airsim.step(action)
                    obs_e, _, _, _, info_e = env.step(action)
                assert obs_a["instruction"] == obs_e["instruction"]
                np.testing.assert_allclose(obs_a["pose"], obs_e["pose"], atol=1e-4)
                assert np.isclose(obs_a["lidar"], obs_e["lidar"], atol=2e-3).all(axis=1).mean() >= 0.98
                assert (obs_a["temperature"] == obs_e["temperature"]).mean() >= 0.98
                for key in ("distance_to_goal", "shortest_tour", "path_length", "progress"):
                    assert info_a[key] == pytest.approx(info_e[key], abs=1e-6), key
        finally:
            airsim.close()


# -- found, stop, measures and reward ---------------------------------------------------------------
def _stand_in(env, index):
    """Teleport the agent into sub-goal ``index``'s view points (privileged; for rule tests)."""
    nav = env.unwrapped
    region = nav.measures.measure("subgoals_reached").regions[index]
    nav.sim.set_agent_state(AgentState(region[len(region) // 2]), snap=True)


def _ordered_episode(env):
    """An episode whose order is required (the generated set has some; else the first)."""
    episodes = env.unwrapped.dataset.episodes
    return next((i for i, e in enumerate(episodes) if e.extra["instruction_kind"] != "any_order"), 0)


def test_found_reaches_sub_goals_in_order_and_stop_reaches_the_last(env):
    index = _ordered_episode(env)
    obs, info = env.reset(options={"episode_index": index})
    n = len(env.unwrapped.episode.goals)
    assert info["progress"] == 0.0 and info["subgoals_reached"] == 0 and not info["success"]
    for k in range(n - 1):
        _stand_in(env, k)
        before = info["distance_to_goal"]
        obs, reward, terminated, truncated, info = env.step(4)  # found
        assert not terminated and info["subgoals_reached"] == k + 1 and info["progress"] == pytest.approx((k + 1) / n)
        # Habitat's shaping on the remaining tour, the slack, and subgoal_reward.
        assert reward == pytest.approx(before - info["distance_to_goal"] - 0.01 + 1.0)
    _stand_in(env, n - 1)
    before = info["distance_to_goal"]
    obs, reward, terminated, truncated, info = env.step(0)  # stop at the last
    assert terminated and info["success"] == 1.0 and info["progress"] == 1.0 and info["wrong_found"] == 0
    # Teleported, so no path was travelled: SPL = shortest / max(shortest, 0) = 1.
    assert info["distance_to_goal"] == 0.0 and info["spl"] == pytest.approx(1.0) and info["path_length"] == 0.0
    assert reward == pytest.approx(before - 0.01 + 1.0 + 2.5)  # success_reward + subgoal_reward


def test_wrong_found_ends_the_episode_by_default(env):
    index = _ordered_episode(env)
    env.reset(options={"episode_index": index})
    if env.unwrapped.task.is_ordered(env.unwrapped.episode):
        _stand_in(env, 1)  # the second sub-goal first: out of order
    obs, reward, terminated, truncated, info = env.step(4)
    assert terminated and info["success"] == 0.0 and info["wrong_found"] == 1 and info["spl"] == 0.0
    env.reset(options={"episode_index": index})
    obs, reward, terminated, truncated, info = env.step(0)  # stop before the last sub-goal: a failure
    assert terminated and info["success"] == 0.0


def test_wrong_found_can_be_counted_instead():
    counting = gym.make(ENV_ID, **SMALL, wrong_found="count", sensors=("pose",))
    obs, info = counting.reset(options={"episode_index": 0})
    obs, reward, terminated, truncated, info = counting.step(4)
    assert not terminated and info["wrong_found"] == 1 and info["subgoals_reached"] == 0
    assert reward < -0.4  # wrong_found_reward -0.5
    _stand_in(counting, counting.unwrapped.measures.measure("subgoals_reached").acceptable()[0])
    obs, reward, terminated, truncated, info = counting.step(4)
    assert info["subgoals_reached"] == 1 and info["wrong_found"] == 1


def test_an_embodiment_without_found_is_a_clear_error():
    from navgym.embodiments import HabitatDiscreteAgent

    default = MultiGoalVLNTask().default_embodiment()  # the same body and camera: the cached episodes serve
    plain = gym.make(ENV_ID, **SMALL, embodiment=HabitatDiscreteAgent(body=default.body, camera=default.camera), sensors=("pose",))
    with pytest.raises(InvalidArgumentError, match="'found' action"):
        plain.reset(seed=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"wrong_found": "ignore"}, "wrong_found='ignore'"),
        ({"max_subgoals": 5}, "max_subgoals=5"),
        ({"min_subgoals": 3, "max_subgoals": 2}, "min_subgoals=3"),
        ({"instruction_kinds": ("spiral",)}, "instruction_kinds"),
        ({"near_distance": -1}, "near_distance=-1"),
        ({"lidar": {"channels": 0}}, "LidarSpec.channels=0"),
        ({"lidar": {"rings": 4}}, "lidar="),
        ({"temperature_noise": -1.0}, "temperature_noise=-1.0"),
    ],
)
def test_bad_settings_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MultiGoalVLNTask(**kwargs)


# -- sensors ---------------------------------------------------------------------------------------
def test_lidar_points_lie_on_surfaces_and_turn_with_the_body(env):
    env.reset(options={"episode_index": 0})
    sim = env.unwrapped.sim
    spec = LidarSpec(channels=3, points_per_ring=64, vertical_fov=20.0, max_range=8.0)
    state = sim.get_agent_state()
    points = lidar_scan(sim, state, spec)
    assert points.shape == (3 * 64, 3) and points.dtype == np.float32
    ranges = np.linalg.norm(points - [0.0, spec.mount_height, 0.0], axis=1)
    assert ranges.max() <= spec.max_range + 1e-3 and (ranges < spec.max_range - 1e-3).mean() > 0.9  # walls all round
    # The level ring's beam straight ahead reads what a narrow level camera at the mount sees.
    probe = sim.render([(state, spec.camera_spec().with_(width=1, height=1, hfov=1.0))])[0]["depth"][0, 0, 0]
    level_ahead = points[1 * 64 + 0]
    assert -level_ahead[2] == pytest.approx(probe, abs=0.03) and abs(level_ahead[0]) < 0.03
    # A quarter turn left shifts the beams by a quarter ring; in the world the points stay put.
    turned = AgentState.from_yaw(state.position, state.yaw + math.pi / 2)
    moved = lidar_to_world(lidar_scan(sim, turned, spec), turned).reshape(3, 64, 3)
    fixed = lidar_to_world(points, state).reshape(3, 64, 3)
    close = np.linalg.norm(np.roll(fixed, -16, axis=1) - moved, axis=-1) < 0.05
    assert close.mean() > 0.95
    with pytest.raises(ValueError, match="LidarSpec.cameras=2"):
        LidarSpec(cameras=2)


def test_pose_and_temperature_follow_the_body(env):
    obs, _ = env.reset(options={"episode_index": 0})
    nav = env.unwrapped
    state = nav.sim.get_agent_state()
    np.testing.assert_allclose(obs["pose"][:3], state.position, atol=1e-5)
    np.testing.assert_allclose(obs["pose"][3:], state.rotation, atol=1e-6)
    obs, *_ = env.step(2)  # turn left
    assert not np.allclose(obs["pose"][3:], state.rotation)
    camera = nav.embodiment.camera.with_(outputs=("semantic",))
    semantic = nav.sim.render([(nav.sim.get_agent_state(), camera)])[0]["semantic"]
    table = temperature_table(nav.sim.scene_graph())
    np.testing.assert_array_equal(obs["temperature"][..., 0], table[semantic])
    graph = nav.sim.scene_graph()
    fridge = next((i for i in graph.objects("refrigerator")), None)
    if fridge is not None:
        assert table[fridge.id] == CATEGORY_TEMPERATURES["refrigerator"]
    wooden = next(i for i in graph.objects() if i.attributes.get("material") == "wood" and i.category not in CATEGORY_TEMPERATURES)
    assert table[wooden.id] == MATERIAL_TEMPERATURES["wood"]
    noisy_a = temperature_image(semantic, table, 1.0, np.random.default_rng(1))
    noisy_b = temperature_image(semantic, table, 1.0, np.random.default_rng(1))
    np.testing.assert_array_equal(noisy_a, noisy_b)
    assert 0.5 < float(np.std(noisy_a[..., 0] - table[semantic])) < 1.5


# -- solvable by the oracle, not by chance ---------------------------------------------------------
def _run(env, agent, episodes):
    results = []
    for index in range(episodes):
        obs, info = env.reset(seed=index, options={"episode_index": index})
        agent.reset()
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(agent.policy(obs))
            done = terminated or truncated
        results.append(info)
    return results


def test_the_privileged_oracle_succeeds_and_a_random_agent_does_not():
    from navgym.agents import make

    env = gym.make(ENV_ID, **SMALL, sensors=("instruction", "pose"))
    oracle = make("multigoal-oracle", env=env)
    assert oracle.privileged
    results = _run(env, oracle, 10)
    success = np.mean([r["success"] for r in results])
    assert success >= 0.9, results
    assert np.mean([r["spl"] for r in results]) > 0.6
    assert all(r["spl"] <= 1.0 and (r["success"] == 0 or r["path_length"] >= 0.9 * r["shortest_tour"]) for r in results)
    random_results = _run(env, make("random", env=env, seed=0), 10)
    assert np.mean([r["success"] for r in random_results]) <= 0.1


def test_the_oracle_replans_when_the_same_episode_is_reset_without_agent_reset(env):
    """env.reset(seed=...) twice gives the same episode object; an oracle not told agent.reset()
    kept its old plan (the last sub-goal only), walked there and stopped: a failure."""
    from navgym.agents import make

    oracle = make("multigoal-oracle", env=env)
    results = []
    for _ in range(2):
        obs, info = env.reset(seed=0, options={"episode_index": 0})  # no oracle.reset() in between
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(oracle.policy(obs))
            done = terminated or truncated
        results.append(info)
    assert results[0]["success"] == 1.0, results[0]
    assert results[1]["success"] == 1.0 and results[1]["num_steps"] == results[0]["num_steps"], results


def test_hand_written_subgoals_that_name_nothing_are_clear_errors(env):
    """A sub-goal naming no instance of the scene, or constraints that describe another instance
    (or nothing), are DatasetFormatErrors at reset naming the episode, the goal and the fix."""
    import dataclasses

    from navgym.errors import DatasetFormatError

    dataset = env.unwrapped.dataset
    episode = dataset.episodes[0]
    first = episode.goals[0]
    cases = {
        "bad_id": ([dataclasses.replace(first, object_id=99999)], r"goals\[0\] names object 99999, which the scene has no instance of"),
        "nothing": ([dataclasses.replace(first, extra={**first.extra, "constraints": {"category": "spaceship"}})], "describe nothing in the scene"),
        "other": ([dataclasses.replace(first, object_id=episode.goals[1].object_id)], "not object"),
    }
    added = []
    try:
        for name, (goals, message) in cases.items():
            bad = dataclasses.replace(episode, episode_id=f"bad_{name}", goals=goals + list(episode.goals[1:]))
            dataset.episodes.append(bad)
            added.append(bad)
            with pytest.raises(DatasetFormatError, match=message):
                env.reset(options={"episode_id": bad.episode_id})
    finally:
        for bad in added:
            dataset.episodes.remove(bad)
    env.reset(options={"episode_id": episode.episode_id})  # the generated one is fine
