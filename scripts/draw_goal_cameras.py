"""Draw one episode's goal image under each goal camera setting, side by side.

Usage:
    python scripts/draw_goal_cameras.py --seed 4 --out docs/images/goal_cameras.png

Panels: the agent's start view, the agent-matched goal image (the task's own), then ``--draws``
user-matched and ``--draws`` extreme goal images of the same episode, each captioned with its
camera (height, pitch, HFOV).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image, ImageDraw, ImageFont

import navgym  # noqa: F401  (registers the ids)
from navgym.wrappers import UserMatchedGoalCamera

CAPTION_HEIGHT = 40
GAP = 6


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def _caption(camera: dict) -> str:
    return f"{camera['camera_height']:.2f} m, pitch {camera['pitch']:+.1f}°, HFOV {camera['hfov']:.0f}°"


def goal_camera_panels(env_id: str, episode_index: int, draws: int, resolution: int, seed: int) -> list[tuple[str, str, np.ndarray]]:
    """(title, caption, image) for the start view and each setting's goal image of one episode."""
    # ProcHouse builds its episodes on the fly: a few are enough for one picture.
    small = {"num_scenes": 1, "episodes_per_scene": episode_index + 1} if "ProcHouse" in env_id else {}
    panels = []
    for setting in ("agent", "user", "extreme"):
        env = UserMatchedGoalCamera(gym.make(env_id, resolution=resolution, **small), setting=setting)
        for draw in range(1 if setting == "agent" else draws):
            obs, info = env.reset(seed=seed + draw, options={"episode_index": episode_index})
            key = env.goal_sensors[0]
            if setting == "agent":
                panels.append(("start view", "the agent's camera", obs["rgb"]))
                panels.append(("agent-matched goal", _caption(info["goal_camera"]), obs[key]))
            else:
                title = f"{'user-matched' if setting == 'user' else 'extreme'} goal #{draw + 1}"
                panels.append((title, _caption(info["goal_camera"]), obs[key]))
        env.close()
    return panels


def compose(panels: list[tuple[str, str, np.ndarray]]) -> Image.Image:
    """Panels in a row, each with a two-line caption above it."""
    height, width = panels[0][2].shape[:2]
    sheet = Image.new("RGB", (len(panels) * (width + GAP) - GAP, height + CAPTION_HEIGHT), "white")
    draw = ImageDraw.Draw(sheet)
    title_font, caption_font = _font(14), _font(11)
    for i, (title, caption, image) in enumerate(panels):
        x = i * (width + GAP)
        draw.text((x + 2, 2), title, fill="black", font=title_font)
        draw.text((x + 2, 20), caption, fill=(70, 70, 70), font=caption_font)
        sheet.paste(Image.fromarray(image), (x, CAPTION_HEIGHT))
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-id", default="ImageNav-ProcHouse-v0")
    parser.add_argument("--episode-index", type=int, default=0)
    parser.add_argument("--draws", type=int, default=2, help="user-matched and extreme draws to show")
    parser.add_argument("--resolution", type=int, default=192)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs/images/goal_cameras.png"))
    args = parser.parse_args()
    panels = goal_camera_panels(args.env_id, args.episode_index, args.draws, args.resolution, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    compose(panels).save(args.out)
    print(f"wrote {args.out} ({len(panels)} panels)")


if __name__ == "__main__":
    main()
