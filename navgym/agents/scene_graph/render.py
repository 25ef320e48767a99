"""A top-down picture of an :class:`~navgym.agents.scene_graph.graph.OnlineSceneGraph` over the
agent's occupancy map (for videos and docs). Orientation as the map's: +x right, +z down, so the
start heading (-z) points up."""

from __future__ import annotations

import colorsys
import zlib
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from navgym.agents.mapping.geometry import Pose2D
from navgym.agents.mapping.occupancy import OccupancyMap

if TYPE_CHECKING:
    from navgym.agents.scene_graph.graph import OnlineSceneGraph

#: Edge colours by relation.
RELATION_COLORS = {
    "on": (230, 120, 20),
    "next_to": (20, 150, 60),
    "near": (140, 190, 150),
    "facing": (40, 90, 220),
}
UNKNOWN_COLOR, FREE_COLOR, OBSTACLE_COLOR = (205, 205, 205), (250, 250, 250), (70, 70, 70)


def category_color(category: str) -> tuple[int, int, int]:
    """A stable saturated colour per category name."""
    hue = (zlib.crc32(category.encode()) % 360) / 360.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.9)
    return int(r * 255), int(g * 255), int(b * 255)


def region_color(region_id: int) -> tuple[int, int, int]:
    hue = (region_id * 0.618034) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.25, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def render_scene_graph(
    graph: "OnlineSceneGraph",
    occupancy: OccupancyMap | None = None,
    pose: Pose2D | None = None,
    *,
    size: int = 640,
    labels: bool = True,
    relations: tuple[str, ...] = ("on", "next_to", "facing"),
    margin: float = 0.5,
    legend: bool = True,
) -> np.ndarray:
    """RGB (H, W, 3) uint8: the map (unknown grey, free white, obstacles dark, regions tinted),
    edges of ``relations`` as lines (colours :data:`RELATION_COLORS`), object nodes as dots in
    their category's colour with labels, and the agent as a red triangle.

    Args:
        graph: The scene graph.
        occupancy: The agent's map (optional: without it the background is blank).
        pose: The agent's pose to draw (optional).
        size: Longest side of the map part of the picture, pixels.
        labels: Write category names next to the nodes.
        relations: Which relations to draw (``near`` is often too dense to read).
        margin: Metres around the observed area.
        legend: Add a legend strip under the map.
    """
    nodes = [n for n in graph.nodes.values() if graph.active(n)]
    points = [n.position[[0, 2]] for n in nodes]
    if pose is not None:
        points.append(pose.position)
    bounds = _bounds(occupancy, points, margin)
    x0, z0, x1, z1 = bounds
    scale = size / max(x1 - x0, z1 - z0)  # pixels per metre
    width, height = max(1, int(round((x1 - x0) * scale))), max(1, int(round((z1 - z0) * scale)))

    def px(xz: np.ndarray) -> tuple[float, float]:
        return float((xz[0] - x0) * scale), float((xz[1] - z0) * scale)

    image = Image.fromarray(_background(graph, occupancy, bounds, width, height))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    for region in graph.regions.values():
        if labels:
            cx, cy = px(region.center)
            draw.text((cx, cy), f"R{region.id}", fill=(120, 120, 160), font=font, anchor="mm")
    by_id = {n.id: n for n in nodes}
    for edge in graph.edges(relations):
        if edge.subject not in by_id or edge.object not in by_id:
            continue
        a, b = px(by_id[edge.subject].position[[0, 2]]), px(by_id[edge.object].position[[0, 2]])
        draw.line([a, b], fill=RELATION_COLORS.get(edge.relation, (0, 0, 0)), width=2 if edge.relation != "near" else 1)
        if edge.relation in ("on", "facing"):
            _arrow_head(draw, a, b, RELATION_COLORS[edge.relation])
    radius = max(3.0, 0.08 * scale)
    for node in nodes:
        cx, cy = px(node.position[[0, 2]])
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=category_color(node.category), outline=(0, 0, 0))
    if labels:
        for node in nodes:
            cx, cy = px(node.position[[0, 2]])
            _label(draw, (cx + radius + 1, cy - radius - 1), node.label, font)
    if pose is not None:
        cx, cy = px(pose.position)
        heading = pose.heading * max(8.0, 0.25 * scale)
        side = np.array([-heading[1], heading[0]]) * 0.5
        tip = (cx + heading[0], cy + heading[1])
        draw.polygon([tip, (cx - heading[0] * 0.5 + side[0], cy - heading[1] * 0.5 + side[1]), (cx - heading[0] * 0.5 - side[0], cy - heading[1] * 0.5 - side[1])], fill=(220, 30, 30))
    out = np.asarray(image)
    if legend:
        out = np.concatenate([out, _legend(width, relations, font)], axis=0)
    return out


def _bounds(occupancy: OccupancyMap | None, points: list[np.ndarray], margin: float) -> tuple[float, float, float, float]:
    xs, zs = [], []
    if occupancy is not None:
        rows, cols = occupancy.observed_bounds()
        if rows.stop > rows.start:
            lo = occupancy.cell_to_world(np.array(rows.start), np.array(cols.start)) - occupancy.cell_size / 2
            hi = occupancy.cell_to_world(np.array(rows.stop - 1), np.array(cols.stop - 1)) + occupancy.cell_size / 2
            xs += [lo[0], hi[0]]
            zs += [lo[1], hi[1]]
    for p in points:
        xs.append(float(p[0]))
        zs.append(float(p[1]))
    if not xs:
        xs, zs = [-1.0, 1.0], [-1.0, 1.0]
    return min(xs) - margin, min(zs) - margin, max(xs) + margin, max(zs) + margin


def _background(graph: "OnlineSceneGraph", occupancy: OccupancyMap | None, bounds: tuple[float, float, float, float], width: int, height: int) -> np.ndarray:
    """Per-pixel colour of the map under the picture (nearest cell)."""
    out = np.full((height, width, 3), FREE_COLOR if occupancy is None else UNKNOWN_COLOR, dtype=np.uint8)
    if occupancy is None:
        return out
    x0, z0, x1, z1 = bounds
    xs = x0 + (np.arange(width) + 0.5) / width * (x1 - x0)
    zs = z0 + (np.arange(height) + 0.5) / height * (z1 - z0)
    xz = np.stack(np.meshgrid(xs, zs), axis=-1)
    rows, cols = occupancy.world_to_cell(xz)
    inside = occupancy.inside(rows, cols)
    rows, cols = np.clip(rows, 0, occupancy.cells - 1), np.clip(cols, 0, occupancy.cells - 1)
    free = inside & occupancy.free[rows, cols] & ~occupancy.obstacle[rows, cols]
    obstacle = inside & occupancy.obstacle[rows, cols]
    out[free] = FREE_COLOR
    region_map = graph.region_map
    if region_map.labels.size:
        r_rows, r_cols = region_map.world_to_cell(xz)
        ok = (r_rows >= 0) & (r_cols >= 0) & (r_rows < region_map.labels.shape[0]) & (r_cols < region_map.labels.shape[1])
        ids = np.zeros(rows.shape, dtype=np.int64)
        ids[ok] = region_map.labels[r_rows[ok], r_cols[ok]]
        for region_id in np.unique(ids[free & (ids > 0)]):
            out[free & (ids == region_id)] = region_color(int(region_id))
    out[obstacle] = OBSTACLE_COLOR
    return out


def _arrow_head(draw: ImageDraw.ImageDraw, a: tuple[float, float], b: tuple[float, float], color: tuple[int, int, int]) -> None:
    d = np.array(b) - np.array(a)
    n = float(np.hypot(*d))
    if n < 1e-6:
        return
    d /= n
    tip = np.array(b) - d * 4.0
    side = np.array([-d[1], d[0]]) * 3.0
    base = tip - d * 6.0
    draw.polygon([tuple(tip), tuple(base + side), tuple(base - side)], fill=color)


def _label(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font) -> None:
    x, y = xy
    box = draw.textbbox((x, y), text, font=font, anchor="lb")
    draw.rectangle([box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1], fill=(255, 255, 255))
    draw.text((x, y), text, fill=(0, 0, 0), font=font, anchor="lb")


def _legend(width: int, relations: tuple[str, ...], font) -> np.ndarray:
    strip = Image.new("RGB", (width, 18), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    x = 4
    for name in relations:
        color = RELATION_COLORS.get(name, (0, 0, 0))
        draw.line([(x, 9), (x + 16, 9)], fill=color, width=3)
        draw.text((x + 20, 9), name.replace("_", " "), fill=(0, 0, 0), font=font, anchor="lm")
        x += 24 + int(draw.textlength(name, font=font)) + 10
    return np.asarray(strip)
