"""``navgym semnav-data`` samples as preloaded tensors for training the grounding models.

A split of a data folder is small (about 55 KB a sample on disk, 11 samples per house and body),
so it is read once into memory, letterboxed into the model's input size
(:func:`navgym.agents.grounding.models.letterbox`), with the supervision at the decoder's
resolution (stride 4) and every distinct prompt text embedded once with MiniLM:

* navigation target: the ground-truth ``H_nav`` average-pooled to stride 4 and divided by its
  maximum (so its peak stays 1: the paper normalises the distance field to [0, 1], Sec. 3.1, and
  downsamples the ground truth to the decoder's resolution, Sec. 3.4). Average pooling keeps the
  peak on traversable floor (measured on 117 positive samples: the stride-4 argmax, upsampled,
  lands on the support of ``H_nav`` for 115 of them with average pooling, 95 with max pooling);
  dividing by the maximum keeps thin floor bands above the 0.5 confidence threshold (the pooled
  maximum is below 0.4 for a quarter of the samples);
* facing target: ``H_face`` max-pooled to stride 4 (its peak cell stays exactly 1, the positive of
  the CenterNet focal loss);
* ``valid``: decoder cells inside the letterbox (the padding is left out of the losses);
* points: the ground-truth ``nav_point`` and ``facing_point`` as normalised (u, v) of the original
  image, with presence flags (for the point baseline).

Every sample keeps all the prompt kinds it has (``kinds``); training draws one per visit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from navgym.agents.grounding.models import OUTPUT_STRIDE, PROMPT_KINDS, GroundingConfig, TextEmbedder, letterbox, pixel_uv
from navgym.errors import DataNotFoundError, DatasetFormatError
from navgym.semnav import SemNavDataset
from navgym.semnav.dataset import safe_path

#: Kind indices used in tensors: text 0, image 1, interleaved 2.
KIND_INDEX = {kind: i for i, kind in enumerate(PROMPT_KINDS)}


@dataclass
class GroundingTensors:
    """One split, preloaded. ``N`` samples, ``H x W`` the letterbox, ``h x w`` the decoder grid."""

    rgb: torch.Tensor  # (N, 3, H, W) uint8
    prompt_image: torch.Tensor  # (N, 3, H, W) uint8, zeros where the sample has no photo
    nav_target: torch.Tensor  # (N, 1, h, w) float32
    facing_target: torch.Tensor  # (N, 1, h, w) float32
    valid: torch.Tensor  # (N, 1, h, w) bool
    nav_uv: torch.Tensor  # (N, 2) float32
    nav_present: torch.Tensor  # (N,) bool
    facing_uv: torch.Tensor  # (N, 2) float32
    facing_present: torch.Tensor  # (N,) bool
    kinds: torch.Tensor  # (N, 3) bool: the prompt kinds the sample has (text, image, interleaved)
    recorded_kind: torch.Tensor  # (N,) int64: the kind the env would have drawn
    text_index: torch.Tensor  # (N, 3) int64 into ``texts`` (text, -, interleaved); -1: none
    text_emb: torch.Tensor  # (T, 384) float32
    texts: list[str]
    ids: list[str]
    bodies: list[str]

    def __len__(self) -> int:
        return int(self.rgb.shape[0])

    def batch(self, index: torch.Tensor, kind: torch.Tensor) -> dict[str, torch.Tensor]:
        """The model inputs and targets of samples ``index`` with prompt kinds ``kind``."""
        column = torch.where(kind == KIND_INDEX["interleaved"], 2, 0)
        rows = self.text_index[index, column]
        has_text = kind != KIND_INDEX["image"]
        text = torch.zeros(len(index), self.text_emb.shape[1]) if len(self.texts) == 0 else self.text_emb[rows.clamp(min=0)]
        text = text * has_text[:, None]
        return {
            "rgb": self.rgb[index],
            "prompt_image": self.prompt_image[index],
            "text_emb": text,
            "has_text": has_text,
            "has_image": kind != KIND_INDEX["text"],
            "nav_target": self.nav_target[index],
            "facing_target": self.facing_target[index],
            "valid": self.valid[index],
            "nav_uv": self.nav_uv[index],
            "nav_present": self.nav_present[index],
            "facing_uv": self.facing_uv[index],
            "facing_present": self.facing_present[index],
        }


def decoder_targets(nav: np.ndarray, facing: np.ndarray, config: GroundingConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Full-resolution heatmaps -> (nav target, facing target, valid) at the decoder's grid."""
    height, width = config.input_height, config.input_width
    nav_box = letterbox(nav.astype(np.float32), height, width, mode="area")[None]
    facing_box = letterbox(facing.astype(np.float32), height, width, mode="area")[None]
    inside = letterbox(np.ones(nav.shape, dtype=np.float32), height, width, mode="nearest")[None]
    nav_t = F.avg_pool2d(nav_box, OUTPUT_STRIDE)
    peak = float(nav_t.max())
    if peak > 0:
        nav_t = nav_t / peak
    facing_t = F.max_pool2d(facing_box, OUTPUT_STRIDE)
    if float(facing_t.max()) > 0:
        facing_t = facing_t / float(facing_t.max())
    valid = F.avg_pool2d(inside, OUTPUT_STRIDE) > 0
    return nav_t[0], facing_t[0], valid[0]


def read_prompt_image(data: SemNavDataset, record: dict[str, Any], shape: tuple[int, int]) -> np.ndarray:
    """A record's prompt photo (its ``files.prompt_image``), checked like the reader checks files."""
    from PIL import Image, UnidentifiedImageError

    path = safe_path(data.root, record["files"]["prompt_image"], f"{data.root / record['_pair'] / 'samples.jsonl'}")
    try:
        with Image.open(path) as image:
            array = np.array(image.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError:
        raise DataNotFoundError(f"{path} is missing (listed in {data.root / record['_pair'] / 'samples.jsonl'}); rerun navgym semnav-data on {data.root}") from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise DatasetFormatError(f"{path} is corrupted or truncated ({exc}); delete {data.root / record['_pair']} and rerun navgym semnav-data on {data.root}") from None
    if array.shape != (*shape, 3):
        raise DatasetFormatError(f"{path} is {array.shape}, expected {(*shape, 3)}")
    return array


def load_split(
    root: str | os.PathLike[str],
    split: str | None,
    config: GroundingConfig,
    bodies: Sequence[str] | None = None,
    embedder: TextEmbedder | None = None,
    progress: bool = False,
) -> GroundingTensors:
    """Read a split of a ``navgym semnav-data`` folder into :class:`GroundingTensors`."""
    data = SemNavDataset(root, split=split, bodies=bodies)
    embedder = embedder or TextEmbedder()
    height, width = config.input_height, config.input_width
    count = len(data)
    rgb = torch.zeros((count, 3, height, width), dtype=torch.uint8)
    photo = torch.zeros_like(rgb)
    rows, cols = config.output_size
    nav_t = torch.zeros((count, 1, rows, cols))
    facing_t = torch.zeros_like(nav_t)
    valid = torch.zeros((count, 1, rows, cols), dtype=torch.bool)
    nav_uv, facing_uv = torch.zeros((count, 2)), torch.zeros((count, 2))
    nav_present, facing_present = torch.zeros(count, dtype=torch.bool), torch.zeros(count, dtype=torch.bool)
    kinds = torch.zeros((count, 3), dtype=torch.bool)
    recorded = torch.zeros(count, dtype=torch.long)
    text_index = torch.full((count, 3), -1, dtype=torch.long)
    texts: dict[str, int] = {}
    iterator = range(count)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc=f"reading {split or 'all'}", unit="sample", leave=False)
    for i in iterator:
        item, record = data[i], data.records[i]
        shape = item["rgb"].shape[:2]
        rgb[i] = letterbox(item["rgb"], height, width)
        if item["prompt_kind"] != "text":
            photo[i] = letterbox(item["prompt_image"], height, width)
        elif record["files"].get("prompt_image") is not None:
            photo[i] = letterbox(read_prompt_image(data, record, shape), height, width)
        nav_t[i], facing_t[i], valid[i] = decoder_targets(item["nav_heatmap"], item["facing_heatmap"], config)
        if record.get("nav_point") is not None:
            nav_uv[i] = torch.tensor(pixel_uv(record["nav_point"]["pixel"], shape))
            nav_present[i] = True
        if record.get("facing_point") is not None and not record["negative"]:
            facing_uv[i] = torch.tensor(pixel_uv(record["facing_point"]["pixel"], shape))
            facing_present[i] = True
        for kind in record["prompt_kinds"]:
            if kind == "image" and record["files"].get("prompt_image") is None:
                continue
            if kind != "image":
                text = record["prompts"].get(kind, "")
                if not text:
                    continue
                text_index[i, KIND_INDEX[kind]] = texts.setdefault(text, len(texts))
            kinds[i, KIND_INDEX[kind]] = True
        if not bool(kinds[i].any()):
            raise DatasetFormatError(f"{data.root}: sample {record['id']} has no usable prompt")
        recorded[i] = KIND_INDEX[record["prompt_kind"]]
    ordered = sorted(texts, key=texts.get)
    text_emb = torch.from_numpy(embedder(ordered)) if ordered else torch.zeros((0, config.text_dim))
    return GroundingTensors(
        rgb, photo, nav_t, facing_t, valid, nav_uv, nav_present, facing_uv, facing_present, kinds, recorded, text_index,
        text_emb, ordered, [r["id"] for r in data.records], [r["body"] for r in data.records],
    )


__all__ = ["KIND_INDEX", "GroundingTensors", "decoder_targets", "load_split", "read_prompt_image"]
