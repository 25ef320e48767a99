"""The raster backend (navgym/sims/embedded/raster.py) against the ray-cast frames: the same
surfaces at every pixel, depth equal to the last bits, colours equal but where two surfaces tie."""

from __future__ import annotations

import numpy as np
import pytest

from navgym.errors import InvalidArgumentError
from navgym.scenes.builder import SceneBuilder
from navgym.scenes.scene import Material, Scene
from navgym.scenes.sources import load_prochouse
from navgym.sims.base import AgentState, BodySpec, CameraSpec
from navgym.sims.embedded import packets
from navgym.sims.embedded.raycast import RayCaster
from navgym.sims.embedded.simulator import EmbeddedSimulator

pytestmark = pytest.mark.skipif(not packets.can_compile(), reason="the raster backend needs numba")
OUTPUTS = ("rgb", "depth", "semantic")


def _frames(sim: EmbeddedSimulator, caster: RayCaster, requests):
    sim._caster = caster
    return sim.render(requests)


def _assert_close(ray: dict, raster: dict, rgb_share: float = 1e-3) -> None:
    """Same keys, dtypes and shapes; the same instance at every pixel; depth within 1e-5 relative;
    colour equal on all but ``rgb_share`` of the pixels (ties between coplanar faces)."""
    assert ray.keys() == raster.keys()
    for key in ray:
        assert ray[key].dtype == raster[key].dtype and ray[key].shape == raster[key].shape, key
    if "semantic" in ray:
        assert (ray["semantic"] == raster["semantic"]).all(), f"{int((ray['semantic'] != raster['semantic']).sum())} pixels see another instance"
    if "depth" in ray:
        np.testing.assert_allclose(raster["depth"], ray["depth"], rtol=1e-5, atol=1e-6)
    if "rgb" in ray:
        differ = (ray["rgb"] != raster["rgb"]).any(axis=-1).mean()
        assert differ <= rgb_share, f"colour differs on {differ:.2%} of the pixels"


@pytest.fixture(scope="module")
def house():
    sim = EmbeddedSimulator(load_prochouse(3))
    return sim, RayCaster(sim.scene, backend="packets"), RayCaster(sim.scene, backend="raster")


def test_the_backend_is_named_and_casts_other_rays_with_embree(house):
    sim, ray, raster = house
    assert raster.backend == "raster"
    origins = np.stack([sim.sample_navigable_point(np.random.default_rng(0))] * 4) + [0.0, 1.0, 0.0]
    directions = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.3, 0.2, -1.0]])
    for a, b in zip(ray.cast(origins, directions), raster.cast(origins, directions)):
        assert a.tobytes() == b.tobytes()


def test_frames_match_the_ray_cast_ones_at_many_poses(house):
    sim, ray, raster = house
    rng = np.random.default_rng(11)
    specs = [
        CameraSpec(96, 72, 79.0, 1.25, outputs=OUTPUTS, min_depth=0.1, max_depth=6.0),
        CameraSpec(128, 128, 90.0, 0.6, outputs=OUTPUTS),
        CameraSpec(61, 47, 120.0, 1.7, outputs=OUTPUTS),
    ]
    for k in range(24):
        pose = AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 2 * np.pi)))
        pose.tilt = float(rng.uniform(-60, 60))
        request = [(pose, specs[k % len(specs)])]
        _assert_close(_frames(sim, ray, request)[0], _frames(sim, raster, request)[0])


def test_a_batch_is_camera_by_camera_and_threads_change_no_byte(house):
    sim, ray, raster = house
    rng = np.random.default_rng(5)
    poses = [AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 2 * np.pi))) for _ in range(3)]
    specs = [
        CameraSpec(64, 64, 90.0, 1.25, outputs=("rgb",)),
        CameraSpec(33, 17, 120.0, 0.4, outputs=("depth",), min_depth=0.5, max_depth=2.0),
        CameraSpec(130, 97, 60.0, 1.7, outputs=("semantic", "depth")),
    ]
    requests = list(zip(poses, specs))
    batch = _frames(sim, raster, requests)
    for request, frame, reference in zip(requests, batch, _frames(sim, ray, requests)):
        alone = _frames(sim, raster, [request])[0]
        assert all(alone[key].tobytes() == frame[key].tobytes() for key in frame)
        _assert_close(reference, frame)
    for threads in (2, 3):
        raster.threads = threads
        try:
            threaded = _frames(sim, raster, requests)
        finally:
            raster.threads = 1
        for frame, other in zip(batch, threaded):
            assert all(frame[key].tobytes() == other[key].tobytes() for key in frame)


def test_other_agents_solids_are_drawn_over_rasterised_frames():
    sim = EmbeddedSimulator(load_prochouse(3))
    rng = np.random.default_rng(4)
    start = sim.sample_navigable_point(rng)
    other = sim.add_agent(BodySpec(radius=0.3, height=1.2), AgentState.from_yaw(np.asarray(start) + [0.8, 0.0, 0.0], 0.0))
    sim.set_agent_state(AgentState.from_yaw(start, -np.pi / 2))
    sim.set_agent_solid(other)
    requests = [(sim.get_agent_state(0), CameraSpec(64, 64, 90.0, 1.25, outputs=OUTPUTS))]
    ray = _frames(sim, RayCaster(sim.scene, backend="packets"), requests)[0]
    raster = _frames(sim, RayCaster(sim.scene, backend="raster"), requests)[0]
    _assert_close(ray, raster)


def _tiles(columns: int, rows: int) -> Scene:
    """A wall at z = -2 of columns x rows thin boxes that meet edge to edge (many shared edges)."""
    b = SceneBuilder("tiles")
    paint = b.material("paint", "paint", (180, 180, 180))
    for i in range(columns):
        for j in range(rows):
            x0, y0 = -1.5 + 3.0 * i / columns, -1.5 + 3.0 * j / rows
            b.add_box((x0, y0, -2.05), (x0 + 3.0 / columns, y0 + 3.0 / rows, -2.0), paint, category="tile")
    return b.build()


def test_no_pixel_falls_between_triangles_that_share_an_edge():
    scene = _tiles(7, 5)
    raster = RayCaster(scene, backend="raster")
    ray = RayCaster(scene, backend="packets")
    for size, hfov in ((64, 60.0), (63, 70.0), (128, 45.0)):  # edges through pixel centres and between them
        camera = [(np.zeros(3), np.eye(3), size, size, hfov)]
        frames = [c.render(camera, [OUTPUTS], [(0.0, 10.0)])[0] for c in (ray, raster)]
        assert (frames[1]["semantic"] > 0).all()
        np.testing.assert_allclose(frames[1]["depth"], frames[0]["depth"], rtol=1e-5)


def test_triangles_reaching_behind_the_camera_are_clipped_not_lost():
    """A floor and walls that pass under and beside the camera (corners behind it)."""
    b = SceneBuilder("corridor")
    paint = b.material("paint", "paint", (200, 190, 180))
    b.add_box((-1.0, -0.1, -20.0), (1.0, 0.0, 20.0), paint, category="floor")
    b.add_box((-1.1, 0.0, -20.0), (-1.0, 2.5, 20.0), paint, category="wall")
    b.add_box((1.0, 0.0, -20.0), (1.1, 2.5, 20.0), paint, category="wall")
    scene = b.build()
    rotation = np.eye(3)
    for yaw in (0.0, 0.7, 1.6, 3.1):
        c, s = np.cos(yaw), np.sin(yaw)
        rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        camera = [(np.array([0.3, 1.2, 0.5]), rotation, 80, 60, 100.0)]
        ray, raster = (RayCaster(scene, backend=name).render(camera, [OUTPUTS], [(0.0, 30.0)])[0] for name in ("packets", "raster"))
        # 40 m walls are 1,280 texels long: the last bits of u, v move some pixels over a texel edge.
        _assert_close(ray, raster, rgb_share=0.01)
        assert (raster["semantic"] > 0).mean() > 0.5


def test_random_triangles_in_general_position_agree_pixel_by_pixel():
    """No ties here, so the same triangle must win almost everywhere (a pixel centre within an ulp
    of an edge may go either way)."""
    rng = np.random.default_rng(0)
    count = 400
    centres = rng.uniform([-4, -3, -12], [4, 3, -1], (count, 1, 3))
    vertices = (centres + rng.normal(scale=0.6, size=(count, 3, 3))).reshape(-1, 3).astype(np.float32)
    scene = Scene(
        vertices=vertices,
        faces=np.arange(3 * count, dtype=np.int32).reshape(-1, 3),
        uvs=rng.uniform(0, 2, (3 * count, 2)).astype(np.float32),
        face_material=np.zeros(count, np.int32),
        face_instance=np.arange(1, count + 1, dtype=np.int32),
        materials=[Material("paint", "paint", (90, 160, 220))],
        annotated=False,
    )
    ray, raster = RayCaster(scene, backend="packets"), RayCaster(scene, backend="raster")
    for k in range(6):
        angle = rng.uniform(-0.4, 0.4)
        rotation = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
        camera = [(rng.uniform(-0.5, 0.5, 3), rotation, 120, 90, 75.0)]
        a, b = (c.render(camera, [OUTPUTS], [(0.0, 50.0)])[0] for c in (ray, raster))
        same = a["semantic"] == b["semantic"]
        assert same.mean() >= 0.999, f"pose {k}: {int((~same).sum())} pixels see another triangle"
        np.testing.assert_allclose(b["depth"][same], a["depth"][same], rtol=5e-5)  # Embree works in float32


def test_rays_that_hit_nothing_are_black_at_the_far_depth_with_no_id():
    b = SceneBuilder("far")
    b.add_box((0.0, 0.0, 100.0), (1.0, 1.0, 101.0), b.material("paint", "paint", (200, 200, 200)))
    frame = RayCaster(b.build(), backend="raster").render([(np.zeros(3), np.eye(3), 8, 8, 90.0)], [OUTPUTS], [(0.0, 5.0)])[0]
    assert (frame["depth"] == 5.0).all() and (frame["semantic"] == 0).all() and (frame["rgb"] == 0).all()


def test_the_env_option_selects_it_and_a_bad_one_is_named():
    import gymnasium as gym

    import navgym  # noqa: F401

    env = gym.make("ObjectNav-ProcHouse-v0", sim_options={"render_backend": "raster"})
    try:
        obs, _ = env.reset(seed=0)
        assert env.unwrapped.sim.caster.backend == "raster"
        assert obs["rgb"].shape[-1] == 3 and obs["depth"].max() > 0
    finally:
        env.close()
    scene = SceneBuilder("one")
    scene.add_box((0, 0, 0), (1, 1, 1), scene.material("paint", "paint", (1, 2, 3)))
    with pytest.raises(InvalidArgumentError, match="render_backend='gpu'"):
        EmbeddedSimulator(scene.build(), render_backend="gpu")
