"""The RAGNav agent (../shared/papers/ragnav.txt §3) and its NaiveRAG baseline, for MultiGoalVLN.

Design: **explore first, then retrieve** (the paper's offline memory construction followed by the
online retrieval / planning / execution loop). Phase 1 explores with the frontier agent's
machinery (nearest frontier, eq. 2, on the depth occupancy map) while the key poses become
topological nodes (1 m lattice, :mod:`.topo_map`) and every frame's semantic-sensor instances are
recorded against the current node (ground-truth perception). It ends when no frontier is left or
after ``explore_fraction`` of the step limit. Phase 2 writes the fingerprints, builds the
semantic forest, decomposes the instruction, retrieves one instance per sub-task, orders them by
eq. 4 and visits them with the local planner, calling ``found`` within ``found_distance`` of each
target's seen points and ``stop`` at the last. Exploring fully first is chosen because the
targets are unique in the house (a confident early retrieval of "the table" can be the wrong one
until the rest is seen) and the paper's memory is built before the query; the price is steps.

The agent is zero-shot and unprivileged: it reads only its observations (``depth``, ``gps``,
``compass``, ``semantic``, ``instruction``) and, for the describer, the semantic annotations'
category and attributes per instance id (never positions, boxes, rooms or the episode's goals).
``agent.last_retrieval`` holds the per-sub-task :class:`~navgym.agents.ragnav.retrieval.RetrievalResult`
(instruction order) for scoring retrieval accuracy afterwards.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from navgym.agents.baselines.frontier import FrontierAgent, require_sensors
from navgym.agents.mapping import Pose2D
from navgym.agents.mapping.geometry import camera_to_start_frame, depth_to_camera_points
from navgym.agents.ragnav.decompose import TaskPlan, parse_instruction
from navgym.agents.ragnav.fingerprints import AnnotationDescriber, InstanceMemory
from navgym.agents.ragnav.forest import Cluster, build_forest
from navgym.agents.ragnav.retrieval import RetrievalOptions, RetrievalResult, Retriever, visiting_order
from navgym.agents.ragnav.topo_map import TopologicalMap
from navgym.core.checks import check_range
from navgym.core.options import choice, flag
from navgym.errors import InvalidArgumentError

NEEDED = ("depth", "gps", "compass", "semantic", "instruction")
#: What the retrieval memory is written from (the paper's Table 1 input types): the instances'
#: descriptions; + each instance's estimated position (start frame, metres); + its mean reading
#: of the extra sensor channel (``temperature``, °C).
INPUT_KINDS = ("text", "text+location", "text+location+sensor")


class RAGNavAgent(FrontierAgent):
    """RAGNav: explore -> dual memory (topological map + semantic forest) -> decompose -> retrieve
    (eqs. 3, 7, 8) -> order (eq. 4) -> visit.

    Args:
        env: A MultiGoalVLN env emitting :data:`NEEDED` (``sensors=RAGNavAgent.needed_sensors(task)`` + defaults).
        forest, topology, spatial, neighbours: The paper's Table 3 ablations (False = "without ...").
        naive: NaiveRAG: flat top-1 over node fingerprints, no decomposition of spatial phrases.
        reasoner: Embedding backend with ``embed(texts)`` (a name for ``make_reasoner``; default
            the embedded MiniLM).
        decomposer: ``instruction -> TaskPlan`` (default the rule-based :func:`parse_instruction`;
            an LLM-backed one drops in).
        describer: Fingerprint describer (default :class:`AnnotationDescriber`; a VLM drops in).
        grid, edge_distance: Topological lattice and edge threshold, metres (1 m, 2 m as the paper).
        explore_fraction: Share of the env's step limit spent exploring at most.
        found_distance: Call ``found`` this close to the target's nearest seen point, metres.
        view_distance: Instances farther than this (median depth) are not recorded for a node.
        min_pixels: Fewer pixels of an instance in a frame are ignored.
        max_visit_steps: Give up a target after this many steps.
        omega, sigma_forest, merge_similarity: Eq. 5 and the forest cut.
        inputs: What the memory texts hold (:data:`INPUT_KINDS`, the paper's Table 1 input types):
            ``"text"`` the instances' descriptions ("the red wooden chair"); ``"text+location"``
            each also its estimated position ("... at x 2.3 m, z -1.5 m", start frame);
            ``"text+location+sensor"`` also its mean ``temperature`` reading ("..., 45 °C"; needs
            the ``temperature`` sensor). Navigation and the metric spatial check (eq. 3) use depth,
            GPS and compass in every kind.
        cell_size: Occupancy (planning) map cell, metres: 0.125, the zero-shot agents' default
            (:class:`~navgym.agents.baselines.object_search.ObjectSearchAgent`), not the frontier
            agent's 0.05: about 4x less CPU per episode here (fast marching dominates).
        **frontier_options: Passed to :class:`~navgym.agents.baselines.frontier.FrontierAgent`.
    """

    privileged = False

    def __init__(
        self,
        env: gym.Env | None = None,
        *,
        forest: Any = True,
        topology: Any = True,
        spatial: Any = True,
        neighbours: Any = True,
        naive: Any = False,
        reasoner: Any = "embedded",
        decomposer: Callable[[str], TaskPlan] = parse_instruction,
        describer: Any = None,
        grid: float = 1.0,
        edge_distance: float = 2.0,
        explore_fraction: float = 0.65,
        found_distance: float = 0.8,
        view_distance: float = 4.0,
        min_pixels: int = 3,
        max_visit_steps: int = 200,
        omega: float = 0.5,
        sigma_forest: float = 3.0,
        merge_similarity: float = 0.6,
        max_episode_steps: int | None = None,
        inputs: str = "text",
        cell_size: float = 0.125,
        **frontier_options: Any,
    ):
        if env is None or "found" not in tuple(getattr(env.unwrapped, "actions", ())):
            raise InvalidArgumentError("the ragnav agents need env= a MultiGoalVLN env (actions with 'found'), e.g. gym.make('MultiGoalVLN-ProcHouse-v0')")
        frontier_options.setdefault("stop_distance", found_distance)
        # Checked before the frontier machinery's own check, so the error names this agent and
        # every sensor it needs (not "the frontier agent" and a part of them).
        inputs = choice("inputs", inputs, INPUT_KINDS)
        require_sensors(env, NEEDED + (("temperature",) if inputs == INPUT_KINDS[2] else ()), "the naive-rag agent" if flag("naive", naive) else "the ragnav agent")
        super().__init__(env, cell_size=cell_size, **frontier_options)
        self.inputs = inputs
        self.options = RetrievalOptions(
            forest=flag("forest", forest), topology=flag("topology", topology), spatial=flag("spatial", spatial),
            neighbours=flag("neighbours", neighbours), naive=flag("naive", naive),
        )
        from navgym.agents.reasoning import make_reasoner

        self.reasoner = make_reasoner(reasoner)
        if not callable(getattr(self.reasoner, "embed", None)):
            raise InvalidArgumentError(f"reasoner={reasoner!r} has no embed(texts) method; use 'embedded' or a reasoner with embeddings")
        self.decomposer = decomposer
        self.describer = describer if describer is not None else AnnotationDescriber(env)
        self.topo = TopologicalMap(grid, edge_distance)
        self.memory = InstanceMemory()
        self.found_distance = check_range("found_distance", found_distance, 0.0, 5.0, low_open=True)
        self.view_distance = check_range("view_distance", view_distance, 0.0, 100.0, low_open=True)
        self.min_pixels = int(check_range("min_pixels", min_pixels, 1, 1e6))
        self.max_visit_steps = int(check_range("max_visit_steps", max_visit_steps, 1, 1e6))
        # Eq. 5: omega weighs spatial against semantic similarity, sigma_forest (metres) scales the
        # distance decay (0 would divide by zero), merge_similarity is a cosine-like cut.
        self.omega = check_range("omega", omega, 0.0, 1.0)
        self.sigma_forest = check_range("sigma_forest", sigma_forest, 0.0, 1000.0, low_open=True)
        self.merge_similarity = check_range("merge_similarity", merge_similarity, -1.0, 1.0)
        if max_episode_steps is not None:
            max_episode_steps = int(check_range("max_episode_steps", max_episode_steps, 1, 1e7))
        limit = max_episode_steps or getattr(getattr(env, "spec", None), "max_episode_steps", None) or 1000
        self.explore_steps = int(check_range("explore_fraction", explore_fraction, 0.0, 1.0) * limit)
        self.reset()

    @staticmethod
    def needed_sensors(task: Any, goal_recognition: bool = True) -> tuple[str, ...]:
        """``depth``, ``gps``, ``compass``, ``semantic`` (ground-truth perception) and ``instruction``."""
        return NEEDED

    def reset(self) -> None:
        super().reset()
        if hasattr(self, "topo"):
            self.topo.reset()
            self.memory.reset()
        self.temperature: dict[int, list[float]] = {}  # instance id -> [sum of °C, pixels]
        self.phase = "explore"
        self.steps = 0
        self.plan: TaskPlan | None = None
        self.clusters: list[Cluster] = []
        self.last_retrieval: list[RetrievalResult] = []
        self.retrieval_seconds: float | None = None
        self.explore_steps_used: int | None = None
        self.visit_order: list[int] = []
        self._queue: list[RetrievalResult] = []
        self._visit_steps = 0

    # -- perception ----------------------------------------------------------------------------
    def _perceive(self, obs: dict[str, Any], pose: Pose2D) -> None:
        semantic = np.asarray(obs["semantic"])
        if semantic.ndim == 3:
            semantic = semantic[..., 0]
        depth = np.asarray(obs["depth"], dtype=np.float64)
        if depth.ndim == 3:
            depth = depth[..., 0]
        valid = (semantic > 0) & np.isfinite(depth) & (depth > 1e-3) & (depth < self.camera.max_depth - 1e-3)
        if not valid.any():
            return
        temperature = obs.get("temperature")
        if temperature is not None:
            temperature = np.asarray(temperature, dtype=np.float64).reshape(semantic.shape)
        table = self.describer.table() if hasattr(self.describer, "table") else None
        node = self.topo.node_at(pose.position)
        points = camera_to_start_frame(depth_to_camera_points(depth, self.camera.hfov), pose, self.camera.camera_height, self.tilt)
        ids, counts = np.unique(semantic[valid], return_counts=True)
        for inst, count in zip(ids.tolist(), counts.tolist()):
            if count < self.min_pixels or (table is not None and inst not in table):
                continue
            mask = valid & (semantic == inst)
            distance = float(np.median(depth[mask]))
            if distance > self.view_distance:
                continue
            self.memory.add(inst, points[mask][:, [0, 2]])
            if temperature is not None:
                total = self.temperature.setdefault(inst, [0.0, 0.0])
                total[0] += float(temperature[mask].sum())
                total[1] += float(mask.sum())
            entry = node.seen.setdefault(inst, [0.0, math.inf])
            entry[0] += 1
            entry[1] = min(entry[1], distance)

    # -- memory, retrieval, order --------------------------------------------------------------
    def item_text(self, instance_id: int, inputs: str | None = None) -> str:
        """One memory item: the instance's description, plus its position and sensor reading as
        ``inputs`` (default the agent's :data:`INPUT_KINDS` choice) says."""
        inputs = self.inputs if inputs is None else inputs
        text = self.describer.instance_text(instance_id)
        if inputs != "text" and self.memory.points.get(int(instance_id)):
            x, z = self.memory.centre(instance_id)
            text += f" at x {x:.1f} m, z {z:.1f} m"
        if inputs == INPUT_KINDS[2] and self.temperature.get(int(instance_id), (0.0, 0.0))[1] > 0:
            total, pixels = self.temperature[int(instance_id)]
            text += f", {total / pixels:.0f} °C"
        return text

    def retrieve(self, instruction: str, options: Any = None, inputs: str | None = None, plan: TaskPlan | None = None) -> tuple[list[RetrievalResult], list[Cluster]]:
        """Retrieval on the memory built so far: decompose ``instruction``, write the fingerprints
        and the forest from ``inputs`` (default the agent's), retrieve one instance per sub-task
        with ``options`` (a :class:`RetrievalOptions` or a dict of its fields; default the
        agent's). Changes nothing the agent navigates by, so one exploration can be scored under
        several variants (scripts/run_ragnav_results.py). Returns the results (instruction order)
        and the forest's clusters. ``plan``: the instruction already decomposed (skips the decomposer)."""
        inputs = self.inputs if inputs is None else choice("inputs", inputs, INPUT_KINDS)
        if options is None:
            options = self.options
        elif isinstance(options, dict):
            options = replace(self.options, **{k: flag(k, v) if k in ("forest", "topology", "spatial", "neighbours", "naive") else v for k, v in options.items()})
        plan = self.decomposer(instruction) if plan is None else plan
        text = lambda i: self.item_text(i, inputs)  # noqa: E731
        for node in self.topo.nodes:
            node.text = self.describer.describe(node, text)
        clusters: list[Cluster] = []
        seen_nodes = [n for n in self.topo.nodes if n.seen]
        if options.forest and not options.naive and seen_nodes:
            # Forest over the nodes that saw something; leaves refer to topological node ids.
            embeddings = self.reasoner.embed([n.text for n in seen_nodes])
            cats = [[self.describer.category(i) or "" for i in n.seen] for n in seen_nodes]
            local = build_forest(np.array([n.position for n in seen_nodes]), embeddings, cats, self.omega, self.sigma_forest, self.merge_similarity)
            clusters = [Cluster(c.id, [seen_nodes[k].id for k in c.leaves], c.summary) for c in local]
        retriever = Retriever(self.reasoner.embed, text, options)
        return retriever.retrieve(plan, self.topo, self.memory, clusters), clusters

    def _build_and_retrieve(self, instruction: str, pose: Pose2D) -> None:
        started = time.perf_counter()
        self.plan = self.decomposer(instruction)
        results, self.clusters = self.retrieve(instruction, plan=self.plan)
        self.retrieval_seconds = time.perf_counter() - started
        self.last_retrieval = results
        found = [r for r in results if r.instance is not None]
        if not found:
            self._queue = []
            return
        points = [pose.position] + [r.position for r in found]
        if self.options.topology and not self.options.naive and len(self.topo.nodes):
            ids = [self.topo.nearest(p) for p in points]
            costs = self.topo.travel_costs(ids)
            # Dijkstra between nodes, plus the straight legs from each point to its node.
            legs = np.array([float(np.hypot(*(np.asarray(p) - self.topo.nodes[i].position))) for p, i in zip(points, ids)])
            costs = costs + legs[:, None] + legs[None, :]
        else:
            p = np.array(points)
            costs = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
        np.fill_diagonal(costs, 0.0)
        if self.options.naive:
            order = list(range(len(found)))
        else:
            order = visiting_order(costs, self.plan.ordered)
        self.visit_order = [found[k].subtask.index for k in order]
        self._queue = [found[k] for k in order]

    # -- acting --------------------------------------------------------------------------------
    def policy(self, obs: dict[str, Any]) -> int:
        for key in NEEDED:
            if key not in obs:
                raise KeyError(f"The ragnav agent needs obs[{key!r}]; make the env with sensors={NEEDED} plus the task's defaults")
        pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
        self._handle_collision(pose)
        self.map.integrate(obs["depth"], pose, self.camera, pitch=self.tilt)
        self.map.mark_free_disk(pose.position, self.agent_radius)
        self._perceive(obs, pose)
        self.steps += 1
        action = self._act(obs, pose)
        self._last_pose, self._last_action = pose, action
        return self.actions.index(action)

    def _act(self, obs: dict[str, Any], pose: Pose2D) -> str:
        if self.phase == "explore":
            self.map.goal[:] = False
            action = super()._decide(pose, np.zeros((0, 3)))
            if self.steps < self.explore_steps and self.mode != "done":
                return action
            self.explore_steps_used = self.steps
            self._build_and_retrieve(str(obs["instruction"]), pose)
            self.phase = "visit"
            self._visit_steps = 0
        while self._queue:
            target = self._queue[0]
            xz = self.memory.xz(target.instance)
            self.map.goal[:] = False
            rows, cols = self.map.world_to_cell(xz)
            inside = self.map.inside(rows, cols)
            self.map.goal[rows[inside], cols[inside]] = True
            distance = float(np.hypot(*(xz - pose.position).T).min()) if len(xz) else math.inf
            if distance <= self.found_distance:
                self._queue.pop(0)
                self._visit_steps = 0
                return "found" if self._queue else "stop"
            self._visit_steps += 1
            action = self._with_fallbacks(self._go_to_goal, pose) if self._visit_steps <= self.max_visit_steps else None
            if action is not None:
                self.mode = "goal"
                return action
            self._queue.pop(0)  # unreachable or too long: give it up
            self._visit_steps = 0
        self.mode = "stop"
        return "stop"


    def episode_summary(self) -> dict[str, Any]:
        """What the evaluation records beside an episode's measures (``navgym evaluate`` writes it
        as the record's ``"agent"``): the retrieved instance per sub-task (instruction order;
        ``None`` when none), the retrieval's wall time and the steps spent exploring. Retrieval
        accuracy is scored from it against the episode's goals afterwards, not by the agent."""
        return {
            "retrieved": [r.instance for r in sorted(self.last_retrieval, key=lambda r: r.subtask.index)],
            "retrieval_s": self.retrieval_seconds,
            "explore_steps": self.explore_steps_used,
            "inputs": self.inputs,
        }


class NaiveRAGAgent(RAGNavAgent):
    """NaiveRAG: the same exploration and memory, flat top-1 embedding retrieval of each sub-task's
    whole phrase over the node fingerprints, visited in the instruction's order."""

    def __init__(self, env: gym.Env | None = None, **options: Any):
        options["naive"] = True
        super().__init__(env, **options)


__all__ = ["INPUT_KINDS", "NEEDED", "NaiveRAGAgent", "RAGNavAgent"]
