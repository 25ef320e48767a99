"""Multi-scale patch features and the hierarchical feature scorers of BeliefMapNav (paper §3.3.1,
appendix A.1-A.2), on navgym's perception seam.

The paper splits each RGB image into ``2^(k-1) x 2^(k-1)`` patches at scales ``k = 1..3``, embeds
every patch with CLIP, counts its instances with SAM and measures its point cloud (volume ``V``,
density ``rho``) from depth. Three scorers pick, per pixel, the scale whose patch best fits each
semantic level:

* scene:  ``S = w1 * V + w2 * n``           (large patches with many instances)
* region: ``S = w3 * n / V + w4 * rho``     (dense groups of instances)
* object: ``S = rho / n``                    (one dense object)

with ``w1..w4 = 0.05, 0.1, 2, 0.01`` (paper §4.1). Each pixel then carries, per level, the feature
of its best-scoring patch and that score; the voxel map keeps, per voxel and level, the feature
with the highest score seen so far.

What a patch's feature *is* goes through one seam, :class:`SemanticFeatures`: ``describe`` gives
each patch a hashable key (``None``: nothing to store) and ``similarity`` compares text queries
with keys. No CLIP weights can be downloaded here, so the default, :class:`DetectionCaptions`,
keys a patch by a caption of what the perception seam detected in it ("sink, toilet, towel": the
three largest, in alphabetical order) and compares captions with landmark phrases by the reasoner's similarity (MiniLM
cosine by default): a text-space stand-in for CLIP's image-text space. An image-feature backend
(CLIP, BLIP-2) implements the same two methods with feature-vector keys. The instance count ``n``
comes from the detections' masks (SAM's role in the paper) for every backend.

Difference from the paper: patches with no key (no detection in them) are skipped when a pixel's
scale is chosen, since a caption of nothing carries no semantics; a CLIP backend returns a key for
every patch and so behaves as the paper.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Hashable, Protocol, Sequence, runtime_checkable

import numpy as np

from navgym.errors import InvalidArgumentError
from navgym.core.checks import check_int

#: The semantic levels of the voxel map (paper: L_s).
LEVELS = ("scene", "region", "object")
#: Scorer weights w1..w4 (paper §4.1).
SCORER_WEIGHTS = (0.05, 0.1, 2.0, 0.01)
#: Smallest side of a patch's point-cloud box, metres (a flat wall would have volume 0).
MIN_SIDE = 0.05


@runtime_checkable
class SemanticFeatures(Protocol):
    """The feature seam of the semantic voxel map."""

    def describe(self, obs: dict[str, Any], detections: Sequence[Any], boxes: Sequence[tuple[int, int, int, int]], counts: np.ndarray) -> list[Hashable | None]:
        """One key per pixel box ``(row0, row1, col0, col1)`` (ends exclusive) of ``obs``; ``None``
        where the patch has nothing to store. ``counts[i, j]`` is how many pixels of detection
        ``i``'s mask (or box) lie in box ``j`` (:func:`instance_pixels`)."""
        ...

    def similarity(self, queries: list[str], keys: list[Hashable]) -> np.ndarray:
        """``(len(queries), len(keys))`` similarities in [-1, 1] of text queries to stored keys."""
        ...


class DetectionCaptions:
    """A patch's key is a caption of the largest detections covering it, in alphabetical order
    ("sink, toilet": the order carries little meaning for a sentence embedding, and a sorted
    caption recurs more often, so its embedding is computed once and reused).

    Args:
        reasoner: Anything with the reasoner seam's ``similarity(a, b)`` (captions vs phrases).
        max_objects: At most this many categories per caption.
        min_pixels: A detection counts in a patch when at least this many of its mask pixels (box
            pixels for box-only detections) lie in it.
    """

    def __init__(self, reasoner: Any, max_objects: int = 3, min_pixels: int = 8):
        if not callable(getattr(reasoner, "similarity", None)):
            raise InvalidArgumentError(f"reasoner={reasoner!r} has no similarity(a, b); pass a navgym reasoner")
        self.reasoner = reasoner
        self.max_objects = check_int("max_objects", max_objects, 1)
        self.min_pixels = check_int("min_pixels", min_pixels, 1)

    def describe(self, obs: dict[str, Any], detections: Sequence[Any], boxes: Sequence[tuple[int, int, int, int]], counts: np.ndarray | None = None) -> list[Hashable | None]:
        if counts is None:
            counts = instance_pixels(detections, boxes, _image_shape(obs))
        keys: list[Hashable | None] = []
        if not len(detections):
            return [None] * len(boxes)
        # Per box, the detections by decreasing pixel count (stable: the first detection on ties);
        # one argsort for every box, and the loop on Python numbers.
        orders = np.argsort(-counts, axis=0, kind="stable").T.tolist()
        by_box = counts.T.tolist()
        category_names: dict[int, str] = {}
        for j in range(len(boxes)):
            column = by_box[j]
            names: list[str] = []
            for i in orders[j]:
                if column[i] < self.min_pixels:
                    break
                name = category_names.get(i)
                if name is None:
                    name = category_names[i] = str(detections[i].category).replace("_", " ")
                if name not in names:
                    names.append(name)
                if len(names) == self.max_objects:
                    break
            keys.append(", ".join(sorted(names)) if names else None)
        return keys

    def similarity(self, queries: list[str], keys: list[Hashable]) -> np.ndarray:
        return np.asarray(self.reasoner.similarity(list(queries), [str(k) for k in keys]), dtype=np.float32)


def _image_shape(obs: dict[str, Any]) -> tuple[int, int]:
    for key in ("depth", "rgb", "semantic"):
        if key in obs:
            return tuple(np.asarray(obs[key]).shape[:2])  # type: ignore[return-value]
    raise KeyError("obs has no depth, rgb or semantic image")


def instance_pixels(detections: Sequence[Any], boxes: Sequence[tuple[int, int, int, int]], shape: tuple[int, int]) -> np.ndarray:
    """``(len(detections), len(boxes))`` pixels of each detection's mask (or box) inside each box."""
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
        layout = _box_layout(b.tobytes(), int(shape[0]), int(shape[1]))
        if layout is not None:
            # The pixels of every cell between the boxes' edges (two reduceat), then integral
            # images over those few cells: the same integer counts as over all pixels.
            cells = np.add.reduceat(masks.view(np.uint8), layout.col_starts, axis=2, dtype=np.int32)
            cells = np.add.reduceat(cells, layout.row_starts, axis=1, dtype=np.int64)
            integral = np.zeros((len(masked), len(layout.row_starts) + 1, len(layout.col_starts) + 1), dtype=np.int64)
            integral[:, 1:, 1:] = cells.cumsum(1).cumsum(2)
            i0, i1, j0, j1 = layout.cell_r0, layout.cell_r1, layout.cell_c0, layout.cell_c1
            counts[masked] = integral[:, i1, j1] - integral[:, i0, j1] - integral[:, i1, j0] + integral[:, i0, j0]
        else:
            # Integral images of all masks at once: every box's count in O(1).
            integral = np.zeros((len(masked), shape[0] + 1, shape[1] + 1), dtype=np.int64)
            integral[:, 1:, 1:] = masks.cumsum(1).cumsum(2)
            counts[masked] = integral[:, r1, c1] - integral[:, r0, c1] - integral[:, r1, c0] + integral[:, r0, c0]
    for i, det in enumerate(detections):
        if det.mask is None and det.box is not None:
            x0, y0, x1, y1 = det.box
            counts[i] = np.clip(np.minimum(y1, r1) - np.maximum(y0, r0), 0, None) * np.clip(np.minimum(x1, c1) - np.maximum(x0, c0), 0, None)
    return counts


def patch_boxes(height: int, width: int, scales: int) -> tuple[list[tuple[int, int, int, int]], list[np.ndarray]]:
    """Every scale's patches: boxes ``(row0, row1, col0, col1)`` (scale 1 first), and per scale an
    ``(H, W)`` image of the index (into the box list) of the patch covering each pixel."""
    boxes: list[tuple[int, int, int, int]] = []
    index_images: list[np.ndarray] = []
    for k in range(1, scales + 1):
        n = 2 ** (k - 1)
        rows = np.arange(n + 1) * height // n
        cols = np.arange(n + 1) * width // n
        first = len(boxes)
        boxes += [(int(rows[a]), int(rows[a + 1]), int(cols[b]), int(cols[b + 1])) for a in range(n) for b in range(n)]
        row_bin = np.searchsorted(rows, np.arange(height), side="right") - 1
        col_bin = np.searchsorted(cols, np.arange(width), side="right") - 1
        index_images.append(first + row_bin[:, None] * n + col_bin[None, :])
    return boxes, index_images


@dataclass(frozen=True)
class _PatchLayout:
    """:func:`patch_boxes` of one image size, cached (arrays read-only), plus the finest scale's
    patch of each pixel (``cell_image``, ``(H, W)``) and the patch of every scale covering each
    finest patch (``cell_patch``, ``(S, C)``; ``None`` when a pixel's patches are not a function
    of its finest patch)."""

    boxes: tuple[tuple[int, int, int, int], ...]
    index_images: tuple[np.ndarray, ...]
    cell_image: np.ndarray
    cell_patch: np.ndarray | None
    #: Pixel rows / columns of each row / column of finest patches (``None``: not a grid).
    cell_rows: np.ndarray | None
    cell_cols: np.ndarray | None

    def to_image(self, per_cell: np.ndarray) -> np.ndarray:
        """``(L, C)`` values of the finest patches -> ``(L, H, W)`` those of each pixel."""
        if self.cell_rows is not None and self.cell_cols is not None:
            grid = per_cell.reshape(len(per_cell), len(self.cell_rows), len(self.cell_cols))
            return np.repeat(np.repeat(grid, self.cell_rows, axis=1), self.cell_cols, axis=2)
        return np.take(per_cell, self.cell_image, axis=1)


@functools.lru_cache(maxsize=16)
def _patch_layout(height: int, width: int, scales: int) -> _PatchLayout:
    boxes, index_images = patch_boxes(height, width, scales)
    stack = np.stack(index_images)  # (S, H, W)
    n_cells = 4 ** (scales - 1)
    first = len(boxes) - n_cells
    cell_image = (index_images[-1] - first).astype(np.intp)
    cell_patch: np.ndarray | None = np.zeros((scales, n_cells), dtype=np.intp)
    # The patches nest (a coarse scale's edges are some of the finest scale's edges), so every
    # pixel of a finest patch lies in the same patch of each scale: checked here once.
    cell_patch[:, cell_image.ravel()] = stack.reshape(scales, -1)
    if not np.array_equal(cell_patch[:, cell_image], stack):
        cell_patch = None
    # The finest patches tile the image as a grid: rows * width + column, checked.
    n = 2 ** (scales - 1)
    cell_rows: np.ndarray | None = np.diff(np.arange(n + 1) * height // n)
    cell_cols: np.ndarray | None = np.diff(np.arange(n + 1) * width // n)
    grid = np.arange(n_cells).reshape(n, n)
    if not np.array_equal(np.repeat(np.repeat(grid, cell_rows, axis=0), cell_cols, axis=1), cell_image):
        cell_rows = cell_cols = None
    images = tuple(index_images)
    for array in (*images, cell_image, cell_patch, cell_rows, cell_cols):
        if array is not None:
            array.flags.writeable = False
    return _PatchLayout(tuple(boxes), images, cell_image, cell_patch, cell_rows, cell_cols)


@dataclass(frozen=True)
class _BoxLayout:
    """Boxes as ranges of the cells between their edges: ``row_starts`` / ``col_starts`` the cells'
    first rows / columns (every distinct box edge, and 0), ``cell_r0 .. cell_c1`` each box's
    first and end cell (exclusive) per axis, ``members`` ``(P, K)`` each box's cells (flat
    indices, padded by repeating its first cell)."""

    row_starts: np.ndarray
    col_starts: np.ndarray
    cell_r0: np.ndarray
    cell_r1: np.ndarray
    cell_c0: np.ndarray
    cell_c1: np.ndarray
    members: np.ndarray


#: :func:`_box_layout` gives up (the per-pixel code runs) beyond this many (box, cell) pairs.
_MAX_BOX_CELLS = 1 << 16


@functools.lru_cache(maxsize=64)
def _box_layout(box_bytes: bytes, height: int, width: int) -> _BoxLayout | None:
    """The cell layout of int64 boxes ``(row0, row1, col0, col1)`` (as bytes) on an image of
    ``height x width``; ``None`` unless every box is non-empty and inside the image."""
    b = np.frombuffer(box_bytes, dtype=np.int64).reshape(-1, 4)
    r0, r1, c0, c1 = b.T
    if height <= 0 or width <= 0 or not len(b):
        return None
    if not ((0 <= r0) & (r0 < r1) & (r1 <= height) & (0 <= c0) & (c0 < c1) & (c1 <= width)).all():
        return None
    row_edges = np.unique(np.concatenate([[0, height], r0, r1]))
    col_edges = np.unique(np.concatenate([[0, width], c0, c1]))
    i0, i1 = np.searchsorted(row_edges, r0), np.searchsorted(row_edges, r1)
    j0, j1 = np.searchsorted(col_edges, c0), np.searchsorted(col_edges, c1)
    n_cols = len(col_edges) - 1
    sizes = (i1 - i0) * (j1 - j0)
    if len(b) * int(sizes.max()) > _MAX_BOX_CELLS:
        return None
    members = np.empty((len(b), int(sizes.max())), dtype=np.intp)
    for p in range(len(b)):
        cells = (np.arange(i0[p], i1[p])[:, None] * n_cols + np.arange(j0[p], j1[p])[None, :]).ravel()
        members[p] = cells[0]
        members[p, : len(cells)] = cells
    arrays = (row_edges[:-1], col_edges[:-1], i0, i1, j0, j1, members)
    for array in arrays:
        array.flags.writeable = False
    return _BoxLayout(*arrays)


@dataclass
class PixelFeatures:
    """Per pixel and level: the chosen patch's key index (into :attr:`keys`, -1 for none) and score.

    Attributes:
        keys: The frame's distinct keys.
        key_index: ``(L, H, W)`` int32 index into ``keys`` (-1: no feature at that level).
        score: ``(L, H, W)`` float32 scorer value of the chosen patch (-inf where none).
        patch_scores: ``(L, P)`` every patch's scores (for inspection and tests).
        instances: ``(P,)`` instance counts per patch.
    """

    keys: list[Hashable]
    key_index: np.ndarray
    score: np.ndarray
    patch_scores: np.ndarray
    instances: np.ndarray


def score_patches(points: np.ndarray, valid: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], instances: np.ndarray, weights: Sequence[float] = SCORER_WEIGHTS) -> np.ndarray:
    """``(3, P)`` scene / region / object scores of each patch from its point cloud (``points``:
    ``(H, W, 3)`` metres, ``valid``: usable depth) and instance count (paper §3.3.1): the volume
    ``V`` is that of the box around the patch's points (sides at least :data:`MIN_SIDE`), the
    density ``rho`` its points per cubic metre. Patches with fewer than 4 points score -inf."""
    w1, w2, w3, w4 = weights
    big = np.float64(1e9)
    lo_points = np.where(valid[..., None], points, big)
    hi_points = np.where(valid[..., None], points, -big)
    b = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    layout = _box_layout(b.tobytes(), *(int(v) for v in valid.shape)) if valid.ndim == 2 and lo_points.shape == (*valid.shape, 3) else None
    if layout is not None:
        # Count, min and max over the cells between the boxes' edges (one reduceat per axis),
        # then over each box's cells: the same numbers as over its pixels (integer sums; min
        # and max do not depend on the grouping).
        cells = np.add.reduceat(valid.view(np.uint8) if valid.dtype == bool else valid.astype(np.int64), layout.col_starts, axis=1, dtype=np.int64)
        cells = np.add.reduceat(cells, layout.row_starts, axis=0)
        cumulative = np.zeros((cells.shape[0] + 1, cells.shape[1] + 1), dtype=np.int64)
        cumulative[1:, 1:] = cells.cumsum(0).cumsum(1)
        i0, i1, j0, j1 = layout.cell_r0, layout.cell_r1, layout.cell_c0, layout.cell_c1
        count = (cumulative[i1, j1] - cumulative[i0, j1] - cumulative[i1, j0] + cumulative[i0, j0]).astype(np.float64)
        cell_lo = np.minimum.reduceat(np.minimum.reduceat(lo_points, layout.col_starts, axis=1), layout.row_starts, axis=0).reshape(-1, 3)
        cell_hi = np.maximum.reduceat(np.maximum.reduceat(hi_points, layout.col_starts, axis=1), layout.row_starts, axis=0).reshape(-1, 3)
        lo = cell_lo[layout.members].min(axis=1)
        hi = cell_hi[layout.members].max(axis=1)
        return _scores(count, lo, hi, instances, weights)
    cumulative = np.pad(valid.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    r0, r1, c0, c1 = b.T
    count = (cumulative[r1, c1] - cumulative[r0, c1] - cumulative[r1, c0] + cumulative[r0, c0]).astype(np.float64)
    lo = np.empty((len(b), 3))
    hi = np.empty((len(b), 3))
    done = np.zeros(len(b), dtype=bool)
    # Patches that tile the image in a grid (those of patch_boxes) in one reduceat per scale.
    for row_edges, col_edges, members in _grids(b, valid.shape):
        lo[members] = np.minimum.reduceat(np.minimum.reduceat(lo_points, row_edges, axis=0), col_edges, axis=1).reshape(-1, 3)
        hi[members] = np.maximum.reduceat(np.maximum.reduceat(hi_points, row_edges, axis=0), col_edges, axis=1).reshape(-1, 3)
        done[members] = True
    for j in np.flatnonzero(~done):
        lo[j] = lo_points[r0[j] : r1[j], c0[j] : c1[j]].reshape(-1, 3).min(axis=0)
        hi[j] = hi_points[r0[j] : r1[j], c0[j] : c1[j]].reshape(-1, 3).max(axis=0)
    return _scores(count, lo, hi, instances, weights)


def _scores(count: np.ndarray, lo: np.ndarray, hi: np.ndarray, instances: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """:func:`score_patches` from each patch's point count and point-cloud box ``lo`` .. ``hi``."""
    w1, w2, w3, w4 = weights
    ok = count >= 4
    volume = np.where(ok, np.prod(np.maximum(hi - lo, MIN_SIDE), axis=1), 1.0)
    density = count / volume
    n = np.asarray(instances, dtype=np.float64)
    out = np.stack([w1 * volume + w2 * n, w3 * n / volume + w4 * density, density / np.maximum(n, 1.0)])
    out[:, ~ok] = -np.inf
    return out


def _grids(b: np.ndarray, shape: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Runs of boxes that tile the whole image row by row as an n x n grid (one scale of
    :func:`patch_boxes`): (row starts, column starts, box indices)."""
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


def pixel_features(
    obs: dict[str, Any],
    detections: Sequence[Any],
    points: np.ndarray,
    valid: np.ndarray,
    features: SemanticFeatures,
    scales: int = 3,
    weights: Sequence[float] = SCORER_WEIGHTS,
    min_pixels: int = 8,
) -> PixelFeatures:
    """Multi-scale extraction, scoring and per-pixel selection for one frame (paper A.1-A.2)."""
    height, width = valid.shape
    layout = _patch_layout(int(height), int(width), int(scales))
    boxes = list(layout.boxes)
    counts = instance_pixels(detections, boxes, (height, width))
    instances = (counts >= min_pixels).sum(axis=0)
    patch_keys = features.describe(obs, detections, boxes, counts)
    if len(patch_keys) != len(boxes):
        raise ValueError(f"{type(features).__name__}.describe returned {len(patch_keys)} keys for {len(boxes)} patches")
    keys: list[Hashable] = []
    key_of_patch = np.full(len(boxes), -1, dtype=np.int32)
    for j, key in enumerate(patch_keys):
        if key is None:
            continue
        if key not in keys:
            keys.append(key)
        key_of_patch[j] = keys.index(key)
    scores = score_patches(points, valid, boxes, instances, weights)
    scores[:, key_of_patch < 0] = -np.inf  # a patch with nothing to store is never chosen
    if layout.cell_patch is not None:
        # A pixel's patches are those of its finest patch: choose per finest patch (the first
        # scale on ties, as argmax), then one gather onto the image per level.
        cell_patch = layout.cell_patch  # (S, C)
        best = np.argmax(scores[:, cell_patch], axis=1)  # (L, C)
        chosen = cell_patch[best, np.arange(cell_patch.shape[1])[None, :]]  # (L, C)
        value = np.take_along_axis(scores, chosen, axis=1)  # (L, C)
        ok = np.isfinite(value)
        cell_key = np.where(ok, key_of_patch[chosen], np.int32(-1)).astype(np.int32)
        cell_score = np.where(ok, value, -np.inf).astype(np.float32)
        key_index = layout.to_image(cell_key)
        score = layout.to_image(cell_score)
        return PixelFeatures(keys, key_index, score, scores, instances)
    stack = np.stack(layout.index_images)  # (S, H, W) patch index per scale
    key_index = np.full((len(LEVELS), height, width), -1, dtype=np.int32)
    score = np.full((len(LEVELS), height, width), -np.inf, dtype=np.float32)
    for level in range(len(LEVELS)):
        per_scale = scores[level][stack]  # (S, H, W)
        best = np.argmax(per_scale, axis=0)
        chosen = np.take_along_axis(stack, best[None], axis=0)[0]
        value = scores[level][chosen]
        ok = np.isfinite(value)
        key_index[level][ok] = key_of_patch[chosen[ok]]
        score[level][ok] = value[ok]
    return PixelFeatures(keys, key_index, score, scores, instances)
