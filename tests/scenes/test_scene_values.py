"""Hand-written scenes with wrong values (NaN, swapped bounds, storeys in centimetres): each is
refused with an error naming the file and the field, instead of loading and misbehaving later."""

from __future__ import annotations

import pytest

from navgym.scenes.formats.external import SceneUnitsWarning
from navgym.scenes.io import load_scene, save_scene

from test_scene_io import assert_edit_refused, boxes_scene

NAN = float("nan")


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["rooms"][0].update(bounds=[0, NAN, 4, 3]), r"'rooms\[0\].bounds' must be 4 finite numbers"),
        (lambda d: d["rooms"][0].update(floor_height=NAN), r"'rooms\[0\].floor_height' must be a finite number"),
        (lambda d: d["rooms"][0].update(bounds=[4, 3, 0, 0]), r"'rooms\[0\].bounds' .* minimum first"),
        (lambda d: d["instances"][1].update(bbox_min=[NAN, 0, 0]), r"'instances\[1\].bbox_min' must be 3 finite"),
        (lambda d: d["instances"][1].update(bbox_min=[3, 3, 3], bbox_max=[0, 0, 0]), r"'instances\[1\].bbox_min' .* above bbox_max"),
        (lambda d: d["instances"][1].update(front=[NAN, 0]), r"'instances\[1\].front' must be 2 finite"),
        (lambda d: d["instances"][1].update(front=[0, 0]), r"'instances\[1\].front' is \[0, 0\]"),
        (lambda d: d["metadata"].update(storeys=["ground", "first"]), r"'metadata.storeys' must be a non-empty list"),
        (lambda d: d["metadata"].update(storeys=[0.0, NAN]), r"'metadata.storeys' must be a non-empty list"),
        (lambda d: d["metadata"].update(storeys=[0.0, 300.0]), r"'metadata.storeys' has floor heights \[300.0\] outside"),
    ],
)
def test_wrong_values_name_the_file_and_field(tmp_path, edit, field):
    assert_edit_refused(tmp_path, edit, field)


def test_storeys_in_metres_load(tmp_path):
    scene = boxes_scene()
    scene.metadata["storeys"] = [0.0, 2.4]
    glb, _ = save_scene(scene, tmp_path / "s.glb")
    assert load_scene(glb).metadata["storeys"] == [0.0, 2.4]


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_external_mesh_with_non_finite_vertices_names_the_file(tmp_path, bad):
    path = tmp_path / "scan.obj"
    path.write_text(f"v 0 0 0\nv 1 0 {bad}\nv 0 0 1\nv 1 0 1\nf 1 2 3\nf 2 4 3\n")
    with pytest.raises(ValueError, match=r"scan.obj.*1 of 4 vertices are not finite.*vertex 1"):
        load_scene(path)


def test_external_mesh_in_millimetres_warns_with_the_fix(tmp_path):
    path = tmp_path / "flat_mm.obj"
    path.write_text("v 0 0 0\nv 8000 0 0\nv 0 0 6000\nv 8000 2500 6000\nf 1 2 3\nf 2 4 3\n")
    with pytest.warns(SceneUnitsWarning, match=r"flat_mm.obj spans 8000 x 2500 x 6000.*vertices \*= 0.01"):
        scene = load_scene(path)
    assert scene.vertices.max() == 8000  # loaded as it is: the warning says how to rescale


def test_external_mesh_in_metres_does_not_warn(tmp_path, recwarn):
    path = tmp_path / "flat.obj"
    path.write_text("v 0 0 0\nv 80 0 0\nv 0 0 60\nv 80 2.5 60\nf 1 2 3\nf 2 4 3\n")
    load_scene(path)
    assert not [w for w in recwarn if issubclass(w.category, SceneUnitsWarning)]
