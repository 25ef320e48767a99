"""Draw one SemanticNav episode: the body's start view and the episode's target as each of the
three prompt kinds (text, image, interleaved).

Usage:
    python scripts/draw_semantic_nav.py --embodiment jetbot --out docs/images/semantic_nav_prompts.png

The episode is the first of the split's generated ProcHouse episodes (``--house`` picks the house)
whose target has a referring expression and a prompt photo, so all three kinds can be shown; the
episode itself records one kind. Panels: the start view from the body's camera with the target's
pixels outlined, the text prompt, the image prompt (a photo from another viewpoint), and the
interleaved prompt (its text holds ``<image>``, the same photo beside it). Views are rendered
``--width`` pixels wide (the episode was generated at the body's own resolution).
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
from PIL import Image, ImageDraw, ImageFont

import navgym  # noqa: F401
from navgym.scenes.prochouse import SPLITS, split_of
from navgym.tasks.semantic_nav import prompt_texts, target_instance

CAPTION_HEIGHT = 40
GAP = 6


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def outline(image: np.ndarray, mask: np.ndarray, color=(255, 220, 0)) -> np.ndarray:
    """``image`` with the boundary pixels of ``mask`` painted ``color``."""
    inner = mask.copy()
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    out = image.copy()
    out[mask & ~inner] = color
    return out


def text_card(text: str, width: int, height: int, size: int = 16) -> np.ndarray:
    """A white card with ``text`` wrapped to its width."""
    card = Image.new("RGB", (width, height), (250, 250, 245))
    draw = ImageDraw.Draw(card)
    lines = textwrap.wrap(f'"{text}"', width=max(8, int(width / (0.55 * size))))
    y = max(4, (height - len(lines) * (size + 4)) // 2)
    for line in lines:
        draw.text((8, y), line, fill=(20, 20, 20), font=_font(size))
        y += size + 4
    return np.asarray(card)


def compose(panels: list[tuple[str, str, np.ndarray]]) -> Image.Image:
    """Panels in a row, each with a title and a caption above it."""
    height = max(p[2].shape[0] for p in panels)
    width = sum(p[2].shape[1] for p in panels) + GAP * (len(panels) - 1)
    sheet = Image.new("RGB", (width, height + CAPTION_HEIGHT), "white")
    draw = ImageDraw.Draw(sheet)
    x = 0
    for title, caption, image in panels:
        draw.text((x + 2, 2), title, fill="black", font=_font(14))
        draw.text((x + 2, 20), caption, fill=(70, 70, 70), font=_font(11))
        sheet.paste(Image.fromarray(image), (x, CAPTION_HEIGHT))
        x += image.shape[1] + GAP
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embodiment", default="jetbot", help="jetbot, h1 or aliengo")
    parser.add_argument("--house", type=int, default=1_000_000, help="ProcHouse seed (its split's first houses are generated)")
    parser.add_argument("--width", type=int, default=200, help="width of each panel in pixels")
    parser.add_argument("--out", type=Path, default=Path("docs/images/semantic_nav_prompts.png"))
    args = parser.parse_args()

    split = split_of(args.house)
    num_scenes = SPLITS[split].index(args.house) + 1
    env = gym.make("SemanticNav-ProcHouse-v0", embodiment=args.embodiment, split=split, num_scenes=num_scenes, episodes_per_scene=6)
    nav = env.unwrapped
    candidates = [e for e in nav.dataset.episodes if e.episode_id.startswith(f"{args.house}_") and e.goal_attributes and e.goal_image_id is not None]
    if not candidates:
        raise SystemExit(f"no episode of house {args.house} has both a referring expression and a prompt photo; try another --house")
    episode = candidates[0]
    env.reset(seed=0, options={"episode_id": episode.episode_id})
    sim, task, camera = nav.sim, nav.task, nav.embodiment.camera
    inst = target_instance(sim, episode)
    big = camera.with_(width=args.width, height=round(args.width * camera.height / camera.width), outputs=("rgb", "semantic"))
    frame = sim.render([(sim.get_agent_state(), big)])[0]
    start = outline(frame["rgb"], frame["semantic"] == inst.id)
    photo = task.prompt_image(sim, episode, big)
    texts = prompt_texts(sim.scene_graph(), inst)
    h, w = photo.shape[:2]
    lower = Image.new("RGB", (w, h - h // 2), (250, 250, 245))
    lower.paste(Image.fromarray(photo).resize((w // 2, h // 2), Image.BILINEAR), (w // 4, 0))
    interleaved = np.concatenate([text_card(texts["interleaved"], w, h // 2, size=13), np.asarray(lower)], axis=0)
    coverage = (episode.info or {}).get("target_coverage", float("nan"))
    panels = [
        (f"start view ({nav.embodiment.name})", f"target outlined: {coverage:.1%} of the frame", start),
        ("text prompt", "referring expression (scene graph)", text_card(texts["text"], w, h)),
        ("image prompt", "the target from another viewpoint", photo),
        ("interleaved prompt", "text with <image> + the photo", interleaved),
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    compose(panels).save(args.out, optimize=True)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KB): episode {episode.episode_id}, target {inst.category}_{inst.id}, recorded kind {episode.prompt_kind}")


if __name__ == "__main__":
    main()
