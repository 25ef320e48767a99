"""RSRNav's perception and relationship step as a stable-baselines3 features extractor.

One weight-shared ResNet-9-style CNN (no pre-training) encodes the egocentric ``rgb`` image and the
``imagegoal`` image; a *head* turns the two encodings into the "cue" the recurrent policy reads:

============  =============================================================  ===================
head          cue (paper section)                                            cue size (default)
============  =============================================================  ===================
baseline      ZER-style: the two global feature vectors, concatenated        2·C = 256
baseline_map  "Baseline*": the two 4x4 feature maps concatenated along        32·4·4 = 512
              channels, fused by one 3x3 convolution
minimalist    two normalised dot products, left and right halves (3.3.1)     2
dense         all-pairs cross-correlation of 4x4 maps, flattened (3.3.2)     16·16 = 256
direction     16x16 maps, 3-level correlation pyramid, centre-based          32·4·4 = 512
              direction-aware look-up of radius r, fused by convs (3.3.3)
============  =============================================================  ===================

C is the trunk's last width (``8 * base_channels``; 128 by default). :class:`RSRNavEncoder` ends
with ``Linear(cue, features_dim) + ReLU``, the input layer of the paper's policy network
(the authors' code calls it ``visual_fc``), so every head hands the LSTM ``features_dim`` numbers.
"""

from __future__ import annotations

import functools
import hashlib
import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from cachetools import LRUCache
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from navgym.core.options import choice

#: The heads :class:`RSRNavEncoder` can build, with a one-line description each.
HEADS: dict[str, str] = {
    "baseline": "ZER baseline: concatenated global feature vectors of observation and goal",
    "baseline_map": "Baseline*: concatenated 4x4 feature maps, fused by a convolution",
    "minimalist": "Minimalist relationship: two normalised dot-product scores (left and right halves)",
    "dense": "Dense relationship: all-pairs cross-correlation of 4x4 feature maps",
    "direction": "Direction-aware relationship: 16x16 correlation pyramid, centre-based look-up, conv fusion",
}
#: ``precision`` names and the dtype the trunk and head compute in.
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}
#: What :meth:`RSRNavEncoder.freeze` can hold fixed: nothing, the ResNet-9 trunk, or the whole
#: encoder (trunk, relationship head and input layer).
FREEZE_PARTS = ("none", "trunk", "encoder")
#: Feature-map side each head asks of the trunk at 128x128 input (1/32 or 1/8 of the image).
FEATURE_MAP_STRIDE = {"baseline": 32, "baseline_map": 32, "minimalist": 32, "dense": 32, "direction": 8}


# -- the shared trunk --------------------------------------------------------------------------------
class BasicBlock(nn.Module):
    """Two 3x3 convolutions with GroupNorm and a (1x1, strided) shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, groups: int):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.GroupNorm(groups, out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.GroupNorm(groups, out_channels),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.AvgPool2d(stride) if stride != 1 else nn.Identity(),
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                nn.GroupNorm(groups, out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.convs(x) + self.shortcut(x))


class ResNet9(nn.Module):
    """A ResNet-9-style trunk: a stem plus four basic blocks (9 convolutions), no pre-training.

    The stem is a 4x4 space-to-depth followed by a 1x1 convolution (as in the fast ResNet-9 of
    ZER/FGPrompt/RSRNav's code), so the blocks start at 1/4 of the image; the blocks' strides give
    the output stride: 8 (blocks 1, 2, 1, 1: 16x16 maps at 128 px) or 32 (1, 2, 2, 2: 4x4 maps).
    At stride 8 the authors' code downsamples in the last block instead (1, 1, 1, 2); navgym
    downsamples in the second, which is 2.7x cheaper on a CPU for the same output size.

    Args:
        base_channels: Width of the first block; the blocks are 1, 2, 4, 8 times as wide
            (the paper's text does not give it; navgym's default 16 keeps CPU training affordable).
        output_stride: 8 or 32.
    """

    def __init__(self, base_channels: int = 16, output_stride: int = 32, in_channels: int = 3):
        super().__init__()
        if output_stride not in (8, 32):
            raise ValueError(f"output_stride={output_stride!r} is not supported; use 8 (16x16 maps at 128 px) or 32 (4x4 maps)")
        if base_channels < 4 or base_channels % 4:
            raise ValueError(f"base_channels={base_channels!r} must be a positive multiple of 4 (GroupNorm groups)")
        widths = [base_channels * m for m in (1, 2, 4, 8)]
        strides = (1, 2, 1, 1) if output_stride == 8 else (1, 2, 2, 2)
        groups = base_channels // 2
        self.stem = nn.Sequential(
            nn.PixelUnshuffle(4),
            nn.Conv2d(in_channels * 16, base_channels, 1, bias=False),
            nn.GroupNorm(groups, base_channels),
            nn.ReLU(inplace=True),
        )
        blocks, previous = [], base_channels
        for width, stride in zip(widths, strides):
            blocks.append(BasicBlock(previous, width, stride, groups))
            previous = width
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = widths[-1]
        self.output_stride = output_stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Channels-last activations make oneDNN's CPU convolutions ~20% faster (benchmarks/train_speed.py).
        return self.blocks(self.stem(x).contiguous(memory_format=torch.channels_last)).contiguous()


# -- correlations (pure functions, tested against loop references) ---------------------------------
def all_pairs_correlation(observation: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
    """Eq. (1): ``C[b, i, j, k, l] = <F_o[b, :, i, j], F_g[b, :, k, l]> / sqrt(D)``.

    Args:
        observation, goal: Feature maps (B, D, H, W).

    Returns:
        (B, H, W, H, W): the similarity of every observation point to every goal point. The
        ``1/sqrt(D)`` scale keeps values O(1) at any width (the authors' code uses it too).
    """
    b, d, h, w = observation.shape
    corr = torch.einsum("bdn,bdm->bnm", observation.reshape(b, d, h * w), goal.reshape(b, d, h * w))
    return corr.reshape(b, h, w, h, w) / math.sqrt(d)


def correlation_pyramid(corr: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Eq. (3): ``C^0 = C`` and ``C^k`` = 2x2 average pooling of ``C^{k-1}`` over the goal's two dims.

    Args:
        corr: (B, H, W, H, W) from :func:`all_pairs_correlation`.
        levels: Number of levels (the paper's 3 at 16x16 maps: 16, 8 and 4 goal cells per side).

    Returns:
        ``levels`` tensors shaped (B·H·W, 1, H/2^k, W/2^k): one goal-side map per observation point.
    """
    b, h, w, hg, wg = corr.shape
    if levels < 1 or min(hg, wg) // 2 ** (levels - 1) < 2:
        raise ValueError(f"levels={levels!r} is out of range for {hg}x{wg} goal maps; the coarsest level needs at least 2x2 cells")
    level = corr.reshape(b * h * w, 1, hg, wg)
    pyramid = [level]
    for _ in range(levels - 1):
        level = F.avg_pool2d(level, 2, stride=2)
        pyramid.append(level)
    return pyramid


def direction_lookup(pyramid: list[torch.Tensor], height: int, width: int, radius: int) -> torch.Tensor:
    """Eq. (4): the centre-based, direction-aware look-up into each pyramid level.

    For observation point ``x = (i, j)`` and level ``k`` the searching region is the
    (2r+1)x(2r+1) square of goal cells centred on ``x / 2^k`` (the point's own position in that
    level's coordinates), ``N_k(x) = {x / 2^k + (dy, dx) : dy, dx in [-r, r]}``. Each entry is the
    level's correlation read at that sub-cell position by bilinear interpolation, 0 outside the
    map. So entry ``(dy, dx)`` says how much point ``x`` of the observation looks like the goal
    ``(dy, dx)`` cells away: a displacement, i.e. a direction.

    Args:
        pyramid: From :func:`correlation_pyramid`, built from a batch of B (height x width) maps.
        height, width: The observation map's size.
        radius: r.

    Returns:
        (B, L·(2r+1)², height, width): per point, level 0's (2r+1)² values (row offset major,
        column offset minor), then level 1's, and so on.
    """
    if radius < 0:
        raise ValueError(f"radius={radius!r} must be >= 0")
    n = pyramid[0].shape[0]
    batch = n // (height * width)
    device, dtype = pyramid[0].device, pyramid[0].dtype
    rows = torch.arange(height, device=device, dtype=dtype).repeat_interleave(width)
    cols = torch.arange(width, device=device, dtype=dtype).repeat(height)
    offsets = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    dy, dx = torch.meshgrid(offsets, offsets, indexing="ij")
    out = []
    for k, level in enumerate(pyramid):
        hk, wk = level.shape[-2:]
        y = rows[:, None, None] / 2**k + dy  # (H·W, 2r+1, 2r+1) in level-k cell coordinates
        x = cols[:, None, None] / 2**k + dx
        # grid_sample with align_corners=True maps -1..1 onto the first..last cell centres.
        grid = torch.stack((2 * x / (wk - 1) - 1, 2 * y / (hk - 1) - 1), dim=-1).repeat(batch, 1, 1, 1)
        sampled = F.grid_sample(level, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        out.append(sampled.reshape(batch, height, width, -1))
    return torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous()


@functools.lru_cache(maxsize=8)
def lookup_matrix(height: int, width: int, levels: int, radius: int) -> torch.Tensor:
    """The pyramid and the look-up as one fixed linear map of each point's correlation row.

    Pooling (eq. 3) and bilinear sampling with zero padding (eq. 4) are both linear in the
    correlation, and observation point ``n`` only ever reads its own row ``C[n, :]``, so
    ``direction_lookup(correlation_pyramid(C))[:, k, n] = C[n, :] @ M[n, :, k]``. ``M`` is built by
    running those two functions once on the basis rows (so it is their map, not a re-derivation).

    Returns:
        (H·W, H·W, levels·(2r+1)²) float32 on the CPU, cached per shape (7 MB at 16x16, r = 1).

    Raises:
        ValueError: from those functions, for ``levels`` or ``radius`` out of range.
    """
    points = height * width
    basis = torch.eye(points).reshape(points, 1, 1, height, width).expand(points, height, width, height, width)
    looked_up = direction_lookup(correlation_pyramid(basis, levels), height, width, radius)  # (goal cell, k, H, W)
    return looked_up.flatten(2).permute(2, 0, 1).contiguous()


@functools.lru_cache(maxsize=8)
def _scaled_lookup_matrix(height: int, width: int, levels: int, radius: int, channels: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """:func:`lookup_matrix` times eq. (1)'s ``1/sqrt(D)`` (applied to the small map instead of the
    (B, H·W, H·W) correlation), on ``device`` in ``dtype``."""
    return (lookup_matrix(height, width, levels, radius) / math.sqrt(channels)).to(device=device, dtype=dtype)


def direction_correlation(observation: torch.Tensor, goal: torch.Tensor, levels: int = 3, radius: int = 1) -> torch.Tensor:
    """Eqs. (1), (3), (4) together: (B, D, H, W) maps -> (B, levels·(2r+1)², H, W) correlation vectors.

    Equal to ``direction_lookup(correlation_pyramid(all_pairs_correlation(...)))`` up to float
    rounding, but computed as one small matrix product per observation point
    (:func:`lookup_matrix`): no pooled copies of the (B, H, W, H, W) volume, and 2-3x less time
    for the head's forward and backward passes at 16x16 maps.
    """
    b, _, h, w = observation.shape
    if goal.shape[2:] != observation.shape[2:]:
        return direction_lookup(correlation_pyramid(all_pairs_correlation(observation, goal), levels), h, w, radius)
    d = observation.shape[1]
    matrix = _scaled_lookup_matrix(h, w, levels, radius, d, observation.device, observation.dtype)
    corr = torch.bmm(observation.reshape(b, d, h * w).transpose(1, 2), goal.reshape(b, d, h * w))  # (B, H·W, H·W), unscaled
    looked_up = torch.bmm(corr.transpose(0, 1), matrix)  # (H·W, B, k): point n's row times its own map
    return looked_up.permute(1, 2, 0).reshape(b, -1, h, w)


# -- heads ---------------------------------------------------------------------------------------
class BaselineHead(nn.Module):
    """ZER's baseline: a global feature vector per image (average over the 4x4 map), concatenated.

    Semantic vectors without spatial layout: what the paper argues cannot tell the agent where the
    goal lies.
    """

    def __init__(self, channels: int, map_size: int):
        super().__init__()
        self.cue_dim = 2 * channels

    def forward(self, observation: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return torch.cat((observation.mean(dim=(2, 3)), goal.mean(dim=(2, 3))), dim=1)


class BaselineMapHead(nn.Module):
    """Baseline*: the two feature maps concatenated along channels (spatial layout kept), fused by
    a 3x3 convolution to 32 channels and flattened."""

    def __init__(self, channels: int, map_size: int, fused_channels: int = 32):
        super().__init__()
        self.fuse = nn.Sequential(nn.Conv2d(2 * channels, fused_channels, 3, padding=1), nn.ReLU(inplace=True))
        self.cue_dim = fused_channels * map_size * map_size

    def forward(self, observation: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat((observation, goal), dim=1)).flatten(1)


class MinimalistHead(nn.Module):
    """Section 3.3.1: the cosine similarity of the observation's and the goal's left-half vectors,
    and of their right-half vectors (each vector averages its half of the 4x4 map)."""

    cue_dim = 2

    def __init__(self, channels: int, map_size: int):
        super().__init__()

    @staticmethod
    def halves(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        half = features.shape[3] // 2
        return features[..., :half].mean(dim=(2, 3)), features[..., features.shape[3] - half :].mean(dim=(2, 3))

    def forward(self, observation: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        (obs_left, obs_right), (goal_left, goal_right) = self.halves(observation), self.halves(goal)
        return torch.stack((F.cosine_similarity(obs_left, goal_left, dim=1), F.cosine_similarity(obs_right, goal_right, dim=1)), dim=1)


class DenseHead(nn.Module):
    """Section 3.3.2, eqs. (1)-(2): the all-pairs correlation of the 4x4 maps, flattened (256 values)."""

    def __init__(self, channels: int, map_size: int):
        super().__init__()
        self.cue_dim = map_size**4

    def forward(self, observation: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return all_pairs_correlation(observation, goal).flatten(1)


class DirectionHead(nn.Module):
    """Section 3.3.3, eqs. (3)-(5): correlation pyramid, direction-aware look-up, convolutional fusion.

    Where the paper's text leaves a choice (its formulas are lost in navgym's copy), navgym follows
    the paper's Fig. 3 and the authors' public code (``CorrBlock`` / ``MotionEncoder`` in
    ``src/models.py`` of github.com/qinzheng2000/CompNav), re-implemented:

    * the correlation is scaled by ``1/sqrt(D)``;
    * the pyramid pools the goal's dims with 2x2 average pooling, 3 levels (16, 8, 4 cells);
    * "centre-based" = the square is centred on the observation point's own position scaled to the
      level, ``x / 2^k`` (RAFT's convention with zero flow), read by bilinear interpolation with zero
      padding; radius r = 1 by default (the authors' value; the paper does not print it);
    * the fusion is conv1x1 → 64, conv3x3/2 → 64, conv3x3/2 → 32 with ReLUs: 32x4x4 = 512 values
      at 16x16 maps.

    Args:
        levels: Pyramid levels (the paper's Table 6 best: 3).
        radius: Look-up radius r.
    """

    def __init__(self, channels: int, map_size: int, levels: int = 3, radius: int = 1):
        super().__init__()
        if map_size // 2 ** (levels - 1) < 2:
            raise ValueError(f"levels={levels!r} is too many for {map_size}x{map_size} maps; at most {int(math.log2(map_size))}")
        if not 0 <= radius <= map_size:
            raise ValueError(f"radius={radius!r} is out of range; allowed 0..{map_size}")
        self.levels, self.radius = levels, radius
        lookup_channels = levels * (2 * radius + 1) ** 2
        self.fuse = nn.Sequential(
            nn.Conv2d(lookup_channels, 64, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 32, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
        )
        side = (map_size + 3) // 4
        self.cue_dim = 32 * side * side

    def forward(self, observation: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return self.fuse(direction_correlation(observation, goal, self.levels, self.radius)).flatten(1)


#: Values per image that :func:`unique_images` fingerprints (it then compares all of them).
FINGERPRINT_VALUES = 4096


@functools.lru_cache(maxsize=8)
def _fingerprint_probe(size: int, device: str) -> torch.Tensor:
    """Fixed random integer weights in [1, 1024) for :func:`unique_images`' fingerprints (made
    once per size)."""
    return torch.randint(1, 1024, (size,), generator=torch.Generator().manual_seed(0), dtype=torch.int64).to(device)


def unique_images(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The distinct images of a batch and, for each row, the index of its image among them.

    Rows are grouped by a fingerprint and then compared exactly, so the result is exact:
    ``unique[inverse]`` equals ``images``. The fingerprint is an integer weighted sum of the
    pixels' float32 bit patterns: exact integer arithmetic, so identical rows always get identical
    fingerprints (a float matrix product did not: BLAS kernels sum rows in different orders, and
    the last bits of identical rows differed on some CPUs). Returns ``(images, None)`` when every
    row is distinct (or, never in practice, when two different images share a fingerprint).
    """
    n = images.shape[0]
    if n < 2:
        return images, None
    flat = images.reshape(n, -1)
    # The fingerprint reads an evenly spaced subset of at most FINGERPRINT_VALUES values per row
    # (the exact comparison below still reads all of them): converting every value to int64 took
    # a tenth of a PPO update with the direction head.
    sampled = flat[:, :: max(1, flat.shape[1] // FINGERPRINT_VALUES)]
    probe = _fingerprint_probe(sampled.shape[1], str(flat.device))
    # |bits| < 2^31, weights < 2^10, rows < 2^22 values: the sum stays far inside int64.
    bits = sampled.detach().float().contiguous().view(torch.int32).long()
    keys, inverse = torch.unique((bits * probe).sum(dim=1), return_inverse=True)
    if keys.shape[0] == n:
        return images, None
    first = torch.full((keys.shape[0],), n, dtype=torch.long, device=flat.device)
    first.scatter_reduce_(0, inverse, torch.arange(n, device=flat.device), reduce="amin")
    unique = images[first]
    if not torch.equal(unique.reshape(keys.shape[0], -1)[inverse], flat):
        return images, None
    return unique, inverse


_HEAD_CLASSES: dict[str, Callable[..., nn.Module]] = {
    "baseline": BaselineHead,
    "baseline_map": BaselineMapHead,
    "minimalist": MinimalistHead,
    "dense": DenseHead,
    "direction": DirectionHead,
}


# -- the SB3 features extractor ------------------------------------------------------------------------
def _image_shape(space: spaces.Space, key: str) -> tuple[int, int, int]:
    """(C, H, W) of an image space given channel-first (SB3 transposes) or channel-last."""
    if not isinstance(space, spaces.Box) or len(space.shape) != 3:
        raise ValueError(f"observation_space[{key!r}] must be an image Box (H, W, 3) or (3, H, W); got {space}")
    shape = tuple(int(n) for n in space.shape)
    if shape[0] in (1, 3, 4):
        return shape
    return (shape[2], shape[0], shape[1])


class RSRNavEncoder(BaseFeaturesExtractor):
    """The weight-shared ResNet-9 on ``rgb`` and ``imagegoal``, a relationship head, and the policy's
    input layer: ``Linear(head.cue_dim, features_dim) + ReLU``.

    Pass it to SB3 with ``policy_kwargs={"features_extractor_class": RSRNavEncoder,
    "features_extractor_kwargs": {"head": "direction"}}``. SB3 hands it images as float (B, 3, H, W)
    in [0, 1] (it transposes channel-last spaces and divides by 255); uint8 images in [0, 255]
    are taken too and converted the same way (navgym's
    :class:`~navgym.agents.rsrnav.policy.RSRNavLstmPolicy` passes them so, to convert only what
    is computed).

    Args:
        observation_space: A Dict with ``rgb`` and ``imagegoal`` images of the same size.
        head: One of :data:`HEADS`.
        features_dim: Output size (the paper's policy embedding: 128).
        base_channels: Trunk width (see :class:`ResNet9`).
        levels, radius: The direction head's pyramid levels and look-up radius.
        cue_norm: Put a ``LayerNorm`` over the cue before the input layer (not in the paper; off
            by default, so older checkpoints load unchanged). Without it the direction head's cue
            was far off the input layer's scale and BC stalled; with it the head learns
            (docs/results/rsrnav_log.md, "Normalising the cue").
        precision: ``"float32"`` (default) or ``"bfloat16"``: the trunk and head run under
            ``torch.autocast`` in bfloat16 (weights and the cue stay float32). Faster on CPUs with
            AMX or AVX-512 BF16 for the direction head; slower elsewhere (docs/results/rsrnav_log.md,
            Training speed).
    """

    #: Goal images whose features are kept while acting (a few per env is plenty).
    GOAL_CACHE_SIZE = 64
    #: Images (``freeze("trunk")``) or observation-goal pairs (``freeze("encoder")``) whose frozen
    #: features are kept at least (``freeze``'s ``rollout_size`` may ask for more): more than a
    #: rollout of ``n_steps * n_envs`` (256 by default), so a PPO update reuses what acting
    #: computed. 128 MB for the direction head's 16x16 trunk maps in float32.
    FROZEN_CACHE_SIZE = 1024

    def __init__(
        self,
        observation_space: spaces.Dict,
        head: str = "direction",
        features_dim: int = 128,
        base_channels: int = 16,
        levels: int = 3,
        radius: int = 1,
        cue_norm: bool = False,
        precision: str = "float32",
    ):
        if head not in HEADS:
            raise ValueError(f"head={head!r} is not an RSRNav head; valid heads are {list(HEADS)}")
        choice("precision", precision, list(PRECISIONS))
        if not isinstance(observation_space, spaces.Dict) or not {"rgb", "imagegoal"} <= set(observation_space.spaces):
            raise ValueError("RSRNavEncoder needs a Dict observation space with 'rgb' and 'imagegoal' (an ImageNav env)")
        rgb_shape, goal_shape = _image_shape(observation_space["rgb"], "rgb"), _image_shape(observation_space["imagegoal"], "imagegoal")
        if rgb_shape != goal_shape:
            raise ValueError(f"'rgb' {rgb_shape} and 'imagegoal' {goal_shape} must have the same shape for the shared encoder")
        stride = FEATURE_MAP_STRIDE[head]
        if rgb_shape[1] != rgb_shape[2] or rgb_shape[1] % stride or rgb_shape[1] // stride < 2:
            raise ValueError(f"head={head!r} needs square images whose side is a multiple of {stride} (at least {2 * stride}); got {rgb_shape[1:]}")
        super().__init__(observation_space, features_dim)
        self.head_name = head
        self.trunk = ResNet9(base_channels=base_channels, output_stride=stride, in_channels=rgb_shape[0])
        self.map_size = rgb_shape[1] // stride
        kwargs = {"levels": levels, "radius": radius} if head == "direction" else {}
        self.head = _HEAD_CLASSES[head](self.trunk.out_channels, self.map_size, **kwargs)
        norm = [nn.LayerNorm(self.head.cue_dim)] if cue_norm else []
        self.projection = nn.Sequential(*norm, nn.Linear(self.head.cue_dim, features_dim), nn.ReLU(inplace=True))
        self._channels_last = observation_space["rgb"].shape != rgb_shape
        self.precision = precision
        self.frozen = "none"
        self._frozen_capacity = self.FROZEN_CACHE_SIZE
        self._frozen_cache: LRUCache = LRUCache(self._frozen_capacity)
        self._frozen_version: int | None = None

    def freeze(self, part: str = "encoder", rollout_size: int = 0) -> None:
        """Hold ``part`` of the encoder fixed (for fine-tuning a cloned policy with PPO):
        ``"trunk"`` (the ResNet-9), ``"encoder"`` (the trunk, the relationship head and the input
        layer: PPO then trains only the recurrent cores and the action and value layers) or
        ``"none"`` (undo).

        The frozen parameters get ``requires_grad=False`` (optimisers leave them), and their
        output is computed without gradients and kept per input (the trunk's per image, the
        encoder's per observation-goal pair; keyed by the SHA-256 of the float input), so a PPO
        update reads the features its rollout already computed instead of running the trunk
        again. The cache keeps the last ``max(FROZEN_CACHE_SIZE, 2 * rollout_size)`` inputs
        (pass PPO's ``n_steps * n_envs``: a rollout's observations and its goals); a miss is
        computed again, so the size changes speed, never values. Values are those of the
        unfrozen encoder; only gradients into the frozen part are gone. Loading weights (which
        changes the frozen parameters in place) empties the cache.
        """
        part = choice("part", part, list(FREEZE_PARTS))
        self._frozen_capacity = max(self.FROZEN_CACHE_SIZE, 2 * int(rollout_size))
        for parameter in self.parameters():
            parameter.requires_grad_(True)
        frozen = self._frozen_module(part)
        if frozen is not None:
            for parameter in frozen.parameters():
                parameter.requires_grad_(False)
        self.frozen = part
        self._frozen_cache = LRUCache(self._frozen_capacity)
        self._frozen_version = None

    def _weights_version(self, module: nn.Module) -> int:
        """Sum of ``module``'s parameters' version counters (any in-place change, an optimiser
        step or a load, raises it). The parameter list is kept per module object: walking the
        module tree every acting step cost about 1 ms."""
        lists = self.__dict__.setdefault("_parameter_lists", {})
        entry = lists.get(id(module))
        if entry is None or entry[0] is not module:
            entry = lists[id(module)] = (module, tuple(module.parameters()))
        return sum(p._version for p in entry[1])

    def _frozen_module(self, part: str) -> nn.Module | None:
        return {"none": None, "trunk": self.trunk, "encoder": self}[part]

    def _frozen_rows(self, keys: list[bytes], compute: Callable[[list[int]], torch.Tensor]) -> torch.Tensor:
        """Rows of the frozen part's output for inputs with SHA-256 ``keys``: cached ones reused,
        the others computed by ``compute(indices)`` without gradients and cached."""
        module = self._frozen_module(self.frozen)
        version = self._weights_version(module)
        if self._frozen_version != version:
            self._frozen_cache = LRUCache(self._frozen_capacity)
            self._frozen_version = version
        out: list[torch.Tensor | None] = [None] * len(keys)
        missing = []
        for i, key in enumerate(keys):
            hit = self._frozen_cache.get(key)  # (a hit becomes the most recently used)
            if hit is None:
                missing.append(i)
            else:
                out[i] = hit
        if missing:
            with torch.no_grad():
                computed = compute(missing)
            for i, row in zip(missing, computed):
                out[i] = row
                self._frozen_cache[keys[i]] = row
        return torch.stack(out)

    @property
    def cue_dim(self) -> int:
        """Size of the head's cue (before the input layer)."""
        return int(self.head.cue_dim)

    def cue(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        """The head's output: what the paper passes to the policy network (float32)."""
        device = observations["rgb"].device.type
        with torch.autocast(device, dtype=PRECISIONS[self.precision], enabled=self.precision != "float32"):
            return self._cue(observations).float()

    def _cue(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        rgb = self._nchw(_unit(observations["rgb"]))
        if self.frozen != "trunk" and not torch.is_grad_enabled():
            # Acting step by step: the goal's features come from a cache (see _goal_features),
            # which reads the goal images as observed and converts only the ones it computes.
            return self.head(self.trunk(rgb), self._goal_features(observations["imagegoal"]))
        goal = self._nchw(_unit(observations["imagegoal"]))
        # The goal image is the same for a whole episode, so a batch of rollout steps holds few
        # distinct goals: encode each once (same values and gradients as encoding every row).
        unique_goals, inverse = unique_images(goal)
        images = torch.cat((rgb, unique_goals), dim=0)  # one pass: the weights are shared
        if self.frozen == "trunk":
            # The frozen trunk's features come from the rollout that acted on these images (or
            # are computed once without gradients); the head still trains on them.
            features = self._frozen_rows(_row_keys(images), lambda rows: self.trunk(images[rows]))
        else:
            features = self.trunk(images)
        observation_features, goal_features = features[: rgb.shape[0]], features[rgb.shape[0] :]
        return self.head(observation_features, goal_features if inverse is None else goal_features[inverse])

    def _nchw(self, images: torch.Tensor) -> torch.Tensor:
        """Images in the trunk's (N, C, H, W) layout (observed channels-last ones permuted)."""
        return images.permute(0, 3, 1, 2) if self._channels_last else images

    def _goal_features(self, goal: torch.Tensor) -> torch.Tensor:
        """Trunk features of goal images (as observed: uint8, or float when SB3 converted them)
        without gradients, cached per image while the trunk's weights are unchanged (tensor
        version counters: any optimiser step or load clears it). Keys hash each row's observed
        bytes (one host copy for the batch); only the rows not cached are converted and encoded."""
        version = self._weights_version(self.trunk)
        if getattr(self, "_cache_version", None) != version or goal.device != getattr(self, "_cache_device", goal.device):
            self._cache: LRUCache = LRUCache(self.GOAL_CACHE_SIZE)  # (dtype, digest) -> (image, features)
            self._cache_version, self._cache_device = version, goal.device
        rows = goal.detach().contiguous().cpu().numpy()
        out: list[torch.Tensor | None] = [None] * goal.shape[0]
        missing = []
        for i, row in enumerate(rows):
            key = (str(goal.dtype), hashlib.blake2b(row.data, digest_size=16).digest())
            hit = self._cache.get(key)  # (a hit becomes the most recently used)
            if hit is not None and np.array_equal(hit[0], row):
                out[i] = hit[1]
            else:
                missing.append((i, key))
        if missing:
            indices = [i for i, _ in missing]
            features = self.trunk(self._nchw(_unit(goal[indices])))
            for (i, key), feature in zip(missing, features):
                out[i] = feature
                self._cache[key] = (rows[i].copy(), feature)
        return torch.stack(out)

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.training:
            # sb3-contrib's recurrent PPO pads each minibatch's sequences to one length with
            # all-zero observations and masks them out of the losses; early in training (many
            # short episodes) most of a minibatch can be padding. Skip those rows: they get zero
            # features. (Only while training: a real all-black observation *and* goal never
            # occurs in navgym's scenes, and at worst would be one sample with a zero feature.)
            rgb, goal = observations["rgb"], observations["imagegoal"]
            real = rgb.flatten(1).any(dim=1) | goal.flatten(1).any(dim=1)
            if not bool(real.all()):
                features = torch.zeros((rgb.shape[0], self.features_dim), device=rgb.device)
                if bool(real.any()):
                    features[real] = self._features(rgb[real], goal[real])
                return features
        return self._features(observations["rgb"], observations["imagegoal"])

    def _features(self, rgb: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        if self.frozen == "encoder":
            unique_goals, inverse = unique_images(goal)  # a batch holds few goals: hash each once
            goal_keys = _row_keys(unique_goals)
            if inverse is not None:
                goal_keys = [goal_keys[i] for i in inverse.tolist()]
            keys = [a + b for a, b in zip(_row_keys(rgb), goal_keys)]
            return self._frozen_rows(keys, lambda rows: self.projection(self.cue({"rgb": rgb[rows], "imagegoal": goal[rows]})))
        return self.projection(self.cue({"rgb": rgb, "imagegoal": goal}))


def _unit(images: torch.Tensor) -> torch.Tensor:
    """Images as float in [0, 1]: uint8 ones converted as SB3 does (``float() / 255``), float ones
    (SB3 already converted them) as they are."""
    return images.float() / 255.0 if images.dtype == torch.uint8 else images.float()


def _row_keys(images: torch.Tensor) -> list[bytes]:
    """SHA-256 of each row's values: its uint8 bytes, or its float32 ones (about 0.1 ms per
    128x128 RGB image here; a quarter of that for uint8)."""
    rows = images.detach().contiguous().cpu().numpy() if images.dtype == torch.uint8 else images.detach().float().contiguous().cpu().numpy()
    return [hashlib.sha256(row.data).digest() for row in rows]
