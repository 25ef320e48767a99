"""The ProcHouse scene cache: a seed's files are byte-identical whichever process wrote them, they
name each other by their final names, and a stale, half or mixed entry is never loaded as it is.

docs/scene_format.md and docs/simulator.md promise byte-identical files "compared by hash"; these
tests are what makes that true for the cache (issue 19, item 8).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from navgym.errors import DatasetFormatError
from navgym.scenes.builder import SceneBuilder
from navgym.scenes.formats.annotations import texture_cache_path
from navgym.scenes.formats.gltf import read_glb
from navgym.scenes.io import annotation_path, load_scene, save_scene
from navgym.scenes.prochouse import GENERATOR_VERSION
from navgym.scenes.scene import Scene
from navgym.scenes.sources import load_prochouse

SEED = 1000000  # the first val house


def _cache_files(cache: Path, seed: int = SEED) -> tuple[Path, Path]:
    glb = cache / "scenes" / f"prochouse_v{GENERATOR_VERSION}" / f"{seed:07d}.glb"
    return glb, annotation_path(glb)


def _cross_references(glb: Path, annotations: Path) -> tuple[str, str]:
    """(the mesh the annotations name, the annotation file the .glb names)."""
    gltf, _ = read_glb(glb)
    return json.loads(annotations.read_text())["mesh"], gltf["asset"]["extras"]["navgym_annotations"]


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NAVGYM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_seed_gives_byte_identical_cache_files_from_any_process(tmp_path, fill_caches_in_processes):
    """Three processes (different pids and hash seeds) fill three fresh caches with one seed: the
    same file names, the same sha256 for every file, and nothing temporary left behind."""
    code = f"from navgym.scenes.sources import load_prochouse; load_prochouse({SEED})"
    caches, digests = fill_caches_in_processes(tmp_path, code)
    glb, annotations = _cache_files(caches[0])
    files = (glb, annotations, texture_cache_path(glb))
    assert sorted(digests[0]) == [str(p.relative_to(caches[0])) for p in files]
    assert digests[0] == digests[1] == digests[2]
    assert json.loads(annotations.read_text())["mesh_sha256"] == digests[0][str(glb.relative_to(caches[0]))]


def test_cached_house_files_name_each_other_and_load_back(cache):
    scene = load_prochouse(SEED)
    glb, annotations = _cache_files(cache)
    mesh_name, annotation_name = _cross_references(glb, annotations)
    assert (glb.parent / mesh_name) == glb and (glb.parent / annotation_name) == annotations
    assert sorted(p.name for p in glb.parent.iterdir()) == [glb.name, annotations.name, texture_cache_path(glb).name]
    again = load_prochouse(SEED)  # from the cache now
    assert np.array_equal(again.vertices, scene.vertices) and np.array_equal(again.faces, scene.faces)
    assert again.annotated and len(again.instances) == len(scene.instances)


def test_a_stale_entry_with_temporary_names_is_rewritten(cache):
    """A cache written by the old code (saved under ``.<seed>.<pid>.glb``, then renamed) names files
    that do not exist; it loads, but is regenerated and rewritten with the right names."""
    scene = load_prochouse(SEED, use_cache=False)
    glb, annotations = _cache_files(cache)
    old_glb, old_json = save_scene(scene, glb.with_name(f".{glb.stem}.5406.glb"))
    os.replace(old_glb, glb)
    os.replace(old_json, annotations)
    assert _cross_references(glb, annotations) == (old_glb.name, old_json.name)
    load_prochouse(SEED)
    assert _cross_references(glb, annotations) == (glb.name, annotations.name)


def test_a_house_without_its_annotations_is_not_loaded_as_a_bare_mesh(cache):
    """A ``.glb`` whose annotation file is missing (deleted, or a reader between two renames) must
    not come back as an unannotated scene: the entry is regenerated."""
    load_prochouse(SEED)
    _, annotations = _cache_files(cache)
    annotations.unlink()
    scene = load_prochouse(SEED)
    assert scene.annotated and scene.instances and annotations.is_file()


# -- save_scene publishes a pair ----------------------------------------------------------------
def _room(height: float = 2.5) -> Scene:
    b = SceneBuilder("room")
    paint = b.material("paint", "paint", (200, 200, 220))
    b.add_room("kitchen", (0.0, 0.0, 4.0, 3.0))
    b.add_box((0, -0.1, 0), (4, 0, 3), paint, category="floor")
    b.add_box((0, 0, 0), (4, height, 0.1), paint, category="wall")
    return b.build()


def test_save_writes_final_names_annotations_first_and_leaves_nothing_behind(tmp_path, monkeypatch):
    from navgym.scenes import io

    published = []
    real_replace = os.replace
    monkeypatch.setattr(io.os, "replace", lambda src, dst: (published.append(Path(dst).name), real_replace(src, dst)))
    glb, annotations = save_scene(_room(), tmp_path / "room.glb")
    assert published == ["room.navgym.json", "room.glb"]  # a reader that sees the .glb sees its annotations
    assert sorted(p.name for p in tmp_path.iterdir()) == ["room.glb", "room.navgym.json"]
    assert _cross_references(glb, annotations) == ("room.glb", "room.navgym.json")


def test_a_pair_mixed_by_two_writers_is_refused(tmp_path):
    """Two scenes with the same counts saved to one path at once can leave one's annotations with
    the other's .glb; the annotations' mesh_sha256 turns that into an error, not a wrong scene."""
    save_scene(_room(2.5), tmp_path / "a" / "room.glb")
    other, _ = save_scene(_room(2.0), tmp_path / "b" / "room.glb")
    os.replace(other, tmp_path / "a" / "room.glb")
    with pytest.raises(DatasetFormatError, match=r"room\.navgym\.json: field 'mesh_sha256' does not match"):
        load_scene(tmp_path / "a" / "room.glb")


def test_the_textures_file_is_only_a_faster_copy_of_the_pngs(cache, monkeypatch):
    """A house loads the same from its decoded textures file, without it (an older cache: the
    file is then written, byte-identical), and with a stale or cut one (ignored)."""
    scene = load_prochouse(SEED)
    glb, _ = _cache_files(cache)
    textures = texture_cache_path(glb)
    written = textures.read_bytes()

    def same_textures(other: Scene) -> bool:
        return all(
            (a.texture is None and b.texture is None)
            or (a.texture.dtype == b.texture.dtype and np.array_equal(a.texture, b.texture))
            for a, b in zip(scene.materials, other.materials, strict=True)
        )

    from navgym.scenes.formats import annotations as formats

    real_read_texture = formats.read_texture
    monkeypatch.setattr(formats, "read_texture", lambda *a: pytest.fail("decoded a PNG despite the textures file"))
    assert same_textures(load_prochouse(SEED))  # from the textures file, no PNG decoded
    monkeypatch.setattr(formats, "read_texture", real_read_texture)
    textures.unlink()
    assert same_textures(load_prochouse(SEED)) and textures.read_bytes() == written
    for broken in (written[:-1], written[:18] + b"0" * 64 + written[82:]):
        textures.write_bytes(broken)
        assert same_textures(load_prochouse(SEED)) and textures.read_bytes() == broken
