"""Draw one sample per body of a ``navgym semnav-data`` folder: the body's view with the target
outlined and its prompt, the navigation heatmap over the view (traversable ground shaded), and
the facing heatmap over the view.

Usage:
    python scripts/draw_semnav_sample.py --out docs/images/semnav_sample.png
    python scripts/draw_semnav_sample.py --data runs/semnav --out sample.png

Without ``--data`` it writes a tiny dataset first (house ``--house``, 4 views per body, into a
temporary folder). Each body's sample is its first positive one with all three prompt kinds
whose navigation heatmap is not empty; it is read back through
:class:`navgym.semnav.SemNavDataset`, so the picture shows what the loader returns.
"""

from __future__ import annotations

import argparse
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from navgym.semnav import SemNavDataset

BODIES = ("jetbot", "h1", "aliengo")
TITLE_HEIGHT = 34
GAP = 6


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def outline(image: np.ndarray, mask: np.ndarray, color=(255, 220, 0)) -> np.ndarray:
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    out = image.copy()
    out[mask & ~inner] = color
    return out


def overlay(image: np.ndarray, heat: np.ndarray, color, base_mask: np.ndarray | None = None) -> np.ndarray:
    """``image`` darkened, ``base_mask`` tinted blue, ``heat`` blended in ``color`` by its value."""
    out = image.astype(np.float32) * 0.55
    if base_mask is not None:
        out[base_mask] = out[base_mask] * 0.6 + np.array([40, 90, 200], dtype=np.float32) * 0.4
    alpha = np.clip(heat, 0.0, 1.0)[..., None] * 0.85
    out = out * (1 - alpha) + np.asarray(color, dtype=np.float32) * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def mark(image: np.ndarray, pixel, color=(255, 255, 255)) -> np.ndarray:
    out = image.copy()
    if pixel is None:
        return out
    r, c = pixel
    h, w = out.shape[:2]
    for dr, dc in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-2, 0), (2, 0), (0, -2), (0, 2)):
        if 0 <= r + dr < h and 0 <= c + dc < w:
            out[r + dr, c + dc] = color
    return out


def panel(image: np.ndarray, width: int) -> Image.Image:
    h, w = image.shape[:2]
    return Image.fromarray(image).resize((width, round(width * h / w)), Image.NEAREST)


def pick(data: SemNavDataset, body: str) -> int:
    for index, record in enumerate(data.records):
        if record["body"] == body and not record["negative"] and record["nav_pixels"] > 0:
            return index
    raise SystemExit(f"no positive {body} sample with text and image prompts; generate more views (--views)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="a semnav-data folder (default: write a tiny one)")
    parser.add_argument("--house", type=int, default=1, help="houses to write without --data: the first N train houses, drawn from the last")
    parser.add_argument("--views", type=int, default=4, help="views per house and body without --data")
    parser.add_argument("--width", type=int, default=176, help="width of each panel in pixels")
    parser.add_argument("--out", type=Path, default=Path("docs/images/semnav_sample.png"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="semnav-sample-") as temp:
        root = args.data
        if root is None:
            from navgym.semnav.data import DataOptions, generate

            root = Path(temp) / "data"
            generate(root, args.house, BODIES, DataOptions(views_per_house=args.views, negative_fraction=0.0, split_fractions=(1, 0, 0)))
        data = SemNavDataset(root, prompt_kind="interleaved")  # items carry the prompt photo
        rows = []
        for body in BODIES:
            index = pick(data, body)
            item, record = data[index], data.records[index]
            nav_point = (record.get("nav_point") or {}).get("pixel")
            facing_point = (record.get("facing_point") or {}).get("pixel")
            view = outline(item["rgb"], item["target_mask"])
            nav = mark(overlay(item["rgb"], item["nav_heatmap"], (255, 80, 20), item["traversable"]), nav_point)
            face = mark(overlay(item["rgb"], item["facing_heatmap"], (40, 230, 90)), facing_point, (0, 0, 0))
            prompt = record["prompts"]["text"]
            rows.append(
                (
                    body,
                    [
                        (f"{body}: view", f'"{prompt}"', panel(view, args.width)),
                        ("prompt image", "target, other viewpoint", panel(item["prompt_image"], args.width)),
                        ("navigation heatmap", "blue: traversable; + peak", panel(nav, args.width)),
                        ("facing heatmap", "Gaussian on the mask", panel(face, args.width)),
                    ],
                )
            )
    width = 4 * args.width + 3 * GAP
    height = sum(TITLE_HEIGHT + max(p[2].height for p in panels) + GAP for _, panels in rows)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    y = 0
    for _, panels in rows:
        x = 0
        for title, caption, image in panels:
            draw.text((x + 2, y + 2), title, fill="black", font=_font(13))
            draw.text((x + 2, y + 18), textwrap.shorten(caption, width=args.width // 6), fill=(70, 70, 70), font=_font(10))
            sheet.paste(image, (x, y + TITLE_HEIGHT))
            x += args.width + GAP
        y += TITLE_HEIGHT + max(p[2].height for p in panels) + GAP
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
