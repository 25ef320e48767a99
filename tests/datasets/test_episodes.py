"""Reading and writing Habitat episode datasets (navgym.datasets.episodes) on hand-written fixtures."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from navgym.datasets.episodes import (
    KINDS,
    Episode,
    EpisodeDataset,
    ImageGoalView,
    InstanceImageGoal,
    NavigationGoal,
    ObjectGoal,
    ViewPoint,
    detect_kind,
    read_dataset,
    resolve_scene_path,
    write_dataset,
)
from navgym.errors import DatasetFormatError

FIXTURES = Path(__file__).parent / "data" / "habitat"
POINTNAV = "datasets/pointnav/gibson/v1/val/val"
OBJECTNAV = "datasets/objectnav/hm3d/v1/val/val"
IIN = "datasets/instance_imagenav/hm3d/v3/val/val"
TEXTNAV = "datasets/instancenav/val/val_text"
TEE = "hm3d/val/00800-TEEsavR23oF/TEEsavR23oF.basis.glb"
HM3D_CONFIG = "./data/scene_datasets/hm3d/hm3d_annotated_basis.scene_dataset_config.json"


def gzip_tree(src: Path, dst: Path) -> Path:
    """Copy a fixture tree, gzipping every .json into .json.gz (as Habitat ships them)."""
    for path in src.rglob("*.json"):
        out = dst / path.relative_to(src)
        out = out.with_name(out.name + ".gz")
        out.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(out, "wb") as f:
            f.write(path.read_bytes())
    return dst


@pytest.fixture(params=["json", "json.gz"])
def root(request, tmp_path) -> tuple[Path, str]:
    """The data root and the file extension: the hand-written .json, or a gzipped copy."""
    if request.param == "json":
        return FIXTURES, ".json"
    return gzip_tree(FIXTURES, tmp_path / "data"), ".json.gz"


def fixture(root: tuple[Path, str], name: str) -> Path:
    return root[0] / f"{name}{root[1]}"


# --------------------------------------------------------------------------- reading


def test_pointnav_reads_two_episodes(root):
    ds = read_dataset(fixture(root, POINTNAV))
    assert ds.kind == "pointnav"
    assert [ep.episode_id for ep in ds.episodes] == ["0", "1"]
    first, second = ds.episodes
    assert first.scene_id == "data/scene_datasets/gibson/Adrian.glb"
    assert first.start_position == [-1.5, 0.15, 2.25]
    assert first.start_rotation == [0.0, 0.38268, 0.0, 0.92388]
    assert first.info == {"geodesic_distance": 5.25, "difficulty": "medium"}
    assert first.goals == [NavigationGoal([2.0, 0.15, -1.75], None)]
    assert second.goals[0].radius == 0.2
    assert first.scene_dataset_config == "default"  # Habitat's default when absent
    assert first.object_category is None and first.goal_key is None
    assert ds.scene_ids() == ["data/scene_datasets/gibson/Adrian.glb", "data/scene_datasets/gibson/Cantwell.glb"]
    assert [ep.episode_id for ep in ds.episodes_of_scene("Cantwell")] == ["1"]
    assert ds.get("1") is second


def test_imagenav_shares_pointnav_format(tmp_path):
    src = gzip_tree(FIXTURES / "datasets" / "pointnav", tmp_path / "datasets" / "imagenav")
    path = src / "gibson" / "v1" / "val" / "val.json.gz"
    ds = read_dataset(path)
    assert ds.kind == "imagenav"  # detected from the folder name: the format is PointNav-v1's
    assert ds.episodes == read_dataset(FIXTURES / f"{POINTNAV}.json").episodes
    assert read_dataset(FIXTURES / f"{POINTNAV}.json", kind="imagenav").kind == "imagenav"


def test_objectnav_content_layout_fills_goals_from_goals_by_category(root):
    ds = read_dataset(fixture(root, OBJECTNAV))
    assert ds.kind == "objectnav"
    # content/Dd4bFSTQ8gi then content/TEEsavR23oF, each in file order
    assert [(ep.scene_id.split("/")[-1], ep.episode_id, ep.object_category) for ep in ds.episodes] == [
        ("Dd4bFSTQ8gi.basis.glb", "0", "toilet"),
        ("TEEsavR23oF.basis.glb", "0", "chair"),
        ("TEEsavR23oF.basis.glb", "1", "bed"),
    ]
    assert ds.category_to_task_category_id == {"chair": 0, "bed": 1, "plant": 2, "toilet": 3, "tv_monitor": 4, "sofa": 5}
    assert ds.category_to_scene_annotation_category_id["tv_monitor"] == 4
    assert set(ds.goals_by_category) == {"Dd4bFSTQ8gi.basis.glb_toilet", "TEEsavR23oF.basis.glb_chair", "TEEsavR23oF.basis.glb_bed"}

    chair = ds.episodes[1]
    assert chair.scene_id == TEE
    assert chair.scene_dataset_config == HM3D_CONFIG
    assert chair.start_rotation == [0.0, 0.5, 0.0, 0.86603]
    assert chair.info["closest_goal_object_id"] == 71
    assert chair.goal_key == "TEEsavR23oF.basis.glb_chair"
    assert chair.goals is ds.goals_by_category["TEEsavR23oF.basis.glb_chair"]  # shared, like habitat
    assert [g.object_id for g in chair.goals] == [71, 72]
    goal = chair.goals[0]
    assert isinstance(goal, ObjectGoal)
    assert goal.position == [1.25, 0.5, -3.0]
    assert goal.object_name == "chair_71" and goal.object_category == "chair"
    assert goal.view_points == [
        ViewPoint([1.0, 0.0, -2.5], [0.0, 0.0, 0.0, 1.0], 0.25),
        ViewPoint([1.75, 0.0, -2.75], [0.0, 0.0, 0.0, 1.0], 0.125),
    ]
    bed = ds.episodes[2]
    assert bed.goals[0].object_id == 9 and bed.goals[0].view_points[0].rotation == [0.0, 0.70711, 0.0, 0.70711]
    assert [ep.episode_id for ep in ds.episodes_of_scene(TEE)] == ["0", "1"]
    assert ds.get("1", scene_id="TEEsavR23oF") is bed


def test_objectnav_reads_only_the_scenes_asked_for(root):
    path = fixture(root, OBJECTNAV)
    ds = read_dataset(path, scenes=["TEEsavR23oF"])
    assert [ep.object_category for ep in ds.episodes] == ["chair", "bed"]
    assert "Dd4bFSTQ8gi.basis.glb_toilet" not in ds.goals_by_category
    # HM3D folder names work too ("00824-Dd4bFSTQ8gi" -> content/Dd4bFSTQ8gi)
    assert [ep.object_category for ep in read_dataset(path, scenes=["00824-Dd4bFSTQ8gi"]).episodes] == ["toilet"]
    with pytest.raises(FileNotFoundError, match="NoSuchScene"):
        read_dataset(path, scenes=["NoSuchScene"])


def test_scenes_filter_on_a_single_file():
    path = FIXTURES / f"{POINTNAV}.json"
    assert [ep.episode_id for ep in read_dataset(path, scenes=["Adrian"]).episodes] == ["0"]
    with pytest.raises(ValueError, match=r"no episodes in scenes \['Nowhere'\].*'Adrian', 'Cantwell'"):
        read_dataset(path, scenes=["Nowhere"])


def test_instance_imagenav_fills_goals_from_goals_dict(root):
    ds = read_dataset(fixture(root, IIN))
    assert ds.kind == "instance_imagenav"
    assert set(ds.goals) == {"TEEsavR23oF_42", "TEEsavR23oF_7"}
    bed, sofa = ds.episodes
    assert (bed.goal_object_id, bed.goal_image_id, bed.object_category) == (42, 1, "bed")
    assert bed.goal_key == "TEEsavR23oF_42"  # .basis.glb stripped, as habitat's goal_key
    assert bed.goals == [ds.goals["TEEsavR23oF_42"]] and bed.goals[0] is ds.goals["TEEsavR23oF_42"]
    goal = bed.goals[0]
    assert isinstance(goal, InstanceImageGoal)
    assert goal.object_id == 42 and goal.object_surface_area == 4.5
    assert goal.view_points[0].iou == 0.625
    assert goal.image_goals == [
        ImageGoalView([2.5, 1.25, -2.5], [0.0, 0.0, 0.0, 1.0], 42.0, [512, 512], 0.3125, 0.875),
        ImageGoalView([1.5, 0.5, -3.5], [0.0, 0.70711, 0.0, 0.70711], 79.0, [480, 640], 0.5, 0.625),
    ]
    chosen = goal.image_goals[bed.goal_image_id]
    assert (chosen.hfov, chosen.image_dimensions) == (79.0, [480, 640])
    assert sofa.goals[0].image_goals[0].hfov == 60.0 and sofa.goals[0].object_category == "sofa"


def test_textnav_psl_layout_fills_goal_attributes(root):
    ds = read_dataset(fixture(root, TEXTNAV))
    assert ds.kind == "textnav"
    assert len(ds.episodes) == 2
    bed, sofa = ds.episodes
    assert bed.goal_object_id == 42 and bed.object_category == "bed"
    assert bed.goal_attributes == {
        "intrinsic_attributes": "A double bed with a white duvet and a dark wooden headboard.",
        "extrinsic_attributes": "It stands against a blue wall, between two bedside tables with lamps.",
    }
    assert bed.goal_attributes is ds.attribute_data["TEEsavR23oF_42"]
    assert sofa.goal_attributes["intrinsic_attributes"].startswith("A grey three-seat fabric sofa")
    assert bed.goals[0].image_goals[0].hfov == 42.0 and bed.goals[0].position == [2.5, 0.75, -4.0]
    assert bed.instruction is None


def test_auto_detection_matches_explicit_kind(root):
    expected = {POINTNAV: "pointnav", OBJECTNAV: "objectnav", IIN: "instance_imagenav", TEXTNAV: "textnav"}
    for name, kind in expected.items():
        assert read_dataset(fixture(root, name)).kind == kind
        assert read_dataset(fixture(root, name), kind=kind) == read_dataset(fixture(root, name))


def test_detect_kind_from_fields():
    ep = {"episode_id": "0", "scene_id": "s.glb", "start_position": [0, 0, 0], "start_rotation": [0, 0, 0, 1], "goals": []}
    assert detect_kind({"episodes": [ep]}) == "pointnav"
    assert detect_kind({"episodes": [ep]}, "data/datasets/imagenav/gibson/v1/val/val.json.gz") == "imagenav"
    assert detect_kind({"episodes": [], "category_to_task_category_id": {}}) == "objectnav"
    assert detect_kind({"episodes": [{**ep, "object_category": "chair"}]}) == "objectnav"
    assert detect_kind({"episodes": [{**ep, "goal_object_id": 3, "goal_image_id": 0}]}) == "instance_imagenav"
    assert detect_kind([{"episodes": []}, {"episodes": [], "goals": {}}]) == "instance_imagenav"
    assert detect_kind([{"episodes": [], "attribute_data": {}}, {"episodes": [], "goals": {}}]) == "textnav"
    assert detect_kind({"episodes": [{**ep, "instruction": "find the red chair"}]}) == "textnav"


def test_old_objectnav_files_with_inline_goals_are_deduplicated(tmp_path):
    goal = {"position": [1, 0, 1], "radius": None, "object_id": 5, "object_name": "chair_5", "object_category": "chair", "view_points": []}
    eps = [
        {"episode_id": str(i), "scene_id": "mp3d/17DRP5sb8fy/17DRP5sb8fy.glb", "start_position": [0, 0, 0],
         "start_rotation": [0, 0, 0, 1], "goals": [goal]}
        for i in range(2)
    ]  # fmt: skip
    path = tmp_path / "val.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump({"episodes": eps, "category_to_task_category_id": {"chair": 0}, "category_to_mp3d_category_id": {"chair": 3}}, f)
    ds = read_dataset(path)
    assert ds.kind == "objectnav"
    assert [ep.object_category for ep in ds.episodes] == ["chair", "chair"]  # taken from goals[0], as habitat
    assert ds.episodes[0].goals is ds.episodes[1].goals is ds.goals_by_category["17DRP5sb8fy.glb_chair"]
    assert ds.extra == {"category_to_mp3d_category_id": {"chair": 3}}


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("name", [POINTNAV, OBJECTNAV, IIN, TEXTNAV])
def test_round_trip_is_identical(root, tmp_path, name):
    first = read_dataset(fixture(root, name))
    out = write_dataset(first, tmp_path / "out" / "val.json.gz")
    second = read_dataset(out)
    assert second == first
    assert second.kind == first.kind
    # deterministic: writing again gives the same bytes
    again = write_dataset(second, tmp_path / "again" / "val.json.gz")
    assert out.read_bytes() == again.read_bytes()
    assert out.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0: no timestamp in the file


@pytest.mark.parametrize("name", [OBJECTNAV, IIN, TEXTNAV])
def test_round_trip_through_the_content_layout(root, tmp_path, name):
    first = read_dataset(fixture(root, name))
    out = write_dataset(first, tmp_path / "val" / "val.json.gz", per_scene=True)
    with gzip.open(out, "rt") as f:
        top = json.load(f)
    assert top["episodes"] == []
    assert sorted(p.name for p in (out.parent / "content").iterdir()) == sorted(
        {f"{ep.scene_id.split('/')[-1].split('.')[0]}.json.gz" for ep in first.episodes}
    )
    assert read_dataset(out) == first


def test_objectnav_writes_goals_by_category_and_empty_episode_goals(tmp_path):
    ds = read_dataset(FIXTURES / f"{OBJECTNAV}.json")
    out = write_dataset(ds, tmp_path / "val.json.gz")
    with gzip.open(out, "rt") as f:
        raw = json.load(f)
    assert all(ep["goals"] == [] for ep in raw["episodes"])
    assert list(raw["episodes"][0]) == [
        "episode_id", "scene_id", "scene_dataset_config", "additional_obj_config_paths", "start_position",
        "start_rotation", "info", "goals", "start_room", "shortest_paths", "object_category",
    ]  # fmt: skip
    goal = raw["goals_by_category"]["TEEsavR23oF.basis.glb_chair"][0]
    assert goal["view_points"][0] == {"agent_state": {"position": [1.0, 0.0, -2.5], "rotation": [0.0, 0.0, 0.0, 1.0]}, "iou": 0.25}
    assert raw["category_to_task_category_id"]["toilet"] == 3
    # ObjectNav goals built in code (no goals_by_category yet) are de-duplicated on write
    fresh = EpisodeDataset(kind="objectnav", episodes=[
        Episode(str(i), TEE, [0, 0, 0], [0, 0, 0, 1], goals=[ObjectGoal([1, 0, 1], object_id=3, object_category="sofa")], object_category="sofa")
        for i in range(2)
    ])  # fmt: skip
    raw = json.loads(write_dataset(fresh, tmp_path / "fresh.json").read_text())
    assert list(raw["goals_by_category"]) == ["TEEsavR23oF.basis.glb_sofa"]
    assert read_dataset(tmp_path / "fresh.json").episodes == fresh.episodes


def test_instance_imagenav_writes_goals_dict_in_habitat_shape(tmp_path):
    ds = read_dataset(FIXTURES / f"{IIN}.json")
    raw = json.loads(write_dataset(ds, tmp_path / "val.json").read_text())
    assert all(ep["goals"] == [] for ep in raw["episodes"])
    assert raw["episodes"][0]["goal_object_id"] == 42 and raw["episodes"][0]["goal_image_id"] == 1
    goal = raw["goals"]["TEEsavR23oF_42"]
    # v3 / PSL goals have no object_name_id / room fields: they stay absent when unset
    assert set(goal) == {"position", "radius", "object_id", "object_name", "object_category", "view_points", "image_goals", "object_surface_area"}
    assert goal["image_goals"][1]["image_dimensions"] == [480, 640]


def test_textnav_superset_instruction_and_inline_attributes_round_trip(tmp_path):
    ds = read_dataset(FIXTURES / f"{TEXTNAV}.json")
    ds.episodes[0].instruction = "Go to the double bed against the blue wall."
    ds.episodes[1].goal_attributes = {"intrinsic_attributes": "A grey sofa.", "extrinsic_attributes": "Near the TV."}
    out = write_dataset(ds, tmp_path / "val_text.json.gz")
    with gzip.open(out, "rt") as f:
        raw = json.load(f)
    assert raw["episodes"][0]["instruction"].startswith("Go to the double bed")
    assert "goal_attributes" not in raw["episodes"][0]  # same as attribute_data: not repeated
    assert raw["episodes"][1]["goal_attributes"]["intrinsic_attributes"] == "A grey sofa."
    assert read_dataset(out) == ds


def test_textnav_goals_without_images_round_trip(tmp_path):
    """TextNav goals built in code may be plain ObjectGoals (no goal images): they stay so."""
    goal = ObjectGoal([1, 0, 2], object_id=3, object_category="chair", view_points=[ViewPoint([1, 0, 1], [0, 0, 0, 1])])
    ds = EpisodeDataset(kind="textnav", episodes=[Episode(
        "0", TEE, [0, 0, 0], [0, 0, 0, 1], [goal], object_category="chair", goal_object_id=3,
        goal_attributes={"intrinsic_attributes": "A red chair.", "extrinsic_attributes": "By the door."},
        instruction="A red chair by the door.",
    )])  # fmt: skip
    back = read_dataset(write_dataset(ds, tmp_path / "t.json.gz"))
    assert back.episodes == ds.episodes and type(back.episodes[0].goals[0]) is ObjectGoal
    assert read_dataset(write_dataset(back, tmp_path / "t2.json.gz")) == back
    assert back.attribute_data == {"TEEsavR23oF_3": ds.episodes[0].goal_attributes}


def test_built_in_code_pointnav_round_trip(tmp_path):
    ds = EpisodeDataset(
        kind="pointnav",
        episodes=[Episode("a", "mp3d/17DRP5sb8fy/17DRP5sb8fy.glb", [1, 0, 2], [0, 0, 0, 1], [NavigationGoal([3, 0, 4])], info={"geodesic_distance": 2.5})],
    )
    assert read_dataset(write_dataset(ds, tmp_path / "x.json.gz")) == ds


# --------------------------------------------------------------------------- errors


def _write_gz(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as f:
        json.dump(data, f)
    return path


def test_malformed_field_names_file_episode_and_field(tmp_path):
    data = json.loads((FIXTURES / f"{POINTNAV}.json").read_text())
    data["episodes"][1]["start_rotation"] = [0, 1]
    path = _write_gz(tmp_path / "val.json.gz", data)
    with pytest.raises(ValueError) as exc:
        read_dataset(path)
    message = str(exc.value)
    assert message == f"{path}: episode 1: start_rotation must be 4 numbers [x, y, z, w], got [0, 1]"

    data["episodes"][1]["start_rotation"] = [0, 0, 0, 1]
    data["episodes"][0]["goals"][0]["position"] = [1, "a", 2]
    _write_gz(path, data)
    with pytest.raises(ValueError, match=r"val\.json\.gz: episode 0: goals\[0\]: position must be 3 numbers \[x, y, z\]"):
        read_dataset(path)


def test_malformed_content_file_is_named(tmp_path):
    root = gzip_tree(FIXTURES, tmp_path / "data")
    content = root / "datasets/objectnav/hm3d/v1/val/content/TEEsavR23oF.json.gz"
    with gzip.open(content, "rt") as f:
        data = json.load(f)
    data["goals_by_category"]["TEEsavR23oF.basis.glb_bed"][0]["view_points"][0]["agent_state"]["rotation"] = [0, 0, 1]
    _write_gz(content, data)
    with pytest.raises(ValueError, match=r"content/TEEsavR23oF\.json\.gz: goals_by_category\['TEEsavR23oF\.basis\.glb_bed'\]\[0\]: view_points\[0\]: agent_state\.rotation must be 4 numbers"):
        read_dataset(root / f"{OBJECTNAV}.json.gz")
    del data["goals_by_category"]["TEEsavR23oF.basis.glb_bed"]
    _write_gz(content, data)
    with pytest.raises(ValueError, match=r"TEEsavR23oF\.json\.gz: episode 1: object_category: no goals_by_category entry 'TEEsavR23oF\.basis\.glb_bed'"):
        read_dataset(root / f"{OBJECTNAV}.json.gz")


def test_instance_goal_errors(tmp_path):
    data = json.loads((FIXTURES / f"{IIN}.json").read_text())
    data["episodes"][0]["goal_image_id"] = 5
    with pytest.raises(ValueError, match=r"episode 0: goal_image_id 5 does not index the goal's 2 image_goals"):
        read_dataset(_write_gz(tmp_path / "a.json.gz", data))
    data["episodes"][0]["goal_image_id"] = 0
    data["episodes"][1]["goal_object_id"] = 999
    with pytest.raises(ValueError, match=r"a\.json\.gz: episode 1: goal_object_id: no goals entry 'TEEsavR23oF_999'"):
        read_dataset(_write_gz(tmp_path / "a.json.gz", data))
    data["episodes"][1]["goal_object_id"] = 7
    data["goals"]["TEEsavR23oF_7"]["image_goals"][0]["image_dimensions"] = [512]
    with pytest.raises(ValueError, match=r"goals\['TEEsavR23oF_7'\]: image_goals\[0\]: image_dimensions must be 2 positive integers"):
        read_dataset(_write_gz(tmp_path / "a.json.gz", data))
    data["goals"]["TEEsavR23oF_7"]["image_goals"] = []
    with pytest.raises(ValueError, match=r"a\.json\.gz: episode 1: goals: the goal 'TEEsavR23oF_7' has no image_goals"):
        read_dataset(_write_gz(tmp_path / "a.json.gz", data))


def test_missing_file_and_bad_files(tmp_path):
    missing = tmp_path / "nope" / "val.json.gz"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        read_dataset(missing)
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="bad.json.gz"):
        read_dataset(bad)
    broken = tmp_path / "broken.json"
    broken.write_text('{"episodes": [')
    with pytest.raises(ValueError, match="broken.json: not valid JSON"):
        read_dataset(broken)
    no_episodes = tmp_path / "none.json"
    no_episodes.write_text('{"goals": {}}')
    with pytest.raises(ValueError, match="none.json: episodes must be a list"):
        read_dataset(no_episodes)


def test_unknown_kind_lists_valid_kinds():
    with pytest.raises(ValueError) as exc:
        read_dataset(FIXTURES / f"{POINTNAV}.json", kind="vln")
    for kind in KINDS:
        assert kind in str(exc.value)
    with pytest.raises(ValueError, match="valid kinds are pointnav, imagenav, objectnav, instance_imagenav, textnav"):
        EpisodeDataset(kind="ObjectNav-v1")


def test_get_unknown_episode_raises_key_error():
    ds = read_dataset(FIXTURES / f"{POINTNAV}.json")
    with pytest.raises(KeyError, match="episode_id='7'.*2 episodes"):
        ds.get("7")


# --------------------------------------------------------------------------- scene paths


def test_resolve_scene_path_inside_the_root(tmp_path):
    root = tmp_path / "data"
    assert resolve_scene_path("data/scene_datasets/gibson/Adrian.glb", root) == root / "scene_datasets/gibson/Adrian.glb"
    assert resolve_scene_path(TEE, root) == root / "scene_datasets" / TEE
    assert resolve_scene_path("mp3d/17DRP5sb8fy/17DRP5sb8fy.glb", root) == root / "scene_datasets/mp3d/17DRP5sb8fy/17DRP5sb8fy.glb"
    assert resolve_scene_path("scene_datasets/mp3d/x.glb", root) == root / "scene_datasets/mp3d/x.glb"
    assert resolve_scene_path("./data/scene_datasets/hm3d/../mp3d/x.glb", root) == root / "scene_datasets/mp3d/x.glb"
    assert resolve_scene_path("gibson/Adrian.glb", "relative/root").is_absolute()


@pytest.mark.parametrize(
    "scene_id, reason",
    [
        ("../../etc/passwd", "escapes the data root"),
        ("data/../../../etc/passwd", "escapes the data root"),
        ("hm3d/../../../x.glb", "escapes the data root"),
        ("/etc/passwd", "is an absolute path"),
        ("/data/scene_datasets/gibson/Adrian.glb", "is an absolute path"),
        ("C:\\scenes\\a.glb", "is an absolute path"),
        ("", "is empty"),
    ],
)
def test_resolve_scene_path_rejects_escapes(tmp_path, scene_id, reason):
    with pytest.raises(ValueError) as exc:
        resolve_scene_path(scene_id, tmp_path)
    message = str(exc.value)
    assert repr(scene_id) in message and reason in message and str(tmp_path) in message


def test_read_with_data_root_rejects_escaping_scene_ids(tmp_path):
    data = json.loads((FIXTURES / f"{POINTNAV}.json").read_text())
    assert len(read_dataset(FIXTURES / f"{POINTNAV}.json", data_root=FIXTURES)) == 2
    data["episodes"][1]["scene_id"] = "../../etc/passwd"
    path = _write_gz(tmp_path / "val.json.gz", data)
    assert read_dataset(path).episodes[1].scene_id == "../../etc/passwd"  # kept as written
    with pytest.raises(ValueError, match=r"val\.json\.gz: episode 1: scene_id '\.\./\.\./etc/passwd' escapes the data root"):
        read_dataset(path, data_root=tmp_path / "root")


def test_fixture_tree_is_a_data_root():
    """The fixture's scene ids resolve under tests/data/habitat/scene_datasets/."""
    ds = read_dataset(FIXTURES / f"{OBJECTNAV}.json", data_root=FIXTURES)
    paths = {resolve_scene_path(s, FIXTURES) for s in ds.scene_ids()}
    assert paths == {FIXTURES.absolute() / "scene_datasets" / TEE, FIXTURES.absolute() / "scene_datasets/hm3d/val/00824-Dd4bFSTQ8gi/Dd4bFSTQ8gi.basis.glb"}


def test_a_zero_start_rotation_names_file_and_episode(tmp_path):
    """[0, 0, 0, 0] passed the reader and failed at reset as 'AgentState.rotation=... is not a
    valid quaternion', naming neither the file nor the episode."""
    data = json.loads((FIXTURES / f"{POINTNAV}.json").read_text())
    data["episodes"][1]["start_rotation"] = [0, 0, 0, 0]
    path = _write_gz(tmp_path / "val.json.gz", data)
    with pytest.raises(ValueError) as exc:
        read_dataset(path)
    assert str(exc.value).startswith(f"{path}: episode 1: start_rotation must be a quaternion [x, y, z, w] of non-zero length")
    data["episodes"][1]["start_rotation"] = [0, 2, 0, 0]  # not unit length: accepted (normalised when used)
    _write_gz(path, data)
    assert read_dataset(path).episodes[1].start_rotation == [0.0, 2.0, 0.0, 0.0]


def test_an_escaping_scene_id_in_a_content_file_is_named_as_an_escape(tmp_path):
    """The scene id is checked before the episode's goals are looked up by its scene's name (the
    escape was reported as a missing goals_by_category entry)."""
    root = gzip_tree(FIXTURES, tmp_path / "data")
    content = root / "datasets/objectnav/hm3d/v1/val/content/TEEsavR23oF.json.gz"
    with gzip.open(content, "rt") as f:
        data = json.load(f)
    data["episodes"][0]["scene_id"] = "hm3d/val/00001-Tiny/../../../../../etc/passwd"
    _write_gz(content, data)
    with pytest.raises(DatasetFormatError, match=r"TEEsavR23oF\.json\.gz: episode 0: scene_id .* escapes the data root"):
        read_dataset(root / f"{OBJECTNAV}.json.gz", data_root=root)
