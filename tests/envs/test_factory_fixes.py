"""gym.make's handling of what a newcomer passes: episode files navgym wrote (generated-scene ids),
ProcHouse sizes, wide cameras, embodiments by name and the camera height."""

from __future__ import annotations

import dataclasses
import gzip
import json

import gymnasium as gym
import numpy as np
import pytest

import navgym  # noqa: F401
from navgym.core.specs import CameraSpec
from navgym.datasets.episodes import read_dataset, write_dataset
from navgym.embodiments import HabitatDiscreteAgent, JetbotAgent, UnicycleAgent
from navgym.errors import DatasetFormatError, InvalidArgumentError

ONE = {"num_scenes": 1, "episodes_per_scene": 1}


def _prochouse_file(tmp_path, **kwargs):
    """An episode file navgym writes for ProcHouse (its cache entry), copied under tmp_path."""
    env = gym.make("PointNav-ProcHouse-v0", split="val", **{**ONE, **kwargs})
    source = env.unwrapped.dataset.source
    assert source is not None and source.name.endswith(".json.gz")
    copy = tmp_path / "pointnav.json.gz"
    copy.write_bytes(source.read_bytes())
    return copy


# -- 1. dataset_path= with a file navgym wrote -------------------------------------------------
def test_a_prochouse_episode_file_loads_through_dataset_path(tmp_path):
    path = _prochouse_file(tmp_path)
    env = gym.make("PointNav-ProcHouse-v0", dataset_path=path, data_dir=tmp_path / "no_data")
    _, info = env.reset(seed=0)
    assert env.unwrapped.episode.scene_id == "prochouse/1000000"  # a generated house, not a path
    assert info["episode_id"] == "1000000_0"


def test_a_malformed_generated_scene_id_is_a_format_error(tmp_path):
    path = _prochouse_file(tmp_path)
    for bad in ("prochouse/abc", "prochouse/../../etc/passwd"):
        data = json.loads(gzip.decompress(path.read_bytes()))
        data["episodes"][0]["scene_id"] = bad
        path.write_bytes(gzip.compress(json.dumps(data).encode()))
        with pytest.raises(DatasetFormatError, match=r"Episode 1000000_0: scene id .*prochouse/<seed>"):
            gym.make("PointNav-ProcHouse-v0", dataset_path=path, data_dir=tmp_path)


def test_an_episode_id_held_by_two_scenes_is_refused_with_their_indices(tmp_path):
    dataset = gym.make("PointNav-ProcHouse-v0", split="val", num_scenes=2, episodes_per_scene=1).unwrapped.dataset
    assert dataset.scene_ids() == ["prochouse/1000000", "prochouse/1000001"]
    for episode in dataset.episodes:  # as Habitat numbers each content file's episodes
        episode.episode_id = "0"
    path = write_dataset(dataset, tmp_path / "dup.json.gz")
    env = gym.make("PointNav-ProcHouse-v0", dataset_path=path)
    with pytest.raises(InvalidArgumentError, match=r"episode_id='0' is ambiguous: 2 episodes .*0 in 1000000, 1 in 1000001.*episode_index"):
        env.reset(options={"episode_id": "0"})
    env.reset(options={"episode_index": 1})
    assert env.unwrapped.episode.scene_id == "prochouse/1000001"


# -- 4. num_scenes / episodes_per_scene are checked as given -----------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_scenes": 1.7, "episodes_per_scene": 2}, r"num_scenes=1\.7 must be an integer >= 1"),
        ({"num_scenes": "2", "episodes_per_scene": 1}, r"num_scenes='2' must be an integer >= 1"),
        ({"num_scenes": 1, "episodes_per_scene": 0.5}, r"episodes_per_scene=0\.5 must be an integer >= 1"),
        ({"num_scenes": True, "episodes_per_scene": 1}, r"num_scenes=True must be an integer"),
    ],
)
def test_prochouse_sizes_must_be_integers(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        gym.make("PointNav-ProcHouse-v0", **kwargs)


def test_prochouse_sizes_accept_numpy_integers():
    env = gym.make("PointNav-ProcHouse-v0", num_scenes=np.int64(1), episodes_per_scene=np.int32(1))
    assert len(env.unwrapped.dataset.episodes) == 1


# -- 5. wide cameras, and what an empty generation says ----------------------------------------
def test_imagenav_generates_episodes_for_a_wide_camera():
    env = gym.make("ImageNav-ProcHouse-v0", hfov=160, num_scenes=1, episodes_per_scene=2)
    assert len(env.unwrapped.dataset.episodes) == 2
    obs, _ = env.reset(seed=0)
    assert obs["imagegoal"].shape == (128, 128, 3)


def test_open_view_probe_keeps_narrow_cameras_and_caps_wide_ones():
    from navgym.datasets import prochouse

    seen = []

    class Recorder:
        def render(self, requests):
            seen.extend(spec.hfov for _, spec in requests)
            return [{"depth": np.full((24, 24), 5.0, np.float32)} for _ in requests]

    for hfov in (60.0, 90.0, 120.0, 170.0):
        seen.clear()
        yaw = prochouse.open_view_yaw(Recorder(), np.zeros(3), np.random.default_rng(0), CameraSpec(hfov=hfov))
        assert yaw is not None and set(seen) == {min(hfov, 90.0)}


def test_an_empty_generation_names_the_settings_not_a_file():
    with pytest.raises(InvalidArgumentError) as exc:  # a 1 cm distance bin: nothing fits
        gym.make("ImageNav-ProcHouse-v0", difficulty="hard", max_goal_distance=5.01, **ONE)
    message = str(exc.value)
    assert "content/" not in message
    for setting in ("num_scenes", "episodes_per_scene", "hfov", "difficulty", "max_goal_distance"):
        assert setting in message


def test_an_empty_episode_file_says_where_the_episodes_should_have_been(tmp_path):
    """Habitat's ObjectNav (and v2) top-level file is empty by design; without its content/
    folder the error says so, with one it says the content files are empty too."""
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"episodes": []}))
    with pytest.raises(InvalidArgumentError, match=r"gave no PointNav episodes: its 'episodes' list is empty and there is no content/ folder"):
        gym.make("PointNav-ProcHouse-v0", dataset_path=path)
    (tmp_path / "content").mkdir()
    with pytest.raises(InvalidArgumentError, match=r"content holds no <scene>\.json\.gz files"):
        gym.make("PointNav-ProcHouse-v0", dataset_path=path)
    (tmp_path / "content" / "a.json").write_text(json.dumps({"episodes": []}))
    with pytest.raises(InvalidArgumentError, match=r"so are those of the 1 files in"):
        gym.make("PointNav-ProcHouse-v0", dataset_path=path)


# -- 6. embodiments by name keep the task's rig ------------------------------------------------
def test_naming_the_tasks_own_kind_is_the_tasks_default():
    default = gym.make("ObjectNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=2).unwrapped
    named = gym.make("ObjectNav-ProcHouse-v0", embodiment="habitat", num_scenes=1, episodes_per_scene=2).unwrapped
    assert named.embodiment == default.embodiment
    assert (named.embodiment.camera.hfov, named.embodiment.camera.camera_height, named.embodiment.camera.max_depth) == (79.0, 0.88, 5.0)
    assert named.embodiment.body.height == 0.88 and named.action_space == gym.spaces.Discrete(6)


def test_a_generic_kind_gets_the_tasks_body_and_camera_and_keyword_arguments_still_apply():
    default = gym.make("ObjectNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=2).unwrapped.embodiment
    env = gym.make("ObjectNav-ProcHouse-v0", embodiment="unicycle", num_scenes=1, episodes_per_scene=2).unwrapped
    assert isinstance(env.embodiment, UnicycleAgent)
    assert env.embodiment.camera == default.camera and env.embodiment.body == default.body
    assert isinstance(env.action_space, gym.spaces.Box)
    wide = gym.make("ObjectNav-ProcHouse-v0", embodiment="unicycle", hfov=100, num_scenes=1, episodes_per_scene=2).unwrapped
    assert wide.embodiment.camera == default.camera.with_(hfov=100.0)


def test_robots_keep_their_own_rig_and_instances_are_used_as_given():
    env = gym.make("ObjectNav-ProcHouse-v0", embodiment="jetbot", num_scenes=1, episodes_per_scene=2).unwrapped
    assert env.embodiment == JetbotAgent()
    plain = HabitatDiscreteAgent()
    env = gym.make("ObjectNav-ProcHouse-v0", embodiment=plain, num_scenes=1, episodes_per_scene=2).unwrapped
    assert env.embodiment == plain and env.embodiment.camera.hfov == 90.0


def test_generic_rig_reads_only_the_body_and_camera_fields_a_class_leaves_generic():
    from navgym.envs.factory import _generic_rig

    default = HabitatDiscreteAgent(camera=CameraSpec(hfov=79.0, camera_height=0.88))

    @dataclasses.dataclass(frozen=True)
    class OwnCamera(UnicycleAgent):
        camera: CameraSpec = dataclasses.field(default_factory=lambda: CameraSpec(hfov=120.0))

    assert set(_generic_rig(UnicycleAgent, default)) == {"body", "camera"}
    assert set(_generic_rig(OwnCamera, default)) == {"body"}
    assert _generic_rig(JetbotAgent, default) == {}


# -- 7. camera_height must be above the floor --------------------------------------------------
def test_camera_height_zero_is_refused():
    with pytest.raises(InvalidArgumentError, match=r"camera_height=0 is out of range; allowed \(0\.0, 10\.0\]"):
        gym.make("PointNav-ProcHouse-v0", camera_height=0, **ONE)
    floor = HabitatDiscreteAgent(camera=CameraSpec(camera_height=0.0))
    with pytest.raises(InvalidArgumentError, match=r"camera_height=0\.0 \(the embodiment's camera\).*\(0\.0, 10\.0\]"):
        gym.make("PointNav-ProcHouse-v0", embodiment=floor, **ONE)
    env = gym.make("PointNav-ProcHouse-v0", camera_height=0.05, sensors=["depth"], **ONE)
    obs, _ = env.reset(seed=0)
    assert obs["depth"].max() > 0


def test_a_pointnav_episode_without_its_goal_and_a_gzip_file_named_json_are_named_at_make(tmp_path):
    import gzip

    episode = {"episode_id": "0", "scene_id": "prochouse/1000000", "start_position": [1.0, 0.0, 1.0], "start_rotation": [0, 0, 0, 1],
               "info": {"geodesic_distance": 1.0}, "goals": []}
    path = tmp_path / "val.json"
    path.write_text(json.dumps({"episodes": [episode]}))
    with pytest.raises(DatasetFormatError, match=r"val\.json: Episode 0: a PointNav episode needs goals\[0\]\.position"):
        gym.make("PointNav-ProcHouse-v0", dataset_path=path)  # at make, with the file, not at the first reset
    with gzip.open(path, "wt") as f:
        json.dump({"episodes": [episode]}, f)
    with pytest.raises(DatasetFormatError, match=r"it is gzip-compressed: name it val\.json\.gz"):
        gym.make("PointNav-ProcHouse-v0", dataset_path=path)


def test_a_scene_id_naming_a_folder_says_so(tmp_path):
    from navgym.scenes.sources import load_scene_by_id

    (tmp_path / "scene_datasets" / "gibson" / "X.glb").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"X\.glb is a folder; the scene id must name the mesh file in it"):
        load_scene_by_id("gibson/X.glb", data_root=tmp_path)
