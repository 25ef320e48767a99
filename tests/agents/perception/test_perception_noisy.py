"""Noisy perception: observed rates match the configured ones over many seeded draws."""

from __future__ import annotations

import numpy as np
import pytest

from navgym.agents.mapping import Pose2D
from navgym.agents.perception import DEFAULT_CONFUSION_SETS, Detection, NoisyPerception
from navgym.core.specs import CameraSpec
from navgym.errors import InvalidArgumentError

CAMERA = CameraSpec(width=32, height=32, hfov=90.0, camera_height=1.0, max_depth=5.0)
#: Six confusable categories and four that no default set holds.
CATEGORIES = ("chair", "table", "tv_monitor", "sink", "plant", "cabinet", "door", "window", "rug", "stairs")


class FixedPerception:
    """Ten detections every frame, at known positions (an inner backend whose truth is known)."""

    privileged = True
    camera = CAMERA

    def _detections(self, frame):
        return [
            Detection(category, instance_id=i + 1, position=np.array([i, 0.5, -2.0]), extent=(np.array([i - 0.2, 0.0, -2.2]), np.array([i + 0.2, 1.0, -1.8])), frame=frame)
            for i, category in enumerate(CATEGORIES)
        ]

    def detect(self, obs, pose, pitch=0.0):
        return self._detections("start")

    def detect_image(self, rgb, depth=None, *, hfov=None, semantic=None):
        return self._detections("camera")


def obs_with_depth():
    depth = np.full((32, 32, 1), 3.0, dtype=np.float32)
    depth[:, :8] = 5.0  # no return: false positives must not land there
    return {"depth": depth}


def run(noisy, frames=2000):
    obs, pose = obs_with_depth(), Pose2D(0.0, 0.0, 0.0)
    return [noisy.detect(obs, pose) for _ in range(frames)]


def test_rates_match_the_configuration_over_many_draws():
    noisy = NoisyPerception(FixedPerception(), seed=3, miss_rate=0.2, false_positives_per_frame=1.5, confusion_rate=0.3, position_noise=0.1, height_noise=0.02)
    out = run(noisy)
    counts, rates = noisy.counts, noisy.rates()
    assert counts["frames"] == 2000 and counts["detections_in"] == 20000
    # Binomial / Poisson standard errors: 0.003 (misses), 0.005 (confusions), 0.03 (false positives per frame).
    assert abs(rates["miss_rate"] - 0.2) < 0.015
    assert abs(rates["confusion_rate"] - 0.3) < 0.025
    assert abs(rates["false_positives_per_frame"] - 1.5) < 0.1
    assert counts["emitted"] == sum(len(f) for f in out) == counts["detections_in"] - counts["missed"] + counts["false_positives"]
    kept = [d for frame in out for d in frame if d.source != "false_positive"]
    # Confusions stay within their set; the four categories outside every set never change.
    groups = {c: g for g in DEFAULT_CONFUSION_SETS for c in g}
    for det in kept:
        truth = CATEGORIES[det.instance_id - 1]
        assert det.category == truth or det.category in groups[truth]
        if truth not in groups:
            assert det.category == truth
    assert counts["confusable"] == sum(1 for d in kept if CATEGORIES[d.instance_id - 1] in groups)
    # Position noise: x and z shifts with the configured spread, y with its own; extents move along.
    shifts = np.array([d.position - np.array([d.instance_id - 1, 0.5, -2.0]) for d in kept])
    np.testing.assert_allclose(shifts.std(axis=0), [0.1, 0.02, 0.1], rtol=0.05)
    assert abs(shifts.mean(axis=0)).max() < 0.005
    for det in kept[:50]:
        np.testing.assert_allclose((det.extent[0] + det.extent[1]) / 2, det.position + [0, 0, 0], atol=1e-9)
    print(f"noisy perception over 2000 frames: {rates}")


def test_false_positives_land_where_the_camera_sees_something():
    noisy = NoisyPerception(FixedPerception(), seed=1, false_positives_per_frame=2.0, false_positive_categories=("bed",))
    fps = [d for frame in run(noisy, 300) for d in frame if d.source == "false_positive"]
    assert fps and all(d.category == "bed" and d.instance_id is None and 0.2 <= d.confidence <= 0.6 for d in fps)
    assert all(d.box[0] >= 8 - 2 for d in fps)  # never on the no-return columns
    # A point at 3 m z-depth: 3 m ahead (the camera looks along -z at yaw 0), 1 m up +- the pixel's ray.
    assert all(abs(d.position[2] + 3.0) < 1e-6 for d in fps)


def test_same_seed_same_noise_other_seed_other_noise():
    def signature(seed):
        noisy = NoisyPerception(FixedPerception(), seed=seed, miss_rate=0.3, confusion_rate=0.5, false_positives_per_frame=1.0, position_noise=0.05)
        return [(d.category, d.instance_id, tuple(np.round(d.position, 9))) for frame in run(noisy, 50) for d in frame]

    assert signature(7) == signature(7)
    assert signature(7) != signature(8)
    noisy = NoisyPerception(FixedPerception(), seed=7, miss_rate=0.3)
    first = run(noisy, 20)
    noisy.reset_noise()
    assert [len(f) for f in run(noisy, 20)] == [len(f) for f in first] and noisy.counts["frames"] == 20


def test_ids_dropped_on_request_and_goal_images_corrupted_too():
    noisy = NoisyPerception(FixedPerception(), seed=0, drop_instance_ids=True, miss_rate=0.5)
    assert all(d.instance_id is None for frame in run(noisy, 20) for d in frame)
    images = [noisy.detect_image(np.zeros((32, 32, 3), np.uint8)) for _ in range(200)]
    assert 0.4 < 1 - sum(map(len, images)) / (200 * len(CATEGORIES)) < 0.6
    assert noisy.privileged  # it wraps a privileged backend


def test_bad_settings_are_refused():
    with pytest.raises(InvalidArgumentError, match="miss_rate"):
        NoisyPerception(FixedPerception(), miss_rate=1.5)
    with pytest.raises(InvalidArgumentError, match="disjoint"):
        NoisyPerception(FixedPerception(), confusion_sets=[{"chair", "sofa"}, {"sofa", "bed"}])
    with pytest.raises(InvalidArgumentError, match="false_positive_categories"):
        NoisyPerception(FixedPerception(), false_positives_per_frame=1.0, confusion_sets=[], false_positive_categories=None)
