"""The reasoner seam: what zero-shot agents (UniGoal, BeliefMapNav, RAGNav) ask of a language
model, behind one :class:`Reasoner` protocol, with backends built by :func:`make_reasoner`:

* ``"embedded"`` (default): offline and deterministic, all-MiniLM-L6-v2 embeddings + rules;
* ``"openai"``: any OpenAI-compatible chat endpoint, with counted fallbacks to the embedded one;
* ``"llama"``: llama.cpp in process with the packaged SmolLM2 (the ``llama`` extra), the same questions as ``"openai"``.

Importing this package loads no model and no optional dependency. See docs/reasoning.md.
"""

from navgym.agents.reasoning.base import (
    CompletionUnsupportedError,
    GoalEdge,
    GoalGraph,
    GoalGraphSchemaError,
    GoalNode,
    Reasoner,
    ReasonerStats,
    ReasonerUnavailableError,
    goal_graph_from_dict,
)
from navgym.agents.reasoning.registry import REASONERS, make_reasoner, make_reasoner_with, reasoner_names
from navgym.agents.reasoning.rules import parse_goal_rules

__all__ = [
    "REASONERS", "CompletionUnsupportedError", "GoalEdge", "GoalGraph", "GoalGraphSchemaError", "GoalNode", "Reasoner",
    "ReasonerStats", "ReasonerUnavailableError", "goal_graph_from_dict", "make_reasoner", "make_reasoner_with", "parse_goal_rules", "reasoner_names",
]
