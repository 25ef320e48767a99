"""UniGoal (Yin et al., CVPR 2025): one zero-shot agent for ObjectNav, InstanceImageNav and TextNav.

Every step (paper, appendix C, algorithm 1): perception -> online scene graph -> graph matching
against the goal graph (:mod:`.matching`) -> one of three stages picks a long-term goal, which the
frontier agent's local planner (fast marching on the depth occupancy map) turns into an action:

* **Stage 1, zero matching** (``S < sigma1``, or fewer than two matched nodes): explore. The goal
  graph is decomposed into related subgraphs (:func:`~.goal.decompose`); each frontier is scored
  by the seen objects near it, weighted by how related each object is to a subgraph (the
  reasoner's similarity, or with a language model the paper's "most likely distance" question as a
  choice among distances), and the frontier with the best score less its geodesic distance is
  explored (``semantic_weight`` metres of detour per unit of score).
* **Stage 2, partial matching** (``sigma1 <= S < sigma2`` and at least two matched nodes): the goal
  graph's nodes are projected to a bird's-eye plane (:func:`~.goal.project_coordinates`); for each
  anchor pair (a matched edge, or two matched nodes) the similarity transform that maps the goal's
  pair onto the scene's (paper eq. 4) places the unmatched goal nodes in the map, and the agent goes
  to the centre of their smallest enclosing circle (eq. 5; OpenCV ``minEnclosingCircle``). When
  every anchor pair has been tried without reaching stage 3, their nodes and edges are blacklisted.
* **Stage 3, perfect matching** (``S >= sigma2`` and the target matched): go to the matched target
  and verify it on the way: ``C = N + M + S - lambda * D`` (eq. 8) with ``N`` the share of the
  target's detections that agree on its category times ``min(1, detections / 3)`` (what our scene
  graph correction re-checks: the paper asks an LLM and a VLM to rewrite the local graph), ``M`` the
  keypoint-match score between the current view and the goal photo (InstanceImageNav only; OpenCV
  ORB + RANSAC where the paper uses LightGlue), ``S`` the matching score and ``D`` the path length
  since stage 3 began. The target is verified once ``C >= verify_threshold``; the agent stops
  within ``stop_distance`` of a verified target. An unverified arrival, an unreachable target or
  ``stage3_steps`` steps without arrival blacklist every matched pair (paper §3.4).

Scene-graph correction: a blacklisted node whose category changes (its detections' vote flips)
is lifted off the blacklist with its neighbours (paper §3.4).

Perception is explicit: ``perception="ground_truth"`` (default; the semantic sensor's instance ids
and the scene's category/colour/material/size labels for the instances in view: see
:mod:`navgym.agents.perception.ground_truth` for exactly what that gives away; InstanceImageNav
goal photos get theirs through :class:`~navgym.agents.perception.GoalImageSemantics`, added by
:meth:`UniGoalAgent.wrap_env`), ``"noisy"`` (the same with seeded misses, false positives,
confusions, position noise and no instance ids), or any :class:`~navgym.agents.perception.Perception`.
The agent never reads object positions, rooms or the ProcHouse generator.

Ablations (paper tables 2-3): ``blacklist=False``; ``stage1="frontier"`` (plain nearest-frontier
exploration); ``stage2=False`` (the simplified multi-stage policy: exploration then goal
approach); ``simple_matching=True`` (stages switch on matched pairs alone, no score).

Parameters the paper gives: ``tau = 0.9``, ``sigma1 = 0.5``, ``sigma2 = 0.9``. Ours where it gives
none: ``verify_threshold = 1.5``, ``verify_lambda = 0.05`` per metre, ``stage3_steps = 100`` (steps near the target), ``verify_turns = 6``, ``stop_distance = 0.9`` m,
``semantic_weight = 5`` m, ``semantic_radius = 3`` m, ``anchor_reach = 1`` m, ``anchor_steps = 80``, ``max_anchor_pairs = 3``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from navgym.agents.baselines.frontier import FrontierAgent, require_sensors
from navgym.agents.mapping import Pose2D
from navgym.agents.perception.goal_image import GOAL_KEY, GoalImageSemantics, goal_image_detections
from navgym.agents.planning import action_toward, distance_field, nearest_frontier
from navgym.agents.perception.factory import make_perception
from navgym.agents.reasoning import make_reasoner_with
from navgym.agents.scene_graph import OnlineSceneGraph
from navgym.agents.unigoal.goal import UniGoalGoal, decompose, image_goal, object_goal, project_coordinates, text_goal
from navgym.agents.unigoal.matching import Blacklist, GraphMatch, GraphMatcher
from navgym.core.checks import check_int, check_range
from navgym.core.options import choice, flag
from navgym.errors import InvalidArgumentError

#: Distances offered to a language model for "the most likely distance between A and B" (metres).
DISTANCE_OPTIONS = (0.5, 1.0, 2.0, 4.0, 8.0)
#: The goal sensors UniGoal reads (one per task).
GOAL_SENSORS = ("objectgoal", "textgoal", GOAL_KEY)


class UniGoalAgent(FrontierAgent):
    """UniGoal: scene graph + goal graph + graph matching + three-stage exploration (module docstring).

    Args:
        env: The env (camera, motion, the goal vocabulary; ground-truth perception reads its
            scene's instance labels).
        reasoner: A reasoner name (``"embedded"``, ``"openai"``, ...) or instance.
        base_url, model, api_key, timeout: Passed to the ``openai`` reasoner.
        reasoner_options: More options for the reasoner's constructor.
        perception: ``"ground_truth"``, ``"noisy"`` or a Perception instance.
        noise_seed, miss_rate, false_positives_per_frame, confusion_rate, position_noise: The noise
            of ``perception="noisy"`` (defaults :data:`navgym.agents.perception.factory.NOISE`).
        tau, sigma1, sigma2: Matching threshold and stage thresholds.
        verify_threshold, verify_lambda, stage3_steps: Goal verification (eq. 8); a target not
            verified within ``stage3_steps`` steps spent within 3 m of it is blacklisted (a
            verified one is pursued until it proves unreachable).
        blacklist, stage1, stage2, simple_matching: Ablations (module docstring).
        frontier_scoring: ``"similarity"``, ``"distance"`` (ask the reasoner the paper's distance
            question; needs a language model) or ``"auto"`` (distance for a reasoner that writes
            text, else similarity).
        projection: ``"rules"`` or ``"reasoner"`` (ask the paper's coordinate question).
        semantic_weight, semantic_radius: Stage-1 frontier utility: ``weight * score - distance``,
            each object's contribution decaying as ``exp(-d / radius)``.
        anchor_reach, anchor_steps: Stage 2: an anchor goal is done within this distance or after
            this many steps.
        max_anchor_pairs: Stage 2 tries at most this many anchor pairs (the best first: matched
            edges, then pairs of the most similar nodes) before blacklisting them.
        keypoint_method: ``"orb"`` or ``"sift"`` for image-goal verification.
        categories: The ObjectNav goal vocabulary (default the env's task's).
        stop_distance: Stop this close (straight line) to the map cells of the points seen on the
            target, metres (the frontier agent's rule; the box of an object, axis-aligned in the
            start frame, has corners far from a rotated object, which let an agent stop 1.2 m
            from a sofa).
        verify_turns: Arrived at an unverified target, turn toward it for up to this many steps
            before blacklisting it.
        **kwargs: Passed to :class:`~navgym.agents.baselines.frontier.FrontierAgent` (camera,
            motion, map and planner settings).
    """

    privileged = False
    #: Not an oracle, but ground-truth perception (the default) reads the semantic sensor.
    ground_truth_perception = True
    #: Name used in error messages.
    who = "the unigoal agent"

    def __init__(
        self,
        env: gym.Env | None = None,
        *,
        reasoner: Any = "embedded",
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        reasoner_options: dict[str, Any] | None = None,
        perception: Any = "ground_truth",
        noise_seed: int = 0,
        miss_rate: float | None = None,
        false_positives_per_frame: float | None = None,
        confusion_rate: float | None = None,
        position_noise: float | None = None,
        tau: float = 0.9,
        sigma1: float = 0.5,
        sigma2: float = 0.9,
        verify_threshold: float = 1.5,
        verify_lambda: float = 0.05,
        stage3_steps: int = 100,
        blacklist: bool = True,
        stage1: str = "scored",
        stage2: bool = True,
        simple_matching: bool = False,
        frontier_scoring: str = "auto",
        projection: str = "rules",
        semantic_weight: float = 5.0,
        semantic_radius: float = 3.0,
        anchor_reach: float = 1.0,
        anchor_steps: int = 80,
        max_anchor_pairs: int = 3,
        keypoint_method: str = "orb",
        categories: Sequence[str] | None = None,
        stop_distance: float = 0.9,
        verify_turns: int = 6,
        **kwargs: Any,
    ):
        from navgym.agents.reasoning.minilm import require

        require("The unigoal agent", {"cv2": "opencv-python-headless", "networkx": "networkx"})
        super().__init__(env, goal_recognizer=lambda obs: None, stop_distance=stop_distance, **kwargs)
        self.reasoner = make_reasoner_with(reasoner, base_url=base_url, model=model, api_key=api_key, timeout=timeout, options=reasoner_options)
        self.sigma1 = check_range("sigma1", sigma1, 0.0, 1.0)
        self.sigma2 = check_range("sigma2", sigma2, self.sigma1, 1.0)
        self.matcher = GraphMatcher(self.reasoner, tau=tau)
        self.verify_threshold = check_range("verify_threshold", verify_threshold, 0.0, 4.0)
        self.verify_lambda = check_range("verify_lambda", verify_lambda, 0.0, 10.0)
        self.stage3_steps = check_int("stage3_steps", stage3_steps, 1)
        self.use_blacklist = flag("blacklist", blacklist)
        self.stage1 = choice("stage1", stage1, ("scored", "frontier"))
        self.use_stage2 = flag("stage2", stage2)
        self.simple_matching = flag("simple_matching", simple_matching)
        self.frontier_scoring = choice("frontier_scoring", frontier_scoring, ("auto", "similarity", "distance"))
        if self.frontier_scoring == "auto":
            self.frontier_scoring = "distance" if getattr(self.reasoner, "supports_completion", False) else "similarity"
        self.projection = choice("projection", projection, ("rules", "reasoner"))
        self.semantic_weight = check_range("semantic_weight", semantic_weight, 0.0, 100.0)
        self.semantic_radius = check_range("semantic_radius", semantic_radius, 0.0, 100.0, low_open=True)
        self.anchor_reach = check_range("anchor_reach", anchor_reach, 0.0, 10.0, low_open=True)
        self.anchor_steps = check_int("anchor_steps", anchor_steps, 1)
        self.max_anchor_pairs = check_int("max_anchor_pairs", max_anchor_pairs, 1)
        self.keypoint_method = choice("keypoint_method", keypoint_method, ("orb", "sift"))
        self.verify_turns = check_int("verify_turns", verify_turns, 0)
        self.env = env
        if env is not None and not any(s in GOAL_SENSORS for s in env.unwrapped.task.goal_sensors):
            raise InvalidArgumentError(
                f"The unigoal agent is for ObjectNav, InstanceImageNav and TextNav (goal sensors {list(GOAL_SENSORS)}); "
                f"this task's goal sensors are {list(env.unwrapped.task.goal_sensors)}: pick one of those tasks"
            )
        self.categories = tuple(categories) if categories is not None else (tuple(getattr(env.unwrapped.task, "categories", ())) if env is not None else ())
        self.perception = make_perception(
            env, perception, noise_seed, who="the unigoal agent", miss_rate=miss_rate, false_positives_per_frame=false_positives_per_frame,
            confusion_rate=confusion_rate, position_noise=position_noise,
        )
        self.ground_truth_perception = bool(getattr(self.perception, "privileged", False))
        self.graph = OnlineSceneGraph()
        self._matcher_kp = None
        if env is not None:
            self._check_unigoal_sensors(env)
        self.reset()

    # -- construction --------------------------------------------------------------------------
    @staticmethod
    def needed_sensors(task: Any, goal_recognition: bool = True) -> tuple[str, ...]:
        """``rgb`` (image-goal verification), ``depth``, ``semantic`` (ground-truth perception),
        ``gps``, ``compass`` and the task's goal sensors."""
        return ("rgb", "depth", "semantic", "gps", "compass") + tuple(s for s in task.goal_sensors if s in GOAL_SENSORS)

    def _check_sensors(self, env: gym.Env) -> None:
        """(The frontier agent's check, run by its constructor: UniGoal checks after building its perception.)"""

    def _check_unigoal_sensors(self, env: gym.Env) -> None:
        goal = [s for s in env.unwrapped.task.goal_sensors if s in GOAL_SENSORS]
        if not goal:
            raise InvalidArgumentError(f"The unigoal agent needs one of the goal sensors {list(GOAL_SENSORS)}; this task has {list(env.unwrapped.task.goal_sensors)}")
        require_sensors(env, ["rgb", "depth", "gps", "compass", *goal] + (["semantic"] if self.ground_truth_perception else []), "the unigoal agent")

    def wrap_env(self, env: gym.Env) -> gym.Env:
        """The env the agent must act in: with ground-truth perception on InstanceImageNav, ``env``
        wrapped in the privileged :class:`GoalImageSemantics` (the goal photo's instance ids and
        depth); else ``env`` itself."""
        spaces = getattr(env.observation_space, "spaces", {})
        if self.ground_truth_perception and GOAL_KEY in spaces and f"{GOAL_KEY}_semantic" not in spaces:
            return GoalImageSemantics(env)
        return env

    # -- Agent interface -----------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        if not hasattr(self, "graph"):
            return  # called by the frontier agent's constructor, before ours has built its parts
        self.graph.reset()
        self.blacklist = Blacklist()
        self.goal: UniGoalGoal | None = None
        self._goal_read = False
        self.subgoals = []
        self.goal_coords: dict[str, np.ndarray] | None = None
        self.match = GraphMatch()
        self.stage = 1
        self.steps = 0
        self._relevance: dict[str, np.ndarray] = {}
        self._stage2: dict[str, Any] | None = None
        self._stage3: dict[str, Any] | None = None
        self._goal_features = None
        self._chosen_frontier: np.ndarray | None = None
        self._target_cells: dict[int, np.ndarray] = {}
        self.episode_stats = {"stage_steps": [0, 0, 0], "blacklisted": 0, "verifications_failed": 0, "anchor_goals": 0}
        if hasattr(self.perception, "reset_noise"):
            self.perception.reset_noise()

    def policy(self, obs: dict[str, Any]) -> int:
        for key in ("depth", "gps", "compass"):
            if key not in obs:
                raise KeyError(f"The unigoal agent needs obs[{key!r}]; make the env with {key!r} in sensors=")
        pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
        if self.goal is None and not self._goal_read:
            self._start_episode(obs)
            self._goal_read = True
        self._handle_collision(pose)
        self.map.integrate(obs["depth"], pose, self.camera, pitch=self.tilt)
        self.map.mark_free_disk(pose.position, self.agent_radius)
        detections = self.perception.detect(obs, pose, pitch=self.tilt)
        touched = self.graph.update(detections, step=self.steps, occupancy=self.map)
        self._touched = set(touched)
        self._remember_target_cells(obs, pose, detections, touched)
        if self.use_blacklist and self.blacklist.nodes:
            self.blacklist.correct(self.graph)
        if self.goal is not None:
            self.match = self.matcher.match(self.graph, self.blacklist if self.use_blacklist else None)
        action = self._decide_unigoal(pose, obs)
        self.episode_stats["stage_steps"][self.stage - 1] += 1
        self._last_pose, self._last_action = pose, action
        self.steps += 1
        return self.actions.index(action)

    # -- goal ----------------------------------------------------------------------------------
    def _start_episode(self, obs: dict[str, Any]) -> None:
        if "textgoal" in obs:
            goal = text_goal(str(obs["textgoal"]), self.reasoner)
        elif "objectgoal" in obs:
            index = int(np.asarray(obs["objectgoal"]).reshape(-1)[0])
            if not 0 <= index < len(self.categories):
                raise InvalidArgumentError(f"objectgoal={index} is outside the goal vocabulary of {len(self.categories)} categories; pass categories=")
            goal = object_goal(self.categories[index])
        elif GOAL_KEY in obs:
            detections = goal_image_detections(self.perception, obs)
            goal = image_goal(detections, np.asarray(obs[GOAL_KEY]))
        else:
            raise KeyError(f"The unigoal agent needs obs['objectgoal'], obs['textgoal'] or obs[{GOAL_KEY!r}]")
        self.goal = goal
        if goal is None:
            return  # an image goal with nothing detected: explore only
        self.matcher.reset(goal.graph)
        self.subgoals = decompose(goal.graph, self.reasoner)

    # -- decisions -----------------------------------------------------------------------------
    def _decide_unigoal(self, pose: Pose2D, obs: dict[str, Any]) -> str:
        try:
            self.map.cell_of(pose)
        except ValueError:
            self.mode = "done"
            return "stop"
        if self._spin_left > 0:
            self._spin_left -= 1
            return "turn_left"
        stage = self._select_stage() if self.goal is not None else 1
        if stage != 2:
            self._stage2 = None
        if stage != 3 and self._stage3 is not None:
            self._stage3 = None
            self.map.goal[:] = False
        if self.goal is not None:
            if stage == 3:
                action = self._stage3_action(pose, obs)
                if action is not None:
                    self.stage = 3
                    return action
            elif stage == 2:
                action = self._stage2_action(pose)
                if action is not None:
                    self.stage = 2
                    return action
        self.stage = 1
        self.mode = "explore"
        action = self._with_fallbacks(self._explore, pose)
        if action is None:
            self.mode = "done"
            return "stop"
        return action

    def _select_stage(self) -> int:
        m = self.match
        target = m.scene_node(self.goal.target)
        if self._stage3 is not None and self._stage3["node"] in self.graph.nodes and self._stage3["node"] not in self._banned():
            return 3
        if self.simple_matching:
            stage3, stage2 = target is not None, len(m.anchor_pairs) > 0
        else:
            stage3 = target is not None and m.score >= self.sigma2
            stage2 = self.sigma1 <= m.score < self.sigma2 and len(m.nodes) >= 2
        if stage3:
            return 3
        if stage2 and self.use_stage2 and m.anchor_pairs:
            return 2
        return 1

    def _banned(self) -> dict[int, str]:
        return self.blacklist.nodes if self.use_blacklist else {}

    def _fail(self, reason: str) -> None:
        """Blacklist every matched pair (stage 3 failed, or every stage-2 anchor was tried)."""
        m = self.match
        nodes = [scene for scene, _ in m.nodes.values()]
        edges = [edge for edge, _ in m.edges.values()]
        if reason == "anchors" and self._stage2 is not None:
            nodes = sorted({s for pair in self._stage2["pairs"] for _, s in pair})
            edges = [e for e in edges if e.subject in nodes and e.object in nodes]
        if self._stage3 is not None:
            nodes = sorted(set(nodes) | {self._stage3["node"]})
            self.episode_stats["verifications_failed"] += reason != "anchors"
        if self.use_blacklist:
            before = len(self.blacklist)
            self.blacklist.add(self.graph, nodes, edges)
            self.episode_stats["blacklisted"] += len(self.blacklist) - before
        self._stage2 = None
        self._stage3 = None
        self.map.goal[:] = False
        if self.use_blacklist:
            self.match = self.matcher.match(self.graph, self.blacklist)

    # -- stage 3 -------------------------------------------------------------------------------
    def _stage3_action(self, pose: Pose2D, obs: dict[str, Any]) -> str | None:
        if self._stage3 is None:
            node_id = self.match.scene_node(self.goal.target)
            self._stage3 = {"node": node_id, "steps": 0, "path": 0.0, "last": pose.position, "verified": False, "best": -np.inf, "keypoints": 0.0, "looks": 0, "near_steps": 0}
            self._stage2 = None
        s3 = self._stage3
        node = self.graph.nodes[s3["node"]]
        s3["steps"] += 1
        s3["path"] += float(np.hypot(*(pose.position - s3["last"])))
        s3["last"] = pose.position
        self._paint_goal(node)
        if not self.map.goal.any():
            self._fail("unreachable")  # its box lies off the map
            return None
        confidence = self._verification(node, obs)
        s3["best"] = max(s3["best"], confidence)
        s3["verified"] |= confidence >= self.verify_threshold
        self.mode = "goal"
        straight = self._goal_distance(pose, np.zeros((0, 3)))
        if straight <= self.stop_distance:
            if s3["verified"]:
                self.mode = "stop"
                return "stop"
            if s3["looks"] < self.verify_turns:  # arrived unverified: look at it again
                s3["looks"] += 1
                face = self._face_goal(pose)
                return face if face != "move_forward" else "turn_left"
            self._fail("verification")
            return None
        if straight <= 3.0:
            s3["near_steps"] += 1
        if s3["near_steps"] > self.stage3_steps and not s3["verified"]:
            self._fail("timeout")
            return None
        action = self._with_fallbacks(self._go_to_goal, pose)
        if action is None:
            self._fail("unreachable")
        return action

    def _face_goal(self, pose: Pose2D) -> str:
        return action_toward(pose, self._nearest_goal_point(pose), self.turn_angle)

    def _remember_target_cells(self, obs: dict[str, Any], pose: Pose2D, detections: list, touched: list[int]) -> None:
        """Map cells of the points seen on objects that could be the target (category similar to
        it): where the agent stops is judged against these, not against the object's box, whose
        corners (an axis-aligned box in the start frame) can lie far from the object."""
        if self.goal is None:
            return
        located = [d for d in detections if d.position is not None and d.extent is not None]
        pairs = [(d, n) for d, n in zip(located, touched) if d.mask is not None]
        if not pairs:
            return
        target = [n.id for n in self.goal.graph.nodes].index(self.goal.target)
        sim = self.matcher.category_similarity([self.graph.nodes[n].label for _, n in pairs])[:, target]
        pairs = [pair for pair, value in zip(pairs, sim) if value >= self.matcher.tau]
        if not pairs:
            return
        from navgym.agents.perception.detection import FramePoints

        frame = FramePoints(obs["depth"], self.camera, pose, self.tilt)
        for det, node_id in pairs:
            points = frame.points[np.asarray(det.mask, dtype=bool) & frame.valid]
            if len(points) == 0:
                continue
            rows, cols = self.map.world_to_cell(points[:, [0, 2]])
            inside = self.map.inside(rows, cols)
            flat = np.unique(rows[inside] * self.map.cells + cols[inside])
            known = self._target_cells.get(node_id)
            self._target_cells[node_id] = flat if known is None else np.union1d(known, flat)

    def _paint_goal(self, node: Any) -> None:
        """The goal layer = the map cells of the target's seen points, or its footprint (its box
        on the floor) when none were kept."""
        self.map.goal[:] = False
        cells = self._target_cells.get(node.id)
        if cells is not None and len(cells):
            self.map.goal.reshape(-1)[cells] = True
            return
        step = self.map.cell_size / 2.0
        xs = np.arange(node.lo[0], node.hi[0] + step, step)
        zs = np.arange(node.lo[2], node.hi[2] + step, step)
        grid = np.stack(np.meshgrid(xs, zs, indexing="ij"), axis=-1).reshape(-1, 2)
        rows, cols = self.map.world_to_cell(grid)
        inside = self.map.inside(rows, cols)
        self.map.goal[rows[inside], cols[inside]] = True

    def _verification(self, node: Any, obs: dict[str, Any]) -> float:
        """``C = N + M + S - lambda * D`` (eq. 8; see the module docstring)."""
        total = sum(node.votes.values()) or 1.0
        agree = node.votes.get(node.category, 0.0) / total
        n_term = agree * min(1.0, node.observations / 3.0)
        m_term = 0.0
        if self.goal.kind == "image" and "rgb" in obs and node.id in self._touched:
            m_term = self._keypoint_score(obs["rgb"])
            self._stage3["keypoints"] = max(self._stage3["keypoints"], m_term)
        m_term = max(m_term, self._stage3["keypoints"])
        return n_term + m_term + self.match.score - self.verify_lambda * self._stage3["path"]

    def _keypoint_score(self, rgb: np.ndarray) -> float:
        from navgym.agents.perception.matching import KeypointMatcher

        if self._matcher_kp is None:
            self._matcher_kp = KeypointMatcher(self.keypoint_method)
        if self._goal_features is None:
            self._goal_features = self._matcher_kp.features(self.goal.image)
        return float(self._matcher_kp.match(self._matcher_kp.features(np.asarray(rgb)), self._goal_features).score)

    # -- stage 2 -------------------------------------------------------------------------------
    def _stage2_action(self, pose: Pose2D) -> str | None:
        if self._stage2 is None:
            if self.goal_coords is None:
                self.goal_coords = project_coordinates(self.goal, self.reasoner, self.projection == "reasoner")
            self._stage2 = {"pairs": list(self.match.anchor_pairs)[: self.max_anchor_pairs], "index": 0, "steps": 0, "point": None}
        s2 = self._stage2
        while s2["index"] < len(s2["pairs"]):
            if s2["point"] is None:
                s2["point"] = self._anchor_goal(s2["pairs"][s2["index"]])
                s2["steps"] = 0
                self.episode_stats["anchor_goals"] += 1
            point = s2["point"]
            s2["steps"] += 1
            if point is not None and s2["steps"] <= self.anchor_steps and np.hypot(*(point - pose.position)) > self.anchor_reach:
                self._point = point
                action = self._with_fallbacks(self._go_to_point, pose)
                if action is not None:
                    self.mode = "anchor"
                    return action
            s2["index"] += 1
            s2["point"] = None
        self._fail("anchors")
        return None

    def _anchor_goal(self, pair: tuple[tuple[str, int], tuple[str, int]]) -> np.ndarray | None:
        """Align the goal's anchor pair onto the scene's (eq. 4) and return the centre of the
        smallest circle around the other goal nodes' projections (eq. 5)."""
        import cv2

        (g1, s1), (g2, s2) = pair
        if s1 not in self.graph.nodes or s2 not in self.graph.nodes:
            return None
        src = np.array([self.goal_coords[g1], self.goal_coords[g2]], dtype=np.float64)
        dst = np.array([self.graph.nodes[s1].position[[0, 2]], self.graph.nodes[s2].position[[0, 2]]], dtype=np.float64)
        rest = [self.goal_coords[n.id] for n in self.goal.graph.nodes if n.id not in (g1, g2)] or [self.goal_coords[self.goal.target]]
        rest = np.array(rest, dtype=np.float64)
        if np.hypot(*(src[1] - src[0])) < 1e-6 or np.hypot(*(dst[1] - dst[0])) < 1e-6:
            projected = rest - src[0] + dst[0]  # coincident anchors: translation only
        else:
            model, _ = cv2.estimateAffinePartial2D(src[None].astype(np.float32), dst[None].astype(np.float32), method=cv2.LMEDS)
            if model is None:
                projected = rest - src[0] + dst[0]
            else:
                projected = rest @ model[:, :2].T.astype(np.float64) + model[:, 2].astype(np.float64)
        (cx, cz), _ = cv2.minEnclosingCircle(projected.astype(np.float32).reshape(-1, 1, 2))
        return np.array([cx, cz], dtype=np.float64)

    def _go_to_point(self, pose: Pose2D, inflation: float) -> str | None:
        """Plan to the traversable cells within ``anchor_reach`` of ``self._point``."""
        window = self._window(pose)
        traversable, speed, agent = self._planning_grid(pose, window, inflation)
        rows = np.arange(window[0].start, window[0].stop)
        cols = np.arange(window[1].start, window[1].stop)
        centers = self.map.cell_to_world(*np.meshgrid(rows, cols, indexing="ij"))
        near = np.hypot(centers[..., 0] - self._point[0], centers[..., 1] - self._point[1]) <= self.anchor_reach
        targets = near & traversable
        if not targets.any():
            return None
        field = distance_field(traversable, targets, self.map.cell_size, speed)
        return self._steer(pose, field, agent, window)

    # -- stage 1 -------------------------------------------------------------------------------
    def _relevance_of(self, labels: list[str]) -> np.ndarray:
        """(len(labels), subgoals) relevance in [0, 1] of each label to each subgoal (cached)."""
        new = [label for label in dict.fromkeys(labels) if label not in self._relevance]
        if new:
            if self.frontier_scoring == "similarity":
                columns = [self.matcher.relevance(new, sub) for sub in self.subgoals]
                for k, label in enumerate(new):
                    self._relevance[label] = np.array([c[k] for c in columns])
            else:
                for label in new:
                    self._relevance[label] = np.array([self._ask_distance_relevance(label, sub) for sub in self.subgoals])
        return np.stack([self._relevance[label] for label in labels]) if labels else np.zeros((0, len(self.subgoals)))

    def _ask_distance_relevance(self, label: str, subgoal: Any) -> float:
        """The paper's frontier-scoring question as a choice among :data:`DISTANCE_OPTIONS`;
        relevance ``exp(-expected distance / 2 m)``."""
        prompt = (
            f"You are an AI assistant with commonsense. You need to predict the most likely distance between the {label} "
            f"and {subgoal.describe()}. Answer a distance number in meter."
        )
        probs = np.asarray(self.reasoner.score_options(prompt, [f"{d:g} m" for d in DISTANCE_OPTIONS]), dtype=np.float64)
        expected = float(np.dot(probs, DISTANCE_OPTIONS)) if probs.sum() > 0 else DISTANCE_OPTIONS[-1]
        return float(math.exp(-expected / 2.0))

    def _choose_frontier(self, frontiers: list, from_agent: np.ndarray, origin: np.ndarray) -> tuple[int, np.ndarray, float] | None:
        nearest = nearest_frontier(frontiers, from_agent)
        if nearest is None or self.stage1 == "frontier" or self.goal is None or not self.subgoals:
            self._chosen_frontier = None
            return nearest
        banned = self._banned()
        objects = [n for n in self.graph.nodes.values() if self.graph.active(n) and n.id not in banned]
        if not objects:
            self._chosen_frontier = None
            return nearest
        relevance = self._relevance_of([n.label for n in objects])  # (objects, subgoals)
        keep = relevance.max(axis=1) > 0
        if not keep.any():
            self._chosen_frontier = None
            return nearest
        positions = np.array([n.position[[0, 2]] for n in objects])[keep]
        relevance = relevance[keep]
        best = None
        for index, frontier in enumerate(frontiers):
            values = from_agent[frontier.cells[:, 0], frontier.cells[:, 1]]
            k = int(np.argmin(values))
            distance = float(values[k])
            if not np.isfinite(distance):
                continue
            point = self.map.cell_to_world(*(frontier.cells[k] + origin))
            decay = np.exp(-np.hypot(*(positions - point).T) / self.semantic_radius)
            score = float((relevance * decay[:, None]).max())
            utility = self.semantic_weight * score - distance
            if self.target is not None and np.any(np.hypot(*(frontier.cells + origin - self.target).T) * self.map.cell_size <= 0.3):
                utility += 1.0  # hysteresis: keep the frontier being explored unless another is clearly better
            if best is None or utility > best[0]:
                best = (utility, index, frontier.cells[k], distance)
        if best is None:
            return nearest
        self._chosen_frontier = frontiers[best[1]].cells
        return best[1], best[2], best[3]

    def _keep_target(self, frontiers: list, from_agent: np.ndarray, origin: np.ndarray, best: float) -> np.ndarray | None:
        if self._chosen_frontier is None:
            return super()._keep_target(frontiers, from_agent, origin, best)
        cells = self._chosen_frontier
        near = np.hypot(*(cells + origin - self.target).T) * self.map.cell_size <= 0.3
        if not near.any():
            return None
        candidates = cells[near]
        values = from_agent[candidates[:, 0], candidates[:, 1]]
        i = int(np.argmin(values))
        return candidates[i] + origin if np.isfinite(values[i]) else None
