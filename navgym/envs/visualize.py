"""Pictures for people: a top-down map with path and goal, beside the egocentric view."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


#: Goal points and path on *another* storey than the one shown: goals as hollow rings in this
#: colour, the path as a thin line in the next one (drawn where they are in x, z, so a goal
#: upstairs is not taken for one behind a wall of this storey).
OTHER_STOREY_GOAL_COLOR = (240, 150, 150)
OTHER_STOREY_PATH_COLOR = (160, 190, 240)


def storey_index(heights: Sequence[float], y: np.ndarray | float) -> np.ndarray:
    """Index into ``heights`` of the storey whose floor is nearest each height ``y`` (the rule
    the embedded simulator uses for its storeys)."""
    heights = np.asarray(heights, dtype=np.float64)
    return np.argmin(np.abs(np.asarray(y, dtype=np.float64)[..., None] - heights), axis=-1)


def storey_caption(storeys: Sequence[float], height: float, goals: np.ndarray | None = None) -> str:
    """``"storey 2/3"`` for the storey nearest ``height`` (1 = lowest), with ``", goal on 1"``
    (or ``"goal on 1, 3"``, ``"goal here and on 3"``) when goal points lie on other storeys."""
    shown = int(storey_index(storeys, height))
    text = f"storey {shown + 1}/{len(storeys)}"
    if goals is not None and len(goals):
        on = sorted({int(i) for i in storey_index(storeys, np.asarray(goals)[:, 1])})
        others = ", ".join(str(i + 1) for i in on if i != shown)
        if others:
            text += f", goal {'here and ' if shown in on else ''}on {others}"
    return text


def storey_mask(storeys: Sequence[float] | None, height: float | None) -> Callable[[np.ndarray], np.ndarray] | None:
    """With two storeys or more and a ``height`` (the storey a map shows): a function telling, for
    (N, 3) points, which lie on that storey (:func:`storey_index`); ``None`` otherwise (all do)."""
    if storeys is None or len(storeys) < 2 or height is None:
        return None
    shown = int(storey_index(storeys, height))
    return lambda points: storey_index(storeys, np.asarray(points)[:, 1]) == shown


def draw_storey_path(draw: ImageDraw.ImageDraw, pixels: Sequence[tuple[float, float]], on: np.ndarray,
                     color: tuple[int, int, int], other_color: tuple[int, int, int]) -> None:
    """A path's ``pixels``: its segments on the storey shown (both ends ``on``) as a line 2 px wide in
    ``color``, the others 1 px wide in ``other_color`` beneath them."""
    for k in range(len(pixels) - 1):
        if not (on[k] and on[k + 1]):
            draw.line([pixels[k], pixels[k + 1]], fill=other_color, width=1)
    run: list[tuple[float, float]] = []
    for k in range(len(pixels)):
        if on[k]:
            run.append(pixels[k])
        if not on[k] or k == len(pixels) - 1:
            if len(run) > 1:
                draw.line(run, fill=color, width=2)
            run = []


def draw_topdown(
    top: TopDownMap,
    path: Sequence[np.ndarray] = (),
    goals: np.ndarray | None = None,
    agent: AgentState | None = None,
    size: int = 256,
    storeys: Sequence[float] | None = None,
    height: float | None = None,
) -> np.ndarray:
    """The top-down map (cropped to the floor) as RGB with the path, goal points and agent drawn.

    ``storeys`` (the scene's floor heights) and ``height`` (the storey ``top`` shows, the agent's
    by default): with two storeys or more, goal points and path on other storeys are drawn as
    hollow rings and a thin light line (:data:`OTHER_STOREY_GOAL_COLOR`,
    :data:`OTHER_STOREY_PATH_COLOR`), and a caption (:func:`storey_caption`) names the storey shown
    and the storeys the goal is on."""
    image, to_pixel = floor_image(top, size)
    draw = ImageDraw.Draw(image)
    if height is None and agent is not None:
        height = float(agent.position[1])
    mask = storey_mask(storeys, height)
    here = mask or (lambda points: np.ones(len(points), dtype=bool))

    if goals is not None and len(goals):
        shown_goals = np.asarray(goals)[:: max(1, len(goals) // 200)]
        pixels, on = to_pixel(shown_goals), here(shown_goals)
        for (x, y), same in zip(pixels, on):
            if not same:
                draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=OTHER_STOREY_GOAL_COLOR, width=1)
        for (x, y), same in zip(pixels, on):
            if same:
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=GOAL_COLOR)
    if len(path) > 1:
        points = np.asarray(path)
        draw_storey_path(draw, [tuple(p) for p in to_pixel(points)], here(points), PATH_COLOR, OTHER_STOREY_PATH_COLOR)
    if agent is not None:
        (x, y), yaw = to_pixel(agent.position)[0], agent.yaw
        tip = (x - 8 * math.sin(yaw), y - 8 * math.cos(yaw))
        left = (x - 4 * math.sin(yaw + 2.4), y - 4 * math.cos(yaw + 2.4))
        right = (x - 4 * math.sin(yaw - 2.4), y - 4 * math.cos(yaw - 2.4))
        draw.polygon([tip, left, right], fill=AGENT_COLOR)
    if mask is not None:
        _caption(draw, storey_caption(storeys, height, goals), size)
    return np.asarray(image)


def _caption(draw: ImageDraw.ImageDraw, text: str, size: int) -> None:
    """``text`` in black on a white box in the map's top-left corner, its height ~1/20 of
    ``size``; on a map narrower than the text, one line per comma-separated part, and smaller
    type (down to 8 px) where even that does not fit."""
    width = draw.im.size[0] - 4
    lines = text.replace(", ", "\n")
    for px in range(max(10, size // 20), 7, -1):
        try:
            font = ImageFont.load_default(size=px)
        except TypeError:  # Pillow < 10.1: only the fixed bitmap font
            font = ImageFont.load_default()
        if draw.textbbox((3, 2), text, font=font)[2] <= width:
            break
        if draw.multiline_textbbox((3, 2), lines, font=font)[2] <= width:
            text = lines
            break
    else:
        text = lines
    x0, y0, x1, y1 = draw.multiline_textbbox((3, 2), text, font=font)
    draw.rectangle([x0 - 2, y0 - 2, x1 + 2, y1 + 2], fill=(255, 255, 255))
    draw.multiline_text((3, 2), text, fill=(0, 0, 0), font=font)


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
    centred on white when it is wider than that) beside the top-down map of the agent's storey
    (in a scene of several storeys, captioned and with other storeys' goals and path set apart:
    :func:`draw_topdown`)."""
    rows, cols = egocentric.shape[:2]
    scale = min(height / rows, MAX_VIEW_ASPECT * height / cols)
    ego = Image.fromarray(egocentric).resize((max(1, round(cols * scale)), max(1, min(height, round(rows * scale)))), Image.NEAREST)
    storeys = sim.storey_heights() if callable(getattr(sim, "storey_heights", None)) else None
    top = draw_topdown(sim.topdown_map(agent.position[1]), path, goals, agent, size=height, storeys=storeys)
    canvas = np.full((height, ego.width + 4 + top.shape[1], 3), 255, dtype=np.uint8)
    offset = (height - ego.height) // 2
    canvas[offset : offset + ego.height, : ego.width] = np.asarray(ego)
    canvas[: top.shape[0], ego.width + 4 :] = top
    return canvas
