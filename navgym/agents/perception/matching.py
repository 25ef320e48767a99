"""Image-goal matching by keypoints + RANSAC (OpenCV), where UniGoal uses LightGlue.

:class:`KeypointMatcher` finds ORB (default) or SIFT keypoints in two images, matches their
descriptors with Lowe's ratio test (mutual nearest neighbours for ORB), and keeps the matches a
RANSAC model explains: a homography (default; a plane or a pure rotation, strict, so unrelated
images rarely reach many inliers) or a fundamental matrix (any rigid motion of a static scene).
The match score is ``inliers / min_keypoints`` clipped to [0, 1], ``min_keypoints`` being the
fewer of the two images' keypoints: the fraction of the poorer image that the other explains.

Small frames (128 px) are upscaled to ``min_size`` first: ORB's 31-px patches would otherwise
leave only the middle of the image.

Needs OpenCV (``opencv-python-headless``), the ``zeroshot`` extra: ``pip install 'navgym[zeroshot]'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from navgym.core.checks import check_int, check_range
from navgym.errors import InvalidArgumentError

#: The extra that brings OpenCV.
EXTRA = "navgym[zeroshot]"


def require_cv2(what: str = "KeypointMatcher") -> Any:
    """``cv2``, or ``DependencyNotInstalled`` naming the ``zeroshot`` extra."""
    try:
        import cv2
    except ImportError as exc:
        import gymnasium as gym

        raise gym.error.DependencyNotInstalled(
            f"{what} needs OpenCV (opencv-python-headless): pip install '{EXTRA}'"
        ) from exc
    return cv2


@dataclass
class ImageFeatures:
    """Keypoints of one image: (N, 2) pixel coordinates (x, y) in the original image and their
    descriptors; compute once with :meth:`KeypointMatcher.features` and reuse (a goal image)."""

    points: np.ndarray
    descriptors: np.ndarray | None
    shape: tuple[int, int]

    def __len__(self) -> int:
        return len(self.points)


@dataclass
class MatchResult:
    """The outcome of matching two images.

    Attributes:
        keypoints: Keypoints found in each image.
        matches: Descriptor matches that passed the ratio test.
        inliers: Matches the RANSAC model explains.
        score: ``inliers / min(keypoints)`` in [0, 1] (0 when either image has no keypoint).
        model: The 3x3 homography or fundamental matrix, or ``None``.
        points_a, points_b: (inliers, 2) pixel coordinates of the inlier pairs.
    """

    keypoints: tuple[int, int]
    matches: int
    inliers: int
    score: float
    model: np.ndarray | None
    points_a: np.ndarray
    points_b: np.ndarray


class KeypointMatcher:
    """Keypoint matching with RANSAC verification (see the module docstring).

    Args:
        method: ``"orb"`` (fast, binary descriptors) or ``"sift"`` (slower, more robust).
        geometry: RANSAC model: ``"homography"`` or ``"fundamental"``.
        max_features: Keypoints kept per image.
        ratio: Lowe's ratio test threshold, in (0, 1]; default 0.8 for ORB (with the mutual check),
            0.7 for SIFT (0.8 let chance matches between rooms reach half the same-place inliers).
        ransac_threshold: Reprojection (homography) or epipolar (fundamental) error of an inlier,
            pixels of the original image.
        min_size: Images whose shorter side is smaller are upscaled to it (bilinear).
        min_matches: Fewer matches than this give no model and 0 inliers.
        seed: Seed of OpenCV's RNG, set before each RANSAC so results repeat.
    """

    def __init__(
        self,
        method: Literal["orb", "sift"] = "orb",
        geometry: Literal["homography", "fundamental"] = "homography",
        *,
        max_features: int = 1000,
        ratio: float | None = None,
        ransac_threshold: float = 3.0,
        min_size: int = 256,
        min_matches: int = 8,
        seed: int = 0,
    ):
        if method not in ("orb", "sift"):
            raise InvalidArgumentError(f"method={method!r} is not one of 'orb', 'sift'")
        if geometry not in ("homography", "fundamental"):
            raise InvalidArgumentError(f"geometry={geometry!r} is not one of 'homography', 'fundamental'")
        for name, value, low in (("max_features", max_features, 8), ("min_size", min_size, 16), ("min_matches", min_matches, 4)):
            check_int(name, value, low)
        self.cv2 = require_cv2()
        self.method = method
        self.geometry = geometry
        self.max_features = int(max_features)
        self.ratio = check_range("ratio", ratio if ratio is not None else (0.8 if method == "orb" else 0.7), 0.0, 1.0, low_open=True)
        self.ransac_threshold = check_range("ransac_threshold", ransac_threshold, 0.0, 100.0, low_open=True)
        self.min_size = int(min_size)
        self.min_matches = max(int(min_matches), 8 if geometry == "fundamental" else 4)
        self.seed = int(seed)
        cv2 = self.cv2
        if method == "orb":
            self._detector = cv2.ORB_create(nfeatures=self.max_features, fastThreshold=10)
            self._norm = cv2.NORM_HAMMING
        else:
            self._detector = cv2.SIFT_create(nfeatures=self.max_features)
            self._norm = cv2.NORM_L2

    def features(self, image: np.ndarray) -> ImageFeatures:
        """Keypoints and descriptors of an RGB (H, W, 3) or grey (H, W) uint8 image."""
        cv2 = self.cv2
        image = np.asarray(image)
        if image.ndim == 3:
            if image.shape[-1] != 3:
                raise ValueError(f"image has shape {image.shape}; expected (H, W, 3) RGB or (H, W) grey")
            grey = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
        elif image.ndim == 2:
            grey = np.ascontiguousarray(image, dtype=np.uint8)
        else:
            raise ValueError(f"image has shape {image.shape}; expected (H, W, 3) RGB or (H, W) grey")
        height, width = grey.shape
        scale = max(1.0, self.min_size / min(height, width))
        if scale > 1.0:
            grey = cv2.resize(grey, (int(round(width * scale)), int(round(height * scale))), interpolation=cv2.INTER_LINEAR)
        keypoints, descriptors = self._detector.detectAndCompute(grey, None)
        points = np.array([kp.pt for kp in keypoints], dtype=np.float64).reshape(-1, 2) / scale
        return ImageFeatures(points, descriptors, (height, width))

    def match(self, image_a: np.ndarray | ImageFeatures, image_b: np.ndarray | ImageFeatures) -> MatchResult:
        """Match two images (or their precomputed :class:`ImageFeatures`)."""
        fa = image_a if isinstance(image_a, ImageFeatures) else self.features(image_a)
        fb = image_b if isinstance(image_b, ImageFeatures) else self.features(image_b)
        counts = (len(fa), len(fb))
        empty = np.zeros((0, 2))
        pairs = self._ratio_matches(fa, fb)
        if len(pairs) < self.min_matches:
            return MatchResult(counts, len(pairs), 0, 0.0, None, empty, empty)
        pa = fa.points[pairs[:, 0]].astype(np.float32)
        pb = fb.points[pairs[:, 1]].astype(np.float32)
        cv2 = self.cv2
        cv2.setRNGSeed(self.seed)
        if self.geometry == "homography":
            model, inlier_mask = cv2.findHomography(pa, pb, cv2.RANSAC, self.ransac_threshold, maxIters=2000, confidence=0.995)
        else:
            model, inlier_mask = cv2.findFundamentalMat(pa, pb, cv2.FM_RANSAC, self.ransac_threshold, 0.995, 2000)
        if model is None or inlier_mask is None or model.shape != (3, 3):
            return MatchResult(counts, len(pairs), 0, 0.0, None, empty, empty)
        keep = inlier_mask.reshape(-1).astype(bool)
        inliers = int(keep.sum())
        score = float(min(1.0, inliers / min(counts))) if min(counts) else 0.0
        return MatchResult(counts, len(pairs), inliers, score, np.asarray(model, dtype=np.float64), pa[keep].astype(np.float64), pb[keep].astype(np.float64))

    def _ratio_matches(self, fa: ImageFeatures, fb: ImageFeatures) -> np.ndarray:
        """(M, 2) index pairs passing the ratio test (and, for ORB, mutual nearest neighbours)."""
        if fa.descriptors is None or fb.descriptors is None or len(fa) < 2 or len(fb) < 2:
            return np.zeros((0, 2), dtype=np.int64)
        matcher = self.cv2.BFMatcher(self._norm)
        knn = matcher.knnMatch(fa.descriptors, fb.descriptors, k=2)
        pairs = [(m[0].queryIdx, m[0].trainIdx) for m in knn if len(m) == 2 and m[0].distance < self.ratio * m[1].distance]
        if self.method == "orb" and pairs:
            backward = {m[0].queryIdx: m[0].trainIdx for m in matcher.knnMatch(fb.descriptors, fa.descriptors, k=1) if m}
            pairs = [(a, b) for a, b in pairs if backward.get(b) == a]
        return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
