"""Hand-written or edited ``samples.jsonl`` records: a field of the wrong type or shape must be a
DatasetFormatError naming the file and line when the folder is opened, not a bare TypeError in
``dataset[i]`` / ``dataset.pose(i)``, nor a silently wrong value (``"negative": "no"`` read as true)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from navgym.errors import DatasetFormatError
from navgym.semnav import SemNavDataset
from navgym.semnav.data import DataOptions, generate


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("semnav_hand") / "data"
    generate(out, 1, ["jetbot"], DataOptions(views_per_house=2, negative_fraction=0.0), progress=False)
    return out


def edited(dataset_dir, tmp_path, change):
    root = tmp_path / "copy"
    shutil.copytree(dataset_dir, root)
    manifest = json.loads((root / "manifest.json").read_text())
    records = root / next(iter(manifest["houses"].values()))["bodies"]["jetbot"]["records"]
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    change(lines)
    records.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return root, records


def set_first(key, value):
    def change(lines):
        target = lines[0]
        *parents, last = key.split(".")
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def test_the_generated_folder_reads(dataset_dir):
    data = SemNavDataset(dataset_dir)
    assert len(data) == 2 and data.verify() == 2
    assert data[0]["negative"] is False and data.pose(0).rotation.shape == (4,)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("prompts", {"text": 5}, r"prompts=.* must be an object of strings"),  # was TypeError: 'int' object is not subscriptable
        ("prompt_kinds", 3, r"unknown prompt kind"),  # was TypeError: 'int' object is not iterable
        ("negative", "no", r"negative='no' must be true or false"),  # was read as True
        ("pose.rotation", [0, 1], r"pose=.* must be"),  # was InvalidArgumentError about AgentState, no file
        ("pose.rotation", "abc", r"pose=.* must be"),  # was ValueError: could not convert string to float
        ("pose.position", None, r"pose=.* must be"),
        ("pose.rotation", [0.0, 0.0, 0.0, 3.0], r"not a unit quaternion"),
        ("id", 7, r"id=7 must be a non-empty string"),
    ],
)
def test_a_malformed_field_names_the_file_and_line(dataset_dir, tmp_path, key, value, message):
    root, records = edited(dataset_dir, tmp_path, set_first(key, value))
    with pytest.raises(DatasetFormatError, match=message) as error:
        data = SemNavDataset(root)
        data.verify()
        data.pose(0)
    assert f"{records}:1" in str(error.value) and "rerun" in str(error.value)


def test_a_duplicated_id_is_refused(dataset_dir, tmp_path):
    def duplicate(lines):
        lines[1]["id"] = lines[0]["id"]

    root, records = edited(dataset_dir, tmp_path, duplicate)
    with pytest.raises(DatasetFormatError, match=r"appears twice") as error:
        SemNavDataset(root)
    assert f"{records}:2" in str(error.value)


def test_hand_written_values_of_the_right_types_are_read(dataset_dir, tmp_path):
    # A user's own record: another prompt text and a rounded quaternion (norm 0.9999) still read.
    def change(lines):
        lines[0]["prompts"]["text"] = "the blue chair by the window"
        lines[0]["prompt_kind"] = "text"
        lines[0]["pose"]["rotation"] = [0.0, 0.7071, 0.0, 0.7071]

    root, _ = edited(dataset_dir, tmp_path, change)
    data = SemNavDataset(root)
    assert data[0]["prompt_text"] == "the blue chair by the window"
    assert np.allclose(data.pose(0).rotation, [0.0, 0.7071, 0.0, 0.7071], atol=1e-3)
