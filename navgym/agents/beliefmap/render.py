"""Pictures of BeliefMapNav's maps: prior, visibility and posterior top-down views (paper fig. 4)
and the panel shown beside the egocentric view in evaluation videos."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw

#: Colour ramp (blue -> cyan -> yellow -> red) for belief values in [0, 1].
RAMP = np.array([[20, 40, 160], [0, 170, 220], [250, 220, 40], [220, 30, 30]], dtype=np.float64)
UNKNOWN, FREE, OBSTACLE = (200, 200, 200), (250, 250, 250), (70, 70, 70)


def colorize(values: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """``(H, W)`` values -> ``(H, W, 3)`` uint8 on :data:`RAMP` (0 -> blue, ``vmax`` -> red)."""
    values = np.asarray(values, dtype=np.float64)
    top = float(vmax) if vmax is not None else float(values.max(initial=0.0))
    t = np.clip(values / top, 0.0, 1.0) if top > 0 else np.zeros_like(values)
    x = t * (len(RAMP) - 1)
    i = np.minimum(x.astype(int), len(RAMP) - 2)
    f = (x - i)[..., None]
    return ((1 - f) * RAMP[i] + f * RAMP[i + 1]).astype(np.uint8)


def coarse(layer: np.ndarray, block: int) -> np.ndarray:
    """A map-resolution bool layer -> blocks of ``block`` x ``block`` cells (any cell set)."""
    rows, cols = layer.shape[0] // block, layer.shape[1] // block
    as_bytes = np.ascontiguousarray(layer, dtype=bool).view(np.uint8)
    return as_bytes.reshape(rows, block, cols * block).max(axis=1).reshape(rows, cols, block).max(axis=2).astype(bool)


def _crop(agent: Any, margin: int = 2) -> tuple[slice, slice]:
    """Square coarse-cell slices around what the occupancy map has observed."""
    rows, cols = agent.map.observed_bounds(margin * agent.block)
    b = agent.block
    n = agent.map.cells // b
    if rows.stop <= rows.start:
        return slice(n // 2 - 8, n // 2 + 8), slice(n // 2 - 8, n // 2 + 8)
    spans = [[s.start // b, -(-s.stop // b)] for s in (rows, cols)]
    side = min(n, max(hi - lo for lo, hi in spans))
    out = []
    for lo, hi in spans:
        lo = max(0, min(n - side, (lo + hi - side) // 2))
        out.append(slice(lo, lo + side))
    return out[0], out[1]


def _background(agent: Any, window: tuple[slice, slice]) -> np.ndarray:
    known = coarse(agent.map.free | agent.map.obstacle, agent.block)[window]
    obstacle = coarse(agent.map.obstacle, agent.block)[window]
    image = np.empty((*known.shape, 3), dtype=np.uint8)
    image[:] = UNKNOWN
    image[known] = FREE
    image[obstacle] = OBSTACLE
    return image


def layer_image(agent: Any, values: np.ndarray, window: tuple[slice, slice], vmax: float | None = None, where: np.ndarray | None = None) -> np.ndarray:
    """The occupancy background with ``values`` (voxel columns) coloured where ``where`` (default
    ``values > 0``)."""
    image = _background(agent, window)
    v = values[window]
    mask = (v > 0) if where is None else where[window]
    image[mask] = colorize(v, vmax)[mask]
    return image


def belief_layers(agent: Any) -> dict[str, np.ndarray]:
    """Top-down ``prior``, ``visibility`` (1 - p^v: how well looked at) and ``posterior`` pictures,
    max over heights, over the observed area (voxel columns, unscaled)."""
    window = _crop(agent)
    voxels = agent.voxels
    seen = voxels.visibility < 1.0
    return {
        "prior": layer_image(agent, voxels.column_max(voxels.prior), window),
        "visibility": layer_image(agent, voxels.column_max(np.where(seen, 1.0 - voxels.visibility, 0.0)), window, 1.0, where=seen.any(axis=2)),
        "posterior": layer_image(agent, voxels.column_max(voxels.posterior), window),
    }


def _upscale(image: np.ndarray, size: int) -> Image.Image:
    """``image`` scaled to ``size`` pixels on its longer side (square crops: ``size`` x ``size``)."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    return Image.fromarray(image).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.NEAREST)


def render_belief_panel(agent: Any, size: int = 256) -> np.ndarray:
    """RGB uint8 panel: the posterior belief over the occupancy map, the frontiers (dots, larger
    for a higher ``P_obs``), the planned visiting order (white line from the agent), the agent
    (red), the confirmed goal cells (green) and the target name."""
    voxels = agent.voxels
    values = voxels.column_max(voxels.posterior if agent.use_visibility else voxels.prior)
    info = agent.frontier_info
    return _panel(agent, values, info.get("cells"), info.get("p_obs"), info.get("order"), size)


def render_value_panel(agent: Any, size: int = 256) -> np.ndarray:
    """RGB uint8 panel of a VLFM-style agent: its value map, frontiers sized by value, the agent."""
    info = agent.frontier_info
    return _panel(agent, agent.value, info.get("cells"), info.get("value"), None, size, vmax=1.0, where=agent.value_confidence > 0)


def _panel(agent: Any, values: np.ndarray, cells: Any, weights: Any, order: Any, size: int, vmax: float | None = None, where: np.ndarray | None = None) -> np.ndarray:
    window = _crop(agent)
    picture = _upscale(layer_image(agent, values, window, vmax, where), size)
    scale = picture.width / max(1, window[1].stop - window[1].start)
    draw = ImageDraw.Draw(picture)

    def to_px(fine_rc: np.ndarray) -> tuple[float, float]:
        r, c = (np.asarray(fine_rc, dtype=np.float64) + 0.5) / agent.block
        return ((c - window[1].start) * scale, (r - window[0].start) * scale)

    goal = coarse(agent.map.goal, agent.block)[window]
    for r, c in zip(*np.nonzero(goal)):
        draw.rectangle([c * scale, r * scale, (c + 1) * scale - 1, (r + 1) * scale - 1], fill=(40, 200, 60))
    if cells is not None and weights is not None and len(cells):
        p = np.asarray(weights, dtype=np.float64)
        top = float(np.abs(p).max(initial=0.0)) or 1.0
        for cell, value in zip(cells, p):
            x, y = to_px(cell)
            radius = 2 + 4 * max(value, 0.0) / top
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=(255, 255, 255), fill=(255, 0, 255))
    pose = agent._last_pose
    if pose is not None:
        rows, cols = agent.map.world_to_cell(pose.position)
        x, y = to_px(np.array([rows, cols]))
        if order:
            draw.line([(x, y)] + [to_px(cells[k]) for k in order], fill=(255, 255, 255), width=2)
        heading = pose.heading
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=(230, 20, 20))
        draw.line([(x, y), (x + 8 * heading[0], y + 8 * heading[1])], fill=(230, 20, 20), width=2)
    draw.text((4, 4), f"target: {agent.target_name or '?'}", fill=(0, 0, 0))
    return np.asarray(picture.convert("RGB"))
