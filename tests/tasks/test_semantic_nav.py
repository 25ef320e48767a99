"""SemanticNav: targets in view at the start (each body, other camera settings and splits), the
three prompt kinds, the success rule (traversable for the body, within 1.0 m of the reachable
region, facing within 30°), NE, determinism, the episode format's round trip, clear errors."""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import navgym  # noqa: F401
from navgym.core.geometry import yaw_toward
from navgym.core.specs import AgentState
from navgym.datasets.episodes import IMAGE_TOKEN, PROMPT_KINDS, detect_kind, read_dataset, write_dataset
from navgym.envs.nav_env import NavEnv
from navgym.errors import DatasetFormatError, EpisodeGenerationError, InvalidArgumentError, UnknownNameError
from navgym.scenes.describe import context_phrase, referring_expression
from navgym.scenes.scene import ObjectInstance, Relation, Room, SceneGraph
from navgym.tasks.measures import StepContext
from navgym.tasks.semantic_nav import SemanticNavTask, is_traversable, required_pixels, target_center, target_instance

BODIES = {"jetbot": "Jetbot", "h1": "H1", "aliengo": "Aliengo"}
SENSORS = ("rgb", "depth", "semantic", "prompt_kind", "prompt_text", "prompt_image")
SMALL = {"num_scenes": 2, "episodes_per_scene": 3}


def make(env_id: str = "SemanticNav-ProcHouse-v0", **kwargs):
    return gym.make(env_id, **{**SMALL, "sensors": SENSORS, **kwargs})


def stop_action(env) -> np.ndarray:
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[-1] = 1.0
    return action


@pytest.fixture(scope="module")
def envs():
    """One small env per body, through its registered per-body id."""
    made = {body: make(f"SemanticNav-ProcHouse-{label}-v0") for body, label in BODIES.items()}
    yield made
    for env in made.values():
        env.close()


def target_pixels(env, obs) -> int:
    return int((obs["semantic"] == int(env.unwrapped.episode.goal_object_id)).sum())


# -- ids, defaults ---------------------------------------------------------------------------------
def test_ids_defaults_and_per_body_variants(envs):
    spec = gym.spec("SemanticNav-ProcHouse-v0")
    assert spec.max_episode_steps == SemanticNavTask.max_episode_steps == 200
    assert SemanticNavTask().default_embodiment().name == "jetbot"
    for body, label in BODIES.items():
        assert gym.spec(f"SemanticNav-ProcHouse-{label}-v0").kwargs["embodiment"] == body
        assert envs[body].unwrapped.embodiment.name == body
    # The per-body ids and embodiment= on the plain id give the same episodes.
    plain = make(embodiment="h1")
    assert [e.episode_id for e in plain.unwrapped.dataset.episodes] == [e.episode_id for e in envs["h1"].unwrapped.dataset.episodes]
    assert plain.unwrapped.dataset.episodes == envs["h1"].unwrapped.dataset.episodes


def test_gymnasium_check_env_passes(envs):
    check_env(envs["aliengo"].unwrapped)


# -- the target is in view at the start ------------------------------------------------------------
@pytest.mark.parametrize("body", list(BODIES))
def test_target_is_visible_at_the_start_for_each_body(envs, body):
    env = envs[body]
    nav = env.unwrapped
    need = required_pixels(nav.embodiment.camera, nav.task.min_target_coverage)
    assert need >= 50  # 1% of a 128 x 96 / 128 x 72 frame
    for index in range(len(nav.dataset.episodes)):
        obs, info = env.reset(seed=index, options={"episode_index": index})
        assert target_pixels(env, obs) >= need, (body, nav.episode.episode_id)
        assert info["distance_to_goal"] > nav.task.success_distance  # no episode starts solved
        assert info["traversable"] == 1.0
    for seed in (3, 11):  # random draws too
        obs, _ = env.reset(seed=seed)
        assert target_pixels(env, obs) >= need


@pytest.mark.parametrize(
    "kwargs",
    [
        {"embodiment": "jetbot", "resolution": (48, 64), "hfov": 100.0},
        {"embodiment": "h1", "resolution": 96, "split": "test"},
        {"embodiment": "aliengo", "split": "train", "num_scenes": 1, "min_target_coverage": 0.03},
    ],
)
def test_target_is_visible_under_other_cameras_splits_and_thresholds(kwargs):
    env = make(**kwargs)
    nav = env.unwrapped
    camera = nav.embodiment.camera
    if "resolution" in kwargs:
        assert camera.height == (kwargs["resolution"][0] if isinstance(kwargs["resolution"], tuple) else kwargs["resolution"])
    need = required_pixels(camera, nav.task.min_target_coverage)
    assert nav.dataset.episodes
    for index in range(len(nav.dataset.episodes)):
        obs, _ = env.reset(seed=index, options={"episode_index": index})
        assert obs["semantic"].shape == (camera.height, camera.width)
        assert obs["prompt_image"].shape == (camera.height, camera.width, 3)
        assert target_pixels(env, obs) >= need


# -- prompts ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", PROMPT_KINDS)
def test_each_prompt_kind_is_generated_and_observed(kind):
    env = make(prompt_kinds=(kind,))
    nav = env.unwrapped
    for index, episode in enumerate(nav.dataset.episodes):
        assert episode.prompt_kind == kind
        obs, _ = env.reset(seed=0, options={"episode_index": index})
        assert obs["prompt_kind"] == PROMPT_KINDS.index(kind)
        assert obs in nav.observation_space
        image, text = obs["prompt_image"], obs["prompt_text"]
        if kind == "text":
            assert text == episode.instruction and text.startswith("the ") and IMAGE_TOKEN not in text
            assert not image.any()
        elif kind == "image":
            assert text == "" and image.std() > 5.0
            assert not np.array_equal(image, obs["rgb"])  # another viewpoint than the start
        else:
            assert text.startswith(f"the {IMAGE_TOKEN}") and len(text) > len(f"the {IMAGE_TOKEN}")
            assert image.std() > 5.0
        if kind != "text":  # the photo is taken from another side of the target (>= 30° around it)
            view = episode.goals[0].image_goals[episode.goal_image_id]
            centre = target_center(nav.sim, episode)
            start = np.asarray(episode.start_position)
            bearings = [math.atan2(p[2] - centre[2], p[0] - centre[0]) for p in (start, view.position)]
            change = abs((bearings[0] - bearings[1] + math.pi) % (2 * math.pi) - math.pi)
            assert math.degrees(change) >= 30.0 - 1e-6


def test_default_episodes_mix_the_prompt_kinds_and_record_them(envs):
    episodes = [e for env in envs.values() for e in env.unwrapped.dataset.episodes]
    kinds = {e.prompt_kind for e in episodes}
    assert kinds <= set(PROMPT_KINDS) and len(kinds) >= 2
    for e in episodes:
        assert (e.instruction is not None) == (e.prompt_kind != "image")
        assert (e.goal_image_id is not None) or e.prompt_kind == "text"
        assert e.info["target_coverage"] >= 0.01


def test_masked_prompt_images_show_only_the_target():
    env = make(prompt_kinds=("image",), mask_prompt_image=True, num_scenes=1, episodes_per_scene=1)
    obs, _ = env.reset(seed=0)
    grey = np.all(obs["prompt_image"] == 128, axis=-1)
    assert 0.2 < grey.mean() < 0.99


def test_referring_expressions_are_the_shortest_unique_ones():
    def thing(i, category, room=0, **attributes):
        return ObjectInstance(i, category, room, np.zeros(3), np.ones(3), attributes)

    graph = SceneGraph(
        instances=[
            thing(1, "sofa"), thing(2, "chair", color="red"), thing(3, "chair", color="blue"), thing(4, "bed", room=1),
            thing(5, "chair", room=1, color="red"), thing(6, "lamp"), thing(7, "lamp", room=1), thing(8, "wall"),
        ],
        rooms=[Room(0, "living_room", (0, 0, 5, 5)), Room(1, "bedroom", (5, 0, 10, 5))],
        relations=[Relation(3, "next_to", 4), Relation(5, "near", 4), Relation(2, "next_to", 8)],
    )
    assert referring_expression(graph, graph.instance(1)) == ("the sofa", "")
    assert referring_expression(graph, graph.instance(3)) == ("the chair", "next to the bed")
    assert referring_expression(graph, graph.instance(5)) == ("the chair", "near the bed")
    assert referring_expression(graph, graph.instance(7)) == ("the lamp", "in the bedroom")
    # Chair 2: no relation of its own (walls do not count), its room shared with chair 3 and its colour
    # with chair 5: colour and room together (the full description) single it out.
    assert referring_expression(graph, graph.instance(2)) == ("the red chair", "in the living room")
    assert context_phrase(graph, graph.instance(1)) == "in the living room"


# -- success rule and measures ----------------------------------------------------------------------
def good_pose(env, footprint_free: bool = True) -> AgentState:
    """A pose in the target's reachable region, facing the target's centre, traversable."""
    nav = env.unwrapped
    centre = target_center(nav.sim, nav.episode)
    for point in nav.goal_points:
        state = AgentState.from_yaw(point, yaw_toward(point, centre))
        if not footprint_free or is_traversable(nav.sim, point, state.yaw, nav.embodiment):
            return state
    raise AssertionError("no traversable pose in the reachable region")


def stop_at(env, state: AgentState) -> dict:
    env.unwrapped.sim.set_agent_state(state)
    _, _, terminated, _, info = env.step(stop_action(env))
    assert terminated
    return info


def test_stopping_at_a_good_pose_succeeds_and_facing_away_or_too_far_fails(envs):
    env = envs["jetbot"]
    nav = env.unwrapped
    env.reset(seed=0, options={"episode_index": 0})
    good = good_pose(env)
    info = stop_at(env, good)
    assert info["success"] == 1.0 and info["traversable"] == 1.0
    assert info["navigation_error"] == pytest.approx(0.0, abs=1e-9) and info["distance_to_goal"] <= 0.05
    assert info["spl"] > 0.0

    # Facing: 0.9 x 30° still succeeds, 1.1 x 30° and facing away fail.
    for turn, success in ((0.9, True), (1.1, False), (6.0, False)):
        env.reset(seed=0, options={"episode_index": 0})
        info = stop_at(env, AgentState.from_yaw(good.position, good.yaw + math.radians(nav.task.facing_angle) * turn))
        assert bool(info["success"]) is success, turn
        assert info["angle_to_target"] == pytest.approx(min(math.radians(30.0 * turn), math.pi), abs=1e-6)

    # Distance: facing the target from 0.6-0.9 m of the region succeeds, from 1.2-2.5 m does not.
    centre = target_center(nav.sim, nav.episode)
    inst = target_instance(nav.sim, nav.episode)
    candidates = nav.sim.navigable_points_near(inst.bbox_min, inst.bbox_max, 3.5)
    checked = set()
    for point in candidates[:: max(1, len(candidates) // 400)]:
        d = nav.sim.geodesic_distance(point, nav.goal_points)
        band = "near" if 0.6 <= d <= 0.9 else "far" if 1.2 <= d <= 2.5 else None
        if band is None or band in checked:
            continue
        env.reset(seed=0, options={"episode_index": 0})
        info = stop_at(env, AgentState.from_yaw(point, yaw_toward(point, centre)))
        assert bool(info["success"]) is (band == "near"), (band, d)
        assert info["distance_to_goal"] == pytest.approx(d, abs=1e-6)
        checked.add(band)
    assert checked == {"near", "far"}


def test_a_stop_on_ground_the_body_cannot_stand_on_fails():
    # Round body (Jetbot): a point inside the target's clearance (not navigable for its cylinder),
    # close to the region and facing the target, fails only because it is not traversable.
    env = make(num_scenes=1, episodes_per_scene=1)
    nav = env.unwrapped
    env.reset(seed=0)
    task, sim = nav.task, nav.sim
    good = good_pose(env)
    centre = target_center(sim, nav.episode)
    blocked = None
    for t in np.linspace(0.0, 1.0, 41):
        point = good.position + t * (np.array([centre[0], good.position[1], centre[2]]) - good.position)
        if not sim.is_navigable(point):
            blocked = point
            break
    assert blocked is not None
    measures = task.new_measures()
    start = sim.get_agent_state()
    ctx = StepContext(sim, task, nav.episode, nav.goal_points, start, start.position, embodiment=nav.embodiment)
    measures.reset(ctx)
    for state, success in ((AgentState.from_yaw(blocked, good.yaw), False), (good, True)):
        measures.update(dataclasses.replace(ctx, state=state, stopped=True))
        assert measures["traversable"] is success
        assert measures["distance_to_goal"] <= task.success_distance and measures["angle_to_target"] <= math.radians(30)
        assert measures["success"] is success


def test_a_quadruped_stopping_with_its_body_in_the_target_fails(envs):
    # Aliengo: its cylinder (r 0.155 m) may stand next to the target, but facing it the 0.647 m long
    # rectangle overlaps it: not traversable for this body, so no success.
    env = envs["aliengo"]
    nav = env.unwrapped
    found = False
    for index in range(len(nav.dataset.episodes)):
        env.reset(seed=0, options={"episode_index": index})
        centre = target_center(nav.sim, nav.episode)
        for point in nav.goal_points:
            state = AgentState.from_yaw(point, yaw_toward(point, centre))
            if nav.sim.footprint_collisions(point, state.yaw, *nav.embodiment.footprint) > 0:
                info = stop_at(env, state)
                assert info["traversable"] == 0.0 and info["success"] == 0.0
                assert info["distance_to_goal"] <= 0.05 and info["angle_to_target"] <= math.radians(30)
                found = True
                break
        if found:
            break
    assert found
    env.reset(seed=0, options={"episode_index": 0})
    info = stop_at(env, good_pose(env))  # a pose whose rectangle is free succeeds
    assert info["success"] == 1.0


def test_navigation_error_is_the_distance_to_the_reachable_region(envs):
    env = envs["h1"]
    nav = env.unwrapped
    obs, info = env.reset(seed=0, options={"episode_index": 1})
    region = nav.goal_points
    start = nav.sim.get_agent_state().position
    assert info["navigation_error"] == pytest.approx(float(np.min(np.linalg.norm(region - start, axis=1))), abs=1e-9)
    assert info["navigation_error"] <= info["distance_to_goal"] + 1e-6  # straight line <= geodesic
    rng = np.random.default_rng(0)
    for _ in range(4):
        obs, _, terminated, truncated, info = env.step(np.array([0.8, rng.uniform(-0.5, 0.5), 0.0], dtype=np.float32))
        here = nav.sim.get_agent_state().position
        assert info["navigation_error"] == pytest.approx(float(np.min(np.linalg.norm(region - here, axis=1))), abs=1e-9)
    info = stop_at(env, AgentState.from_yaw(region[0], 0.0))
    assert info["navigation_error"] == 0.0


# -- determinism and the episode format ------------------------------------------------------------
def test_same_seed_same_episodes_observations_and_measures(tmp_path, monkeypatch):
    a = make(embodiment="aliengo")
    monkeypatch.setenv("NAVGYM_CACHE", str(tmp_path / "other_cache"))  # generated again, not read from a cache
    b = make(embodiment="aliengo")
    assert a.unwrapped.dataset.episodes == b.unwrapped.dataset.episodes
    obs_a, info_a = a.reset(seed=7)
    obs_b, info_b = b.reset(seed=7)
    assert info_a == info_b
    a.action_space.seed(7)
    for _ in range(5):
        action = a.action_space.sample()
        action[-1] = 0.0
        obs_a, r_a, *_, info_a = a.step(action)
        obs_b, r_b, *_, info_b = b.step(action)
        assert r_a == r_b and info_a == info_b
        for key in obs_a:
            if isinstance(obs_a[key], np.ndarray):
                np.testing.assert_array_equal(obs_a[key], obs_b[key])
            else:
                assert obs_a[key] == obs_b[key]
    assert len({a.reset(seed=s)[1]["episode_id"] for s in range(6)}) > 1


def test_episodes_round_trip_through_the_file_format(envs, tmp_path):
    nav = envs["jetbot"].unwrapped
    path = write_dataset(nav.dataset, tmp_path / "val.json.gz")
    back = read_dataset(path)
    assert back.kind == "semantic_nav" and back == nav.dataset
    assert write_dataset(back, tmp_path / "again.json.gz").read_bytes() == path.read_bytes()
    per_scene = read_dataset(write_dataset(nav.dataset, tmp_path / "split" / "val.json.gz", per_scene=True))
    assert per_scene.episodes == nav.dataset.episodes
    # An env on the episodes read back sees what the generated one sees.
    clone = NavEnv(nav.task, back, nav.sim_factory, sensors=nav.sensors, embodiment=nav.embodiment.with_())
    for index in range(len(back.episodes)):
        a, _ = envs["jetbot"].reset(seed=1, options={"episode_index": index})
        b, _ = clone.reset(seed=1, options={"episode_index": index})
        for key in a:
            assert np.array_equal(a[key], b[key]) if isinstance(a[key], np.ndarray) else a[key] == b[key]


def test_malformed_prompts_in_an_episode_file_are_clear_errors(envs, tmp_path):
    import gzip
    import json

    nav = envs["jetbot"].unwrapped
    path = write_dataset(nav.dataset, tmp_path / "val.json")
    doc = json.loads(path.read_text())
    assert detect_kind(doc) == "semantic_nav"
    image_index = next(i for i, e in enumerate(doc["episodes"]) if e["prompt_kind"] != "text")
    text_index = next((i for i, e in enumerate(doc["episodes"]) if e["prompt_kind"] == "text"), image_index)
    cases = [
        (image_index, {"prompt_kind": "video"}, "prompt_kind must be one of"),
        (image_index, {"prompt_kind": "interleaved", "instruction": "the chair"}, "must hold '<image>'"),
        (image_index, {"goal_image_id": None}, "goal_image_id"),
        (text_index, {"prompt_kind": "text", "instruction": None}, "instruction"),
    ]
    for index, change, message in cases:
        bad = json.loads(json.dumps(doc))
        bad["episodes"][index].update(change)
        file = tmp_path / "bad.json.gz"
        with gzip.open(file, "wt") as f:
            json.dump(bad, f)
        with pytest.raises(DatasetFormatError, match=message):
            read_dataset(file)


# -- bad input ------------------------------------------------------------------------------------
def test_bad_input_names_the_parameter():
    with pytest.raises(InvalidArgumentError, match=r"prompt_kinds has unknown 'txt'\. Did you mean 'text'"):
        make(prompt_kinds=("text", "txt"))
    with pytest.raises(InvalidArgumentError, match="prompt_kinds=.* is empty"):
        SemanticNavTask(prompt_kinds=())
    with pytest.raises(UnknownNameError, match=r"embodiment='jetbott' is not a registered embodiment\. Did you mean 'jetbot'"):
        make(embodiment="jetbott")
    with pytest.raises(InvalidArgumentError, match="facing_angle"):
        make(facing_angle=0.0)
    with pytest.raises(InvalidArgumentError, match="min_target_coverage"):
        SemanticNavTask(min_target_coverage=1.5)
    with pytest.raises(InvalidArgumentError, match="goal_region_distance"):
        SemanticNavTask(goal_region_distance=-1.0)
    with pytest.raises(InvalidArgumentError, match="categories=.*never contain"):
        make(categories=("sofa", "spaceship"))
    assert SemanticNavTask(prompt_kinds="image").prompt_kinds == ("image",)


def test_a_target_no_start_can_show_is_a_clear_generation_error():
    with pytest.raises(EpisodeGenerationError, match=r"no start pose shows .* min_target_coverage"):
        make(num_scenes=1, episodes_per_scene=1, min_target_coverage=0.95, start_tries=2)


def test_cached_episodes_are_byte_identical_from_any_process(tmp_path, fill_caches_in_processes):
    code = "import gymnasium as gym, navgym; gym.make('SemanticNav-ProcHouse-H1-v0', num_scenes=1, episodes_per_scene=4)"
    _, digests = fill_caches_in_processes(tmp_path, code, count=2)
    assert digests[0] == digests[1] and any("semanticnav" in name for name in digests[0])
