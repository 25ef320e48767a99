"""Pictures for people: a top-down map with path and goal, beside the egocentric view."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from navgym.sims.base import AgentState, Simulator, TopDownMap

PATH_COLOR = (40, 110, 230)
GOAL_COLOR = (220, 40, 40)
AGENT_COLOR = (20, 160, 60)


def floor_image(top: TopDownMap, size: int = 256) -> tuple[Image.Image, Callable[[np.ndarray], np.ndarray]]:
    """The top-down map cropped to the floor (4 cells of margin), longer side ``size`` pixels, and
    the function taking world points (N, 3) to its pixel coordinates (N, 2: column, row)."""
    grid_rgb = top.to_rgb()
    rows, cols = np.nonzero(top.grid > 0)
    if len(rows):
        r0, r1 = max(rows.min() - 4, 0), min(rows.max() + 5, top.grid.shape[0])
        c0, c1 = max(cols.min() - 4, 0), min(cols.max() + 5, top.grid.shape[1])
    else:
        r0, r1, c0, c1 = 0, top.grid.shape[0], 0, top.grid.shape[1]
    crop = grid_rgb[r0:r1, c0:c1]
    scale = size / max(crop.shape[:2])
    image = Image.fromarray(crop).resize((max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))), Image.NEAREST)

    def to_pixel(points: np.ndarray) -> np.ndarray:
        points = np.atleast_2d(points)
        col = ((points[:, 0] - top.origin[0]) / top.cell_size - c0) * scale
        row = ((points[:, 2] - top.origin[1]) / top.cell_size - r0) * scale
        return np.stack([col, row], axis=1)

    return image, to_pixel


def draw_topdown(
    top: TopDownMap,
    path: Sequence[np.ndarray] = (),
    goals: np.ndarray | None = None,
    agent: AgentState | None = None,
    size: int = 256,
) -> np.ndarray:
    """The top-down map (cropped to the floor) as RGB with the path, goal points and agent drawn."""
    image, to_pixel = floor_image(top, size)
    draw = ImageDraw.Draw(image)

    if goals is not None and len(goals):
        for x, y in to_pixel(np.asarray(goals))[:: max(1, len(goals) // 200)]:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=GOAL_COLOR)
    if len(path) > 1:
        draw.line([tuple(p) for p in to_pixel(np.asarray(path))], fill=PATH_COLOR, width=2)
    if agent is not None:
        (x, y), yaw = to_pixel(agent.position)[0], agent.yaw
        tip = (x - 8 * math.sin(yaw), y - 8 * math.cos(yaw))
        left = (x - 4 * math.sin(yaw + 2.4), y - 4 * math.cos(yaw + 2.4))
        right = (x - 4 * math.sin(yaw - 2.4), y - 4 * math.cos(yaw - 2.4))
        draw.polygon([tip, left, right], fill=AGENT_COLOR)
    return np.asarray(image)


#: Widest egocentric panel of :func:`side_by_side`, in panel heights: a wider view is scaled down
#: (both sides) to this width, so a (4, 1000) camera does not make a 64,000-pixel-wide frame.
MAX_VIEW_ASPECT = 4


def side_by_side(
    egocentric: np.ndarray,
    sim: Simulator,
    path: Sequence[np.ndarray],
    goals: np.ndarray,
    agent: AgentState,
    height: int = 256,
) -> np.ndarray:
    """Egocentric view (scaled to ``height``, or to ``MAX_VIEW_ASPECT * height`` wide and
    centred on white when it is wider than that) beside the top-down map."""
    rows, cols = egocentric.shape[:2]
    scale = min(height / rows, MAX_VIEW_ASPECT * height / cols)
    ego = Image.fromarray(egocentric).resize((max(1, round(cols * scale)), max(1, min(height, round(rows * scale)))), Image.NEAREST)
    top = draw_topdown(sim.topdown_map(agent.position[1]), path, goals, agent, size=height)
    canvas = np.full((height, ego.width + 4 + top.shape[1], 3), 255, dtype=np.uint8)
    offset = (height - ego.height) // 2
    canvas[offset : offset + ego.height, : ego.width] = np.asarray(ego)
    canvas[: top.shape[0], ego.width + 4 :] = top
    return canvas
