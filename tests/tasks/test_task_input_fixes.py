"""Bad task inputs are clear errors or warnings, never silent losses: goal texts outside the Text
spaces' ASCII charset are folded (accents, dashes, curly quotes), what is still dropped or cut is
warned about once, and an empty result is an error; ObjectNav episodes of a category the task
lacks name the episode and ``categories=``; a malformed ImageNav ``info.goal_rotation`` names
itself; the reward keywords are checked at make."""

from __future__ import annotations

import dataclasses
import math
import re
import warnings

import gymnasium as gym
import numpy as np
import pytest

import navgym  # noqa: F401
from navgym.core.specs import CameraSpec
from navgym.datasets.episodes import Episode, EpisodeDataset
from navgym.envs.nav_env import NavEnv
from navgym.errors import DatasetFormatError, InvalidArgumentError
from navgym.tasks.base import Task
from navgym.tasks.imagenav import ImageNavTask, goal_rotation
from navgym.tasks.multigoal_vln import MultiGoalVLNTask
from navgym.tasks.objectnav import ObjectNavTask
from navgym.tasks.semantic_nav import SemanticNavTask
from navgym.tasks.textnav import TextNavTask

SMALL = {"num_scenes": 1, "episodes_per_scene": 2, "resolution": 32}
CAMERA = CameraSpec(32, 32)


def episode(episode_id: str, **fields) -> Episode:
    return Episode(episode_id, "scene-a", [0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], **fields)


# -- goal texts ------------------------------------------------------------------------------------
def observe(task_name: str, ep: Episode) -> str:
    """The goal text each text task observes for ``ep`` (none of them needs the simulator for it)."""
    if task_name == "TextNav":
        return TextNavTask().goal_observations(None, dataclasses.replace(ep, object_category="chair"), CAMERA)["textgoal"]
    if task_name == "SemanticNav":
        return SemanticNavTask().goal_observations(None, dataclasses.replace(ep, prompt_kind="text"), CAMERA)["prompt_text"]
    return MultiGoalVLNTask().instruction(ep)


TEXT_TASKS = {"TextNav": 512, "SemanticNav": 256, "MultiGoalVLN": 512}


def recorded(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught]


@pytest.mark.parametrize("task_name", TEXT_TASKS)
def test_accents_dashes_and_curly_quotes_are_folded_to_ascii_without_a_warning(task_name):
    ep = episode(f"fold-{task_name}", instruction="the café chair – near the “big”\u00a0bed — it’s naïve")
    text, messages = recorded(lambda: observe(task_name, ep))
    assert text == 'the cafe chair - near the "big" bed - it\'s naive'
    assert messages == []


@pytest.mark.parametrize("task_name", TEXT_TASKS)
def test_plain_ascii_texts_are_observed_unchanged(task_name):
    plain = "First go to the red chair (next to the bed), then: the sofa & the TV! 'ok' \"yes\" 1/2; a-b_c?"
    text, messages = recorded(lambda: observe(task_name, episode(f"plain-{task_name}", instruction=plain)))
    assert text == plain and messages == []


@pytest.mark.parametrize("task_name", TEXT_TASKS)
def test_characters_that_cannot_be_folded_are_dropped_with_one_warning_naming_the_episode(task_name):
    ep = episode(f"drop-{task_name}", instruction="the chair #3 near the bed ☺")
    text, messages = recorded(lambda: observe(task_name, ep))
    assert text == "the chair 3 near the bed "
    assert len(messages) == 1
    assert f"Episode drop-{task_name} (scene scene-a)" in messages[0] and "instruction" in messages[0]
    assert "'#☺'" in messages[0]
    # The next reset of the same episode does not warn again.
    again, messages = recorded(lambda: observe(task_name, ep))
    assert again == text and messages == []


@pytest.mark.parametrize(("task_name", "limit"), TEXT_TASKS.items())
def test_a_text_longer_than_the_space_is_cut_with_a_warning(task_name, limit):
    long = "the chair near the bed " * 30  # 690 characters
    text, messages = recorded(lambda: observe(task_name, episode(f"long-{task_name}", instruction=long)))
    assert text == long[:limit]
    assert len(messages) == 1 and f"Episode long-{task_name}" in messages[0]
    assert f"cut it from {len(long)} characters to the space's {limit}" in messages[0]


@pytest.mark.parametrize("task_name", TEXT_TASKS)
def test_a_text_with_nothing_the_space_can_hold_is_a_clear_error(task_name):
    with pytest.raises(DatasetFormatError) as caught:
        observe(task_name, episode(f"empty-{task_name}", instruction="靠近床的椅子"))
    message = str(caught.value)
    assert f"Episode empty-{task_name} (scene scene-a): instruction='靠近床的椅子'" in message
    assert "empty" in message and "ASCII" in message


def test_textnav_attribute_texts_are_folded_and_named_when_empty():
    attributes = {"intrinsic_attributes": "the café chair", "extrinsic_attributes": "– near the bed"}
    ep = episode("psl-1", goal_attributes=attributes)
    text, messages = recorded(lambda: observe("TextNav", ep))
    assert text == "the cafe chair - near the bed" and messages == []
    with pytest.raises(DatasetFormatError, match=r"Episode psl-2 \(scene scene-a\): goal_attributes .*attribute_data"):
        observe("TextNav", episode("psl-2", goal_attributes={"intrinsic_attributes": "椅子"}))


def test_an_env_observes_the_folded_text_and_it_is_in_the_observation_space():
    env = gym.make("TextNav-ProcHouse-v0", **SMALL, sensors=("textgoal",))
    nav = env.unwrapped
    episodes = [dataclasses.replace(e, instruction=f"the café chair – number {i}") for i, e in enumerate(nav.dataset.episodes)]
    clone = NavEnv(nav.task, EpisodeDataset(episodes=episodes), nav.sim_factory, sensors=nav.sensors, embodiment=nav.embodiment)
    obs, _ = clone.reset(seed=0, options={"episode_index": 0})
    assert obs["textgoal"] == "the cafe chair - number 0"
    assert clone.observation_space.contains(obs)
    env.close()


# -- ObjectNav categories ----------------------------------------------------------------------------
def test_an_objectnav_episode_of_another_category_names_the_episode_and_categories_at_reset():
    env = gym.make("ObjectNav-ProcHouse-v0", **SMALL, sensors=("objectgoal",))
    nav = env.unwrapped
    first = nav.dataset.episodes[0]
    couch = dataclasses.replace(first, episode_id="couch-1", object_category="couch")
    clone = NavEnv(nav.task, EpisodeDataset(episodes=[couch]), nav.sim_factory, sensors=nav.sensors, embodiment=nav.embodiment)
    with pytest.raises(InvalidArgumentError) as caught:
        clone.reset(seed=0)
    message = str(caught.value)
    assert f"Episode couch-1 (scene {first.scene_id}): object_category='couch'" in message
    assert "categories=['chair', 'bed', 'plant', 'toilet', 'tv_monitor', 'sofa', 'couch']" in message
    env.close()


def test_objectnav_check_dataset_lists_each_missing_category_with_its_first_episode():
    eps = [episode("1", object_category="chair"), episode("2", object_category="couch"),
           episode("3", object_category="couch"), episode("4", object_category="lamp")]  # fmt: skip
    ObjectNavTask().check_dataset(EpisodeDataset(episodes=eps[:1]))
    with pytest.raises(InvalidArgumentError) as caught:
        ObjectNavTask().check_dataset(EpisodeDataset(episodes=eps))
    message = str(caught.value)
    assert "object_category='couch' in 2 episode(s), the first 2 (scene scene-a)" in message
    assert "object_category='lamp' in 1 episode(s), the first 4 (scene scene-a)" in message
    assert "categories=['chair', 'bed', 'plant', 'toilet', 'tv_monitor', 'sofa', 'couch', 'lamp']" in message


# -- ImageNav goal rotation ------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [[0, 1, 0], "north", [0, 0, 0, 0], [0, 0, math.nan, 1], [[0, 0], [0, 1]], {"yaw": 1}])
def test_a_malformed_goal_rotation_names_the_field_value_and_episode(bad):
    ep = episode("rot-1", goals=[], info={"goal_rotation": bad})
    with pytest.raises(DatasetFormatError) as caught:
        goal_rotation(ep)
    message = str(caught.value)
    assert f"Episode rot-1 (scene scene-a): info.goal_rotation={bad!r}" in message
    assert "4 finite numbers, a quaternion [x, y, z, w]" in message
    with pytest.raises(DatasetFormatError, match="info.goal_rotation"):
        ImageNavTask().goal_heading(ep)


def test_a_good_goal_rotation_is_used_as_stored():
    np.testing.assert_array_equal(goal_rotation(episode("rot-2", info={"goal_rotation": [0, 0.7071, 0, 0.7071]})), [0, 0.7071, 0, 0.7071])


def test_an_env_with_a_malformed_goal_rotation_says_so_at_reset():
    env = gym.make("ImageNav-ProcHouse-v0", **SMALL)
    nav = env.unwrapped
    first = nav.dataset.episodes[0]
    bad = dataclasses.replace(first, info={**first.info, "goal_rotation": "north"})
    clone = NavEnv(nav.task, EpisodeDataset(episodes=[bad]), nav.sim_factory, sensors=nav.sensors, embodiment=nav.embodiment)
    with pytest.raises(DatasetFormatError, match=rf"Episode {first.episode_id} .*info.goal_rotation='north'"):
        clone.reset(seed=0)
    env.close()


# -- reward keywords -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["success_reward", "slack_reward"])
@pytest.mark.parametrize("value", ["x", None, True, math.nan, math.inf, [1.0]])
def test_bad_reward_keywords_are_refused_at_make_naming_them(name, value):
    with pytest.raises(InvalidArgumentError, match=re.escape(f"{name}={value!r}")):
        gym.make("PointNav-ProcHouseSmall-v0", num_scenes=1, episodes_per_scene=2, **{name: value})


def test_good_reward_keywords_are_kept_as_floats():
    task = Task(success_reward=np.float32(5.0), slack_reward=0)
    assert (task.success_reward, task.slack_reward) == (5.0, 0.0)
    assert type(task.success_reward) is float and type(task.slack_reward) is float
