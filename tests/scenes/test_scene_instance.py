"""Habitat scene instances (HSSD's ``*.scene_instance.json``) composed into one scene.

Everything here runs on a small hand-written HSSD-like dataset folder; the expected coordinates
are worked out by hand from habitat-sim's rules (navgym/scenes/formats/scene_instance.py)."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import trimesh

from navgym.errors import DataNotFoundError, DatasetFormatError
from navgym.scenes.formats.scene_instance import SceneInstanceWarning, load_scene_instance
from navgym.scenes.sources import load_scene_by_id
from navgym.sims.base import AgentState, CameraSpec
from navgym.sims.embedded.navmesh import NavMesh, write_navmesh
from navgym.sims.embedded.simulator import EmbeddedSimulator
from tests.datasets._episode_files import write_habitat_episodes

#: (x, y, z) -> (x, z, -y): a z-up file in habitat-sim's y-up world.
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
#: 90 degrees about +y, [w, x, y, z]: (x, y, z) -> (z, y, -x).
QUARTER_TURN = [0.7071068, 0.0, 0.7071068, 0.0]
SCENE_ID = "hssd-test/scenes/101.scene_instance.json"


def _box(lo, hi) -> trimesh.Trimesh:
    return trimesh.creation.box(bounds=np.array([lo, hi], dtype=np.float64))


def _room() -> trimesh.Trimesh:
    """The stage: a closed room x in [0, 6], y in [0, 2.5], z in [0, 4], faces inward."""
    room = _box((0.0, 0.0, 0.0), (6.0, 2.5, 4.0))
    room.invert()
    return room


def _write(path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, trimesh.Trimesh):
        data.export(path)
    else:
        path.write_text(json.dumps(data) if not isinstance(data, str) else data)


def _instance(**changes):
    """The scene instance: object "aaa" twice (asset-local, turned and stretched; COM, halved) and
    the z-up object "bbb" once."""
    instance = {
        "stage_instance": {"template_name": "stages/101"},
        "translation_origin": "asset_local",
        "default_lighting": "",
        "object_instances": [
            {"template_name": "aaa", "translation": [2.0, 0.0, 3.0], "rotation": QUARTER_TURN,
             "non_uniform_scale": [2.0, 1.0, 1.0], "motion_type": "static"},
            {"template_name": "aaa", "translation": [4.0, 0.25, 2.0], "rotation": [1, 0, 0, 0],
             "uniform_scale": 0.5, "translation_origin": "COM"},
            {"template_name": "bbb", "translation": [3.0, 0.0, 0.8], "rotation": [1.0, 0.0, 0.0, 0.0]},
        ],
    }
    instance.update(changes)
    return instance


@pytest.fixture
def data(tmp_path):
    """``<tmp>/scene_datasets/hssd-test``: HSSD's layout (stages/, objects/<c>/, scenes/, one
    dataset config with path globs), hand-made."""
    root = tmp_path / "scene_datasets" / "hssd-test"
    _write(root / "hssd-test.scene_dataset_config.json", {
        "stages": {"paths": {".json": ["stages"]}},
        "objects": {"paths": {".json": ["objects/*"]}},
        "articulated_objects": {"paths": {".json": ["urdf/*/"]}},
        "scene_instances": {"default_attributes": {"default_lighting": ""}, "paths": {".json": ["scenes"]}},
    })
    _write(root / "stages" / "101.glb", _room())
    _write(root / "stages" / "101.stage_config.json", {"render_asset": "101.glb", "up": [0, 1, 0], "front": [0, 0, -1]})
    # "aaa": y-up, its origin at a corner of the box: x in [0, 1], y in [0, 0.5], z in [0, 0.25].
    _write(root / "objects" / "a" / "aaa.glb", _box((0, 0, 0), (1.0, 0.5, 0.25)))
    _write(root / "objects" / "a" / "aaa.object_config.json", {"render_asset": "aaa.glb", "up": [0, 1, 0], "front": [0, 0, -1]})
    # "bbb": z-up in its file (1.2 m along z, 0.4 m deep along y), halved in height by its config's scale.
    _write(root / "objects" / "b" / "bbb.glb", _box((-0.5, -0.2, 0.0), (0.5, 0.2, 1.2)))
    _write(root / "objects" / "b" / "bbb.object_config.json",
           {"render_asset": "bbb.glb", "up": [0, 0, 1], "front": [0, 1, 0], "scale": [1.0, 0.5, 1.0]})
    _write(root / "scenes" / "101.scene_instance.json", _instance())
    return tmp_path, root


def _faces_bounds(scene, first_face, count):
    corners = scene.vertices[scene.faces[first_face : first_face + count]].reshape(-1, 3)
    return corners.min(axis=0), corners.max(axis=0)


def test_the_stage_and_each_object_land_where_habitat_sim_puts_them(data):
    tmp_path, root = data
    scene = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    assert scene.name == SCENE_ID and not scene.annotated
    assert len(scene.faces) == 4 * 12  # the room and three boxes, 12 triangles each
    parts = [_faces_bounds(scene, 12 * k, 12) for k in range(4)]
    np.testing.assert_allclose(parts[0], [[0, 0, 0], [6, 2.5, 4]], atol=1e-6)  # the stage as it is
    # aaa, asset-local: stretched to 2 m along x, turned 90 degrees about y ((x, z) -> (z, -x)),
    # its corner origin put at (2, 0, 3): x in [2, 2.25], z in [3 - 2, 3].
    np.testing.assert_allclose(parts[1], [[2.0, 0.0, 1.0], [2.25, 0.5, 3.0]], atol=1e-5)
    # aaa, COM: halved (0.5 x 0.25 x 0.125), its bounding-box centre put at (4, 0.25, 2).
    np.testing.assert_allclose(parts[2], [[3.75, 0.125, 1.9375], [4.25, 0.375, 2.0625]], atol=1e-6)
    # bbb: turned from z-up to y-up first ((x, y, z) -> (x, z, -y)), then scaled along the turned
    # axes (height 1.2 -> 0.6; depth 0.4 kept), origin at (3, 0, 0.8).
    np.testing.assert_allclose(parts[3], [[2.5, 0.0, 0.6], [3.5, 0.6, 1.0]], atol=1e-6)
    assert scene.metadata["objects"] == 3 and scene.metadata["up_axis"] == "y"
    assert scene.metadata["source"] == str(root / "scenes" / "101.scene_instance.json")
    assert scene.mesh_file == root / "stages" / "101.glb" and scene.mesh_up_axis == "y"
    # The turn keeps each triangle's winding: the normals of aaa's first copy point out of its box.
    corners = scene.vertices[scene.faces[12:24]].astype(np.float64)
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    centres = corners.mean(axis=1)
    assert (np.einsum("ij,ij->i", normals, centres - centres.mean(axis=0)) > 0).all()


def test_translation_origin_of_the_scene_is_the_default_and_com_when_absent(data):
    tmp_path, root = data
    instance = _instance()
    del instance["translation_origin"]  # habitat-sim: unknown, so COM for every object
    _write(root / "scenes" / "101.scene_instance.json", instance)
    scene = load_scene_instance(root / "scenes" / "101.scene_instance.json")
    # aaa's first copy now has its box centre at (2, 0, 3): 0.25 x 0.5 x 2 m around it.
    np.testing.assert_allclose(_faces_bounds(scene, 12, 12), [[1.875, -0.25, 2.0], [2.125, 0.25, 4.0]], atol=1e-5)
    # An object config's COM replaces the box centre, times the scale: c = (1, 0, 0), so the
    # stretched box spans x in [-1, 1], y in [0, 0.5], z in [0, 0.25] around it before the turn.
    _write(root / "objects" / "a" / "aaa.object_config.json", {"render_asset": "aaa.glb", "COM": [0.5, 0.0, 0.0]})
    scene = load_scene_instance(root / "scenes" / "101.scene_instance.json")
    np.testing.assert_allclose(_faces_bounds(scene, 12, 12), [[2.0, 0.0, 2.0], [2.25, 0.5, 4.0]], atol=1e-5)


def test_a_z_up_stage_is_turned_by_its_config_and_up_axis_overrides_it(data):
    tmp_path, root = data
    _write(root / "stages" / "101.glb", trimesh.Trimesh(_room().vertices @ Z_UP_TO_Y_UP, _room().faces, process=False))
    _write(root / "stages" / "101.stage_config.json", {"render_asset": "101.glb", "up": [0, 0, 1], "front": [0, 1, 0]})
    scene = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    np.testing.assert_allclose(_faces_bounds(scene, 0, 12), [[0, 0, 0], [6, 2.5, 4]], atol=1e-5)
    assert scene.mesh_up_axis == "z" and scene.metadata["up_axis"] == "z"
    sideways = load_scene_by_id(SCENE_ID, data_root=tmp_path, up_axis="y")  # the stage file read as it is
    np.testing.assert_allclose(_faces_bounds(sideways, 0, 12), [[0, -4, 0], [6, 0, 2.5]], atol=1e-5)
    # A stage config naming up alone (front stays -z, not at right angles to z) is refused: habitat-sim
    # would silently fall back to y up.
    _write(root / "stages" / "101.stage_config.json", {"render_asset": "101.glb", "up": [0, 0, 1]})
    with pytest.raises(DatasetFormatError, match=r"101\.stage_config\.json: up/front: up=\[0\.0, 0\.0, 1\.0\] and front=.* not"):
        load_scene_by_id(SCENE_ID, data_root=tmp_path)


def test_a_scene_name_and_a_given_dataset_config_resolve_the_same_scene(data):
    tmp_path, root = data
    by_path = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    by_name = load_scene_by_id("101", data_root=tmp_path)
    assert by_name.name == "101"
    np.testing.assert_array_equal(by_name.vertices, by_path.vertices)
    assert load_scene_by_id("data/scene_datasets/" + SCENE_ID, data_root=tmp_path).name == "data/scene_datasets/" + SCENE_ID
    # A second config listing another 101 (HSSD's scenes/ and scenes-uncluttered/): the name is
    # ambiguous until the config is given.
    _write(root / "hssd-test-uncluttered.scene_dataset_config.json", {
        "stages": {"paths": {".json": ["stages"]}}, "objects": {"paths": {".json": ["objects/*"]}},
        "scene_instances": {"paths": {".json": ["scenes-uncluttered"]}},
    })
    _write(root / "scenes-uncluttered" / "101.scene_instance.json", _instance(object_instances=[]))
    with pytest.raises(DatasetFormatError, match=r"'101' names 2 scene instances: .*101\.scene_instance\.json .*101\.scene_instance\.json .*scene_dataset_config="):
        load_scene_by_id("101", data_root=tmp_path)
    config = "data/scene_datasets/hssd-test/hssd-test-uncluttered.scene_dataset_config.json"
    uncluttered = load_scene_by_id("101", data_root=tmp_path, scene_dataset_config=config)
    assert len(uncluttered.faces) == 12  # the stage alone
    assert uncluttered.metadata["scene_dataset_config"] == str(root / "hssd-test-uncluttered.scene_dataset_config.json")
    # Each scene instance path finds the config that lists its folder.
    assert len(load_scene_by_id("hssd-test/scenes-uncluttered/101.scene_instance.json", data_root=tmp_path).faces) == 12
    with pytest.raises(DataNotFoundError, match="scene_dataset_config='hssd-test/nope.json' does not exist"):
        load_scene_by_id("101", data_root=tmp_path, scene_dataset_config="hssd-test/nope.json")
    with pytest.raises(FileNotFoundError, match="Scene mesh not found"):  # a name no config lists: as before
        load_scene_by_id("999", data_root=tmp_path)


def test_templates_are_found_by_path_by_name_and_by_file(data):
    tmp_path, root = data
    objects = [
        {"template_name": "objects/a/aaa", "translation": [1, 0, 1]},  # a path relative to the dataset folder
        {"template_name": "bb", "translation": [1, 0, 1]},  # habitat-sim's substring look-up
        {"template_name": "objects/b/bbb.glb", "translation": [1, 0, 1]},  # a mesh, no config: y-up, scale 1
    ]
    _write(root / "scenes" / "101.scene_instance.json", _instance(object_instances=objects))
    scene = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    np.testing.assert_allclose(_faces_bounds(scene, 12, 12), [[1, 0, 1], [2, 0.5, 1.25]], atol=1e-6)
    np.testing.assert_allclose(_faces_bounds(scene, 24, 12), [[0.5, 0, 0.8], [1.5, 0.6, 1.2]], atol=1e-6)
    np.testing.assert_allclose(_faces_bounds(scene, 36, 12), [[0.5, -0.2, 1.0], [1.5, 0.2, 2.2]], atol=1e-6)


def test_bad_input_is_refused_naming_the_file_the_field_and_the_fix(data):
    tmp_path, root = data
    instance_file = root / "scenes" / "101.scene_instance.json"

    def refused(instance, error, pattern):
        _write(instance_file, instance)
        with pytest.raises(error, match=pattern):
            load_scene_by_id(SCENE_ID, data_root=tmp_path)

    refused("{not json", DatasetFormatError, r"101\.scene_instance\.json: not valid JSON")
    refused("[]", DatasetFormatError, "must be one JSON object, not list")
    refused(_instance(stage_instance=None), DatasetFormatError, r"'stage_instance' is missing; .*template_name")
    objects = _instance()["object_instances"]
    refused(_instance(object_instances=[{**objects[0], "rotation": [1, 0, 0]}]), DatasetFormatError,
            r"object_instances\[0\]\.rotation=\[1, 0, 0\] must be 4 finite numbers: a unit quaternion \[w, x, y, z\]")
    refused(_instance(object_instances=[{**objects[0], "rotation": [2, 0, 0, 0]}]), DatasetFormatError,
            r"rotation=\[2, 0, 0, 0\] has length 2, not 1")
    refused(_instance(object_instances=[{**objects[0], "template_name": "zzz"}]), DatasetFormatError,
            r"object_instances\[0\]\.template_name='zzz' matches none of the 2 \.object_config\.json files .*fix the name")
    refused(_instance(object_instances=[{**objects[0], "translation": [1, 2]}]), DatasetFormatError,
            r"object_instances\[0\]\.translation=\[1, 2\] must be 3 finite numbers")
    refused(_instance(object_instances=[{**objects[0], "translation_origin": "centre"}]), DatasetFormatError,
            r"translation_origin='centre' must be 'asset_local' .*'COM'")
    refused(_instance(stage_instance={"template_name": "stages/nope"}), DatasetFormatError,
            r"stage_instance\.template_name='stages/nope' matches none")
    _write(instance_file, _instance())
    (root / "objects" / "b" / "bbb.glb").unlink()
    with pytest.raises(DataNotFoundError, match=r"bbb\.object_config\.json: render_asset 'bbb\.glb' not found at .*object_instances\[2\]"):
        load_scene_by_id(SCENE_ID, data_root=tmp_path)
    with pytest.raises(DataNotFoundError, match=r"Scene instance not found: .*nope\.scene_instance\.json"):
        load_scene_by_id("hssd-test/scenes/nope.scene_instance.json", data_root=tmp_path)
    (root / "hssd-test.scene_dataset_config.json").unlink()
    with pytest.raises(DataNotFoundError, match=r"No scene dataset config lists the scene instance .*101\.scene_instance\.json"):
        load_scene_by_id(SCENE_ID, data_root=tmp_path)


def test_paths_leaving_the_dataset_folder_are_refused(data):
    tmp_path, root = data
    _write(tmp_path / "outside.glb", _box((0, 0, 0), (1, 1, 1)))
    _write(root / "objects" / "a" / "aaa.object_config.json", {"render_asset": "../../../../outside.glb"})
    with pytest.raises(DatasetFormatError, match=r"aaa\.object_config\.json: render_asset='\.\./\.\./\.\./\.\./outside\.glb' resolves to .*outside the dataset folder"):
        load_scene_by_id(SCENE_ID, data_root=tmp_path)
    _write(root / "objects" / "a" / "aaa.object_config.json", {"render_asset": str(tmp_path / "outside.glb")})
    with pytest.raises(DatasetFormatError, match="outside the dataset folder"):
        load_scene_by_id(SCENE_ID, data_root=tmp_path)
    _write(root / "scenes" / "101.scene_instance.json",
           _instance(object_instances=[{"template_name": "../../outside.glb", "translation": [0, 0, 0]}]))
    with pytest.raises(DatasetFormatError, match=r"template_name='\.\./\.\./outside\.glb' resolves to .*outside the dataset folder"):
        load_scene_by_id(SCENE_ID, data_root=tmp_path)
    config = json.loads((root / "hssd-test.scene_dataset_config.json").read_text())
    config["objects"]["paths"][".json"].append("../../../*")
    _write(root / "hssd-test.scene_dataset_config.json", config)
    with pytest.raises(DatasetFormatError, match=r"objects\.paths\[\"\.json\"\]\[1\]='\.\./\.\./\.\./\*' resolves to .*outside"):
        load_scene_by_id(SCENE_ID, data_root=tmp_path)


def test_articulated_objects_are_named_in_one_warning_and_not_loaded(data):
    tmp_path, root = data
    doors = [{"template_name": f"door_{k}", "translation": [0, 0, 0], "fixed_base": True} for k in range(3)]
    _write(root / "scenes" / "101.scene_instance.json", _instance(articulated_object_instances=doors))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scene = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    ours = [w for w in caught if issubclass(w.category, SceneInstanceWarning)]
    assert len(ours) == 1
    assert "3 articulated object instance(s) (door_0, door_1, door_2; URDF) are not loaded" in str(ours[0].message)
    assert len(scene.faces) == 4 * 12 and scene.metadata["articulated_objects_not_loaded"] == 3


def test_the_embedded_simulator_renders_the_objects_and_finds_the_hssd_navmesh(data):
    tmp_path, root = data
    sim = EmbeddedSimulator(SCENE_ID, data_root=tmp_path)
    assert sim.scene_id == SCENE_ID and sim.active_navmesh() is None
    # From (3, 0, 3.5) facing -z, camera 0.3 m up: bbb's front face at z = 1.0 is 2.5 m ahead, the
    # wall at z = 0 (above bbb's 0.6 m top) 3.5 m.
    state = AgentState.from_yaw([3.0, 0.0, 3.5], 0.0)
    depth = sim.render([(state, CameraSpec(camera_height=0.3, outputs=("depth",)))])[0]["depth"][..., 0]
    assert depth[64, 64] == pytest.approx(2.5, abs=1e-3)
    assert depth[40, 64] == pytest.approx(3.5, abs=1e-3)
    # HSSD's layout: navmeshes/<scene>.navmesh beside stages/ and scenes/ (its stages are named as
    # its scenes); the navigable cells then are those the navmesh covers.
    grid = sim.grid(0.0)
    left = grid.navigable.copy()
    left[:, grid.cols // 2 :] = False
    (root / "navmeshes").mkdir()
    navmesh = write_navmesh(NavMesh.from_grid(grid, mask=left), root / "navmeshes" / "101.navmesh")
    followed = EmbeddedSimulator(SCENE_ID, data_root=tmp_path)
    assert str(followed.active_navmesh().path) == str(navmesh)
    np.testing.assert_array_equal(followed.grid(0.0).navigable, left)
    scene = followed.scene
    followed.load_scene(SCENE_ID)  # the same id: kept, not read again
    assert followed.scene is scene


def test_an_hssd_style_episode_file_runs_on_the_composed_scene(data):
    import gymnasium as gym

    import navgym  # noqa: F401  (registers the envs)

    tmp_path, root = data
    episode = {
        "episode_id": "0", "scene_id": "data/scene_datasets/" + SCENE_ID,
        "scene_dataset_config": "data/scene_datasets/hssd-test/hssd-test.scene_dataset_config.json",
        "start_position": [1.0, 0.0, 3.5], "start_rotation": [0, 0, 0, 1],
        "info": {"geodesic_distance": 4.0}, "goals": [{"position": [5.0, 0.0, 3.5], "radius": None}],
    }
    write_habitat_episodes(tmp_path, "pointnav", "hssd-hab", [episode])
    env = gym.make("PointNav-HSSD-v0", data_dir=tmp_path)
    obs, info = env.reset(seed=0, options={"episode_index": 0})
    scene = env.unwrapped.sim.scene  # the env hands the simulator the episode's scene id resolved in the data root
    assert scene.name == str(root / "scenes" / "101.scene_instance.json") and scene.metadata["objects"] == 3
    assert info["distance_to_goal"] == pytest.approx(4.0, rel=0.05)  # along the room, past aaa's first copy
    env.close()


def test_the_env_uses_the_dataset_config_its_episodes_name(data):
    """Two configs beside the scenes list the same scene instance; the first by name (which the
    folder search takes) knows only object "aaa". The episodes name the full config: the env
    hands it to the simulator (as habitat-lab configures a scene from its episode), so all three
    objects load. A config that is not there is left to the search; one leaving the data root is
    refused, naming the episode."""
    import gymnasium as gym

    import navgym  # noqa: F401  (registers the envs)

    tmp_path, root = data
    _write(root / "aaa-only.scene_dataset_config.json", {
        "stages": {"paths": {".json": ["stages"]}}, "objects": {"paths": {".json": ["objects/a"]}},
        "scene_instances": {"paths": {".json": ["scenes"]}},
    })
    with pytest.raises(DatasetFormatError, match="bbb"):  # the folder search takes aaa-only's config
        load_scene_by_id(SCENE_ID, data_root=tmp_path)

    def make(config):
        episode = {
            "episode_id": "0", "scene_id": "data/scene_datasets/" + SCENE_ID, "scene_dataset_config": config,
            "start_position": [1.0, 0.0, 3.5], "start_rotation": [0, 0, 0, 1],
            "info": {"geodesic_distance": 4.0}, "goals": [{"position": [5.0, 0.0, 3.5], "radius": None}],
        }
        shutil.rmtree(tmp_path / "datasets", ignore_errors=True)
        write_habitat_episodes(tmp_path, "pointnav", "hssd-hab", [episode])
        return gym.make("PointNav-HSSD-v0", data_dir=tmp_path)

    env = make("./data/scene_datasets/hssd-test/hssd-test.scene_dataset_config.json")
    env.reset(seed=0, options={"episode_index": 0})
    scene = env.unwrapped.sim.scene
    assert scene.metadata["objects"] == 3
    assert scene.metadata["scene_dataset_config"] == str(root / "hssd-test.scene_dataset_config.json")
    env.close()
    env = make("data/scene_datasets/hssd-test/not-downloaded.scene_dataset_config.json")
    with pytest.raises(DatasetFormatError, match="bbb"):  # no such file: the folder search, as before
        env.reset(seed=0)
    env.close()
    with pytest.raises(DatasetFormatError, match=r"Episode 0: scene_dataset_config: .*inside the data root"):
        make("../../elsewhere.scene_dataset_config.json")


def test_an_instance_visibility_wins_over_its_config(data):
    tmp_path, root = data
    instance_file = root / "scenes" / "101.scene_instance.json"
    _write(root / "objects" / "a" / "aaa.object_config.json", {"render_asset": "aaa.glb", "is_visible": False})
    objects = [{"template_name": "aaa", "is_instance_visible": True}, {"template_name": "aaa"},
               {"template_name": "bbb", "is_instance_visible": False}, {"template_name": "bbb", "is_instance_visible": -1}]
    _write(instance_file, _instance(object_instances=objects))
    scene = load_scene_instance(instance_file)
    # habitat-sim: the first aaa shown (its instance says so), the second hidden (its config), the
    # first bbb hidden (its instance), the second shown (-1: unset).
    assert scene.metadata["objects"] == 2 and len(scene.faces) == 3 * 12


def test_meshes_are_kept_across_loads_until_their_file_changes(data):
    tmp_path, root = data
    first = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    again = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    np.testing.assert_array_equal(first.vertices, again.vertices)
    assert [m.name for m in first.materials] == [m.name for m in again.materials]
    assert len({m.name for m in again.materials}) == len(again.materials)  # renamed copies, not the cached ones
    # A changed mesh file is read again: bbb twice as wide.
    _write(root / "objects" / "b" / "bbb.glb", _box((-1.0, -0.2, 0.0), (1.0, 0.2, 1.2)))
    changed = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    np.testing.assert_allclose(_faces_bounds(changed, 36, 12), [[2.0, 0.0, 0.6], [4.0, 0.6, 1.0]], atol=1e-6)


def _with_gltf_extension(path, extension):
    """Rewrite a .glb's JSON chunk to declare ``extension`` as used (the binary chunk unchanged)."""
    raw = path.read_bytes()
    length = int.from_bytes(raw[12:16], "little")
    gltf = json.loads(raw[20 : 20 + length])
    gltf["extensionsUsed"] = [extension]
    text = json.dumps(gltf).encode()
    text += b" " * (-len(text) % 4)
    rest = raw[20 + length :]
    body = len(text).to_bytes(4, "little") + b"JSON" + text + rest
    path.write_bytes(raw[:8] + (12 + len(body)).to_bytes(4, "little") + body)


def test_ktx2_textures_are_named_in_one_warning(data):
    tmp_path, root = data
    _with_gltf_extension(root / "objects" / "b" / "bbb.glb", "KHR_texture_basisu")
    with pytest.warns(SceneInstanceWarning, match=r"1 of its mesh files \(bbb\.glb\) store their textures as KTX2"):
        scene = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    assert scene.metadata["ktx2_meshes"] == 1 and scene.metadata["objects"] == 3


def test_an_unreadable_config_beside_does_not_hide_a_scene_name(data):
    tmp_path, root = data
    _write(root / "broken.scene_dataset_config.json", "{not json")
    with pytest.warns(SceneInstanceWarning, match=r"skipped while looking for a scene instance: .*broken"):
        scene = load_scene_by_id("101", data_root=tmp_path)
    assert scene.metadata["objects"] == 3


def test_a_navmesh_instance_named_through_the_dataset_config_is_followed(data):
    tmp_path, root = data
    sim = EmbeddedSimulator(SCENE_ID, data_root=tmp_path)
    grid = sim.grid(0.0)
    left, right = grid.navigable.copy(), grid.navigable.copy()
    left[:, grid.cols // 2 :] = False
    right[:, : grid.cols // 2] = False
    (root / "navmeshes").mkdir()
    write_navmesh(NavMesh.from_grid(grid, mask=left), root / "navmeshes" / "101.navmesh")  # the stage's name
    (root / "other").mkdir()
    named = write_navmesh(NavMesh.from_grid(grid, mask=right), root / "other" / "tidy.navmesh")
    config = json.loads((root / "hssd-test.scene_dataset_config.json").read_text())
    config["navmesh_instances"] = {"tidy_navmesh": "other/tidy.navmesh", "outside": "../../elsewhere.navmesh"}
    _write(root / "hssd-test.scene_dataset_config.json", config)
    _write(root / "scenes" / "101.scene_instance.json", _instance(navmesh_instance="tidy_navmesh"))
    followed = EmbeddedSimulator(SCENE_ID, data_root=tmp_path)
    assert str(followed.active_navmesh().path) == str(named)
    np.testing.assert_array_equal(followed.grid(0.0).navigable, right)
    # A name the config does not map warns and falls back to the stage's name; a path leaving the
    # dataset folder is refused.
    _write(root / "scenes" / "101.scene_instance.json", _instance(navmesh_instance="nope"))
    with pytest.warns(SceneInstanceWarning, match=r"navmesh_instance='nope' is not among the 'navmesh_instances' .*'tidy_navmesh'"):
        scene = load_scene_by_id(SCENE_ID, data_root=tmp_path)
    assert scene.navmesh_file is None
    with pytest.warns(SceneInstanceWarning, match="navmesh_instance='nope'"):
        fallback = EmbeddedSimulator(SCENE_ID, data_root=tmp_path)
    assert str(fallback.active_navmesh().path).endswith("navmeshes/101.navmesh")
    _write(root / "scenes" / "101.scene_instance.json", _instance(navmesh_instance="outside"))
    with pytest.raises(DatasetFormatError, match=r"navmesh_instances\['outside'\].* outside the dataset folder"):
        load_scene_by_id(SCENE_ID, data_root=tmp_path)
