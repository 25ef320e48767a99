"""Assembling picture grids for the docs' galleries (scripts/draw_*.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw


def labelled_row(tiles: Sequence[np.ndarray], labels: Sequence[str], gap: int = 6, label_height: int = 18) -> Image.Image:
    """The tiles side by side on white, each with its label above it."""
    height = max(t.shape[0] for t in tiles)
    row = Image.new("RGB", (sum(t.shape[1] for t in tiles) + gap * len(tiles), height + label_height), "white")
    draw = ImageDraw.Draw(row)
    x = 0
    for tile, label in zip(tiles, labels):
        row.paste(Image.fromarray(tile), (x, label_height))
        draw.text((x + 2, 2), label, fill=(0, 0, 0))
        x += tile.shape[1] + gap
    return row


def stack(rows: Sequence[Image.Image]) -> Image.Image:
    """Rows one under the other, left-aligned, on white."""
    canvas = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for row in rows:
        canvas.paste(row, (0, y))
        y += row.height
    return canvas


def save(rows: Sequence[Image.Image], out: Path) -> None:
    """Stack ``rows`` and write the picture to ``out`` (creating its folder)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stack(rows).save(out)
    print(f"wrote {out}")
