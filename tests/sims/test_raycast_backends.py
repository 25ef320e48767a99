"""The packet backend (Embree packets + compiled shading, navgym/sims/embedded/packets.py) against
the reference it replaces (embreex's single rays + numpy shading): the same bytes, frame for frame."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from navgym.errors import InvalidArgumentError
from navgym.scenes.builder import SceneBuilder
from navgym.scenes.sources import load_prochouse
from navgym.sims.base import AgentState, BodySpec, CameraSpec
from navgym.sims.embedded import packets
from navgym.sims.embedded.raycast import RayCaster
from navgym.sims.embedded.simulator import EmbeddedSimulator

pytestmark = pytest.mark.skipif(packets.unavailable_reason() is not None, reason=f"packets unavailable: {packets.unavailable_reason()}")


def _frames(sim: EmbeddedSimulator, caster: RayCaster, requests):
    sim._caster = caster
    return sim.render(requests)


def _assert_same(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for frame_a, frame_b in zip(a, b):
        assert frame_a.keys() == frame_b.keys()
        for key in frame_a:
            assert frame_a[key].dtype == frame_b[key].dtype and frame_a[key].shape == frame_b[key].shape, key
            assert frame_a[key].tobytes() == frame_b[key].tobytes(), f"{key} differs in {int((frame_a[key] != frame_b[key]).sum())} values"


@pytest.fixture(scope="module")
def house():
    sim = EmbeddedSimulator(load_prochouse(3))
    reference = RayCaster(sim.scene, backend="embreex")
    fast = RayCaster(sim.scene, backend="packets")
    return sim, reference, fast


def test_auto_takes_packets_here_and_the_reference_is_embreex(house):
    sim, reference, fast = house
    assert RayCaster(sim.scene).backend == "packets"
    assert reference.backend == "embreex" and fast.backend == "packets"


def test_frames_are_byte_identical_to_the_reference_at_many_poses(house):
    sim, reference, fast = house
    rng = np.random.default_rng(7)
    spec = CameraSpec(96, 72, 79.0, 1.25, outputs=("rgb", "depth", "semantic"), min_depth=0.1, max_depth=6.0)
    for _ in range(25):
        pose = AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 2 * np.pi)))
        pose.tilt = float(rng.uniform(-40, 40))
        _assert_same(_frames(sim, reference, [(pose, spec)]), _frames(sim, fast, [(pose, spec)]))


def test_a_batch_of_unlike_cameras_matches_camera_by_camera(house):
    """Cameras of other sizes, fields of view, outputs and depth ranges in one batch."""
    sim, reference, fast = house
    rng = np.random.default_rng(1)
    poses = [AgentState.from_yaw(sim.sample_navigable_point(rng), float(rng.uniform(0, 2 * np.pi))) for _ in range(3)]
    specs = [
        CameraSpec(64, 64, 90.0, 1.25, outputs=("rgb",)),
        CameraSpec(33, 17, 120.0, 0.4, outputs=("depth",), min_depth=0.5, max_depth=2.0),
        CameraSpec(50, 40, 42.0, 1.7, outputs=("semantic", "depth")),
    ]
    requests = list(zip(poses, specs))
    batch = _frames(sim, fast, requests)
    _assert_same(_frames(sim, reference, requests), batch)
    for request, frame in zip(requests, batch):
        _assert_same(_frames(sim, fast, [request]), [frame])
    assert set(batch[1]) == {"depth"} and batch[1]["depth"].min() >= 0.5 and batch[1]["depth"].max() <= 2.0


def test_two_render_threads_give_the_same_frames(house):
    sim, _, fast = house
    rng = np.random.default_rng(2)
    spec = CameraSpec(128, 128, 90.0, 1.25, outputs=("rgb", "depth", "semantic"))
    requests = [(AgentState.from_yaw(sim.sample_navigable_point(rng), 0.5), spec) for _ in range(2)]
    one = _frames(sim, fast, requests)
    fast.threads = 2
    try:
        _assert_same(one, _frames(sim, fast, requests))
    finally:
        fast.threads = 1


def test_other_agents_solids_are_drawn_alike():
    sim = EmbeddedSimulator(load_prochouse(3))
    rng = np.random.default_rng(4)
    start = sim.sample_navigable_point(rng)
    other = sim.add_agent(BodySpec(radius=0.3, height=1.2), AgentState.from_yaw(np.asarray(start) + [0.8, 0.0, 0.0], 0.0))
    sim.set_agent_state(AgentState.from_yaw(start, -np.pi / 2))
    sim.set_agent_solid(other)
    spec = CameraSpec(64, 64, 90.0, 1.25, outputs=("rgb", "depth", "semantic"))
    requests = [(sim.get_agent_state(0), spec)]
    fast = _frames(sim, RayCaster(sim.scene, backend="packets"), requests)
    _assert_same(_frames(sim, RayCaster(sim.scene, backend="embreex"), requests), fast)


def test_cast_with_per_ray_origins_and_lengths_matches(house):
    sim, reference, fast = house
    rng = np.random.default_rng(3)
    n = 1001  # not a multiple of the packet size
    origins = np.stack([sim.sample_navigable_point(rng) for _ in range(n)]) + [0.0, 1.0, 0.0]
    directions = rng.normal(size=(n, 3))
    lengths = rng.uniform(0.01, 8.0, n)
    for limit in (None, lengths, 2.5):
        a, b = reference.cast(origins, directions, limit), fast.cast(origins, directions, limit)
        hit = a[1] >= 0
        for x, y in zip(a[:2], b[:2]):  # t (the ray's length where it misses) and the triangle
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
        for x, y in zip(a[2:], b[2:]):  # barycentrics where hit (Embree leaves a miss's undefined)
            assert x.dtype == y.dtype and x[hit].tobytes() == y[hit].tobytes()
        assert (b[1] >= 0).any() and (limit is None or (b[1] == -1).any())  # short rays miss


def _far_box():
    b = SceneBuilder("far")
    b.add_box((0.0, 0.0, 100.0), (1.0, 1.0, 101.0), b.material("paint", "paint", (200, 200, 200)))
    return b.build()


def test_rays_that_hit_nothing_are_black_at_the_far_depth_with_no_id():
    scene = _far_box()
    caster = RayCaster(scene, backend="packets")
    frame = caster.render([(np.zeros(3), np.eye(3), 8, 8, 90.0)], [("rgb", "depth", "semantic")], [(0.0, 5.0)])[0]
    assert (frame["depth"] == 5.0).all() and (frame["semantic"] == 0).all() and (frame["rgb"] == 0).all()


def test_bad_backend_and_thread_count_are_named():
    scene = _far_box()
    with pytest.raises(ValueError, match="backend='gpu'"):
        RayCaster(scene, backend="gpu")
    for bad in (0, 2.5, True, 100):
        with pytest.raises(InvalidArgumentError, match="render_threads"):
            EmbeddedSimulator(scene, render_threads=bad)


def test_the_environment_variable_falls_back_to_embreex():
    code = "from navgym.scenes.builder import SceneBuilder; from navgym.sims.embedded.raycast import RayCaster; b = SceneBuilder('e'); b.add_box((0, 0, 0), (1, 1, 1), b.material('m', 'm', (9, 9, 9))); print(RayCaster(b.build()).backend)"
    env = dict(os.environ, NAVGYM_RAYCAST="embreex")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "embreex", out.stderr[-2000:]


def test_rotated_rays_are_the_matrix_product():
    """The compiled rotation is ``local @ R.T`` to float32 rounding (on this project's machine it is
    bit-identical to OpenBLAS's FMA product; other BLAS builds may round differently)."""
    from navgym.core.geometry import camera_rotation
    from navgym.sims.embedded.raycast import pixel_directions

    local = pixel_directions(40, 30, 70.0).astype(np.float32)
    rotation = camera_rotation(1.1, -0.4, 0.2).astype(np.float32)
    exact = local.astype(np.float64) @ rotation.T.astype(np.float64)
    np.testing.assert_allclose(packets.rotate(local, rotation), exact, rtol=0, atol=1e-6)


def test_a_process_with_several_scenes_does_not_spin_when_idle():
    """Scenes share the process's one Embree device: a second device made Embree's TBB start a
    worker thread that spun for the rest of the process (a whole core burnt by an idle env
    worker). In a fresh process with three scenes built and cast, a 1 s sleep costs (almost) no
    CPU time; with the spin it cost about 1 s."""
    code = (
        "import resource, time, numpy as np\n"
        "from navgym.sims.embedded.packets import PacketScene\n"
        "rng = np.random.default_rng(0)\n"
        "scenes = [PacketScene(rng.random((2000, 3, 3), dtype=np.float32)) for _ in range(3)]\n"
        "d = rng.standard_normal((64, 3)).astype(np.float32)\n"
        "for s in scenes:\n"
        "    s.cast(np.zeros((1, 3), np.float32), np.zeros(64, np.int32), d, np.full(64, 1e9, np.float32))\n"
        "cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])\n"
        "c = cpu(); time.sleep(1.0); print(cpu() - c)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert float(out.stdout.strip().splitlines()[-1]) < 0.3, out.stdout
