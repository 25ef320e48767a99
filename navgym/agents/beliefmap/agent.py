"""BeliefMapNav (Zhou et al., 2025): zero-shot ObjectNav on a 3D voxel belief map.

Every step (paper fig. 2): perception -> a 3D hierarchical semantic voxel map (:mod:`.features`,
:mod:`.voxels`) -> the prior belief from the target and its hierarchical landmarks (room, region,
object; :mod:`.landmarks`, asked of the reasoner once per target) -> the visibility map of where the
agent has already looked, and the posterior ``prior * visibility`` -> each frontier's observation
belief ``P_obs`` (the posterior and the unknown voxels in its best field of view; :mod:`.planner`)
-> the frontier visiting order that minimises the expected search distance (simulated annealing
over geodesic distances) -> the first frontier of that order, reached by the frontier agent's
local planner (fast marching on the depth occupancy map). The agent turns a full circle first, and
replans every step. Once the target is detected (and confirmed: ``confirm_frames`` frames vote for
the same map cells) it goes to it and stops within ``stop_distance``.

Perception is explicit: ``perception="ground_truth"`` (default; the semantic sensor's instance
ids and the scene's category labels for the instances in view, see
:mod:`navgym.agents.perception.ground_truth`), ``"noisy"`` (seeded misses, false positives,
confusions; the target must then be seen in 2 frames), or any
:class:`~navgym.agents.perception.Perception`. The voxel features go through
:class:`~navgym.agents.beliefmap.features.SemanticFeatures` (default: captions of the detections,
compared with landmark phrases by the reasoner). The agent never reads object positions, rooms or
the ProcHouse generator.

Ablations (paper tables 2, 4, 5): ``visibility=False`` (posterior = prior); ``planner="nearest"``
(nearest frontier: no belief-based planning) or ``"greedy"`` (the frontier with the highest
``P_obs``: the paper's "w/o planner"); ``landmark_levels`` (any subset of room, region, object);
``semantic_levels`` (any subset of scene, region, object).

Parameters the paper gives: voxel 0.25 m, 3 image scales, 3 landmarks per level, scorer weights,
``w_unobserved = 0.01``, four viewing directions per frontier. Ours where it gives none (or its
values assume other models): ``similarity_floor = 0.2`` (MiniLM cosines of unrelated phrases sit
around 0.1-0.25), ``sector_range = 5`` m, ``max_frontiers = 10``, detection range [0.5, 3.5] m
unless a text-writing reasoner gives one, ``distance_alpha = 0.5``.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from navgym.agents.baselines.object_search import ObjectSearchAgent
from navgym.agents.beliefmap import planner as plan
from navgym.agents.beliefmap.features import LEVELS, DetectionCaptions, SemanticFeatures, pixel_features
from navgym.agents.beliefmap.landmarks import LEVELS as LANDMARK_LEVELS
from navgym.agents.beliefmap.landmarks import LandmarkGenerator
from navgym.agents.beliefmap.render import coarse
from navgym.agents.beliefmap.voxels import VoxelBeliefMap, detection_confidence
from navgym.agents.mapping import Pose2D
from navgym.agents.perception.detection import FramePoints
from navgym.agents.planning import nearest_frontier
from navgym.core.checks import check_int, check_range
from navgym.core.options import choice, flag, names
from navgym.errors import InvalidArgumentError

PLANNERS = ("sequence", "greedy", "nearest")


class BeliefMapNavAgent(ObjectSearchAgent):
    """BeliefMapNav: voxel belief map + visibility map + expected-distance frontier ordering.

    Args:
        env: The env (camera, motion, goal vocabulary; ground-truth perception reads its scene's
            instance labels).
        features: A :class:`~navgym.agents.beliefmap.features.SemanticFeatures` (default: captions
            of the detections compared by the reasoner).
        voxel_size, height_range: The voxel map (metres).
        scales: Image scales (1, 4, 16 patches for 3).
        pixel_stride: Every ``pixel_stride``-th pixel row and column is put in the voxel map.
        similarity_floor: Similarities below it count as no evidence (see :class:`VoxelBeliefMap`).
        landmarks: ``"auto"``, ``"options"`` or ``"prompt"`` (:class:`LandmarkGenerator` modes).
        n_landmarks: Landmarks per level.
        landmark_levels, semantic_levels: Which landmark and semantic levels feed the belief.
        visibility: Use the visibility map (``False``: the ablation).
        planner: ``"sequence"`` (the paper's), ``"greedy"`` or ``"nearest"``.
        w_unobserved: Weight of an unknown voxel in a frontier's view.
        sector_range: Depth of a frontier's field of view, metres.
        detection_range: ``(d_min, d_max)`` metres of reliable detection; ``None`` asks the reasoner
            (text-writing backends) or uses [0.5, 3.5].
        distance_alpha: ``alpha`` of the detection confidence outside that range.
        max_frontiers: Order at most this many frontiers (those with the highest ``P_obs``).
        sa_steps: Simulated-annealing steps per decision (warm-started from the previous order).
        switch_margin: Keep the current frontier while starting with it costs at most this much
            more (relative) than the best order (0: always take the best, as the paper).
        replan_every: Order the frontiers every this many exploration steps (1, the paper's: every
            step); in between the agent keeps heading for the planned frontier while it exists.
        seed: Seeds the annealing.
        **kwargs: Passed to :class:`~navgym.agents.baselines.object_search.ObjectSearchAgent`: the
            reasoner (landmarks, detection range, feature similarity: ``reasoner``, ``base_url``,
            ``model``, ``api_key``, ``timeout``, ``reasoner_options``), ``perception`` and
            ``noise_seed``, ``confirm_frames``, ``categories``, ``stop_distance``, and the frontier
            agent's camera, motion, map and planner settings.
    """

    who = "the beliefmapnav agent"

    def __init__(
        self,
        env: gym.Env | None = None,
        *,
        features: SemanticFeatures | None = None,
        voxel_size: float = 0.25,
        height_range: tuple[float, float] = (0.0, 3.0),
        scales: int = 3,
        pixel_stride: int = 2,
        similarity_floor: float = 0.45,
        landmarks: str = "auto",
        n_landmarks: int = 3,
        landmark_levels: Any = LANDMARK_LEVELS,
        semantic_levels: Any = LEVELS,
        visibility: Any = True,
        planner: str = "sequence",
        w_unobserved: float = 0.01,
        sector_range: float = 5.0,
        detection_range: tuple[float, float] | None = None,
        distance_alpha: float = 0.5,
        max_frontiers: int = 10,
        sa_steps: int = 200,
        switch_margin: float = 0.2,
        replan_every: int = 1,
        seed: int = 0,
        **kwargs: Any,
    ):
        from navgym.agents.reasoning.minilm import require

        require("The beliefmapnav agent", {"simanneal": "simanneal"})
        super().__init__(env, **kwargs)
        self.features = features if features is not None else DetectionCaptions(self.reasoner)
        self.scales = check_int("scales", scales, 1)
        self.pixel_stride = check_int("pixel_stride", pixel_stride, 1)
        ratio = float(voxel_size) / self.map.cell_size
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
            raise InvalidArgumentError(f"voxel_size={voxel_size!r} must be a whole multiple of the map's cell_size={self.map.cell_size}")
        self.block = int(round(ratio))
        if self.map.cells % self.block:
            raise InvalidArgumentError(f"map_size={self.map.size} must be a whole multiple of voxel_size={voxel_size} (pick map_size= accordingly)")
        self.voxels = VoxelBeliefMap(self.features, self.map.size, voxel_size, height_range, similarity_floor)
        self.voxels.use_levels(names("semantic_levels", semantic_levels, LEVELS))
        self.landmark_levels = names("landmark_levels", landmark_levels, LANDMARK_LEVELS)
        self.landmarks = LandmarkGenerator(self.reasoner, n=n_landmarks, mode=landmarks)
        self.use_visibility = flag("visibility", visibility)
        self.planner = choice("planner", planner, PLANNERS)
        self.w_unobserved = check_range("w_unobserved", w_unobserved, 0.0, 10.0)
        self.sector_range = check_range("sector_range", sector_range, 0.1, 50.0)
        if detection_range is not None:
            try:
                lo, hi = (float(v) for v in detection_range)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"detection_range={detection_range!r} must be (d_min, d_max) metres, e.g. (0.5, 3.5)") from None
            if not (0.0 <= lo < hi and math.isfinite(hi)):
                raise InvalidArgumentError(f"detection_range={detection_range!r} must be (d_min, d_max) metres with 0 <= d_min < d_max")
            detection_range = (lo, hi)
        self.fixed_detection_range = detection_range
        self.distance_alpha = check_range("distance_alpha", distance_alpha, 0.0, 100.0)
        self.max_frontiers = check_int("max_frontiers", max_frontiers, 1)
        self.sa_steps = check_int("sa_steps", sa_steps, 1)
        self.switch_margin = check_range("switch_margin", switch_margin, 0.0, 10.0)
        self.replan_every = check_int("replan_every", replan_every, 1)
        self.seed = check_int("seed", seed, 0)
        self.offsets = plan.sector_offsets(self.camera.hfov, self.sector_range, self.voxels.voxel_size)
        self.reset()

    # -- Agent interface -----------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        if not hasattr(self, "voxels"):
            return  # the frontier agent's constructor calls reset before ours has built the maps
        self.voxels.reset()
        self.current_landmarks = None
        self.detection_range = self.fixed_detection_range or (0.5, 3.5)
        self.frontier_info: dict[str, Any] = {}
        self._order_cells: np.ndarray | None = None
        self._plan_age = 0
        self._planned: tuple[tuple[slice, slice], np.ndarray] | None = None

    def _start_target(self, target: str) -> None:
        marks = self.landmarks.get(target)
        dropped = [lv for lv in LANDMARK_LEVELS if lv not in self.landmark_levels]
        self.current_landmarks = marks.without(*dropped) if dropped else marks
        phrases, alphas = self.current_landmarks.queries()
        self.voxels.set_queries(phrases, alphas)
        if self.fixed_detection_range is None:
            self.detection_range = self.landmarks.detection_range(target)

    def _observe(self, obs: dict[str, Any], pose: Pose2D, frame: FramePoints, detections: list) -> None:
        pixels = pixel_features(obs, detections, frame.points, frame.valid, self.features, self.scales)
        confidence = detection_confidence(frame.depth, self.camera.hfov, *self.detection_range, alpha=self.distance_alpha) if self.use_visibility else None
        self.voxels.integrate(frame.points, frame.valid, pixels, confidence, stride=self.pixel_stride)

    # -- frontier choice -----------------------------------------------------------------------
    def _planning_grid(self, pose: Pose2D, window: tuple[slice, slice], inflation: float):
        traversable, speed, agent = super()._planning_grid(pose, window, inflation)
        self._planned = (window, traversable)  # the last planning window (no copy of the whole map)
        return traversable, speed, agent

    def _traversable_in(self, region: tuple[slice, slice]) -> np.ndarray:
        """The last planning grid's traversable cells inside ``region`` of the map (False outside it)."""
        out = np.zeros((region[0].stop - region[0].start, region[1].stop - region[1].start), dtype=bool)
        if self._planned is None:
            return out
        (rows, cols), traversable = self._planned
        r0, r1 = max(rows.start, region[0].start), min(rows.stop, region[0].stop)
        c0, c1 = max(cols.start, region[1].start), min(cols.stop, region[1].stop)
        if r1 > r0 and c1 > c0:
            out[r0 - region[0].start : r1 - region[0].start, c0 - region[1].start : c1 - region[1].start] = traversable[
                r0 - rows.start : r1 - rows.start, c0 - cols.start : c1 - cols.start
            ]
        return out

    def _block_window(self) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
        """The observed part of the map grown by the frontier view range, aligned to voxel
        columns: (map-cell slices, voxel-column slices)."""
        b = self.block
        margin = int(math.ceil(self.sector_range / self.map.cell_size)) + b
        rows, cols = self.map.observed_bounds(margin)
        out = []
        for s in (rows, cols):
            start, stop = (s.start // b) * b, min(self.map.cells, -(-s.stop // b) * b)
            out.append((slice(start, stop), slice(start // b, stop // b)))
        return (out[0][0], out[1][0]), (out[0][1], out[1][1])

    def _choose_frontier(self, frontiers: list, from_agent: np.ndarray, origin: np.ndarray) -> tuple[int, np.ndarray, float] | None:
        if self.planner == "nearest" or not frontiers:
            self.frontier_info = {}
            return nearest_frontier(frontiers, from_agent)
        reps = []
        for i, frontier in enumerate(frontiers):
            d = from_agent[frontier.cells[:, 0], frontier.cells[:, 1]]
            j = int(np.argmin(d))
            if np.isfinite(d[j]):
                reps.append((i, frontier.cells[j], float(d[j])))
        if not reps:
            return None
        fine = np.array([cell for _, cell, _ in reps]) + origin
        if self.replan_every > 1 and self.target is not None and self._plan_age < self.replan_every - 1:
            near = np.hypot(*(fine - self.target).T) * self.map.cell_size
            j = int(np.argmin(near))
            if near[j] <= 1.0:  # the planned frontier is still there: keep it until the next replan
                self._plan_age += 1
                return reps[j]
        self._plan_age = 0
        fine_window, window = self._block_window()
        corner = np.array([window[0].start, window[1].start])
        columns = fine // self.block - corner
        voxels = self.voxels
        prior = voxels.prior[window]
        belief = np.einsum("ijk,ijk->ij", prior, voxels.visibility[window]) if self.use_visibility else prior.sum(axis=2)
        known = self.map.free[fine_window] | self.map.obstacle[fine_window]
        p_obs, direction = plan.observation_belief(
            belief, ~coarse(known, self.block), coarse(self.map.obstacle[fine_window], self.block), columns, self.offsets,
            w_unobserved=self.w_unobserved, unknown_voxels_per_cell=voxels.layers,
        )
        d0 = np.array([d for _, _, d in reps])
        if self.planner == "greedy":
            k = int(np.argmax(p_obs))
            order = [k]
        else:
            top = np.argsort(-p_obs, kind="stable")[: self.max_frontiers]
            distances = plan.pairwise_distances(coarse(self._traversable_in(fine_window), self.block), columns[top], voxels.voxel_size)
            initial = self._warm_start(fine[top])
            sub_order, cost = plan.optimize_order(d0[top], distances, p_obs[top], seed=self.seed + self.steps, initial=initial, steps=self.sa_steps)
            sub_order = self._commit(sub_order, cost, fine[top], d0[top], distances, p_obs[top])
            order = [int(top[i]) for i in sub_order]
            k = order[0]
            self._order_cells = fine[order]
        self.frontier_info = {"cells": fine, "p_obs": p_obs, "direction": direction, "order": order, "distance": d0}
        return reps[k][0], reps[k][1], reps[k][2]

    def _commit(self, order: list[int], cost: float, cells: np.ndarray, d0: np.ndarray, distances: np.ndarray, p_obs: np.ndarray) -> list[int]:
        """Keep heading for the current frontier while the best order that starts with it costs at
        most ``1 + switch_margin`` times the optimum (the order beyond its first frontier as the
        optimum's): beliefs shift a little with every step, and chasing each shift is what the
        paper's sequence objective is meant to prevent, but with fresh annealing every step it
        still flips between near-equal orders."""
        if self.target is None or not self.switch_margin or not len(order):
            return order
        d = np.hypot(*(cells - self.target).T) * self.map.cell_size
        j = int(np.argmin(d))
        if d[j] > 1.0 or order[0] == j:
            return order
        committed = [j] + [i for i in order if i != j]
        if plan.expected_search_cost(committed, d0, distances, p_obs) <= (1.0 + self.switch_margin) * cost:
            return committed
        return order

    def _warm_start(self, cells: np.ndarray) -> list[int] | None:
        """The previous order mapped onto the current frontiers (each old frontier to the nearest
        new one within 1 m), then the rest."""
        if self._order_cells is None or not len(cells):
            return None
        order: list[int] = []
        for old in self._order_cells:
            d = np.hypot(*(cells - old).T) * self.map.cell_size
            j = int(np.argmin(d))
            if d[j] <= 1.0 and j not in order:
                order.append(j)
        order += [j for j in range(len(cells)) if j not in order]
        return order

    def _keep_target(self, frontiers: list, from_agent: np.ndarray, origin: np.ndarray, best: float) -> np.ndarray | None:
        if self.planner == "nearest":
            return super()._keep_target(frontiers, from_agent, origin, best)
        return None  # the plan picks the frontier every step (paper: replan at every step)

    # -- pictures ------------------------------------------------------------------------------
    def render(self) -> np.ndarray:
        """RGB panel of the posterior belief map (max over heights) with the agent, the frontiers
        and the planned order (for videos, beside the egocentric view)."""
        from navgym.agents.beliefmap.render import render_belief_panel

        return render_belief_panel(self)
