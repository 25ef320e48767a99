"""Scene files: exact .glb + JSON round trips, external meshes, and the errors users will meet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from navgym.scenes.builder import SceneBuilder
from navgym.scenes.io import COLOR_PALETTE_SIZE, annotation_path, load_scene, save_scene
from navgym.scenes.scene import Material, ObjectInstance, Relation, Room, Scene


# -- scenes -----------------------------------------------------------------------------------------
def boxes_scene() -> Scene:
    """Two rooms of textured boxes with instances, rooms and relations, built the ProcHouse way."""
    rng = np.random.default_rng(0)
    b = SceneBuilder("two_rooms")
    oak = b.material("floor_oak", "wood", (150, 100, 60), rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    paint = b.material("wall_paint", "paint", (200, 200, 220))
    fabric = b.material("sofa_fabric", "fabric", (90, 30, 40), rng.integers(0, 256, (8, 4, 3), dtype=np.uint8))
    kitchen = b.add_room("kitchen", (0.0, 0.0, 4.0, 3.0))
    living = b.add_room("living_room", (4.0, 0.0, 8.0, 3.0), name="lounge")
    b.add_box((0, -0.1, 0), (8, 0, 3), oak, category="floor")
    b.add_box((0, 0, 0), (8, 2.5, 0.1), paint, category="wall")
    table = b.add_box((1, 0.7, 1), (2, 0.75, 1.6), oak, category="table", room_id=kitchen,
                      attributes={"color": "brown", "material": "wood", "size": "medium"})
    b.add_box((1.05, 0, 1.05), (1.1, 0.7, 1.1), oak, instance=table)  # a leg: same instance, later faces
    sofa = b.add_box((5, 0, 2), (7, 0.8, 2.9), fabric, category="sofa", room_id=living,
                     attributes={"color": "red", "size": "large"})
    cup = b.add_box((1.4, 0.75, 1.2), (1.5, 0.85, 1.3), paint, category="cup", room_id=kitchen)
    scene = b.build()
    scene.instance(sofa).front = (0.0, -1.0)
    scene.relations = [Relation(cup, "on", table), Relation(sofa, "near", table)]
    scene.metadata = {"generator": "test", "seed": 7, "params": {"storeys": 1, "scale": [1.0, 0.5]}}
    return scene


def tricky_scene() -> Scene:
    """Raw arrays that defeat naive layouts: vertices shared across materials, interleaved
    materials, an unreferenced vertex, an unused material, RGBA / grey / duplicated textures,
    UVs that do not survive a ``1 - v`` round trip, and split instance ranges."""
    rng = np.random.default_rng(1)
    vertices = rng.normal(size=(10, 3)).astype(np.float32)
    faces = np.array([[0, 1, 2], [0, 2, 3], [3, 4, 5], [5, 6, 7], [7, 8, 0], [1, 3, 5], [2, 4, 6]])
    uvs = np.array(
        [[1e-9, 0.1], [0.3, 1e-9], [12345.678, -3.75], [0.5, 0.5], [2.0, 0.999999], [-7.25, 0.01],
         [0.333, 0.667], [1.0, 0.0], [0.7, 3e-8], [9.0, 9.0]], dtype=np.float32)
    shared = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    materials = [
        Material("rgb", "tile", (10, 20, 30), shared),
        Material("plain", "paint", (255, 0, 128)),
        Material("rgba", "glass", (1, 2, 3), rng.integers(0, 256, (4, 6, 4), dtype=np.uint8)),
        Material("unused", "metal", (0, 0, 0)),
        Material("grey", "ceramic", (99, 99, 99), rng.integers(0, 256, (3, 3), dtype=np.uint8)),
        Material("same_texture", "tile", (11, 21, 31), shared.copy()),
    ]
    instances = [
        ObjectInstance(4, "lamp", None, np.array([-1.0, 0.0, -1.0]), np.array([1.0, 2.0, 1.0]), {"on": True}, (0.6, 0.8)),
        ObjectInstance(9, "plant", 2, np.array([0.1, 0.2, 0.3]), np.array([0.4, 0.5, 0.6])),
        ObjectInstance(2, "ghost", 2, np.zeros(3), np.ones(3), {"note": "no triangles"}),
    ]
    return Scene(
        vertices=vertices,
        faces=faces,
        uvs=uvs,
        face_material=np.array([0, 1, 0, 2, 4, 5, 1]),
        face_instance=np.array([4, 4, 0, 9, 4, 0, 9]),
        materials=materials,
        instances=instances,
        rooms=[Room(2, "bathroom", (-1.5, -2.0, 1.25, 3.0), floor_height=2.8, name="upstairs bath")],
        relations=[Relation(9, "next_to", 4)],
        name="tricky",
        metadata={"source": "hand-made", "tags": ["a", "b"], "nested": {"x": None}},
        annotated=False,
    )


SCENES = {"boxes": boxes_scene, "tricky": tricky_scene}


def assert_scenes_equal(a: Scene, b: Scene) -> None:
    """Every array (values and dtype) and every annotation equal."""
    for name in ("vertices", "faces", "uvs", "face_material", "face_instance"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert len(a.materials) == len(b.materials)
    for ma, mb in zip(a.materials, b.materials):
        assert (ma.name, ma.kind, tuple(ma.color)) == (mb.name, mb.kind, tuple(mb.color))
        assert (ma.texture is None) == (mb.texture is None), ma.name
        if ma.texture is not None:
            assert ma.texture.dtype == mb.texture.dtype and np.array_equal(ma.texture, mb.texture), ma.name
    assert len(a.instances) == len(b.instances)
    for ia, ib in zip(a.instances, b.instances):
        assert (ia.id, ia.category, ia.room_id, ia.attributes, ia.front) == (ib.id, ib.category, ib.room_id, ib.attributes, ib.front)
        assert np.array_equal(ia.bbox_min, ib.bbox_min) and np.array_equal(ia.bbox_max, ib.bbox_max)
    assert a.rooms == b.rooms
    assert a.relations == b.relations
    assert (a.name, a.metadata, a.annotated) == (b.name, b.metadata, b.annotated)


def texel_at_centroids(scene: Scene, faces: np.ndarray) -> np.ndarray:
    """The RGB texel each face's centroid shows, sampled the way the embedded renderer samples."""
    out = []
    for f in faces:
        texture = scene.materials[scene.face_material[f]].texture
        texture = np.dstack([texture] * 3) if texture.ndim == 2 else texture[..., :3]
        h, w = texture.shape[:2]
        u, v = scene.uvs[scene.faces[f]].astype(np.float64).mean(axis=0)
        out.append(texture[h - 1 - int(np.floor(v * h)) % h, int(np.floor(u * w)) % w])
    return np.array(out)


def edit_annotations(glb: Path, edit) -> None:
    path = annotation_path(glb)
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def assert_edit_refused(tmp_path: Path, edit, field: str) -> None:
    """The boxes scene saved, its annotation file changed by ``edit``: loading it raises a
    ValueError matching ``field`` and naming the file."""
    glb, _ = save_scene(boxes_scene(), tmp_path / "s.glb")
    edit_annotations(glb, edit)
    with pytest.raises(ValueError, match=field) as info:
        load_scene(glb)
    assert "s.navgym.json" in str(info.value)


# -- navgym's own files -----------------------------------------------------------------------------
@pytest.mark.parametrize("make", SCENES.values(), ids=SCENES.keys())
def test_round_trip_restores_every_array_and_annotation(tmp_path, make):
    scene = make()
    glb, annotations = save_scene(scene, tmp_path / "scene.glb")
    assert (glb, annotations) == (tmp_path / "scene.glb", tmp_path / "scene.navgym.json")
    assert_scenes_equal(scene, load_scene(glb))


def test_explicit_annotation_path_and_suffixless_save(tmp_path):
    scene = boxes_scene()
    glb, annotations = save_scene(scene, tmp_path / "deep" / "dir" / "house")
    assert glb == tmp_path / "deep" / "dir" / "house.glb"
    moved = annotations.rename(tmp_path / "elsewhere.json")
    assert_scenes_equal(scene, load_scene(glb, annotations=moved))


@pytest.mark.parametrize("make", SCENES.values(), ids=SCENES.keys())
def test_saving_is_deterministic_and_idempotent(tmp_path, make):
    first = save_scene(make(), tmp_path / "a" / "scene.glb")
    second = save_scene(make(), tmp_path / "b" / "scene.glb")
    again = save_scene(load_scene(first[0]), tmp_path / "c" / "scene.glb")
    for x, y, z in zip(first, second, again):
        assert x.read_bytes() == y.read_bytes() == z.read_bytes(), x.name


def test_glb_is_standard_gltf_with_the_same_look(tmp_path):
    """Without the JSON, trimesh reads the .glb as any viewer would: same triangles, same texels."""
    scene = tricky_scene()
    glb, annotations = save_scene(scene, tmp_path / "scene.glb")
    annotations.unlink()
    plain = load_scene(glb)
    assert not plain.annotated and not plain.instances and not plain.rooms
    assert not plain.face_instance.any()
    order = np.argsort(scene.face_material, kind="stable")  # one primitive per material
    assert np.array_equal(plain.vertices[plain.faces], scene.vertices[scene.faces[order]])
    textured = [i for i, f in enumerate(order) if scene.materials[scene.face_material[f]].texture is not None]
    assert np.array_equal(texel_at_centroids(plain, np.array(textured)), texel_at_centroids(scene, order[textured]))
    untextured = scene.face_material[order] == 1
    assert {plain.materials[m].color for m in plain.face_material[untextured]} == {(255, 0, 128)}


# -- external meshes --------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["glb", "obj", "ply"])
def test_external_mesh_loads_unannotated(tmp_path, ext):
    box = trimesh.creation.box((1.0, 2.0, 3.0))
    path = tmp_path / f"box.{ext}"
    box.export(path)
    scene = load_scene(path)
    assert (scene.name, scene.annotated) == ("box", False)
    assert len(scene.faces) == 12 and not scene.face_instance.any()
    assert scene.instances == [] and scene.rooms == [] and scene.relations == []
    assert scene.uvs.shape == (len(scene.vertices), 2)
    assert np.allclose(scene.vertices.max(axis=0) - scene.vertices.min(axis=0), [1.0, 2.0, 3.0])


def test_external_scene_graph_is_flattened_with_node_transforms(tmp_path):
    graph = trimesh.Scene()
    graph.add_geometry(trimesh.creation.box((1.0, 1.0, 1.0)), node_name="a")
    graph.add_geometry(trimesh.creation.box((1.0, 1.0, 1.0)), node_name="b",
                       transform=trimesh.transformations.translation_matrix([10.0, 0.0, 0.0]))
    graph.export(tmp_path / "two.glb")
    scene = load_scene(tmp_path / "two.glb")
    assert len(scene.faces) == 24
    lo, hi = scene.bounds
    assert np.allclose(lo, [-0.5, -0.5, -0.5]) and np.allclose(hi, [10.5, 0.5, 0.5])


def test_external_texture_is_kept_and_downsampled(tmp_path):
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    pixels = np.zeros((600, 1024, 3), dtype=np.uint8)
    pixels[:300] = (255, 0, 0)  # red top half
    uv = np.random.default_rng(0).random((len(box.vertices), 2))
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=Image.fromarray(pixels))
    box.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    box.export(tmp_path / "textured.glb")
    scene = load_scene(tmp_path / "textured.glb")
    (material,) = scene.materials
    assert material.texture.shape == (300, 512, 3)
    assert tuple(material.texture[0, 0]) == (255, 0, 0) and tuple(material.texture[-1, -1]) == (0, 0, 0)
    assert np.allclose(scene.uvs, uv, atol=1e-6)  # trimesh's lower-left origin, as the renderer uses
    assert load_scene(tmp_path / "textured.glb", max_texture_size=64).materials[0].texture.shape == (38, 64, 3)


def test_obj_texture_and_gltf_colour_factor(tmp_path):
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    pixels = np.zeros((60, 100, 3), dtype=np.uint8)
    pixels[:30] = (0, 0, 255)
    uv = np.random.default_rng(0).random((len(box.vertices), 2))
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(pixels))
    box.export(tmp_path / "textured.obj")  # writes material.mtl and a PNG beside it
    (material,) = load_scene(tmp_path / "textured.obj").materials
    assert material.texture.shape == (60, 100, 3) and material.color == (0, 0, 128)

    orange = trimesh.creation.box((1.0, 1.0, 1.0))
    factor = [1.0, 0.214, 0.0, 1.0]  # linear, as glTF stores it: sRGB (255, 128, 0)
    orange.visual = trimesh.visual.TextureVisuals(material=trimesh.visual.material.PBRMaterial(baseColorFactor=factor))
    orange.export(tmp_path / "orange.glb")
    (material,) = load_scene(tmp_path / "orange.glb").materials
    assert material.texture is None and np.allclose(material.color, (255, 128, 0), atol=2)


def test_vertex_and_face_colours_become_colour_materials(tmp_path):
    red = trimesh.creation.box((1.0, 1.0, 1.0))
    red.visual.vertex_colors = (255, 0, 0, 255)
    red.export(tmp_path / "red.ply")
    scene = load_scene(tmp_path / "red.ply")
    assert [m.color for m in scene.materials] == [(255, 0, 0)]

    sphere = trimesh.creation.icosphere(subdivisions=3)
    sphere.visual.face_colors = np.random.default_rng(0).integers(0, 256, (len(sphere.faces), 4), dtype=np.uint8)
    sphere.export(tmp_path / "sphere.ply")
    scene = load_scene(tmp_path / "sphere.ply")
    assert 1 < len(scene.materials) <= COLOR_PALETTE_SIZE
    assert len(scene.faces) == len(sphere.faces)


def test_z_up_mesh_is_rotated_to_y_up(tmp_path):
    box = trimesh.creation.box(bounds=[[0.0, 0.0, 0.0], [1.0, 1.0, 2.0]])  # 2 m tall along +z
    box.export(tmp_path / "zup.ply")
    as_is = load_scene(tmp_path / "zup.ply")
    rotated = load_scene(tmp_path / "zup.ply", up_axis="z")
    assert as_is.vertices[:, 1].max() == pytest.approx(1.0)
    lo, hi = rotated.bounds
    assert np.allclose(lo, [0.0, 0.0, -1.0]) and np.allclose(hi, [1.0, 2.0, 0.0])
    top = as_is.vertices[:, 2] == 2.0  # the z-up top is now at y = +2
    assert np.allclose(rotated.vertices[top, 1], 2.0)
    assert trimesh.Trimesh(rotated.vertices, rotated.faces, process=False).volume > 0  # winding kept


# -- errors -----------------------------------------------------------------------------------------
def test_missing_file_names_the_path_and_hint(tmp_path):
    missing = tmp_path / "nowhere" / "scene.glb"
    with pytest.raises(FileNotFoundError, match="nowhere") as info:
        load_scene(missing, hint="Download it with `navgym download hm3d`.")
    assert str(missing) in str(info.value) and "navgym download hm3d" in str(info.value)
    glb, _ = save_scene(boxes_scene(), tmp_path / "s.glb")
    with pytest.raises(FileNotFoundError, match="absent.json"):
        load_scene(glb, annotations=tmp_path / "absent.json")


@pytest.mark.parametrize("annotated", [True, False])
def test_truncated_glb_names_the_file(tmp_path, annotated):
    glb, annotations = save_scene(boxes_scene(), tmp_path / "cut.glb")
    glb.write_bytes(glb.read_bytes()[:700])
    if not annotated:
        annotations.unlink()
    with pytest.raises(ValueError, match="cut.glb"):
        load_scene(glb)


def test_unparsable_external_mesh_names_the_file(tmp_path):
    bad = tmp_path / "broken.ply"
    bad.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 3\nend_header\n1 2\n")
    with pytest.raises(ValueError, match="broken.ply"):
        load_scene(bad)


def test_malformed_annotation_json_names_the_file(tmp_path):
    glb, annotations = save_scene(boxes_scene(), tmp_path / "s.glb")
    annotations.write_text('{"format": "navgym-scene", ')
    with pytest.raises(ValueError, match="s.navgym.json"):
        load_scene(glb)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d.update(face_count=d["face_count"] + 2), "'face_count'"),
        (lambda d: d["instances"][1]["triangles"].append([0, 10_000]), r"'instances\[1\].triangles'"),
        (lambda d: d["instances"][2]["triangles"].append([0, 1]), r"'instances\[2\].triangles' overlaps"),
        (lambda d: d["primitives"][0]["triangles"].pop(), r"'primitives\[0\].triangles'"),
        (lambda d: d.update(format="habitat"), "'format'"),
        (lambda d: d.update(version=99), "'version'"),
        (lambda d: d.pop("rooms"), "'rooms' is missing"),
        (lambda d: d["instances"][0].pop("category"), r"'instances\[0\].category' is missing"),
        (lambda d: d["materials"][1].update(color=[1, 2]), r"'materials\[1\].color'"),
        (lambda d: d["materials"][1].update(texture_shape=[8, 8, 3]), r"'materials\[1\].texture_shape'"),
        (lambda d: d["relations"][1].update(subject="sofa"), r"'relations\[1\].subject' must be int"),
        (lambda d: d["relations"][0].update(object=True), r"'relations\[0\].object' must be int"),
        (lambda d: d["relations"][0].pop("relation"), r"'relations\[0\].relation' is missing"),
        (lambda d: d["instances"][1].update(triangles="all"), r"'instances\[1\].triangles' must be list"),
    ],
)
def test_inconsistent_annotations_name_the_file_and_field(tmp_path, edit, field):
    assert_edit_refused(tmp_path, edit, field)


def test_save_rejects_what_it_cannot_write(tmp_path):
    scene = boxes_scene()
    with pytest.raises(ValueError, match="'.glb'"):
        save_scene(scene, tmp_path / "scene.obj")
    scene.face_instance[:2] = 77
    with pytest.raises(ValueError, match="77"):
        save_scene(scene, tmp_path / "scene.glb")
    scene = boxes_scene()
    scene.metadata["bad"] = object()
    with pytest.raises(ValueError, match="metadata"):
        save_scene(scene, tmp_path / "scene.glb")


def test_load_rejects_bad_keywords(tmp_path):
    glb, _ = save_scene(boxes_scene(), tmp_path / "s.glb")
    with pytest.raises(ValueError, match="up_axis"):
        load_scene(glb, up_axis="x")
    with pytest.raises(ValueError, match="up_axis"):
        load_scene(glb, up_axis="z")  # navgym files are y-up already
