"""The user's Habitat data: which episode file of several versions is read, and episode ids that
several scenes share."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from navgym.datasets.episodes import Episode, EpisodeDataset, read_dataset
from navgym.datasets.habitat import find_episode_file
from navgym.errors import InvalidArgumentError

FIXTURES = Path(__file__).parent / "data" / "habitat"
OBJECTNAV = FIXTURES / "datasets/objectnav/hm3d/v1/val/val.json"


def _files(root: Path, *relative: str) -> Path:
    for rel in relative:
        path = root / "datasets" / "pointnav" / "gibson" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return root


def _found(root: Path) -> str:
    path = find_episode_file("PointNav", ("pointnav",), "Gibson", "val", root)
    return path.relative_to(root / "datasets" / "pointnav" / "gibson").as_posix()


# -- 2. the newest version folder ---------------------------------------------------------------
def test_the_newest_version_compares_numbers_as_numbers(tmp_path):
    _files(tmp_path, "v2/val/val.json.gz", "v9/val/val.json.gz", "v10/val/val.json.gz")
    assert _found(tmp_path) == "v10/val/val.json.gz"


def test_a_plain_json_of_an_older_version_does_not_beat_a_newer_json_gz(tmp_path):
    _files(tmp_path, "v1/val/val.json", "v2/val/val.json.gz")
    assert _found(tmp_path) == "v2/val/val.json.gz"
    _files(tmp_path, "v3/val/val.json")  # a newer version folder with only a plain .json
    assert _found(tmp_path) == "v3/val/val.json"


def test_in_one_version_folder_json_gz_comes_before_json(tmp_path):
    _files(tmp_path, "v1/val/val.json", "v1/val/val.json.gz")
    assert _found(tmp_path) == "v1/val/val.json.gz"


def test_version_names_sort_sensibly():
    from navgym.datasets.habitat import version_key

    names = ["v10", "latest", "v0.2", "v2", "V3", "v1", "objectnav_hm3d_v10", "objectnav_hm3d_v9"]
    assert sorted(names, key=version_key) == ["latest", "objectnav_hm3d_v9", "objectnav_hm3d_v10", "v0.2", "v1", "v2", "V3", "v10"]


# -- 3. an episode id several scenes share ------------------------------------------------------
def test_an_id_two_content_files_share_is_ambiguous():
    dataset = read_dataset(OBJECTNAV)  # content/Dd4bFSTQ8gi and content/TEEsavR23oF both number from "0"
    with pytest.raises(InvalidArgumentError) as exc:
        dataset.get("0")
    message = str(exc.value)
    assert "episode_id='0' is ambiguous: 2 episodes of 2 scene(s)" in message
    assert "0 in Dd4bFSTQ8gi, 1 in TEEsavR23oF" in message and "'episode_index': 0" in message
    assert isinstance(exc.value, ValueError)
    assert dataset.get("0", scene_id="TEEsavR23oF") is dataset.episodes[1]  # a scene says which
    assert dataset.get("1") is dataset.episodes[2]  # unique ids are unaffected
    with pytest.raises(KeyError, match="No episode with episode_id='7'"):
        dataset.get("7")


def _episode(episode_id: str, scene: str) -> Episode:
    return Episode(episode_id=episode_id, scene_id=scene, start_position=[0.0, 0.0, 0.0], start_rotation=[0.0, 0.0, 0.0, 1.0], goals=[])


def test_the_id_index_follows_edits_of_the_episode_list():
    dataset = EpisodeDataset(episodes=[_episode(str(i), "a.glb") for i in range(3)])
    assert dataset.get("2") is dataset.episodes[2]
    dataset.episodes.append(_episode("2", "b.glb"))  # now ambiguous
    with pytest.raises(InvalidArgumentError, match=r"2 episodes of 2 scene\(s\) have it \(episode_index 2 in a, 3 in b\)"):
        dataset.get("2")
    dataset.episodes[3] = dataclasses.replace(dataset.episodes[3], episode_id="9")  # replaced in place
    assert dataset.get("9") is dataset.episodes[3] and dataset.get("2") is dataset.episodes[2]
    dataset.episodes[0].episode_id = "x"  # an id edited in place
    assert dataset.get("x") is dataset.episodes[0]
    with pytest.raises(KeyError):
        dataset.get("0")
    dataset.episodes = [_episode("0", "c.glb")]  # a new list
    assert dataset.get("0").scene_id == "c.glb"


def test_many_holders_are_listed_in_part():
    dataset = EpisodeDataset(episodes=[_episode("0", f"s{i}.glb") for i in range(25)])
    with pytest.raises(InvalidArgumentError, match=r"25 episodes of 25 scene\(s\).*9 in s9, \.\.\. \(15 more\)"):
        dataset.get("0")
