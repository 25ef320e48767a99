"""Draw the PointNav course learning curve (docs/training.md) from its JSON, with Pillow.

    python scripts/draw_pointnav_curve.py docs/results/pointnav_course.json docs/results/pointnav_course.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def draw(source: Path, target: Path) -> Path:
    data = json.loads(source.read_text())
    points = [(p["steps"], p["success"]) for p in data["curve"]]
    width, height, margin = 640, 360, 56
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    left, top, right, bottom = margin, 36, width - 20, height - 56
    pen.rectangle((left, top, right, bottom), outline="black")
    x_max = max(s for s, _ in points)
    pen.text((left, 12), f"{data['env_id']}: PPO from scratch, training success per {points[0][0] // 1000}k steps", fill="black", font=font)
    for tick in range(6):
        y = bottom - (bottom - top) * tick / 5
        pen.line((left - 4, y, left, y), fill="black")
        pen.text((left - 30, y - 6), f"{tick / 5:.1f}", fill="black", font=font)
        x = left + (right - left) * tick / 5
        pen.line((x, bottom, x, bottom + 4), fill="black")
        pen.text((x - 12, bottom + 8), f"{x_max * tick / 5 / 1000:.0f}k", fill="black", font=font)
    pen.text((left, bottom + 28), f"env steps ({data['wall_minutes']:.0f} minutes on one core); random agent: 0.000", fill="black", font=font)
    xy = [(left + (right - left) * s / x_max, bottom - (bottom - top) * v) for s, v in points]
    pen.line(xy, fill=(31, 119, 180), width=2)
    for x, y in xy:
        pen.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(31, 119, 180))
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target)
    return target


if __name__ == "__main__":
    print(draw(Path(sys.argv[1]), Path(sys.argv[2])))
