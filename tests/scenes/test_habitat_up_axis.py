"""Scene ids naming mesh files are read the way habitat-sim reads them: a bare ``.glb`` (Gibson,
MP3D, HM3D ship z-up ones) is z-up and turned y-up with habitat-sim's rotation, so a Habitat
episode file's y-up positions land on its floor; ``up_axis`` says otherwise."""

from __future__ import annotations


import gymnasium as gym
import numpy as np
import pytest
import trimesh

import navgym  # noqa: F401
from navgym.errors import InvalidArgumentError
from navgym.scenes.sources import habitat_up_axis, load_scene_by_id
from navgym.sims.embedded.simulator import EmbeddedSimulator
from tests.datasets._episode_files import write_habitat_episodes

#: Habitat's world frame from a z-up file: (x, y, z) -> (x, z, -y).
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def _room(size=(6.0, 2.5, 4.0)) -> trimesh.Trimesh:
    """A y-up box room (inward faces), 6 m along x, 2.5 m high, 4 m along z, floor at y = 0."""
    room = trimesh.creation.box(extents=size)
    room.apply_translation(np.array(size) / 2)
    room.invert()
    return room


def _write_z_up(path, room: trimesh.Trimesh) -> None:
    """The room as Gibson / MP3D / HM3D ship it: z-up (y-up world point p is file point R^T p)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    trimesh.Trimesh(room.vertices @ Z_UP_TO_Y_UP, room.faces, process=False).export(path)


def test_a_bare_glb_is_z_up_and_comes_back_in_habitats_world_frame(tmp_path):
    room = _room()
    _write_z_up(tmp_path / "scene_datasets" / "gibson" / "Room.glb", room)
    assert habitat_up_axis(tmp_path / "scene_datasets" / "gibson" / "Room.glb") == "z"
    assert habitat_up_axis(tmp_path / "scan.ply") == "y"
    scene = load_scene_by_id("gibson/Room.glb", data_root=tmp_path)
    lo, hi = scene.bounds
    np.testing.assert_allclose(lo, [0.0, 0.0, 0.0], atol=1e-5)  # as habitat-sim's world: y up, 2.5 m high
    np.testing.assert_allclose(hi, [6.0, 2.5, 4.0], atol=1e-5)
    assert scene.mesh_up_axis == "z"
    sideways = load_scene_by_id("gibson/Room.glb", data_root=tmp_path, up_axis="y")  # what 'y' would have read
    assert sideways.bounds[1][1] - sideways.bounds[0][1] == pytest.approx(4.0, abs=1e-5)  # 4 m "high": on its side
    with pytest.raises(InvalidArgumentError, match="up_axis='x' must be one of"):
        load_scene_by_id("gibson/Room.glb", data_root=tmp_path, up_axis="x")
    with pytest.raises(InvalidArgumentError, match="up_axis='up' must be one of"):
        EmbeddedSimulator("gibson/Room.glb", data_root=tmp_path, up_axis="up")


def test_a_gibson_style_episode_file_runs_on_a_z_up_glb_and_y_up_needs_saying(tmp_path):
    room = _room()
    _write_z_up(tmp_path / "scene_datasets" / "gibson" / "Room.glb", room)
    episode = {
        "episode_id": "0", "scene_id": "data/scene_datasets/gibson/Room.glb",
        "start_position": [1.0, 0.0, 1.0], "start_rotation": [0, 0, 0, 1],
        "info": {"geodesic_distance": 4.0}, "goals": [{"position": [5.0, 0.0, 3.0], "radius": None}],
    }
    write_habitat_episodes(tmp_path, "pointnav", "gibson", [episode])
    env = gym.make("PointNav-Gibson-v0", data_dir=tmp_path)
    obs, info = env.reset(seed=0, options={"episode_index": 0})
    assert info["distance_to_goal"] == pytest.approx(np.hypot(4.0, 2.0), rel=0.05)  # across the floor
    assert env.unwrapped.sim.scene.bounds[1][1] == pytest.approx(2.5, abs=1e-5)
    # The same room written y-up (not Habitat's convention) is read on its side by 'auto' ...
    room.export(tmp_path / "scene_datasets" / "gibson" / "Room.glb")
    with pytest.warns(UserWarning):  # random draws skip the episode, then none is left
        with pytest.raises(navgym.errors.UnusableEpisodeError, match=r"read z-up, .* sim_options=\{'up_axis': 'y'\}"):
            gym.make("PointNav-Gibson-v0", data_dir=tmp_path).reset(seed=0)
    # ... and upright with sim_options={"up_axis": "y"}.
    env = gym.make("PointNav-Gibson-v0", data_dir=tmp_path, sim_options={"up_axis": "y"})
    obs, info = env.reset(seed=0, options={"episode_index": 0})
    assert info["distance_to_goal"] == pytest.approx(np.hypot(4.0, 2.0), rel=0.05)


def test_a_stage_config_beside_the_glb_decides_its_up_axis(tmp_path):
    from navgym.errors import DatasetFormatError

    stage = tmp_path / "stages" / "Stage.glb"
    _room().export(stage.parent.mkdir(parents=True) or stage)
    config = tmp_path / "stages" / "Stage.stage_config.json"
    for text, axis in (("{}", "y"), ('{"up": [0, 1, 0], "front": [0, 0, -1]}', "y"), ('{"up": [0, 0, 1]}', "z")):
        config.write_text(text)
        assert habitat_up_axis(stage) == axis
    config.write_text('{"up": [1, 0, 0]}')
    with pytest.raises(DatasetFormatError, match=r"up=\[1, 0, 0\] is not"):
        habitat_up_axis(stage)
    config.write_text("not json")
    with pytest.raises(DatasetFormatError, match="not a JSON stage config"):
        habitat_up_axis(stage)
    config.unlink()
    assert habitat_up_axis(stage) == "z"
