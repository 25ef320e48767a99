"""ProcHouse houses in the simulator: files round trip, same seed same frames, every room reachable."""

from __future__ import annotations

import numpy as np
import pytest

from navgym.scenes.io import load_scene, save_scene
from navgym.scenes.prochouse import SPLITS, generate_house
from navgym.scenes.sources import load_prochouse
from navgym.sims.base import AgentState, CameraSpec
from navgym.sims.embedded.simulator import EmbeddedSimulator

ALL = CameraSpec(96, 96, 90.0, 1.25, outputs=("rgb", "depth", "semantic"))
SEED = SPLITS["val"][3]


def frames(sim: EmbeddedSimulator, count: int = 8) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    poses = [AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 2 * np.pi))) for _ in range(count)]
    return sim.render([(pose, ALL) for pose in poses])


def assert_same_frames(a, b):
    for fa, fb in zip(a, b):
        for key in ("rgb", "depth", "semantic"):
            np.testing.assert_array_equal(fa[key], fb[key])


def test_same_seed_gives_the_same_frames():
    assert_same_frames(frames(EmbeddedSimulator(generate_house(SEED))), frames(EmbeddedSimulator(generate_house(SEED))))


def test_a_house_round_trips_through_glb_and_json(tmp_path):
    scene = generate_house(SEED)
    save_scene(scene, tmp_path / "house.glb")
    loaded = load_scene(tmp_path / "house.glb")
    for name in ("vertices", "faces", "uvs", "face_material", "face_instance"):
        np.testing.assert_array_equal(getattr(scene, name), getattr(loaded, name), err_msg=name)
    assert [(i.id, i.category, i.room_id, i.attributes) for i in scene.instances] == [
        (i.id, i.category, i.room_id, i.attributes) for i in loaded.instances
    ]
    assert [(r.subject, r.relation, r.object) for r in scene.relations] == [(r.subject, r.relation, r.object) for r in loaded.relations]
    assert [(r.id, r.type, r.bounds) for r in scene.rooms] == [(r.id, r.type, tuple(r.bounds)) for r in loaded.rooms]
    assert_same_frames(frames(EmbeddedSimulator(scene)), frames(EmbeddedSimulator(loaded)))


def test_cached_house_equals_the_generated_one(tmp_path, monkeypatch):
    monkeypatch.setenv("NAVGYM_CACHE", str(tmp_path))
    first = load_prochouse(SEED)  # generates and writes the cache
    assert list(tmp_path.rglob("*.glb"))
    second = load_prochouse(SEED)  # reads it back
    np.testing.assert_array_equal(first.vertices, second.vertices)
    np.testing.assert_array_equal(first.face_instance, second.face_instance)
    assert first.name == second.name == f"prochouse/{SEED}"


@pytest.mark.parametrize("seed", list(SPLITS["val"][:12]))
def test_every_room_is_reachable_from_every_other(seed):
    scene = generate_house(seed)
    sim = EmbeddedSimulator(scene)
    grid = sim.grid(0.0)
    for room in scene.rooms:
        x0, z0, x1, z1 = room.bounds
        r0, c0 = grid.to_cell([x0, 0.0, z0])
        r1, c1 = grid.to_cell([x1, 0.0, z1])
        labels = grid.labels[r0 : r1 + 1, c0 : c1 + 1]
        assert (labels == grid.largest_label).any(), f"house {seed}: {room.name} is cut off from the rest"


def test_goal_objects_of_objectnav_are_reachable_in_most_houses():
    from navgym.tasks.objectnav import HM3D_CATEGORIES

    reachable, total = 0, 0
    for seed in SPLITS["val"][:10]:
        sim = EmbeddedSimulator(generate_house(seed))
        for category in HM3D_CATEGORIES:
            for inst in sim.scene.objects(category):
                total += 1
                reachable += len(sim.navigable_points_near(inst.bbox_min, inst.bbox_max, 1.0)) > 0
    assert total > 30
    assert reachable / total >= 0.9
