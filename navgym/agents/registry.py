"""Agents by name: navgym's own (imported on first use) and third parties' through the
``navgym.agents`` entry-point group, e.g. in a package's ``pyproject.toml``::

    [project.entry-points."navgym.agents"]
    myagent = "mypackage.agent:MyAgent"

A registered object is called as ``factory(env=env, **options)`` and returns an
:class:`~navgym.agents.base.Agent`. It may declare ``needed_sensors(task)`` (a static method: the
sensors it needs beyond the task's defaults) and, on the agent, ``privileged = True`` (an oracle: it
gets :class:`~navgym.wrappers.PrivilegedObservation`) or a ``wrap_env(env) -> env`` method (the
wrappers its perception needs, e.g. UniGoal's :class:`~navgym.agents.perception.GoalImageSemantics`).
"""

from __future__ import annotations

import difflib
import inspect
import re
from typing import Any, Callable

import gymnasium as gym

from navgym.agents.base import Agent
from navgym.core.registry import Registry

#: Agents by name.
AGENTS: Registry = Registry("agent", "navgym.agents", "agent")
AGENTS.register("random", "navgym.agents.baselines.random:RandomAgent", "Uniformly random motions; calls stop with probability stop_probability.")
AGENTS.register("oracle", "navgym.agents.baselines.oracle:OracleAgent", "PRIVILEGED shortest-path follower (needs the PrivilegedObservation wrapper); an upper bound.")
AGENTS.register(
    "semnav-oracle", "navgym.agents.baselines.semantic_oracle:SemanticOracleAgent",
    "PRIVILEGED SemanticNav upper bound for velocity-commanded bodies: the shortest path followed by the MPPI planner, then face the target and stop.",
)
AGENTS.register(
    "multigoal-oracle", "navgym.agents.multigoal_oracle:MultiGoalOracleAgent",
    "PRIVILEGED MultiGoalVLN upper bound: the sub-goals in the shortest feasible order along shortest paths, found / stop on arrival.",
)
AGENTS.register(
    "frontier", "navgym.agents.baselines.frontier:FrontierAgent",
    "Frontier exploration on a depth occupancy map; goes to the goal once the semantic sensor sees it (ground-truth perception).",
)
AGENTS.register(
    "unigoal", "navgym.agents.unigoal.agent:UniGoalAgent",
    "UniGoal: scene graph + goal graph matching + three-stage exploration; one zero-shot agent for ObjectNav, InstanceImageNav, TextNav.",
)
AGENTS.register(
    "beliefmapnav", "navgym.agents.beliefmap.agent:BeliefMapNavAgent",
    "BeliefMapNav: 3D voxel belief map (semantics + LLM landmarks + visibility), frontiers ordered by expected search distance; ObjectNav.",
)
AGENTS.register(
    "vlfm", "navgym.agents.baselines.vlfm:VLFMAgent",
    "VLFM-style baseline: 2D value map of text-image similarity of what is seen, greedy best frontier; ObjectNav.",
)
AGENTS.register(
    "dual-heatmap", "navgym.agents.grounding.agent:DualHeatmapAgent",
    "SemanticNav: dual-heatmap grounding (navigation + facing heatmaps) projected through depth, driven by the MPPI planner (needs checkpoint=).",
)
AGENTS.register(
    "point-regression", "navgym.agents.grounding.agent:PointRegressionAgent",
    "SemanticNav baseline: one regressed navigation point (and facing point) driven by the same MPPI planner (needs checkpoint=).",
)
AGENTS.register("rsrnav", "navgym.agents.rsrnav.agent:make_rsrnav_agent", "RSRNav: correlation-based ImageNav policy trained with PPO (needs checkpoint=).")
AGENTS.register("ragnav", "navgym.agents.ragnav.agent:RAGNavAgent", "RAGNav (MultiGoalVLN): explore, topological map + semantic forest memory, anchor-guided retrieval, eq. 4 visiting order; forest/topology/spatial/neighbours=false ablate.")
AGENTS.register("naive-rag", "navgym.agents.ragnav.agent:NaiveRAGAgent", "NaiveRAG (MultiGoalVLN): RAGNav's exploration and memory, flat top-1 embedding retrieval over node fingerprints.")


def register_agent(name: str, description: str = "") -> Callable:
    """Decorator: make an agent class or factory buildable as ``make(name, ...)``."""
    return AGENTS.decorator(name, description)


def agent_names() -> dict[str, str]:
    """Registered agent names and one-line descriptions."""
    return {name: AGENTS.describe(name) for name in AGENTS.names()}


def make(name: str, env: gym.Env | None = None, **kwargs: Any) -> Agent:
    """Build a registered agent by name; ``env`` gives it the action and observation spaces.

    Raises:
        UnknownNameError: (a ``ValueError``) for an unknown name, with the closest registered names.
        InvalidArgumentError: an option the agent does not take, naming the agent, the option and
            the options it takes (Python's own ``TypeError`` named a base class's ``__init__``).
    """
    factory = AGENTS.get(name)
    try:
        return factory(env=env, **kwargs)
    except TypeError as exc:
        match = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
        if match is None or match.group(1) not in kwargs:
            raise
        from navgym.errors import InvalidArgumentError

        option, known = match.group(1), agent_options(factory)
        close = difflib.get_close_matches(option, known, n=3)
        raise InvalidArgumentError(
            f"agent {name!r} takes no option {option}={kwargs[option]!r}"
            + (f"; did you mean {' or '.join(close)}?" if close else ".")
            + (f" Its options: {', '.join(known)}" if known else " It takes no options.")
        ) from exc


def agent_options(factory: Callable) -> list[str]:
    """The keyword options ``factory`` takes besides ``env``: the named parameters of its
    ``__init__`` and, while one passes ``**kwargs`` on, of its base classes' (a function: its own)."""
    names: list[str] = []
    chain = [c.__dict__["__init__"] for c in factory.__mro__ if "__init__" in c.__dict__ and c is not object] if isinstance(factory, type) else [factory]
    for function in chain:
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            break
        names += [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ("self", "env") and p.name not in names]
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return sorted(names)


def make_for_env(name: str, env: gym.Env, **kwargs: Any) -> tuple[Agent, gym.Env]:
    """:func:`make` plus the env the agent must act in: ``agent.wrap_env(env)`` when the agent has
    one; a privileged agent (``agent.privileged``, e.g. the oracle) gets ``env`` wrapped in
    :class:`~navgym.wrappers.PrivilegedObservation`."""
    agent = make(name, env=env, **kwargs)
    wrap = getattr(agent, "wrap_env", None)
    if callable(wrap):
        env = wrap(env)
    if getattr(agent, "privileged", False):
        from navgym.wrappers.privileged import PrivilegedObservation

        env = PrivilegedObservation(env)
    return agent, env


def sensors_for(name: str, task: Any) -> tuple[str, ...] | None:
    """The sensors an env should emit for agent ``name`` on ``task`` (a task name, a Task or its class): the
    task's defaults plus what the agent declares with a ``needed_sensors(task)`` static method;
    ``None`` when the agent declares nothing or is not registered (:func:`make` then says so)."""
    if name not in AGENTS:
        return None
    if isinstance(task, str):
        from navgym.tasks import TASKS

        task = TASKS.get(task)
    needed = getattr(AGENTS.get(name), "needed_sensors", None)
    if needed is None:
        return None
    return tuple(dict.fromkeys(tuple(task.default_sensors) + tuple(needed(task))))
