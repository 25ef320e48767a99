"""A VLFM-style baseline (Yokoyama et al., ICRA 2024): a 2D value map of how much what the agent
sees suggests the target, and the frontier with the highest value explored greedily.

Each step the view gets one value, the similarity of the view to the prompt "Seems like there is a
<target> ahead." (VLFM: BLIP-2 image-text matching; here, on navgym's seams, the reasoner's
similarity between that prompt and a caption of the view's detections, as BeliefMapNav's
features, see :class:`~navgym.agents.beliefmap.features.DetectionCaptions`; a view with no
detection has value 0). The value is written into every map cell the view covers (per image
column, the floor from the agent out to the first obstacle), with VLFM's confidence
``cos^2(theta / (hfov / 2) * pi / 2)`` of the cell's bearing ``theta`` off the optical axis, and
fused with what the cell held by VLFM's confidence-weighted average::

    v = (c_new * v_new + c_old * v_old) / (c_new + c_old)
    c = (c_new^2 + c_old^2) / (c_new + c_old)

The frontier whose cells hold the highest value is explored (the current one is kept while its
value stays within ``keep_margin`` of the best), the target is found and approached as
:class:`~navgym.agents.baselines.object_search.ObjectSearchAgent` does. No landmarks, no 3D map,
no visibility map, no path ordering: the greedy value-map agent BeliefMapNav compares against.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from navgym.agents.baselines.object_search import ObjectSearchAgent
from navgym.agents.beliefmap.features import DetectionCaptions
from navgym.agents.mapping import Pose2D
from navgym.agents.mapping.geometry import wrap_angle, yaw_of_direction
from navgym.agents.perception.detection import FramePoints
from navgym.agents.planning import nearest_frontier
from navgym.core.checks import check_range
from navgym.errors import InvalidArgumentError

PROMPT = "Seems like there is a {target} ahead."


class VLFMAgent(ObjectSearchAgent):
    """VLFM-style value-map frontier agent (module docstring).

    Args:
        env: The env.
        value_cell: Side of a value-map cell, metres (a whole multiple of the map's ``cell_size``).
        prompt: The text the view is compared with (``{target}`` is replaced).
        max_objects: At most this many detected categories in a view's caption, largest first.
        keep_margin: Keep the current frontier while its value is at least the best's minus this.
        **kwargs: Passed to :class:`~navgym.agents.baselines.object_search.ObjectSearchAgent`
            (reasoner, perception, confirm_frames...) and the frontier agent.
    """

    who = "the vlfm agent"

    def __init__(self, env: gym.Env | None = None, *, value_cell: float = 0.25, prompt: str = PROMPT, max_objects: int = 3, keep_margin: float = 0.02, **kwargs: Any):
        super().__init__(env, **kwargs)
        ratio = float(value_cell) / self.map.cell_size
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1 or self.map.cells % round(ratio):
            raise InvalidArgumentError(f"value_cell={value_cell!r} must be a whole multiple of cell_size={self.map.cell_size} that divides map_size={self.map.size}")
        if "{target}" not in prompt:
            raise InvalidArgumentError(f"prompt={prompt!r} must contain {{target}}")
        self.block = int(round(ratio))
        self.value_cell = float(value_cell)
        self.prompt = prompt
        self.captions = DetectionCaptions(self.reasoner, max_objects=max_objects)
        self.keep_margin = check_range("keep_margin", keep_margin, 0.0, 1.0)
        self._caption_values: dict[str, float] = {}
        self.reset()

    def reset(self) -> None:
        super().reset()
        n = self.map.cells // getattr(self, "block", 1)
        self.value = np.zeros((n, n), dtype=np.float32)
        self.value_confidence = np.zeros((n, n), dtype=np.float32)
        self.frontier_info: dict[str, Any] = {}
        self._chosen: np.ndarray | None = None

    def _start_target(self, target: str) -> None:
        self._caption_values = {}
        self._text = self.prompt.format(target=target)

    # -- value map -----------------------------------------------------------------------------
    def view_value(self, obs: dict[str, Any], detections: list) -> float:
        """The view's value: similarity of its caption (the whole image's, as
        :class:`~navgym.agents.beliefmap.features.DetectionCaptions` writes it) to the prompt; 0
        with no detection."""
        height, width = np.asarray(obs["depth"]).shape[:2]
        caption = self.captions.describe(obs, detections, [(0, height, 0, width)])[0]
        if caption is None:
            return 0.0
        if caption not in self._caption_values:
            self._caption_values[caption] = float(self.captions.similarity([self._text], [caption]).reshape(-1)[0])
        return self._caption_values[caption]

    def _observe(self, obs: dict[str, Any], pose: Pose2D, frame: FramePoints, detections: list) -> None:
        cells, confidence = self._view_cells(frame, pose)
        if len(cells) == 0:
            return
        v_new = self.view_value(obs, detections)
        rows, cols = cells[:, 0], cells[:, 1]
        c_old, v_old = self.value_confidence[rows, cols], self.value[rows, cols]
        total = confidence + c_old
        self.value[rows, cols] = (confidence * v_new + c_old * v_old) / total
        self.value_confidence[rows, cols] = (confidence**2 + c_old**2) / total

    def _view_cells(self, frame: FramePoints, pose: Pose2D) -> tuple[np.ndarray, np.ndarray]:
        """Value-map cells the view covers and their confidence (the best per cell)."""
        points, valid = frame.points, frame.valid
        rel = points[..., [0, 2]] - pose.position
        distance = np.hypot(rel[..., 0], rel[..., 1])
        height = points[..., 1]
        obstacle = valid & (height >= self.map.obstacle_min_height) & (height <= self.map.obstacle_max_height)
        reach = np.where(obstacle, distance, np.inf).min(axis=0)
        farthest = np.where(valid, distance, 0.0).max(axis=0)
        limit = np.where(np.isfinite(reach), reach, farthest)  # per image column
        width = frame.shape[1]
        focal = (width / 2.0) / math.tan(math.radians(self.camera.hfov) / 2.0)
        theta = np.arctan((np.arange(width) + 0.5 - width / 2.0) / focal)  # right of the axis
        half = math.radians(self.camera.hfov) / 2.0
        conf = np.cos(theta / half * math.pi / 2.0) ** 2
        step = self.value_cell / 2.0
        ranges = np.arange(0.0, float(limit.max(initial=0.0)) + step, step)
        keep = ranges[None, :] <= limit[:, None]
        yaw = pose.yaw - theta  # a column right of the axis has a smaller yaw (left positive)
        xs = pose.x - np.sin(yaw)[:, None] * ranges[None, :]
        zs = pose.z - np.cos(yaw)[:, None] * ranges[None, :]
        c = np.broadcast_to(conf[:, None], keep.shape)[keep]
        rows = np.floor((zs[keep] - self.map.origin[1]) / self.value_cell).astype(np.int64)
        cols = np.floor((xs[keep] - self.map.origin[0]) / self.value_cell).astype(np.int64)
        n = self.value.shape[0]
        inside = (rows >= 0) & (cols >= 0) & (rows < n) & (cols < n)
        flat, c = rows[inside] * n + cols[inside], c[inside]
        if len(flat) == 0:
            return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.float32)
        order = np.lexsort((c, flat))
        flat, c = flat[order], c[order]
        last = np.r_[flat[1:] != flat[:-1], True]
        flat, c = flat[last], c[last]
        good = c > 1e-6
        return np.stack([flat[good] // n, flat[good] % n], axis=1), c[good].astype(np.float32)

    # -- frontier choice -----------------------------------------------------------------------
    def _choose_frontier(self, frontiers: list, from_agent: np.ndarray, origin: np.ndarray) -> tuple[int, np.ndarray, float] | None:
        best: tuple[float, float, int, np.ndarray] | None = None
        values, cells = [], []
        for i, frontier in enumerate(frontiers):
            d = from_agent[frontier.cells[:, 0], frontier.cells[:, 1]]
            j = int(np.argmin(d))
            if not np.isfinite(d[j]):
                continue
            coarse = (frontier.cells + origin) // self.block
            value = float(self.value[coarse[:, 0], coarse[:, 1]].max())
            values.append(value)
            cells.append(frontier.cells[j] + origin)
            if best is None or (value, -d[j]) > (best[0], -best[1]):
                best = (value, float(d[j]), i, frontier.cells[j])
        if best is None:
            self.frontier_info = {}
            return nearest_frontier(frontiers, from_agent)
        self.frontier_info = {"cells": np.array(cells), "value": np.array(values)}
        return best[2], best[3], best[1]

    def _keep_target(self, frontiers: list, from_agent: np.ndarray, origin: np.ndarray, best: float) -> np.ndarray | None:
        """Keep the current frontier while its value is within ``keep_margin`` of the best."""
        values = self.frontier_info.get("value")
        if values is None or not len(values):
            return super()._keep_target(frontiers, from_agent, origin, best)
        cells = self.frontier_info["cells"]
        d = np.hypot(*(cells - self.target).T) * self.map.cell_size
        j = int(np.argmin(d))
        if d[j] <= 0.5 and values[j] >= values.max() - self.keep_margin:
            return cells[j]
        return None

    def render(self) -> np.ndarray:
        """RGB panel: the value map over the occupancy map, the frontiers and the agent."""
        from navgym.agents.beliefmap.render import render_value_panel

        return render_value_panel(self)
