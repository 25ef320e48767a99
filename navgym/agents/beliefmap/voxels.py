"""BeliefMapNav's 3D voxel maps: hierarchical semantics, prior belief, visibility, posterior
(paper §3.3.1, §3.3.3, §3.4.1, appendix A.2 and A.4).

One dense grid of ``(rows, cols, heights)`` voxels in the episode's start frame, aligned with the
occupancy map (:class:`~navgym.agents.mapping.OccupancyMap`: rows along +z, columns along +x, the
same centre), so one voxel column covers ``voxel_size / cell_size`` squared map cells. Per voxel:

* per semantic level (scene, region, object): the key of the stored feature (an index into
  :attr:`VoxelBeliefMap.keys`) and its scorer confidence; a new feature replaces the stored one
  only with a higher confidence (paper A.2);
* ``prior``: the belief ``b_u = sum_i alpha_i max_l sim(E_i, v_u^l) + max_l sim(E_target, v_u^l)``
  over the landmark queries (paper §3.3.3), kept up to date for the voxels a frame changes;
* ``visibility``: ``p^v_u = min over frames of (1 - C_p)`` of the pixels that hit the voxel, with
  the detection confidence ``C_p = C_d * C_horizontal * C_vertical`` (paper A.4); 1 = never seen;
* the posterior ``b_u * p^v_u`` (paper §3.4.2).

Similarities are computed once per (key, query) and cached in a table, so a voxel stores two
small numbers per level instead of a feature vector: 0.25 m voxels over a 40 m x 40 m x 3 m
volume take about 10 MB (:meth:`VoxelBeliefMap.memory_bytes`).
"""

from __future__ import annotations

import functools
import math
from typing import Hashable, Sequence

import numpy as np

from navgym.agents.beliefmap.features import LEVELS, PixelFeatures, SemanticFeatures
from navgym.core.checks import check_range
from navgym.errors import InvalidArgumentError


@functools.lru_cache(maxsize=8)
def _angular_confidence(height: int, width: int, hfov: float) -> np.ndarray:
    """``C_vertical * C_horizontal`` of every pixel (fixed for a camera; cached)."""
    focal = (width / 2.0) / math.tan(math.radians(hfov) / 2.0)
    half_h = math.atan((width / 2.0) / focal)
    half_v = math.atan((height / 2.0) / focal)
    theta = np.arctan((np.arange(width) + 0.5 - width / 2.0) / focal)
    phi = np.arctan((np.arange(height) + 0.5 - height / 2.0) / focal)
    c_h = np.cos(theta / (2.0 * half_h) * math.pi) ** 2
    c_v = np.cos(phi / (2.0 * half_v) * math.pi) ** 2
    out = (c_v[:, None] * c_h[None, :]).astype(np.float32)
    out.flags.writeable = False
    return out


def detection_confidence(
    depth: np.ndarray, hfov: float, d_min: float, d_max: float, alpha: float = 0.5
) -> np.ndarray:
    """``(H, W)`` detection confidence ``C_p`` of each pixel (paper A.4): ``cos^2(theta / hfov * pi)``
    horizontally and vertically (1 at the image centre, 0 at its edges) times ``C_d`` = 1 inside
    ``[d_min, d_max]`` metres and ``exp(-alpha * (distance to that range)^2)`` outside it."""
    height, width = depth.shape
    below = np.clip(d_min - depth, 0.0, None)
    above = np.clip(depth - d_max, 0.0, None)
    c_d = np.exp(-alpha * np.maximum(below, above) ** 2)
    return (_angular_confidence(height, width, float(hfov)) * c_d).astype(np.float32)


class VoxelBeliefMap:
    """Semantic voxel map + prior belief + visibility map (module docstring).

    Args:
        features: The feature seam (what keys mean; how text queries compare with them).
        size: Side of the square map, metres, centred on the start (as the occupancy map's).
        voxel_size: Side of a voxel, metres (0.25 as in the paper).
        height_range: ``(low, high)`` heights above the agent's floor covered, metres.
        similarity_floor: Similarities below this count as no evidence: each landmark term uses
            ``max(0, sim - floor) / (1 - floor)`` (0 = the paper's raw cosine, clipped at 0).
    """

    def __init__(
        self,
        features: SemanticFeatures,
        size: float = 40.0,
        voxel_size: float = 0.25,
        height_range: tuple[float, float] = (0.0, 3.0),
        similarity_floor: float = 0.0,
    ):
        check_range("voxel_size", voxel_size, 0.02, 2.0)
        try:
            low, high = (float(v) for v in height_range)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"height_range={height_range!r} must be (low, high) metres above the floor, e.g. (0.0, 3.0)") from None
        if not (math.isfinite(low) and math.isfinite(high) and high > low):
            raise InvalidArgumentError(f"height_range={height_range!r} must be (low, high) with high > low, metres")
        self.features = features
        self.voxel_size = float(voxel_size)
        self.cells = int(math.ceil(size / voxel_size))
        self.size = self.cells * self.voxel_size
        self.origin = (-self.size / 2.0, -self.size / 2.0)
        self.low = low
        self.layers = max(1, int(math.ceil((high - low) / voxel_size)))
        self.similarity_floor = check_range("similarity_floor", similarity_floor, 0.0, 0.99)
        self.queries: list[str] = []
        self.alphas = np.zeros(0)
        #: Which semantic levels feed the prior (:meth:`use_levels`; kept across resets).
        self.level_mask = np.ones(len(LEVELS), dtype=bool)
        self.reset()

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.cells, self.cells, self.layers)

    def reset(self) -> None:
        """Forget every voxel (the query table is kept)."""
        shape = self.shape
        self.key = np.full((len(LEVELS), *shape), -1, dtype=np.int32)
        self.confidence = np.full((len(LEVELS), *shape), -np.inf, dtype=np.float32)
        self.visibility = np.ones(shape, dtype=np.float32)
        self.prior = np.zeros(shape, dtype=np.float32)
        self.keys: list[Hashable] = []
        self._key_ids: dict[Hashable, int] = {}
        self._sims = np.zeros((0, len(self.queries)), dtype=np.float32)

    def memory_bytes(self) -> int:
        """Bytes held by the voxel arrays and the similarity table."""
        return int(self.key.nbytes + self.confidence.nbytes + self.visibility.nbytes + self.prior.nbytes + self._sims.nbytes)

    # -- queries -------------------------------------------------------------------------------
    def set_queries(self, phrases: Sequence[str], alphas: Sequence[float]) -> None:
        """The belief's text queries and weights (target first with weight 1, then the landmarks);
        recomputes the similarity table and every voxel's prior."""
        phrases = [str(p) for p in phrases]
        alphas = np.asarray(alphas, dtype=np.float64)
        if len(phrases) != len(alphas) or not phrases:
            raise InvalidArgumentError(f"set_queries needs as many alphas as phrases (got {len(phrases)} phrases, {len(alphas)} alphas)")
        self.queries, self.alphas = phrases, alphas
        self._sims = self._similarities(self.keys)
        self._refresh_prior(np.ones(self.shape, dtype=bool))

    def _similarities(self, keys: list[Hashable]) -> np.ndarray:
        if not keys or not self.queries:
            return np.zeros((len(keys), len(self.queries)), dtype=np.float32)
        sims = np.asarray(self.features.similarity(self.queries, list(keys)), dtype=np.float32).T  # (K, Q)
        floor = self.similarity_floor
        return (np.clip(sims - floor, 0.0, None) / (1.0 - floor)).astype(np.float32)

    def _key_ids_of(self, keys: list[Hashable]) -> np.ndarray:
        new = [k for k in keys if k not in self._key_ids]
        for k in new:
            self._key_ids[k] = len(self.keys)
            self.keys.append(k)
        if new:
            self._sims = np.concatenate([self._sims, self._similarities(new)])
        return np.array([self._key_ids[k] for k in keys], dtype=np.int32)

    def _refresh_prior(self, where: np.ndarray | tuple) -> None:
        """Recompute ``prior`` at ``where`` (a mask or an index tuple) from the stored keys."""
        if not len(self.queries):
            return
        keys = self.key[(slice(None), *where)] if isinstance(where, tuple) else self.key[:, where]  # (L, N)
        value = self._prior_of(keys)
        if isinstance(where, tuple):
            self.prior[where] = value
        else:
            self.prior[where] = value

    def _refresh_prior_at(self, flat: np.ndarray) -> None:
        """:meth:`_refresh_prior` at flat voxel indices (sorted, distinct)."""
        if not (self.key.flags.c_contiguous and self.prior.flags.c_contiguous):
            self._refresh_prior(np.unravel_index(flat, self.shape))
            return
        if not len(self.queries):
            return
        value = self._prior_of(np.take(self.key.reshape(len(LEVELS), -1), flat, axis=1))
        self.prior.reshape(-1)[flat] = value

    def _prior_of(self, keys: np.ndarray) -> np.ndarray:
        """The prior of voxels holding ``keys`` ``(L, N)``."""
        sims = np.zeros((keys.shape[1], len(self.queries)), dtype=np.float32)
        table = np.concatenate([self._sims, np.zeros((1, len(self.queries)), dtype=np.float32)])  # row -1 = no feature
        for level in range(len(LEVELS)):
            if self.level_mask[level]:
                np.maximum(sims, table[keys[level]], out=sims)
        return (sims @ self.alphas.astype(np.float32)).astype(np.float32)

    def use_levels(self, levels: Sequence[str]) -> None:
        """Only these semantic levels feed the prior (an ablation); recomputes it."""
        unknown = [lv for lv in levels if lv not in LEVELS]
        if unknown:
            raise InvalidArgumentError(f"levels={list(levels)!r}: {unknown} are not semantic levels {list(LEVELS)}")
        self.level_mask = np.array([lv in levels for lv in LEVELS])
        self._refresh_prior(np.ones(self.shape, dtype=bool))

    # -- frames --------------------------------------------------------------------------------
    def voxel_of(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) start-frame points -> ((N, 3) int (row, col, layer), inside mask)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        rows = np.floor((points[:, 2] - self.origin[1]) / self.voxel_size).astype(np.int64)
        cols = np.floor((points[:, 0] - self.origin[0]) / self.voxel_size).astype(np.int64)
        layers = np.floor((points[:, 1] - self.low) / self.voxel_size).astype(np.int64)
        index = np.stack([rows, cols, layers], axis=1)
        inside = (index >= 0).all(axis=1) & (rows < self.cells) & (cols < self.cells) & (layers < self.layers)
        return index, inside

    def integrate(self, points: np.ndarray, valid: np.ndarray, pixels: PixelFeatures | None, confidence: np.ndarray | None, stride: int = 1) -> int:
        """Add one frame: ``points`` ``(H, W, 3)`` start-frame points, ``valid`` their usable-depth
        mask, the frame's per-pixel features (``None``: visibility only) and detection confidence
        ``C_p`` (``None``: semantics only). Every ``stride``-th pixel row and column is used.
        Returns how many voxels changed features."""
        sel = (slice(None, None, stride), slice(None, None, stride))
        ok = np.asarray(valid, dtype=bool)[sel]
        used = np.asarray(points)[sel]
        if used.shape == (*ok.shape, 3):
            # The same points as used[ok], by one np.take (faster than a mask on a strided view).
            pixel = np.flatnonzero(ok)
            flat, inside = self._flat_voxels(np.take(used.reshape(-1, 3), pixel, axis=0))
            pixel = pixel[inside]  # the used pixels (flat indices into the strided image)
        else:  # the mask's error, or voxel_of's reshape
            flat, inside = self._flat_voxels(used[ok])
            pixel = np.flatnonzero(ok)[inside]
        if len(flat) == 0:
            return 0
        if confidence is not None:
            conf = np.asarray(confidence, dtype=np.float32)[sel]
            picked = np.take(conf, pixel) if conf.shape == ok.shape else conf[ok][inside]
            seen = (1.0 - picked).astype(np.float32)
            vis = self.visibility.reshape(-1)
            np.minimum.at(vis, flat, seen)
        if pixels is None or not pixels.keys:
            return 0
        ids = self._key_ids_of(pixels.keys)
        changed: list[np.ndarray] = []
        for level in range(len(LEVELS)):
            key_image, score_image = pixels.key_index[level][sel], pixels.score[level][sel]
            if key_image.shape == ok.shape and score_image.shape == ok.shape:
                key, score = np.take(key_image, pixel), np.take(score_image, pixel)
            else:  # the error of a mismatched image
                key, score = key_image[ok][inside], score_image[ok][inside]
            has = key >= 0
            if not has.any():
                continue
            v, k, s = flat[has], ids[key[has]], score[has]
            # The best-scored pixel per voxel in this frame (sort by voxel, then score; the last
            # pixel of the best score on ties).
            order = _voxel_score_order(v, s)
            v, k, s = v[order], k[order], s[order]
            last = np.empty(len(v), dtype=bool)
            np.not_equal(v[1:], v[:-1], out=last[:-1])
            last[-1] = True
            v, k, s = v[last], k[last], s[last]
            stored = self.confidence[level].reshape(-1)
            better = s > stored[v]
            if better.any():
                stored[v[better]] = s[better]
                self.key[level].reshape(-1)[v[better]] = k[better]
                changed.append(v[better])
        if not changed:
            return 0
        voxels = np.unique(np.concatenate(changed)) if len(changed) > 1 else changed[0]  # each sorted and distinct
        self._refresh_prior_at(voxels)
        return int(len(voxels))

    def _flat_voxels(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`voxel_of` as flat voxel indices of the points inside the map, and that mask."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        # (x, y, z) -> (col, layer, row): the same float operations as voxel_of, on all at once.
        shift = np.array([self.origin[0], self.low, self.origin[1]])
        index = np.floor((points - shift) / self.voxel_size).astype(np.int64)
        col, layer, row = index.T
        inside = (row >= 0) & (col >= 0) & (layer >= 0) & (row < self.cells) & (col < self.cells) & (layer < self.layers)
        flat = (row[inside] * self.cells + col[inside]) * self.layers + layer[inside]
        return flat, inside

    # -- maps ----------------------------------------------------------------------------------
    @property
    def posterior(self) -> np.ndarray:
        """``prior * visibility`` per voxel."""
        return self.prior * self.visibility

    def column_sum(self, values: np.ndarray) -> np.ndarray:
        """``(rows, cols)`` sum over heights."""
        return values.sum(axis=2)

    def column_max(self, values: np.ndarray) -> np.ndarray:
        """``(rows, cols)`` max over heights (pictures)."""
        return values.max(axis=2)

    @property
    def has_feature(self) -> np.ndarray:
        """Voxels with a feature at any level."""
        return (self.key >= 0).any(axis=0)


def _voxel_score_order(v: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``np.lexsort((s, v))`` (int64 voxels ``v``, float32 scores ``s``), by one stable argsort of a
    combined int64 key when the scores have no NaN: the voxel in the high 32 bits, the score's
    bits mapped to an order-preserving integer in the low ones (-0.0 as 0.0, equal as lexsort
    compares them)."""
    if s.dtype != np.float32 or v.dtype != np.int64 or not len(v) or v.min() < 0 or v.max() >= 2**31 or np.isnan(s).any():
        return np.lexsort((s, v))
    bits = (s + np.float32(0.0)).view(np.int32)  # -0.0 + 0.0 = 0.0
    ordered = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))  # float order as int32 order
    key = (v << 32) + (ordered.astype(np.int64) + 2**31)
    return np.argsort(key, kind="stable")
