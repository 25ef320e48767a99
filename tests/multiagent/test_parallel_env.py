"""navgym.multiagent: PettingZoo's own API and seed tests on every task and a mixed team,
agents that see and block each other, and a one-agent env equal to the Gymnasium env."""

from __future__ import annotations

import contextlib
import math
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("pettingzoo")

from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test  # noqa: E402

import navgym  # noqa: E402,F401
from navgym.core.specs import AgentState  # noqa: E402
from navgym.embodiments import AliengoAgent  # noqa: E402
from navgym.errors import InvalidArgumentError  # noqa: E402
from navgym.multiagent import env as aec_env  # noqa: E402
from navgym.multiagent import parallel_env  # noqa: E402
from navgym.sims.embedded.bodies import AGENT_SEMANTIC_BASE  # noqa: E402

SMALL = dict(num_scenes=1, episodes_per_scene=3, resolution=16)
TASK_IDS = ["ImageNav-ProcHouse-v0", "InstanceImageNav-ProcHouse-v0", "ObjectNav-ProcHouse-v0", "TextNav-ProcHouse-v0", "SemanticNav-ProcHouse-v0"]


@contextlib.contextmanager
def strict_api_warnings():
    """PettingZoo's API tests report problems as UserWarnings ("Live agent was not given
    observation"): make them errors, except ours about the test's made-up reset option."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", message=r"reset options \['options'\] are not used")
        yield


def small(env_ids, **kwargs):
    return parallel_env(env_ids, **{**SMALL, "max_episode_steps": 40, **kwargs})


@pytest.mark.parametrize("env_id", TASK_IDS)
def test_parallel_api_and_seed_on_every_task(env_id):
    with strict_api_warnings():
        parallel_api_test(small(env_id, num_agents=2), num_cycles=1000)
    parallel_seed_test(lambda: small(env_id, num_agents=2))


def test_mixed_embodiment_and_mixed_task_team():
    team = dict(embodiments=["habitat", "jetbot", "h1", "aliengo"])
    with strict_api_warnings():
        parallel_api_test(small("ObjectNav-ProcHouse-v0", num_agents=4, **team), num_cycles=1000)
    parallel_seed_test(lambda: small("ObjectNav-ProcHouse-v0", num_agents=4, **team))
    mixed = small(["ImageNav-ProcHouse-v0", "ObjectNav-ProcHouse-v0", "TextNav-ProcHouse-v0"])
    observations, infos = mixed.reset(seed=3)
    assert mixed.possible_agents == ["habitat_0", "habitat_1", "habitat_2"]
    assert "imagegoal" in observations["habitat_0"] and "objectgoal" in observations["habitat_1"] and "textgoal" in observations["habitat_2"]
    assert len({info["scene_id"] for info in infos.values()}) == 1  # one house
    spaces = {a: mixed.observation_space(a) for a in mixed.possible_agents}
    for agent, obs in observations.items():
        assert spaces[agent].contains(obs), agent
        assert mixed.observation_space(agent) is spaces[agent]


def test_aec_form_passes_the_api_test():
    with strict_api_warnings():
        # Advice for Box/Discrete observations; navgym's are Dicts (as the Gymnasium env's).
        warnings.filterwarnings("ignore", message="Observation is not a NumPy array")
        warnings.filterwarnings("ignore", message="Observation space for each agent probably should be")
        api_test(aec_env("ObjectNav-ProcHouse-v0", num_agents=2, **SMALL, max_episode_steps=30), num_cycles=200)


def test_one_agent_matches_the_gymnasium_env():
    kwargs = dict(num_scenes=1, episodes_per_scene=4, resolution=24, sensors=("rgb", "depth", "semantic", "gps", "compass", "objectgoal"))
    single = gym.make("ObjectNav-ProcHouse-v0", render_mode="rgb_array", **kwargs)
    par = parallel_env("ObjectNav-ProcHouse-v0", num_agents=1, render_mode="rgb_array", **kwargs)
    (name,) = par.possible_agents
    rng = np.random.default_rng(0)
    for seed in (0, 7):
        obs, info = single.reset(seed=seed)
        pobs, pinfo = par.reset(seed=seed)
        for step in range(60):
            for key in obs:
                np.testing.assert_array_equal(np.asarray(obs[key]), np.asarray(pobs[name][key]), err_msg=f"seed {seed} step {step} {key}")
            for key, value in info.items():
                assert pinfo[name][key] == value, (seed, step, key)
            np.testing.assert_array_equal(single.render(), par.render())
            if not par.agents:
                break
            action = int(rng.choice([1, 1, 1, 2, 3]) if step < 59 else 0)
            obs, reward, terminated, truncated, info = single.step(action)
            pobs, prew, pterm, ptrunc, pinfo = par.step({name: action})
            assert (reward, terminated, truncated) == (prew[name], pterm[name], ptrunc[name])
        assert not par.agents and par.state().shape == (128, 128, 3)


def _facing_pair(par, gap: float):
    """Agents 0 and 1 on one line in open floor, ``gap`` metres apart (centres), facing each other."""
    par.reset(seed=0)
    sim = par.sim
    a, b = (s.agent_id for s in par.seats)
    rng = np.random.default_rng(1)
    for _ in range(2000):
        p = sim.sample_navigable_point(rng, a)
        yaw = float(rng.uniform(-np.pi, np.pi))
        heading = np.array([-math.sin(yaw), 0.0, -math.cos(yaw)])
        line = [p + heading * t for t in np.linspace(-0.5, gap + 0.5, 40)]
        if all(sim.is_navigable(q, a) and sim.is_navigable(q, b) and abs(q[1] - p[1]) < 0.05 for q in line):
            sim.set_agent_state(AgentState.from_yaw(p, yaw), agent_id=a)
            sim.set_agent_state(AgentState.from_yaw(p + heading * gap, yaw + np.pi), agent_id=b)
            return sim, a, b
    pytest.skip("no straight free line in this house")


def test_two_agents_walking_into_each_other_never_overlap_and_see_each_other():
    par = small("ObjectNav-ProcHouse-v0", num_agents=2, sensors=("rgb", "depth", "semantic"), max_episode_steps=100)
    sim, a, b = _facing_pair(par, 2.0)
    seen = sim.render([(sim.get_agent_state(a), par.seats[0].embodiment.camera.with_(outputs=("semantic", "depth")))])[0]
    assert (seen["semantic"] == AGENT_SEMANTIC_BASE + b).any(), "agent 1 is not in agent 0's camera"
    with sim.bodies_hidden():
        hidden = sim.render([(sim.get_agent_state(a), par.seats[0].embodiment.camera.with_(outputs=("semantic",)))])[0]
    assert not (hidden["semantic"] >= AGENT_SEMANTIC_BASE).any()
    reach = sim.body(a).radius + sim.body(b).radius
    collided = []
    for _ in range(12):  # 3 m of steps for both: they meet in the middle
        _, _, _, _, infos = par.step({name: 1 for name in par.agents})
        collided.append(infos[par.possible_agents[0]]["collided"])
        pa, pb = sim.get_agent_state(a).position, sim.get_agent_state(b).position
        assert math.hypot(*(pa - pb)[[0, 2]]) >= reach - 1e-9
    assert any(collided)
    assert math.hypot(*(pa - pb)[[0, 2]]) < reach + 0.25  # they did walk up to each other


def test_agents_slide_past_each_other():
    """Walking diagonally into another agent off-centre: the motion stops at contact, then slides
    along a world axis (Habitat's rule, as against walls), ending farther than the contact point."""
    par = small("ObjectNav-ProcHouse-v0", num_agents=2, max_episode_steps=100)
    par.reset(seed=0)
    sim = par.sim
    a, b = (s.agent_id for s in par.seats)
    rng = np.random.default_rng(2)
    direction = np.array([1.0, 0.0, -1.0]) / math.sqrt(2.0)
    across = np.array([1.0, 0.0, 1.0]) / math.sqrt(2.0)
    offsets = [direction * t + across * u for t in np.linspace(-0.2, 1.3, 16) for u in np.linspace(-0.7, 0.4, 12)]
    for _ in range(3000):
        p = sim.sample_navigable_point(rng, a)
        if all(sim.is_navigable(p + o, a) and sim.is_navigable(p + o, b) for o in offsets):
            break
    else:
        pytest.skip("no open 1.5 x 1.2 m patch in this house")
    reach = sim.body(a).radius + sim.body(b).radius
    sim.set_agent_state(AgentState.from_yaw(p, 0.0), agent_id=a)
    sim.set_agent_state(AgentState.from_yaw(p + direction * 1.0 - across * 0.3, 0.0), agent_id=b)
    other = sim.get_agent_state(b).position
    contact = 1.0 - math.sqrt(reach**2 - 0.3**2)  # distance along `direction` to first touch (reach 0.36 m)
    collided = sim.move_agent(direction * 0.9, agent_id=a)
    end = sim.get_agent_state(a).position
    assert collided
    assert math.hypot(*(end - other)[[0, 2]]) >= reach - 1e-9
    assert np.linalg.norm((end - p)[[0, 2]]) > contact + 0.03  # slid on (along +x) after touching
    sim.set_agent_solid(b, False)  # a ghost does not block
    sim.set_agent_state(AgentState.from_yaw(p, 0.0), agent_id=a)
    assert not sim.move_agent(direction * 0.9, agent_id=a)


def test_shared_goal_first_to_reach_ends_the_episode_for_all():
    par = small("ImageNav-ProcHouse-v0", num_agents=2, shared_goal=True, max_episode_steps=200)
    par.reset(seed=0)
    lead, other = par.seats
    np.testing.assert_array_equal(lead.goal_points, par.seats[0].goal_points)
    assert lead.goal_episode is other.goal_episode
    sim = par.sim
    goal = other.goal_points[0]
    sim.set_agent_state(AgentState(goal, sim.get_agent_state(other.agent_id).rotation), snap=True, agent_id=other.agent_id)
    _, rewards, terminations, _, infos = par.step({lead.name: 2, other.name: 0})
    assert terminations == {lead.name: True, other.name: True} and not par.agents
    assert infos[other.name]["success"] == 1.0 and infos[lead.name]["success"] == 0.0
    assert infos[lead.name]["team_success_any"] == 1.0 and infos[lead.name]["team_success_all"] == 0.0
    assert infos[lead.name]["team_first_success"] == other.name
    assert par.step({}) == ({}, {}, {}, {}, {})


def test_bad_arguments_say_what_to_do():
    with pytest.raises(InvalidArgumentError, match="num_agents=0"):
        parallel_env("ObjectNav-ProcHouse-v0", num_agents=0)
    with pytest.raises(InvalidArgumentError, match="embodiments=.*3 entries for 2 agents"):
        parallel_env("ObjectNav-ProcHouse-v0", num_agents=2, embodiments=["habitat"] * 3)
    with pytest.raises(InvalidArgumentError, match="shared_goal=True needs one task"):
        small(["ImageNav-ProcHouse-v0", "ObjectNav-ProcHouse-v0"], shared_goal=True)
    par = small("ObjectNav-ProcHouse-v0", num_agents=2)
    with pytest.raises(gym.error.ResetNeeded):
        par.step({})
    with pytest.raises(gym.error.ResetNeeded, match="team_measures"):
        par.team_measures()
    for options in ("idx", [("episode_index", 0)]):  # dict() took the list of pairs silently
        with pytest.raises(InvalidArgumentError, match="must be a dict"):
            par.reset(seed=0, options=options)
    par.reset(seed=0)
    with pytest.raises(InvalidArgumentError, match="missing"):
        par.step({par.possible_agents[0]: 1})
    with pytest.raises(InvalidArgumentError, match="is not an agent of this env"):
        par.observation_space("nobody")


@pytest.mark.parametrize("embodiments, good, bad, text", [
    (["h1", "jetbot"], np.array([0.5, 0, 0, 0], np.float32), np.array([np.nan, 0, 0], np.float32), "must be finite"),
    (["habitat", "habitat"], 1, 7, "action=7 is not a valid action"),
])
def test_a_refused_action_moves_no_agent(embodiments, good, bad, text):
    """Every action is checked before any agent moves: one bad action used to leave the agents
    before it a step ahead (moved, counted) of those after it."""
    par = small("ObjectNav-ProcHouse-v0", num_agents=2, embodiments=embodiments)
    first, second = par.possible_agents
    par.reset(seed=0)
    before = [par.sim.get_agent_state(s.agent_id).position.copy() for s in par.seats]
    good = good[: par.action_space(first).shape[0]] if isinstance(good, np.ndarray) else good
    with pytest.raises(InvalidArgumentError, match=rf"actions\['{second}'\]: .*{text}"):
        par.step({first: good, second: bad})
    assert all(np.array_equal(par.sim.get_agent_state(s.agent_id).position, p) for s, p in zip(par.seats, before))
    assert par.team_measures()["team_path_length"] == 0.0
    fine = np.zeros(par.action_space(second).shape, np.float32) if par.action_space(second).shape else 1
    _, _, _, _, infos = par.step({first: good, second: fine})
    assert infos[first]["num_steps"] == infos[second]["num_steps"] == 1


def test_missing_pettingzoo_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pettingzoo", None)
    with pytest.raises(gym.error.DependencyNotInstalled, match=r"navgym\[multiagent\]"):
        parallel_env("ObjectNav-ProcHouse-v0")


def test_a_quadruped_stops_with_its_nose_at_another_agent():
    """The Aliengo's rectangle (0.647 m long) counts cells other agents cover: walking into a
    standing agent it stops with its nose there, not at its 0.155 m radius."""
    par = small("ObjectNav-ProcHouse-v0", num_agents=2, embodiments=[AliengoAgent(command_noise=0.0), "habitat"], max_episode_steps=100)
    sim, a, b = _facing_pair(par, 2.0)
    quadruped, other = par.seats
    quadruped.embodiment.reset(sim, a)
    nose_gap = 0.5 * quadruped.embodiment.footprint[0] + sim.body(b).radius
    distances = []
    for _ in range(8):  # 1 m/s for 4 s: far enough to meet
        par.step({quadruped.name: np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), other.name: 2})
        distances.append(math.hypot(*(sim.get_agent_state(a).position - sim.get_agent_state(b).position)[[0, 2]]))
    assert min(distances) >= nose_gap - 0.06  # within the grid's cell tolerance
    assert min(distances) < nose_gap + 0.15  # it did walk up to the other agent


def test_pointgoal_readings_follow_each_agent():
    """PointNav's GPS+compass reading of each seat is its own agent's pose to its own goal (it
    followed agent 0 for every seat before goal_observations took agent_id)."""
    from navgym.tasks.pointnav import POINTGOAL_SENSOR, polar_goal

    par = parallel_env("PointNav-ProcHouseSmall-v0", num_agents=2, shared_goal=False, max_episode_steps=40)
    observations, _ = par.reset(seed=5)
    for _ in range(3):
        observations, *_ = par.step({name: 2 for name in par.agents})  # turn left: the headings differ
    readings = [observations[name][POINTGOAL_SENSOR] for name in par.possible_agents]
    for seat, reading in zip(par.seats, readings):
        expected = polar_goal(par.sim.get_agent_state(seat.agent_id), seat.goal_points[0])
        np.testing.assert_allclose(reading, expected, atol=1e-5)
    assert not np.allclose(readings[0], readings[1])
    par.close()


def test_a_team_frame_caps_a_very_wide_camera_view():
    from navgym.envs.visualize import MAX_VIEW_ASPECT

    par = parallel_env("PointNav-ProcHouse-v0", num_agents=2, render_mode="rgb_array", **{**SMALL, "resolution": (4, 1000)})
    par.reset(seed=0)
    frame = par.render()
    # two framed views of at most 4:1 inside 248 px, gaps, and the 256 px map: not 2 x 62,000 px
    assert frame.shape[0] == 256 and frame.shape[1] <= 2 * (MAX_VIEW_ASPECT * 248 + 12) + 256
    par.close()


def test_team_map_of_a_multistorey_house_sets_other_storeys_apart():
    """ProcHouseHard seed 4: seat 0 starts upstairs, its goals and seat 1 are on the ground floor.
    The team map showed them on seat 0's floor as if there; now rings, an outline and a caption."""
    from navgym.envs.visualize import floor_image, storey_index
    from navgym.multiagent.draw import _light, team_topdown
    from navgym.sims.embedded.bodies import agent_color

    par = parallel_env("ObjectNav-ProcHouseHard-v0", 2, resolution=32, render_mode="rgb_array")
    try:
        par.reset(seed=4)
        sim, (lead, other) = par.sim, par.seats
        storeys = sim.storey_heights()
        upstairs = int(storey_index(storeys, sim.get_agent_state(lead.agent_id).position[1]))
        goals = np.asarray(lead.goal_points)
        assert len(storeys) > 1 and (storey_index(storeys, goals[:, 1]) != upstairs).all()
        assert int(storey_index(storeys, sim.get_agent_state(other.agent_id).position[1])) != upstairs
        image = team_topdown(par, size=256)
        _, to_pixel = floor_image(sim.topdown_map(sim.get_agent_state(lead.agent_id).position[1], lead.agent_id), 256)
        dot = _light(agent_color(lead.agent_id))
        centres = [tuple(int(v) for v in image[int(y), int(x)]) for x, y in to_pixel(goals)[:: max(1, len(goals) // 50)]]
        assert dot not in centres  # old code: filled dots of seat 0's colour at its goal points
        x, y = to_pixel(sim.get_agent_state(other.agent_id).position)[0]
        assert tuple(int(v) for v in image[int(y), int(x)]) != agent_color(other.agent_id)  # an outline, not a body
        assert (image[:20, :60] == 255).all(axis=-1).any() and (image[:20, :60] == 0).all(axis=-1).any()  # the caption
    finally:
        par.close()
