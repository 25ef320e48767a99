"""BeliefMapNav's per-step fast paths give bit-for-bit the results of the straightforward code they
replaced (kept here as the reference): the per-pixel scale choice (per finest patch, broadcast),
the cell-based patch scoring and instance counts, the one-argsort captions, the cached and padded
observation belief, and the voxel map's frame integration. Random inputs, odd image sizes, ties;
every comparison is exact (``np.array_equal``)."""

from __future__ import annotations

import numpy as np
import pytest

from navgym.agents.beliefmap import features as feats
from navgym.agents.beliefmap import planner as plan
from navgym.agents.beliefmap.features import LEVELS, SCORER_WEIGHTS, MIN_SIDE, DetectionCaptions, PixelFeatures, patch_boxes, pixel_features
from navgym.agents.beliefmap.voxels import VoxelBeliefMap, _voxel_score_order
from navgym.agents.perception.detection import Detection

# =============================================================================================
# The reference: the code before the fast paths, verbatim but for names.
# =============================================================================================


def ref_instance_pixels(detections, boxes, shape):
    counts = np.zeros((len(detections), len(boxes)), dtype=np.int64)
    if not len(detections) or not len(boxes):
        return counts
    b = np.asarray(boxes, dtype=np.int64)
    r0, r1, c0, c1 = b.T
    masked = [i for i, det in enumerate(detections) if det.mask is not None]
    if masked:
        masks = np.stack([np.asarray(detections[i].mask, dtype=bool) for i in masked])
        if masks.shape[1:] != tuple(shape):
            raise ValueError(f"detection mask has shape {masks.shape[1:]}; expected the image's {tuple(shape)}")
        integral = np.zeros((len(masked), shape[0] + 1, shape[1] + 1), dtype=np.int64)
        integral[:, 1:, 1:] = masks.cumsum(1).cumsum(2)
        counts[masked] = integral[:, r1, c1] - integral[:, r0, c1] - integral[:, r1, c0] + integral[:, r0, c0]
    for i, det in enumerate(detections):
        if det.mask is None and det.box is not None:
            x0, y0, x1, y1 = det.box
            counts[i] = np.clip(np.minimum(y1, r1) - np.maximum(y0, r0), 0, None) * np.clip(np.minimum(x1, c1) - np.maximum(x0, c0), 0, None)
    return counts


def ref_grids(b, shape):
    out = []
    j = 0
    while j < len(b):
        for n in range(int(np.sqrt(len(b) - j)), 0, -1):
            block = b[j : j + n * n].reshape(n, n, 4)
            rows, cols = block[:, 0, 0], block[0, :, 2]
            if (
                (block[:, :, 0] == rows[:, None]).all() and (block[:, :, 2] == cols[None, :]).all()
                and (block[:-1, 0, 1] == rows[1:]).all() and (block[0, :-1, 3] == cols[1:]).all()
                and (block[:, :, 1] == block[:, :1, 1]).all() and (block[:, :, 3] == block[:1, :, 3]).all()
                and (block[:, :, 1] > block[:, :, 0]).all() and (block[:, :, 3] > block[:, :, 2]).all()
                and rows[0] == 0 and cols[0] == 0 and block[-1, 0, 1] == shape[0] and block[0, -1, 3] == shape[1]
            ):
                out.append((rows, cols, np.arange(j, j + n * n)))
                j += n * n
                break
        else:
            j += 1
    return out


def ref_score_patches(points, valid, boxes, instances, weights=SCORER_WEIGHTS):
    w1, w2, w3, w4 = weights
    big = np.float64(1e9)
    lo_points = np.where(valid[..., None], points, big)
    hi_points = np.where(valid[..., None], points, -big)
    cumulative = np.pad(valid.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    b = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    r0, r1, c0, c1 = b.T
    count = (cumulative[r1, c1] - cumulative[r0, c1] - cumulative[r1, c0] + cumulative[r0, c0]).astype(np.float64)
    lo = np.empty((len(b), 3))
    hi = np.empty((len(b), 3))
    done = np.zeros(len(b), dtype=bool)
    for row_edges, col_edges, members in ref_grids(b, valid.shape):
        lo[members] = np.minimum.reduceat(np.minimum.reduceat(lo_points, row_edges, axis=0), col_edges, axis=1).reshape(-1, 3)
        hi[members] = np.maximum.reduceat(np.maximum.reduceat(hi_points, row_edges, axis=0), col_edges, axis=1).reshape(-1, 3)
        done[members] = True
    for j in np.flatnonzero(~done):
        lo[j] = lo_points[r0[j] : r1[j], c0[j] : c1[j]].reshape(-1, 3).min(axis=0)
        hi[j] = hi_points[r0[j] : r1[j], c0[j] : c1[j]].reshape(-1, 3).max(axis=0)
    ok = count >= 4
    volume = np.where(ok, np.prod(np.maximum(hi - lo, MIN_SIDE), axis=1), 1.0)
    density = count / volume
    n = np.asarray(instances, dtype=np.float64)
    out = np.stack([w1 * volume + w2 * n, w3 * n / volume + w4 * density, density / np.maximum(n, 1.0)])
    out[:, ~ok] = -np.inf
    return out


def ref_describe(captions, detections, boxes, counts):
    keys = []
    for j in range(len(boxes)):
        order = np.argsort(-counts[:, j], kind="stable") if len(detections) else []
        names = []
        for i in order:
            if counts[i, j] < captions.min_pixels:
                break
            name = str(detections[i].category).replace("_", " ")
            if name not in names:
                names.append(name)
            if len(names) == captions.max_objects:
                break
        keys.append(", ".join(sorted(names)) if names else None)
    return keys


def ref_pixel_features(obs, detections, points, valid, features, scales=3, weights=SCORER_WEIGHTS, min_pixels=8, describe=None):
    height, width = valid.shape
    boxes, index_images = patch_boxes(height, width, scales)
    counts = ref_instance_pixels(detections, boxes, (height, width))
    instances = (counts >= min_pixels).sum(axis=0)
    patch_keys = describe(detections, boxes, counts) if describe is not None else features.describe(obs, detections, boxes, counts)
    keys = []
    key_of_patch = np.full(len(boxes), -1, dtype=np.int32)
    for j, key in enumerate(patch_keys):
        if key is None:
            continue
        if key not in keys:
            keys.append(key)
        key_of_patch[j] = keys.index(key)
    scores = ref_score_patches(points, valid, boxes, instances, weights)
    scores[:, key_of_patch < 0] = -np.inf
    stack = np.stack(index_images)
    key_index = np.full((len(LEVELS), height, width), -1, dtype=np.int32)
    score = np.full((len(LEVELS), height, width), -np.inf, dtype=np.float32)
    for level in range(len(LEVELS)):
        per_scale = scores[level][stack]
        best = np.argmax(per_scale, axis=0)
        chosen = np.take_along_axis(stack, best[None], axis=0)[0]
        value = scores[level][chosen]
        ok = np.isfinite(value)
        key_index[level][ok] = key_of_patch[chosen[ok]]
        score[level][ok] = value[ok]
    return PixelFeatures(keys, key_index, score, scores, instances)


def ref_observation_belief(posterior, unknown, obstacle, frontier_cells, offsets, w_unobserved=plan.W_UNOBSERVED, unknown_voxels_per_cell=1):
    posterior = np.asarray(posterior, dtype=np.float64)
    shape = posterior.shape
    unknown = np.asarray(unknown).astype(bool)
    obstacle = np.asarray(obstacle).astype(bool)
    cells = np.asarray(frontier_cells).astype(np.int64).reshape(-1, 2)
    offsets = np.asarray(offsets)
    weight = float(w_unobserved)
    per_cell = np.asarray(unknown_voxels_per_cell, dtype=np.float64)
    n_dir, n_rays, n_samples, _ = offsets.shape
    if len(cells) == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    rows, cols = shape
    value = (posterior + unknown * (per_cell * weight)).ravel()
    flat = offsets.reshape(-1, 2).astype(np.int64)
    direction_of_sample = np.repeat(np.arange(n_dir), n_rays * n_samples)
    span = int(np.abs(flat).max()) + 1
    key = (direction_of_sample * (2 * span + 1) + (flat[:, 0] + span)) * (2 * span + 1) + (flat[:, 1] + span)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    group_offset = flat[order[starts]]
    group_direction = direction_of_sample[order[starts]]
    direction_starts = np.searchsorted(group_direction, np.arange(n_dir))
    sample_cells = cells[:, None, :] + flat[None, :, :]
    inside = (sample_cells[..., 0] >= 0) & (sample_cells[..., 0] < rows) & (sample_cells[..., 1] >= 0) & (sample_cells[..., 1] < cols)
    r = np.clip(sample_cells[..., 0], 0, rows - 1)
    c = np.clip(sample_cells[..., 1], 0, cols - 1)
    blocks = (obstacle[r, c] & inside).reshape(len(cells), n_dir, n_rays, n_samples)
    behind = (np.cumsum(blocks, axis=-1) - blocks) > 0
    visible = inside & ~behind.reshape(len(cells), -1)
    seen = np.logical_or.reduceat(visible[:, order], starts, axis=1)
    group_cells = cells[:, None, :] + group_offset[None, :, :]
    gr = np.clip(group_cells[..., 0], 0, rows - 1)
    gc = np.clip(group_cells[..., 1], 0, cols - 1)
    gains = np.where(seen, value[gr * cols + gc], 0.0)
    per_direction = np.add.reduceat(gains, direction_starts, axis=1)
    best = np.argmax(per_direction, axis=1)
    return per_direction[np.arange(len(cells)), best], best.astype(np.int64)


def ref_refresh_prior(m, where):
    if not len(m.queries):
        return
    keys = m.key[(slice(None), *where)] if isinstance(where, tuple) else m.key[:, where]
    sims = np.zeros((keys.shape[1], len(m.queries)), dtype=np.float32)
    table = np.concatenate([m._sims, np.zeros((1, len(m.queries)), dtype=np.float32)])
    for level in range(len(LEVELS)):
        if m.level_mask[level]:
            np.maximum(sims, table[keys[level]], out=sims)
    value = (sims @ m.alphas.astype(np.float32)).astype(np.float32)
    m.prior[where] = value


def ref_integrate(m, points, valid, pixels, confidence, stride=1):
    sel = (slice(None, None, stride), slice(None, None, stride))
    ok = np.asarray(valid, dtype=bool)[sel]
    index, inside = m.voxel_of(np.asarray(points)[sel][ok])
    index = index[inside]
    if len(index) == 0:
        return 0
    flat = np.ravel_multi_index(index.T, m.shape)
    if confidence is not None:
        seen = (1.0 - np.asarray(confidence, dtype=np.float32)[sel][ok][inside]).astype(np.float32)
        vis = m.visibility.reshape(-1)
        np.minimum.at(vis, flat, seen)
    if pixels is None or not pixels.keys:
        return 0
    ids = m._key_ids_of(pixels.keys)
    changed = np.zeros(0, dtype=np.int64)
    for level in range(len(LEVELS)):
        key = pixels.key_index[level][sel][ok][inside]
        score = pixels.score[level][sel][ok][inside]
        has = key >= 0
        if not has.any():
            continue
        v, k, s = flat[has], ids[key[has]], score[has]
        order = np.lexsort((s, v))
        v, k, s = v[order], k[order], s[order]
        last = np.r_[v[1:] != v[:-1], True]
        v, k, s = v[last], k[last], s[last]
        stored = m.confidence[level].reshape(-1)
        better = s > stored[v]
        if better.any():
            stored[v[better]] = s[better]
            m.key[level].reshape(-1)[v[better]] = k[better]
            changed = np.union1d(changed, v[better])
    if len(changed):
        ref_refresh_prior(m, np.unravel_index(changed, m.shape))
    return int(len(changed))


# =============================================================================================
# Helpers
# =============================================================================================


class NoSimilarity:
    def similarity(self, a, b):  # pragma: no cover - never called here
        raise AssertionError("not compared")


class AllKeys:
    """Every patch has a key (as a CLIP backend): the scale choice sees every score."""

    def describe(self, obs, detections, boxes, counts):
        return [f"patch {j % 5}" for j in range(len(boxes))]

    def similarity(self, queries, keys):  # pragma: no cover
        return np.zeros((len(queries), len(keys)), dtype=np.float32)


CATEGORIES = ("chair", "bed", "sink", "potted_plant", "tv_monitor", "table")


def random_detections(rng, shape, n):
    height, width = shape
    out = []
    for _ in range(n):
        y0, x0 = int(rng.integers(0, height)), int(rng.integers(0, width))
        y1, x1 = int(rng.integers(y0 + 1, height + 1)), int(rng.integers(x0 + 1, width + 1))
        category = str(rng.choice(CATEGORIES))
        if rng.random() < 0.75:
            mask = np.zeros(shape, dtype=bool)
            mask[y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0)) < 0.8
            out.append(Detection(category=category, mask=mask, box=(x0, y0, x1, y1), pixels=int(mask.sum())))
        else:  # box-only, sometimes reaching past the image
            out.append(Detection(category=category, box=(x0 - 2, y0, x1 + 3, y1), pixels=(y1 - y0) * (x1 - x0)))
    return out


def random_frame(rng, shape, quantized=False):
    height, width = shape
    if quantized:  # coarse coordinates: many equal scores
        points = rng.integers(-2, 3, size=(height, width, 3)).astype(np.float64) * 0.5
    else:
        points = rng.normal(0.0, 2.0, size=(height, width, 3))
    valid = rng.random(shape) < 0.9
    if rng.random() < 0.3:
        valid[: height // 3] = False  # a whole band without depth
    return points, valid


def assert_same_pixels(new, ref):
    assert new.keys == ref.keys
    for name in ("key_index", "score", "patch_scores", "instances"):
        a, b = getattr(new, name), getattr(ref, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name


SHAPES = [(127, 93), (128, 128), (93, 127), (33, 65), (17, 9), (8, 8), (5, 7), (64, 48), (4, 4)]


# =============================================================================================
# features
# =============================================================================================


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scales", [1, 2, 3])
def test_the_fast_paths_are_the_ones_taken(shape, scales):
    layout = feats._patch_layout(*shape, scales)
    assert layout.cell_patch is not None and layout.cell_rows is not None  # per finest patch, by repeat
    boxes = np.asarray(layout.boxes, dtype=np.int64)
    assert feats._box_layout(boxes.tobytes(), *shape) is not None  # cells, not pixels
    assert layout.boxes == tuple(patch_boxes(*shape, scales)[0])
    for cached, fresh in zip(layout.index_images, patch_boxes(*shape, scales)[1]):
        assert np.array_equal(cached, fresh) and not cached.flags.writeable


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scales", [1, 2, 3])
def test_pixel_features_match_the_per_pixel_reference(shape, scales):
    rng = np.random.default_rng(shape[0] * 1000 + shape[1] * 10 + scales)
    captions = DetectionCaptions(NoSimilarity())
    for trial in range(6):
        points, valid = random_frame(rng, shape, quantized=trial % 2 == 1)
        detections = random_detections(rng, shape, int(rng.integers(0, 9)))
        for features in (captions, AllKeys()):
            min_pixels = int(rng.choice([1, 8]))
            new = pixel_features({}, detections, points, valid, features, scales, min_pixels=min_pixels)
            ref = ref_pixel_features({}, detections, points, valid, features, scales, min_pixels=min_pixels)
            assert_same_pixels(new, ref)


@pytest.mark.parametrize("shape", [(127, 93), (16, 16), (12, 20)])
def test_pixel_features_ties_go_to_the_first_scale_as_before(shape):
    # Flat, fully valid frames: every patch has the same volume (MIN_SIDE^3), so the scene score
    # ties across scales wherever the instance counts tie; constant frames tie more.
    captions = DetectionCaptions(NoSimilarity())
    rng = np.random.default_rng(3)
    for points in (np.zeros((*shape, 3)), np.ones((*shape, 3)), rng.integers(0, 2, (*shape, 3)) * 0.01):
        valid = np.ones(shape, dtype=bool)
        for detections in ([], random_detections(rng, shape, 3)):
            for features in (captions, AllKeys()):
                new = pixel_features({}, detections, points, valid, features)
                ref = ref_pixel_features({}, detections, points, valid, features)
                assert_same_pixels(new, ref)
                if features is not captions and not detections:
                    assert (new.key_index[0] == 0).all()  # the scene level's tie: scale 1 (patch 0)


def test_pixel_features_of_an_image_too_small_for_the_scales_fail_as_before():
    # 3 x 3 pixels at 3 scales: a 4 x 4 grid has empty patches; both raise the same error.
    points, valid = np.zeros((3, 3, 3)), np.ones((3, 3), dtype=bool)
    with pytest.raises(ValueError) as new:
        pixel_features({}, [], points, valid, AllKeys(), 3)
    with pytest.raises(ValueError) as ref:
        ref_pixel_features({}, [], points, valid, AllKeys(), 3)
    assert str(new.value) == str(ref.value)


def test_score_patches_and_instance_pixels_match_the_reference_on_any_boxes():
    rng = np.random.default_rng(7)
    for shape in [(127, 93), (31, 45), (6, 5)]:
        height, width = shape
        for trial in range(8):
            points, valid = random_frame(rng, shape, quantized=trial % 2 == 0)
            if trial == 5:
                points = points.astype(np.float32)  # promoted as before
            boxes = []
            for _ in range(int(rng.integers(1, 12))):
                r0, c0 = int(rng.integers(0, height)), int(rng.integers(0, width))
                boxes.append((r0, int(rng.integers(r0 + 1, height + 1)), c0, int(rng.integers(c0 + 1, width + 1))))
            if trial % 3 == 0:
                boxes += patch_boxes(height, width, 2)[0]
            instances = rng.integers(0, 4, len(boxes))
            new = feats.score_patches(points, valid, boxes, instances)
            ref = ref_score_patches(points, valid, boxes, instances)
            assert new.dtype == ref.dtype and np.array_equal(new, ref)
            detections = random_detections(rng, shape, int(rng.integers(0, 6)))
            assert np.array_equal(feats.instance_pixels(detections, boxes, shape), ref_instance_pixels(detections, boxes, shape))
    # Boxes off the fast path (empty, or past the image) behave as before.
    points, valid = random_frame(rng, (8, 8))
    dets = random_detections(rng, (8, 8), 3)
    for boxes in ([(0, 8, 0, 8), (2, 2, 0, 8)], [(0, 9, 0, 8)], [(3, 1, 0, 8)]):
        for new_fn, ref_fn in ((lambda b: feats.instance_pixels(dets, b, (8, 8)), lambda b: ref_instance_pixels(dets, b, (8, 8))),
                               (lambda b: feats.score_patches(points, valid, b, np.zeros(len(b))), lambda b: ref_score_patches(points, valid, b, np.zeros(len(b))))):
            try:
                expected = ref_fn(boxes)
            except Exception as exc:  # noqa: BLE001 - the same error either way
                with pytest.raises(type(exc)):
                    new_fn(boxes)
            else:
                assert np.array_equal(new_fn(boxes), expected)


def test_describe_matches_the_reference():
    rng = np.random.default_rng(11)
    for max_objects, min_pixels in ((3, 8), (1, 1), (5, 30)):
        captions = DetectionCaptions(NoSimilarity(), max_objects=max_objects, min_pixels=min_pixels)
        for shape in [(127, 93), (20, 20)]:
            boxes = patch_boxes(*shape, 3)[0]
            for _ in range(10):
                detections = random_detections(rng, shape, int(rng.integers(0, 10)))
                counts = ref_instance_pixels(detections, boxes, shape)
                if rng.random() < 0.5 and len(detections):
                    counts = (counts // 50) * 50  # many equal counts: the stable order decides
                assert captions.describe({}, detections, boxes, counts) == ref_describe(captions, detections, boxes, counts)


# =============================================================================================
# planner
# =============================================================================================


def random_grid(rng, shape, density):
    posterior = rng.random(shape) * (rng.random(shape) < 0.7)
    unknown = rng.random(shape) < 0.4
    obstacle = rng.random(shape) < density
    return posterior, unknown, obstacle


OFFSETS = [
    (79.0, 5.0, 0.25, None, plan.DIRECTIONS_DEG),
    (90.0, 2.0, 0.25, 5, plan.DIRECTIONS_DEG),
    (360.0, 1.5, 0.25, None, (0.0, 45.0)),
    (79.0, 3.0, 0.5, 1, plan.DIRECTIONS_DEG),
    (120.0, 4.0, 0.25, 9, (10.0, 200.0, 300.0)),
]


@pytest.mark.parametrize("spec", OFFSETS)
def test_observation_belief_matches_the_reference(spec):
    hfov, reach, cell, rays, directions = spec
    offsets = plan.sector_offsets(hfov, reach, cell, directions, rays)
    rng = np.random.default_rng(int(hfov * 10 + reach))
    for shape in [(59, 74), (13, 9), (3, 40), (1, 1), (40, 40)]:
        for density in (0.0, 0.05, 0.3):
            posterior, unknown, obstacle = random_grid(rng, shape, density)
            n = int(rng.integers(1, 9))
            cells = np.stack([rng.integers(0, shape[0], n), rng.integers(0, shape[1], n)], axis=1)
            cells[0] = (0, shape[1] - 1)  # a corner: most samples off the grid
            per_cell = rng.integers(0, 13, shape) if rng.random() < 0.5 else 12
            args = (posterior, unknown, obstacle, cells, offsets, 0.01, per_cell)
            p_new, d_new = plan.observation_belief(*args)
            p_ref, d_ref = ref_observation_belief(*args)
            assert p_new.dtype == p_ref.dtype and d_new.dtype == d_ref.dtype
            assert np.array_equal(p_new, p_ref) and np.array_equal(d_new, d_ref)


def test_observation_belief_ties_and_empty_grids_match_the_reference():
    offsets = plan.sector_offsets(79.0, 5.0, 0.25)
    shape = (30, 30)
    cells = np.array([[15, 15], [0, 0], [29, 10], [15, 15]])
    for posterior, unknown in ((np.zeros(shape), np.zeros(shape, bool)), (np.ones(shape), np.ones(shape, bool)), (np.zeros(shape), np.ones(shape, bool))):
        for obstacle in (np.zeros(shape, bool), np.ones(shape, bool)):
            p_new, d_new = plan.observation_belief(posterior, unknown, obstacle, cells, offsets)
            p_ref, d_ref = ref_observation_belief(posterior, unknown, obstacle, cells, offsets)
            assert np.array_equal(p_new, p_ref) and np.array_equal(d_new, d_ref)
    # All directions tie on an empty grid: the first wins.
    _, direction = plan.observation_belief(np.zeros(shape), np.zeros(shape, bool), np.zeros(shape, bool), cells, offsets)
    assert (direction == 0).all()


def test_observation_belief_offsets_far_past_the_grid_take_the_clipping_path():
    rng = np.random.default_rng(5)
    offsets = plan.sector_offsets(79.0, 5.0, 0.25) * 40  # reach 800 cells: padding would be huge
    for shape in [(20, 30), (7, 7)]:
        posterior, unknown, obstacle = random_grid(rng, shape, 0.1)
        cells = np.array([[0, 0], [shape[0] - 1, shape[1] - 1], [3, 4]])
        new = plan.observation_belief(posterior, unknown, obstacle, cells, offsets)
        ref = ref_observation_belief(posterior, unknown, obstacle, cells, offsets)
        assert np.array_equal(new[0], ref[0]) and np.array_equal(new[1], ref[1])


def test_observation_belief_cache_follows_the_offsets_values():
    rng = np.random.default_rng(9)
    shape = (25, 25)
    posterior, unknown, obstacle = random_grid(rng, shape, 0.1)
    cells = np.array([[12, 12], [3, 20]])
    offsets = plan.sector_offsets(79.0, 3.0, 0.25)
    for dtype in (np.int64, np.int32, np.int16):
        typed = offsets.astype(dtype)
        assert np.array_equal(plan.observation_belief(posterior, unknown, obstacle, cells, typed)[0],
                              ref_observation_belief(posterior, unknown, obstacle, cells, typed)[0])
    # The same array changed in place: the cache must not serve the old groups.
    plan.observation_belief(posterior, unknown, obstacle, cells, offsets)
    offsets[1:] = offsets[:1]  # every direction looks up
    offsets[0, :, :5] = 0
    new = plan.observation_belief(posterior, unknown, obstacle, cells, offsets)
    ref = ref_observation_belief(posterior, unknown, obstacle, cells, offsets)
    assert np.array_equal(new[0], ref[0]) and np.array_equal(new[1], ref[1])
    # More distinct offsets arrays than the cache holds.
    for reach in np.linspace(1.0, 4.0, 12):
        o = plan.sector_offsets(79.0, float(reach), 0.25)
        new = plan.observation_belief(posterior, unknown, obstacle, cells, o)
        ref = ref_observation_belief(posterior, unknown, obstacle, cells, o)
        assert np.array_equal(new[0], ref[0]) and np.array_equal(new[1], ref[1])


# =============================================================================================
# voxels
# =============================================================================================


class HashFeatures:
    """Deterministic similarities from the texts (no model)."""

    def describe(self, obs, detections, boxes, counts):  # pragma: no cover
        return [None] * len(boxes)

    def similarity(self, queries, keys):
        out = np.zeros((len(queries), len(keys)), dtype=np.float32)
        for i, q in enumerate(queries):
            for j, k in enumerate(keys):
                out[i, j] = (sum(map(ord, q + "|" + str(k))) % 97) / 96.0 * 2.0 - 1.0
        return out


def test_voxel_score_order_is_lexsort():
    rng = np.random.default_rng(13)
    for n in (1, 2, 7, 500, 3000):
        v = rng.integers(0, 40, n).astype(np.int64) * 1009
        for s in (
            rng.random(n).astype(np.float32),
            rng.integers(-3, 4, n).astype(np.float32),  # ties, negatives
            np.where(rng.random(n) < 0.5, np.float32(0.0), np.float32(-0.0)),  # -0.0 == 0.0
            rng.choice(np.array([-np.inf, np.inf, 1.0, -1.0, 0.0], dtype=np.float32), n),
            np.where(rng.random(n) < 0.1, np.float32(np.nan), rng.random(n).astype(np.float32)),  # lexsort itself
        ):
            assert np.array_equal(_voxel_score_order(v, s), np.lexsort((s, v)))
    v = np.array([2**40, 3], dtype=np.int64)  # too large a voxel index for the packed key
    s = np.array([1.0, 2.0], dtype=np.float32)
    assert np.array_equal(_voxel_score_order(v, s), np.lexsort((s, v)))


def random_pixels(rng, shape, n_keys, quantized):
    key_index = rng.integers(-1, n_keys, size=(len(LEVELS), *shape)).astype(np.int32)
    if quantized:
        score = rng.integers(0, 4, size=key_index.shape).astype(np.float32)
    else:
        score = rng.random(key_index.shape).astype(np.float32) * 10
    score = np.where(key_index >= 0, score, -np.inf).astype(np.float32)
    keys = [f"key {i}" for i in range(n_keys)]
    return PixelFeatures(keys, key_index, score, np.zeros((3, 0)), np.zeros(0))


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_integrate_matches_the_reference(stride):
    rng = np.random.default_rng(stride)
    features = HashFeatures()
    maps = [VoxelBeliefMap(features, size=6.0, voxel_size=0.5, height_range=(0.0, 2.0)) for _ in range(2)]
    for m in maps:
        m.set_queries(["a bed", "a bedroom", "a house"], [1.0, 0.5, 0.25])
    for step in range(12):
        shape = [(127, 93), (31, 17), (8, 8), (1, 5)][step % 4]
        points = rng.normal(0.0, 2.5, size=(*shape, 3))
        points[..., 1] = rng.uniform(-0.5, 2.5, shape)
        if step % 3 == 0:
            points = np.round(points * 2) / 2  # on voxel edges: floor decides
        valid = rng.random(shape) < 0.85
        pixels = None if step == 5 else random_pixels(rng, shape, int(rng.integers(1, 6)), quantized=step % 2 == 0)
        confidence = None if step == 7 else rng.random(shape).astype(np.float32)
        got = maps[0].integrate(points, valid, pixels, confidence, stride=stride)
        expected = ref_integrate(maps[1], points, valid, pixels, confidence, stride=stride)
        assert got == expected
        for name in ("key", "confidence", "visibility", "prior"):
            a, b = getattr(maps[0], name), getattr(maps[1], name)
            assert np.array_equal(a, b), (step, name)
        assert maps[0].keys == maps[1].keys
