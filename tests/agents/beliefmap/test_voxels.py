"""BeliefMapNav's voxel maps (paper §3.3.1, §3.3.3, appendix A.2, A.4): detection confidence,
voxel indexing, the best-confidence feature per voxel and level, the visibility map, the prior
belief checked by hand through a fake feature seam, ablations, bad arguments, memory; and the
picture helpers (coarse blocks, colour ramp)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from navgym.agents.beliefmap.features import LEVELS, PixelFeatures, SemanticFeatures
from navgym.agents.beliefmap.render import RAMP, coarse, colorize
from navgym.agents.beliefmap.voxels import VoxelBeliefMap, detection_confidence
from navgym.errors import InvalidArgumentError

SCENE, REGION, OBJECT = (LEVELS.index(name) for name in ("scene", "region", "object"))


class TableFeatures:
    """A fake feature seam: keys are strings, similarities come from a fixed table (0 if absent);
    every (query, key) pair asked is recorded."""

    def __init__(self, table: dict[tuple[str, str], float]):
        self.table = table
        self.asked: list[tuple[str, str]] = []

    def describe(self, obs, detections, boxes, counts):  # pragma: no cover - the map never describes
        return [None] * len(boxes)

    def similarity(self, queries, keys):
        self.asked += [(q, k) for q in queries for k in keys]
        return np.array([[self.table.get((q, k), 0.0) for k in keys] for q in queries], dtype=np.float32)


#: bed / bedroom vs keys A, B, C (raw cosines).
TABLE = {
    ("bed", "A"): 0.1, ("bed", "B"): 0.6, ("bed", "C"): 0.9,
    ("bedroom", "A"): 0.8, ("bedroom", "B"): 0.5, ("bedroom", "C"): -0.3,
}


def small_map(features=None, **kwargs) -> VoxelBeliefMap:
    """8 x 8 x 6 voxels of 0.5 m: x, z in [-2, 2), heights [0, 3)."""
    return VoxelBeliefMap(features if features is not None else TableFeatures(TABLE), size=4.0, voxel_size=0.5, **kwargs)


def frame(points, keys=(), key_index=None, score=None):
    """An (H, W) frame from a list of points (one pixel row), with per-level key indices and scores."""
    points = np.asarray(points, dtype=np.float64).reshape(1, -1, 3)
    width = points.shape[1]
    valid = np.ones((1, width), dtype=bool)
    if key_index is None:
        return points, valid, None
    key_index = np.asarray(key_index, dtype=np.int32).reshape(len(LEVELS), 1, width)
    score = np.asarray(score, dtype=np.float32).reshape(len(LEVELS), 1, width)
    score = np.where(key_index >= 0, score, -np.inf).astype(np.float32)
    return points, valid, PixelFeatures(list(keys), key_index, score, np.zeros((3, 0)), np.zeros(0))


def floor(sim, f):
    return max(0.0, sim - f) / (1.0 - f)


# -- detection confidence ------------------------------------------------------------------------
def test_detection_confidence_is_one_at_the_centre_and_vanishes_at_the_edges():
    depth = np.full((49, 65), 2.0)
    conf = detection_confidence(depth, 90.0, 1.0, 3.0)
    assert conf.shape == (49, 65) and conf.dtype == np.float32
    assert conf[24, 32] == pytest.approx(1.0, abs=1e-6)  # the optical axis, inside [d_min, d_max]
    assert conf.max() == pytest.approx(1.0, abs=1e-6)
    assert conf[24, 0] < 0.01 and conf[24, -1] < 0.01  # left and right edges
    assert conf[0, 32] < 0.01 and conf[-1, 32] < 0.01  # top and bottom edges
    # Symmetric, and falling off the axis along a row and a column.
    np.testing.assert_allclose(conf, conf[::-1, ::-1], atol=1e-6)
    assert np.all(np.diff(conf[24, 32:]) < 0) and np.all(np.diff(conf[24:, 32]) < 0)
    # Horizontally cos^2(theta / hfov * pi): 22.5 degrees off the axis (hfov 90) gives cos^2(pi/4) = 1/2.
    focal = 32.5  # (65 / 2) / tan(45 deg)
    theta = np.degrees(np.arctan((np.arange(65) + 0.5 - 32.5) / focal))
    assert np.interp(22.5, theta, conf[24]) == pytest.approx(0.5, abs=0.01)
    assert np.interp(-22.5, theta, conf[24]) == pytest.approx(0.5, abs=0.01)


def test_detection_confidence_decays_outside_the_range():
    d_min, d_max, alpha = 1.0, 3.0, 0.5
    depths = np.array([0.2, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0])
    image = np.zeros((3, 3 * len(depths)))
    image[:] = np.repeat(depths, 3)[None, :]  # column 3 i + 1 holds depths[i], row 1 is on the axis
    conf = detection_confidence(image, 1.0, d_min, d_max, alpha)  # hfov 1 deg: angular terms ~ 1
    centre = conf[1, 1::3]
    angular = detection_confidence(np.full_like(image, 2.0), 1.0, d_min, d_max, alpha)[1, 1::3]
    expected = np.exp(-alpha * np.maximum(np.clip(d_min - depths, 0, None), np.clip(depths - d_max, 0, None)) ** 2)
    np.testing.assert_allclose(centre / angular, expected, rtol=1e-5)
    assert centre[2] / angular[2] == pytest.approx(1.0) and centre[4] / angular[4] == pytest.approx(1.0)
    assert centre[3] / angular[3] == pytest.approx(1.0)
    assert centre[0] < centre[1] < centre[2]  # nearer than d_min: decays
    assert centre[4] > centre[5] > centre[6]  # farther than d_max: decays
    assert centre[6] / angular[6] == pytest.approx(math.exp(-0.5 * 9.0), rel=1e-5)


# -- indexing --------------------------------------------------------------------------------------
def test_voxel_of_maps_points_to_row_col_layer_and_flags_outside_points():
    voxels = small_map()
    assert voxels.shape == (8, 8, 6) and voxels.origin == (-2.0, -2.0)
    points = np.array([
        [0.1, 0.6, -1.3],  # row (z + 2) / 0.5 = 1.4 -> 1, col 2.1 / 0.5 -> 4, layer 1.2 -> 1
        [-2.0, 0.0, -2.0],  # the corner voxel
        [1.99, 2.99, 1.99],  # the far corner
        [2.0, 1.0, 0.0],  # x at the edge: outside
        [0.0, -0.01, 0.0],  # below the floor
        [0.0, 3.0, 0.0],  # at the top of the height range: outside
        [0.0, 1.0, -2.01],  # z before the map
    ])
    index, inside = voxels.voxel_of(points)
    assert index[:3].tolist() == [[1, 4, 1], [0, 0, 0], [7, 7, 5]]
    assert inside.tolist() == [True, True, True, False, False, False, False]


def test_the_map_covers_whole_voxels_and_an_offset_height_range():
    voxels = VoxelBeliefMap(TableFeatures({}), size=4.1, voxel_size=0.5, height_range=(-0.5, 1.2))
    assert voxels.cells == 9 and voxels.size == pytest.approx(4.5) and voxels.layers == 4
    index, inside = voxels.voxel_of([[0.0, -0.5, 0.0], [0.0, 1.49, 0.0]])
    assert index.tolist() == [[4, 4, 0], [4, 4, 3]] and inside.all()


# -- features per voxel ------------------------------------------------------------------------------
def test_a_voxel_keeps_its_highest_confidence_feature_per_level():
    voxels = small_map()
    target = (1, 4, 1)
    p = [0.1, 0.6, -1.3]
    # Frame 1: two pixels in the same voxel; the higher score wins in each level.
    points, valid, pixels = frame([p, p], keys=["A", "B"], key_index=[[0, 1], [1, 0], [-1, -1]], score=[[1.0, 2.0], [5.0, 4.0], [0, 0]])
    assert voxels.integrate(points, valid, pixels, None) == 1
    assert voxels.keys == ["A", "B"]
    assert voxels.key[(SCENE, *target)] == 1 and voxels.confidence[(SCENE, *target)] == 2.0
    assert voxels.key[(REGION, *target)] == 1 and voxels.confidence[(REGION, *target)] == 5.0
    assert voxels.key[(OBJECT, *target)] == -1 and np.isneginf(voxels.confidence[(OBJECT, *target)])
    # Frame 2: lower scores do not replace anything (and change no voxel).
    points, valid, pixels = frame([p], keys=["C"], key_index=[[0], [0], [-1]], score=[[1.5], [4.9], [0]])
    assert voxels.integrate(points, valid, pixels, None) == 0
    assert voxels.key[(SCENE, *target)] == 1 and voxels.key[(REGION, *target)] == 1
    assert voxels.keys == ["A", "B", "C"]  # the key is registered all the same
    # Frame 3: a higher score at one level replaces that level only.
    points, valid, pixels = frame([p], keys=["C"], key_index=[[-1], [0], [0]], score=[[0], [6.0], [0.1]])
    assert voxels.integrate(points, valid, pixels, None) == 1
    assert voxels.key[(SCENE, *target)] == 1 and voxels.confidence[(SCENE, *target)] == 2.0
    assert voxels.key[(REGION, *target)] == 2 and voxels.confidence[(REGION, *target)] == 6.0
    assert voxels.key[(OBJECT, *target)] == 2 and voxels.confidence[(OBJECT, *target)] == pytest.approx(0.1)
    # Only that voxel holds anything.
    assert voxels.has_feature.sum() == 1 and voxels.has_feature[target]


def test_points_outside_or_without_depth_change_nothing():
    voxels = small_map()
    points, valid, pixels = frame([[0.0, 1.0, 5.0], [0.1, 0.1, 0.1]], keys=["A"], key_index=[[0, 0], [0, 0], [0, 0]], score=[[1, 1], [1, 1], [1, 1]])
    valid[0, 1] = False
    assert voxels.integrate(points, valid, pixels, np.ones((1, 2), dtype=np.float32)) == 0
    assert not voxels.has_feature.any() and (voxels.visibility == 1.0).all()


def test_stride_uses_every_other_pixel():
    voxels = small_map()
    points = np.zeros((2, 2, 3))
    points[0, 0] = (0.1, 0.1, 0.1)  # used with stride 2
    points[0, 1] = (1.1, 0.1, 0.1)  # skipped
    points[1, 0] = (0.1, 0.1, 1.1)  # skipped
    points[1, 1] = (1.1, 0.1, 1.1)  # skipped
    key_index = np.zeros((3, 2, 2), dtype=np.int32)
    pixels = PixelFeatures(["A"], key_index, np.ones((3, 2, 2), dtype=np.float32), np.zeros((3, 0)), np.zeros(0))
    assert voxels.integrate(points, np.ones((2, 2), dtype=bool), pixels, np.full((2, 2), 0.5, dtype=np.float32), stride=2) == 1
    assert voxels.has_feature.sum() == 1 and voxels.has_feature[4, 4, 0]
    assert (voxels.visibility < 1).sum() == 1


# -- visibility ----------------------------------------------------------------------------------
def test_visibility_is_the_min_of_one_minus_confidence_over_frames():
    voxels = small_map()
    a, b = [0.1, 0.6, -1.3], [-1.1, 0.1, 1.6]
    ia, ib = (1, 4, 1), (7, 1, 0)
    history = []
    for conf_a, conf_b in [(0.3, 0.0), (0.1, 0.6), (0.9, 0.2), (0.5, 0.5)]:
        points, valid, _ = frame([a, b])
        assert voxels.integrate(points, valid, None, np.array([[conf_a, conf_b]], dtype=np.float32)) == 0
        history.append((voxels.visibility[ia], voxels.visibility[ib]))
    np.testing.assert_allclose(history, [(0.7, 1.0), (0.7, 0.4), (0.1, 0.4), (0.1, 0.4)], rtol=1e-6)
    # Never increases; voxels never hit stay 1; two pixels of one frame in one voxel: the min.
    assert (voxels.visibility == 1.0).sum() == voxels.visibility.size - 2
    points, valid, _ = frame([a, a])
    voxels.integrate(points, valid, None, np.array([[0.95, 0.2]], dtype=np.float32))
    assert voxels.visibility[ia] == pytest.approx(0.05)


def test_posterior_is_prior_times_visibility():
    voxels = small_map()
    voxels.set_queries(["bed"], [1.0])
    p = [0.1, 0.6, -1.3]
    points, valid, pixels = frame([p], keys=["C"], key_index=[[0], [-1], [-1]], score=[[1], [0], [0]])
    voxels.integrate(points, valid, pixels, np.array([[0.25]], dtype=np.float32))
    assert voxels.prior[1, 4, 1] == pytest.approx(0.9)
    assert voxels.posterior[1, 4, 1] == pytest.approx(0.9 * 0.75)
    np.testing.assert_allclose(voxels.posterior, voxels.prior * voxels.visibility)
    assert voxels.column_sum(voxels.prior)[1, 4] == pytest.approx(0.9)
    assert voxels.column_max(voxels.posterior)[1, 4] == pytest.approx(0.675)


# -- prior ---------------------------------------------------------------------------------------
def three_level_voxel(voxels):
    """One voxel (1, 4, 1) with key A at the scene level, B at the region level, C at the object level."""
    points, valid, pixels = frame([[0.1, 0.6, -1.3]], keys=["A", "B", "C"], key_index=[[0], [1], [2]], score=[[1], [1], [1]])
    voxels.integrate(points, valid, pixels, None)
    return (1, 4, 1)


def test_prior_is_the_weighted_sum_of_the_best_level_similarity_by_hand():
    f = 0.2
    voxels = small_map(similarity_floor=f)
    where = three_level_voxel(voxels)
    assert voxels.prior[where] == 0.0  # no queries yet
    voxels.set_queries(["bed", "bedroom"], [1.0, 0.5])
    # bed: A 0.1 -> 0, B 0.6 -> 0.5, C 0.9 -> 0.875; bedroom: A 0.8 -> 0.75, B 0.5 -> 0.375, C -0.3 -> 0.
    assert floor(0.9, f) == pytest.approx(0.875) and floor(0.8, f) == pytest.approx(0.75)
    assert voxels.prior[where] == pytest.approx(1.0 * 0.875 + 0.5 * 0.75)  # 1.25
    assert voxels.prior.sum() == pytest.approx(1.25)
    # New alphas: every voxel's prior is recomputed.
    voxels.set_queries(["bed", "bedroom"], [0.2, 2.0])
    assert voxels.prior[where] == pytest.approx(0.2 * 0.875 + 2.0 * 0.75)
    # Floor 0 = the paper's raw cosine (negative similarities count as they are).
    raw = small_map()
    three_level_voxel(raw)
    raw.set_queries(["bed", "bedroom"], [1.0, 0.5])
    assert raw.prior[where] == pytest.approx(0.9 + 0.5 * 0.8)


def test_integrating_after_the_queries_updates_the_prior_of_changed_voxels():
    voxels = small_map(similarity_floor=0.2)
    voxels.set_queries(["bed", "bedroom"], [1.0, 0.5])
    where = three_level_voxel(voxels)
    assert voxels.prior[where] == pytest.approx(1.25)
    # A better object-level feature A replaces C: bed max(0, 0.5, 0) = 0.5; bedroom max(0.75, 0.375, 0.75).
    points, valid, pixels = frame([[0.1, 0.6, -1.3]], keys=["A"], key_index=[[-1], [-1], [0]], score=[[0], [0], [2]])
    assert voxels.integrate(points, valid, pixels, None) == 1
    assert voxels.prior[where] == pytest.approx(0.5 + 0.5 * 0.75)


def test_similarities_are_asked_once_per_key_and_query():
    features = TableFeatures(TABLE)
    voxels = small_map(features)
    voxels.set_queries(["bed", "bedroom"], [1.0, 0.5])
    three_level_voxel(voxels)
    three_level_voxel(voxels)
    points, valid, pixels = frame([[-1.1, 0.1, 1.6]], keys=["C", "B"], key_index=[[0], [1], [-1]], score=[[3], [3], [0]])
    voxels.integrate(points, valid, pixels, None)
    assert sorted(features.asked) == sorted((q, k) for q in ("bed", "bedroom") for k in "ABC")


def test_use_levels_changes_the_prior():
    voxels = small_map(similarity_floor=0.2)
    voxels.set_queries(["bed", "bedroom"], [1.0, 0.5])
    where = three_level_voxel(voxels)
    voxels.use_levels(["scene", "region"])
    assert voxels.prior[where] == pytest.approx(0.5 + 0.5 * 0.75)
    voxels.use_levels(["scene"])
    assert voxels.prior[where] == pytest.approx(0.0 + 0.5 * 0.75)
    voxels.use_levels(["object"])
    assert voxels.prior[where] == pytest.approx(0.875)
    voxels.use_levels(list(LEVELS))
    assert voxels.prior[where] == pytest.approx(1.25)


def test_the_level_ablation_survives_reset():
    # The agent calls use_levels once in its constructor and reset() every episode.
    voxels = small_map(similarity_floor=0.2)
    voxels.use_levels(["scene"])
    voxels.reset()
    voxels.set_queries(["bed", "bedroom"], [1.0, 0.5])
    where = three_level_voxel(voxels)
    assert voxels.prior[where] == pytest.approx(0.5 * 0.75)


def test_reset_forgets_every_voxel_but_keeps_the_queries():
    voxels = small_map()
    voxels.set_queries(["bed"], [1.0])
    where = three_level_voxel(voxels)
    points, valid, _ = frame([[0.1, 0.6, -1.3]])
    voxels.integrate(points, valid, None, np.array([[0.5]], dtype=np.float32))
    assert voxels.prior[where] > 0 and voxels.visibility[where] < 1
    voxels.reset()
    assert voxels.keys == [] and not voxels.has_feature.any()
    assert (voxels.prior == 0).all() and (voxels.visibility == 1).all() and np.isneginf(voxels.confidence).all()
    assert voxels.queries == ["bed"]
    three_level_voxel(voxels)
    assert voxels.prior[where] == pytest.approx(0.9)


# -- arguments, memory ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"voxel_size": 0.0}, "voxel_size"),
        ({"voxel_size": 3.0}, "voxel_size"),
        ({"height_range": (2.0, 1.0)}, "height_range"),
        ({"height_range": (1.0, 1.0)}, "height_range"),
        ({"similarity_floor": 1.0}, "similarity_floor"),
        ({"similarity_floor": -0.1}, "similarity_floor"),
    ],
)
def test_bad_constructor_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(InvalidArgumentError, match=name):
        VoxelBeliefMap(TableFeatures({}), size=4.0, **kwargs)


def test_bad_queries_and_levels_raise():
    voxels = small_map()
    with pytest.raises(InvalidArgumentError, match="alphas"):
        voxels.set_queries(["bed", "bedroom"], [1.0])
    with pytest.raises(InvalidArgumentError, match="alphas"):
        voxels.set_queries([], [])
    with pytest.raises(InvalidArgumentError, match="levels"):
        voxels.use_levels(["scene", "room"])
    assert voxels.queries == [] and voxels.level_mask.all()


def test_default_map_memory(capsys):
    voxels = VoxelBeliefMap(TableFeatures({}))
    assert isinstance(voxels.features, SemanticFeatures)
    assert voxels.shape == (160, 160, 12)
    used = voxels.memory_bytes()
    with capsys.disabled():
        print(f"\nVoxelBeliefMap 40 m / 0.25 m / 3 m: {voxels.shape}, {used / 1e6:.1f} MB")
    assert 0 < used < 200e6
    assert used >= 160 * 160 * 12 * (3 * 4 + 3 * 4 + 4 + 4)  # keys, confidences, visibility, prior


# -- pictures ------------------------------------------------------------------------------------
def test_coarse_equals_a_naive_block_any():
    rng = np.random.default_rng(3)
    for block in (1, 2, 5):
        layer = rng.random((20, 30)) < 0.03
        naive = np.array([[layer[r * block:(r + 1) * block, c * block:(c + 1) * block].any() for c in range(30 // block)] for r in range(20 // block)])
        out = coarse(layer, block)
        assert out.dtype == bool and out.shape == naive.shape
        np.testing.assert_array_equal(out, naive)
    # A non-contiguous view and a non-bool layer give the same answer.
    layer = rng.random((40, 40)) < 0.05
    np.testing.assert_array_equal(coarse(layer.T, 4), coarse(np.ascontiguousarray(layer.T), 4))
    np.testing.assert_array_equal(coarse(layer.astype(np.int8) * 3, 4), coarse(layer, 4))


def test_colorize_maps_zero_and_vmax_to_the_ends_of_the_ramp():
    values = np.array([[0.0, 0.5, 1.0, 2.0, -1.0]])
    image = colorize(values, vmax=1.0)
    assert image.shape == (1, 5, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[0, 0], RAMP[0])
    np.testing.assert_array_equal(image[0, 2], RAMP[-1])
    np.testing.assert_array_equal(image[0, 3], RAMP[-1])  # above vmax: clipped
    np.testing.assert_array_equal(image[0, 4], RAMP[0])  # below 0: clipped
    np.testing.assert_allclose(image[0, 1], (RAMP[1] + RAMP[2]) / 2, atol=1)  # halfway between the middle colours
    # Default vmax: the largest value; all zeros: the first colour.
    np.testing.assert_array_equal(colorize(np.array([[0.0, 4.0]]))[0, 1], RAMP[-1])
    np.testing.assert_array_equal(colorize(np.array([[0.0, 4.0]]))[0, 0], RAMP[0])
    assert (colorize(np.zeros((2, 2))) == RAMP[0]).all(axis=-1).all()
