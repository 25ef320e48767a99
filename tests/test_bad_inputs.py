"""The bad-input catalogue (issue 19): each bad input through the public API gives a clear error
that names the parameter (or the file), of a type the user can catch, and leaves nothing half
written. The CLI's share of the catalogue is in tests/test_cli.py."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest

import navgym  # noqa: F401
from navgym.core.specs import AgentState, BodySpec, CameraSpec
from navgym.errors import NavgymError

SMALL = {"num_scenes": 1, "episodes_per_scene": 2}

# (label, env id, keyword arguments, exception type, text the message must contain)
MAKE_CASES = [
    ("resolution as a string of digits", "ObjectNav-ProcHouse-v0", {"resolution": "64"}, ValueError, "resolution='64'"),
    ("resolution as a bool", "ObjectNav-ProcHouse-v0", {"resolution": True}, ValueError, "resolution=True"),
    ("resolution as a word", "ObjectNav-ProcHouse-v0", {"resolution": "abc"}, ValueError, "resolution='abc'"),
    ("resolution fractional", "ObjectNav-ProcHouse-v0", {"resolution": 128.5}, ValueError, "resolution=128.5"),
    ("resolution one side in a tuple", "ObjectNav-ProcHouse-v0", {"resolution": (64,)}, ValueError, "resolution=(64,)"),
    ("resolution zero", "ObjectNav-ProcHouse-v0", {"resolution": 0}, ValueError, "resolution=0"),
    ("resolution negative height", "ObjectNav-ProcHouse-v0", {"resolution": (-3, 64)}, ValueError, "resolution=(-3, 64)"),
    ("resolution too large", "ObjectNav-ProcHouse-v0", {"resolution": 5000}, ValueError, "[1, 4096]"),
    ("hfov as a word", "ObjectNav-ProcHouse-v0", {"hfov": "wide"}, ValueError, "hfov='wide'"),
    ("hfov NaN", "ObjectNav-ProcHouse-v0", {"hfov": float("nan")}, ValueError, "hfov=nan"),
    ("hfov 180", "ImageNav-ProcHouse-v0", {"hfov": 180}, ValueError, "hfov=180"),
    ("camera_height negative", "ImageNav-ProcHouse-v0", {"camera_height": -1}, ValueError, "camera_height=-1"),
    ("forward_step zero", "ImageNav-ProcHouse-v0", {"forward_step": 0}, ValueError, "forward_step=0"),
    ("turn_angle as a word", "ImageNav-ProcHouse-v0", {"turn_angle": "left"}, ValueError, "turn_angle='left'"),
    ("success_distance as a word", "ImageNav-ProcHouse-v0", {"success_distance": "x"}, ValueError, "success_distance='x'"),
    ("sensors empty", "ObjectNav-ProcHouse-v0", {"sensors": ()}, ValueError, "sensors=()"),
    ("sensors a bare string", "ObjectNav-ProcHouse-v0", {"sensors": "rgb"}, ValueError, "sensors='rgb'"),
    ("sensors unknown", "ObjectNav-ProcHouse-v0", {"sensors": ("rgb", "thermal")}, ValueError, "thermal"),
    ("categories unknown to ProcHouse", "ObjectNav-ProcHouse-v0", {"categories": ["unicorn"]}, ValueError, "unicorn"),
    ("categories a bare string", "ObjectNav-ProcHouse-v0", {"categories": "chair"}, ValueError, "categories='chair'"),
    ("categories repeated", "ObjectNav-ProcHouse-v0", {"categories": ["chair", "chair", "bed"]}, ValueError, "names 'chair' more than once"),
    ("split unknown", "ObjectNav-ProcHouse-v0", {"split": "bogus"}, ValueError, "split='bogus'"),
    ("difficulty unknown", "ImageNav-ProcHouse-v0", {"difficulty": "insane"}, ValueError, "difficulty='insane'"),
    ("num_scenes zero", "ImageNav-ProcHouse-v0", {"num_scenes": 0}, ValueError, "num_scenes=0"),
    ("scene_repeat_episodes zero", "ImageNav-ProcHouse-v0", {"scene_repeat_episodes": 0}, ValueError, "scene_repeat_episodes=0"),
    ("render_mode unknown", "ImageNav-ProcHouse-v0", {"render_mode": "depth_array"}, ValueError, "render_mode='depth_array'"),
    ("sim unknown", "ImageNav-ProcHouse-v0", {"sim": "embeded"}, ValueError, "sim='embeded'"),
    ("embodiment unknown", "ImageNav-ProcHouse-v0", {"embodiment": "jetbott"}, ValueError, "embodiment='jetbott'"),
    ("a setting the embodiment lacks", "ImageNav-ProcHouse-v0", {"embodiment": "unicycle", "turn_angle": 10}, ValueError, "turn_angle"),
    ("unknown task keyword", "ImageNav-ProcHouse-v0", {"colour": "red"}, TypeError, "colour"),
    ("misspelt make keyword", "ImageNav-ProcHouse-v0", {"resolutoin": 64}, TypeError, "Did you mean 'resolution'?"),
    ("misspelt task field", "ObjectNav-ProcHouse-v0", {"sucess_reward": 1.0}, TypeError, "Did you mean 'success_reward'"),
    ("dataset path missing", "ObjectNav-HM3D-v0", {"dataset_path": "/nonexistent/val.json.gz"}, FileNotFoundError, "/nonexistent/val.json.gz"),
    # a word where true/false is due (any non-empty string used to switch the setting on)
    ("mask_prompt_image a word", "SemanticNav-ProcHouse-v0", {"mask_prompt_image": "maybe"}, ValueError, "mask_prompt_image='maybe' must be true or false"),
    ("measure_wall_time a list", "MultiGoalVLN-ProcHouse-v0", {"measure_wall_time": [0]}, ValueError, "measure_wall_time=[0] must be true or false"),
]


@pytest.mark.parametrize(("label", "env_id", "kwargs", "error", "text"), MAKE_CASES, ids=[c[0] for c in MAKE_CASES])
def test_bad_make_arguments_name_the_parameter(label, env_id, kwargs, error, text):
    with pytest.raises(error) as caught:
        gym.make(env_id, **{**SMALL, **kwargs})
    assert text in str(caught.value), str(caught.value)


def test_an_empty_episode_file_is_named(tmp_path):
    import gzip
    import json

    path = tmp_path / "val.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump({"episodes": []}, f)
    with pytest.raises(ValueError, match=str(path)):
        gym.make("ObjectNav-HM3D-v0", dataset_path=str(path), data_dir=str(tmp_path))


@pytest.fixture(scope="module")
def env():
    env = gym.make("ObjectNav-ProcHouse-v0", **SMALL)
    yield env.unwrapped
    env.close()


@pytest.mark.parametrize(
    ("position", "text"), [([math.nan, 0.0, 0.0], "position"), ([math.inf, 0.0, 0.0], "position"), ([1.0, 2.0], "3 numbers")]
)
def test_bad_agent_positions_are_rejected_before_the_grid_sees_them(env, position, text):
    env.reset(seed=0)
    with pytest.raises(NavgymError, match=text):
        env.sim.set_agent_state(AgentState(position))


def test_a_nan_tilt_is_rejected_instead_of_rendering_black(env):
    with pytest.raises(ValueError, match="tilt=nan"):
        AgentState([0.0, 0.0, 0.0], tilt=float("nan"))


def test_stepping_after_stop_asks_for_a_reset_and_keeps_the_result(env):
    env.reset(seed=0)
    *_, info = env.step(0)  # stop
    with pytest.raises(gym.error.ResetNeeded, match="call reset"):
        env.step(1)
    assert env._info()["success"] == info["success"] and env._info()["num_steps"] == 1  # nothing changed
    with pytest.raises(RuntimeError):  # also a RuntimeError, as before
        env.step(1)
    env.reset(seed=0)
    env.step(1)  # a new episode steps again


@pytest.mark.parametrize(("action", "text"), [(9, "action=9"), ("fly", "action='fly'"), (1.5, "action=1.5"), (None, "action=None"),
                                              (True, "action=True"), (np.bool_(True), "action=np.True_"),
                                              ([[1], [2, 3]], r"action=\[\[1\], \[2, 3\]\]"), ([1, 2], r"action=\[1, 2\]")])
def test_bad_actions_list_the_valid_ones(env, action, text):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=text) as caught:
        env.step(action)
    assert "0 stop" in str(caught.value)


def test_true_false_settings_read_no_as_false():
    assert gym.make("SemanticNav-ProcHouse-v0", mask_prompt_image="no", **SMALL).unwrapped.task.mask_prompt_image is False
    assert gym.make("MultiGoalVLN-ProcHouse-v0", measure_wall_time="off", **SMALL).unwrapped.task.measure_wall_time is False


def test_an_env_told_no_goal_warns_naming_the_goal_sensor():
    with pytest.warns(UserWarning, match=r"sensors=\['rgb'\] has none of ObjectNav's goal sensors \['objectgoal'\].*Add 'objectgoal'"):
        gym.make("ObjectNav-ProcHouse-v0", sensors=("rgb",), **SMALL)
    # a goal sensor that does not say which goal (SemanticNav's prompt kind, MultiGoalVLN's pose) is not enough
    with pytest.warns(UserWarning, match=r"SemanticNav's goal sensors \['prompt_text', 'prompt_image'\]") as caught:
        gym.make("SemanticNav-ProcHouse-v0", sensors=("rgb", "prompt_kind"), **SMALL)
    assert caught[0].filename == __file__  # names the user's line, not Gymnasium's registry
    with pytest.warns(UserWarning, match=r"MultiGoalVLN's goal sensors \['instruction'\]"):
        gym.make("MultiGoalVLN-ProcHouse-v0", sensors=("rgb", "pose"), **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a goal sensor among them: no warning; the documented filter silences it
        gym.make("ObjectNav-ProcHouse-v0", sensors=("rgb", "objectgoal"), **SMALL)
        warnings.filterwarnings("ignore", message="sensors=.*goal sensors")
        gym.make("ObjectNav-ProcHouse-v0", sensors=("rgb",), **SMALL)


def test_bad_reset_options_are_named(env):
    with pytest.raises(ValueError, match="episode_index"):
        env.reset(options={"episode_index": 99})
    with pytest.raises(ValueError, match="Unknown reset options"):
        env.reset(options={"episode": 1})
    # Extra keys beside an episode's index or id are refused too (they were ignored).
    with pytest.raises(ValueError, match=r"Unknown reset options \['start_position'\]"):
        env.reset(options={"episode_index": 1, "start_position": [0, 0, 0]})
    with pytest.raises(ValueError, match="name an episode twice"):
        env.reset(options={"episode_index": 0, "episode_id": "x"})
    for index in (1.7, "1", True, -1):  # each was turned into an index by int()
        with pytest.raises(ValueError, match=r"options\['episode_index'\]=.* must be an integer >= 0"):
            env.reset(options={"episode_index": index})
    with pytest.raises(ValueError, match=r"options\['episode_id'\]=1.5 must be an episode's id"):
        env.reset(options={"episode_id": 1.5})
    with pytest.raises(ValueError, match=r"options='idx' must be a dict"):
        env.reset(options="idx")
    with pytest.raises(ValueError, match="No episode with episode_id='nope'") as caught:  # a KeyError too, as it was
        env.reset(options={"episode_id": "nope"})
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, NavgymError)
    _, info = env.reset(options={"episode_index": np.int64(1)})  # numpy integers are integers
    assert info["episode_id"] == env.unwrapped.dataset.episodes[1].episode_id


def test_a_camera_above_the_ceiling_warns_once():
    env = gym.make("ImageNav-ProcHouse-v0", camera_height=8.0, **SMALL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env.reset(seed=0)
        env.reset(seed=0)
    messages = [str(w.message) for w in caught if "above the ceiling" in str(w.message)]
    assert len(messages) == 1 and "camera_height=8" in messages[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default camera does not warn
        gym.make("ImageNav-ProcHouse-v0", **SMALL).reset(seed=0)


@pytest.mark.parametrize(
    ("build", "text"),
    [
        (lambda: CameraSpec(width=True), "width=True"),
        (lambda: CameraSpec(hfov="wide"), "hfov='wide'"),
        (lambda: CameraSpec(max_depth=-1), "max_depth"),
        (lambda: BodySpec(height=0), "height=0"),
        (lambda: BodySpec(radius=float("inf")), "radius=inf"),
    ],
)
def test_bad_specs_name_the_field(build, text):
    with pytest.raises(ValueError, match=text):
        build()


def test_unknown_agents_and_agent_ids_are_named(env):
    with pytest.raises(ValueError, match="Did you mean 'frontier'"):
        navgym.agents.make("fronteir")
    with pytest.raises(KeyError):  # UnknownNameError is a KeyError too
        navgym.agents.make("no-such-agent")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="agent_id=5 is not an agent"):
        env.sim.get_agent_state(5)


@pytest.mark.parametrize(
    ("name", "options", "text"),
    [
        ("random", {"stop_probability": "x"}, "stop_probability='x'"),
        ("random", {"stop_probability": 2}, "stop_probability=2"),
        ("random", {"seed": "a"}, "seed='a'"),
        ("frontier", {"hfov": "x"}, "hfov='x'"),
        ("frontier", {"stop_distance": -1}, "stop_distance=-1"),
    ],
)
def test_bad_agent_options_name_the_option(env, name, options, text):
    with pytest.raises(ValueError, match=text):
        navgym.agents.make(name, env=env, **options)
