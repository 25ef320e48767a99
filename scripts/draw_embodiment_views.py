"""Draw each robot body's camera view of the same spot in one ProcHouse house, side by side.

Usage:
    python scripts/draw_embodiment_views.py --house 1000000 --out docs/images/embodiment_views.png

The spot is a pose ``--distance`` metres in front of the first ``--category`` instance of the
house (sofa by default), facing it, and navigable for every body (the H1 is the widest). Panels:
Jetbot, Unitree H1, Unitree Aliengo (each camera at its own height, pitch, field of view and
aspect, standing still: no gait), then the top-down map of the spot with each body's footprint
drawn to scale.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from navgym.core.geometry import yaw_toward
from navgym.embodiments import AliengoAgent, H1Agent, JetbotAgent
from navgym.scenes.sources import load_prochouse
from navgym.sims.base import AgentState
from navgym.sims.embedded.simulator import EmbeddedSimulator

CAPTION_HEIGHT = 40
GAP = 6
BODIES = (("Jetbot", JetbotAgent()), ("Unitree H1", H1Agent()), ("Unitree Aliengo", AliengoAgent()))
FOOTPRINT_COLORS = ((230, 120, 20), (40, 110, 230), (200, 40, 160))


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def find_spot(sim: EmbeddedSimulator, agent_ids: list[int], category: str, distance: float) -> tuple[AgentState, str]:
    """A pose ``distance`` m in front of an instance of ``category``, facing it, navigable for
    every agent; tries each instance and nearby distances."""
    instances = [i for i in sim.object_instances() if i.category == category and i.front is not None]
    if not instances:
        raise SystemExit(f"the house has no {category!r} with a front; try another --category or --house")
    for instance in instances:
        centre = 0.5 * (instance.bbox_min + instance.bbox_max)
        depth = 0.5 * float(np.dot(instance.bbox_max[[0, 2]] - instance.bbox_min[[0, 2]], np.abs(instance.front)))
        for extra in (0.0, 0.2, -0.2, 0.4, 0.6):
            along = depth + distance + extra
            spot = np.array([centre[0] + instance.front[0] * along, instance.bbox_min[1], centre[2] + instance.front[1] * along])
            spot[1] = sim.snap_point(spot)[1]
            if all(sim.is_navigable(spot, agent_id) for agent_id in agent_ids):
                return AgentState.from_yaw(spot, yaw_toward(spot, centre)), f"{category} #{instance.id}"
    raise SystemExit(f"no spot in front of a {category!r} is navigable for every body; try another --house or --distance")


def render_views(sim: EmbeddedSimulator, pose: AgentState, width: int) -> list[tuple[str, str, np.ndarray]]:
    """(title, caption, image) of each body's camera at ``pose``, ``width`` pixels wide."""
    panels = []
    for title, agent in BODIES:
        camera = agent.camera
        spec = camera.with_(width=width, height=round(width * camera.height / camera.width), outputs=("rgb",))
        image = sim.render([(pose, spec)])[0]["rgb"]
        caption = f"camera {camera.camera_height:.2f} m, pitch {camera.pitch:+.1f}°, HFOV {camera.hfov:.0f}°"
        panels.append((title, caption, image))
    return panels


def topdown_with_footprints(sim: EmbeddedSimulator, pose: AgentState, size: int, window: float = 3.0) -> np.ndarray:
    """The H1's top-down map around ``pose`` (``window`` metres across) with every body's
    footprint (rectangle, or the cylinder for the Jetbot) drawn to scale at the pose."""
    top = sim.topdown_map(pose.position[1])
    cells = int(window / top.cell_size)
    row, col = top.world_to_cell(pose.position)
    r0, c0 = max(0, row - cells // 2), max(0, col - cells // 2)
    crop = top.to_rgb()[r0 : r0 + cells, c0 : c0 + cells]
    scale = size / cells
    image = Image.fromarray(crop).resize((round(crop.shape[1] * scale), round(crop.shape[0] * scale)), Image.NEAREST)
    draw = ImageDraw.Draw(image)

    def pixel(x: float, z: float) -> tuple[float, float]:
        return ((x - top.origin[0]) / top.cell_size - c0) * scale, ((z - top.origin[1]) / top.cell_size - r0) * scale

    x, z, yaw = pose.position[0], pose.position[2], pose.yaw
    forward, right = np.array([-math.sin(yaw), -math.cos(yaw)]), np.array([math.cos(yaw), -math.sin(yaw)])
    for (_, agent), color in zip(BODIES, FOOTPRINT_COLORS):
        if agent.footprint is None:
            r = agent.body.radius
            (px, pz), (qx, qz) = pixel(x - r, z - r), pixel(x + r, z + r)
            draw.ellipse([px, pz, qx, qz], outline=color, width=2)
            continue
        length, width = agent.footprint
        corners = [np.array([x, z]) + a * length / 2 * forward + b * width / 2 * right for a, b in ((1, 1), (1, -1), (-1, -1), (-1, 1))]
        draw.polygon([pixel(*c) for c in corners], outline=color, width=2)
    tip = np.array([x, z]) + 0.6 * forward
    draw.line([pixel(x, z), pixel(*tip)], fill=(20, 160, 60), width=2)
    return np.asarray(image)


def compose(panels: list[tuple[str, str, np.ndarray]]) -> Image.Image:
    """Panels in a row, top-aligned, each with a title and a caption above it."""
    height = max(p[2].shape[0] for p in panels)
    width = sum(p[2].shape[1] for p in panels) + GAP * (len(panels) - 1)
    sheet = Image.new("RGB", (width, height + CAPTION_HEIGHT), "white")
    draw = ImageDraw.Draw(sheet)
    title_font, caption_font = _font(14), _font(11)
    x = 0
    for title, caption, image in panels:
        draw.text((x + 2, 2), title, fill="black", font=title_font)
        draw.text((x + 2, 20), caption, fill=(70, 70, 70), font=caption_font)
        sheet.paste(Image.fromarray(image), (x, CAPTION_HEIGHT))
        x += image.shape[1] + GAP
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--house", type=int, default=1_000_000, help="ProcHouse seed")
    parser.add_argument("--category", default="sofa")
    parser.add_argument("--distance", type=float, default=1.6, help="metres between the object's front and the spot")
    parser.add_argument("--width", type=int, default=240, help="width of each view in pixels")
    parser.add_argument("--out", type=Path, default=Path("docs/images/embodiment_views.png"))
    args = parser.parse_args()

    sim = EmbeddedSimulator(load_prochouse(args.house), body=H1Agent().body)
    agent_ids = [0] + [sim.add_agent(agent.body) for _, agent in BODIES if agent.body != sim.body(0)]
    pose, target = find_spot(sim, agent_ids, args.category, args.distance)
    panels = render_views(sim, pose, args.width)
    panels.append(("the spot, top-down", "footprints to scale", topdown_with_footprints(sim, pose, panels[0][2].shape[0])))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    compose(panels).save(args.out, optimize=True)
    print(f"wrote {args.out}: prochouse/{args.house}, facing {target} from {np.round(pose.position, 2).tolist()}")


if __name__ == "__main__":
    main()
