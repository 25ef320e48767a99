"""Draw BeliefMapNav's maps (paper fig. 4) after some steps of one ObjectNav val episode.

    python scripts/draw_beliefmap.py                       # episode 1, 40 steps -> docs/images/beliefmapnav_maps.png
    python scripts/draw_beliefmap.py --episode 3 --steps 80 --out /tmp/maps.png

Runs the beliefmapnav agent (default options) on ``ObjectNav-ProcHouse-v0`` val episode
``--episode`` for ``--steps`` steps (fewer when the episode ends), then draws four panels side by
side: the egocentric RGB view (the last frame the agent took in), the prior belief, the visibility ``1 - p^v`` (how well each voxel
column has been looked at) and the posterior belief (:func:`navgym.agents.beliefmap.render.belief_layers`:
max over heights, over the observed area, on the occupancy map: grey unknown, white free, dark
obstacles), with the agent as a red dot (black tick: its heading); a caption strip gives the target and the step.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HEIGHT = 256
TITLE = 22
CAPTION = 24
GAP = 6


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _agent_marker(agent, image: Image.Image) -> None:
    """The agent (red dot and heading) on an upscaled map panel."""
    from navgym.agents.beliefmap.render import _crop

    pose = getattr(agent, "_last_pose", None)
    if pose is None:
        return
    rows, cols = _crop(agent)
    scale = image.width / max(1, cols.stop - cols.start)
    r, c = (np.asarray(agent.map.world_to_cell(pose.position), dtype=np.float64) + 0.5) / agent.block
    x, y = (c - cols.start) * scale, (r - rows.start) * scale
    draw = ImageDraw.Draw(image)
    tip = (x + 14 * pose.heading[0], y + 14 * pose.heading[1])
    draw.line([(x, y), tip], fill=(255, 255, 255), width=5)
    draw.line([(x, y), tip], fill=(20, 20, 20), width=2)
    draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill=(230, 20, 20), outline=(255, 255, 255))


def figure(rgb: np.ndarray, agent, caption: str) -> Image.Image:
    from navgym.agents.beliefmap.render import belief_layers, colorize

    layers = belief_layers(agent)
    photo = Image.fromarray(np.ascontiguousarray(rgb[..., :3])).convert("RGB")
    photo = photo.resize((round(photo.width * HEIGHT / photo.height), HEIGHT), Image.BILINEAR)
    panels = [("egocentric RGB", photo)]
    for key, title in (("prior", "prior belief"), ("visibility", "visibility (1 - p^v)"), ("posterior", "posterior belief")):
        image = Image.fromarray(layers[key])
        image = image.resize((max(1, round(image.width * HEIGHT / image.height)), HEIGHT), Image.NEAREST)
        _agent_marker(agent, image)
        panels.append((title, image))
    width = sum(p.width for _, p in panels) + GAP * (len(panels) + 1)
    canvas = Image.new("RGB", (width, TITLE + HEIGHT + CAPTION + GAP), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font, small = _font(15), _font(13)
    x = GAP
    for title, image in panels:
        canvas.paste(image, (x, TITLE))
        tw = draw.textlength(title, font=font)
        draw.text((x + (image.width - tw) / 2, 3), title, fill=(0, 0, 0), font=font)
        x += image.width + GAP
    y = TITLE + HEIGHT + 5
    draw.text((GAP, y), caption, fill=(0, 0, 0), font=small)
    # Colour key of the map panels: low -> high (visibility: not looked at -> well looked at).
    ramp = colorize(np.linspace(0.0, 1.0, 120)[None, :].repeat(10, axis=0), 1.0)
    label_hi, label_lo = "high", "low"
    right = width - GAP - draw.textlength(label_hi, font=small)
    canvas.paste(Image.fromarray(ramp), (int(right - 124), y + 3))
    draw.text((right, y), label_hi, fill=(0, 0, 0), font=small)
    draw.text((right - 128 - draw.textlength(label_lo, font=small), y), label_lo, fill=(0, 0, 0), font=small)
    key = "grey: unknown, white: free, dark: obstacle, red dot: agent"
    draw.text((right - 140 - draw.textlength(label_lo, font=small) - draw.textlength(key, font=small), y), key, fill=(90, 90, 90), font=small)
    return canvas


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episode", type=int, default=1, help="val episode index")
    parser.add_argument("--steps", type=int, default=40, help="steps to run before drawing (fewer if the episode ends)")
    parser.add_argument("--out", type=Path, default=Path("docs/images/beliefmapnav_maps.png"))
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    import gymnasium as gym

    import navgym
    from navgym.tasks import TASKS

    env = gym.make("ObjectNav-ProcHouse-v0", split="val", sensors=navgym.agents.sensors_for("beliefmapnav", TASKS.get("ObjectNav")), render_mode="rgb_array")
    agent = navgym.agents.make("beliefmapnav", env=env)
    obs, _ = env.reset(seed=args.episode, options={"episode_index": args.episode})
    agent.reset()
    steps, done, ended = 0, False, ""
    seen = obs["rgb"]
    while steps < args.steps and not done:
        seen = obs["rgb"]  # the frame the maps last took in
        action = agent.policy(obs)
        obs, _, terminated, truncated, info = env.step(action)
        steps += 1
        done = terminated or truncated
        if done:
            ended = f", episode over (success={info.get('success')})"
    env.close()
    caption = f"BeliefMapNav, ObjectNav ProcHouse val episode {args.episode}: target '{agent.target_name}', step {steps}{ended}"
    image = figure(seen, agent, caption)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out, optimize=True)
    print(f"wrote {args.out} ({image.width}x{image.height}, {args.out.stat().st_size / 1024:.0f} KB); {caption}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
