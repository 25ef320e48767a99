"""The reasoner seam: what zero-shot agents ask of a language model, and the goal graph.

A :class:`Reasoner` answers four questions (UniGoal's LLM and CLIP calls reduce to these):

* :meth:`~Reasoner.similarity` -- how alike are these labels or phrases (node and edge matching);
* :meth:`~Reasoner.score_options` -- which of a fixed list of options answers a prompt (frontier
  scoring, goal-graph decomposition, verification: a constrained choice, never free text);
* :meth:`~Reasoner.parse_goal` -- an instruction as a :class:`GoalGraph` (TextNav goals);
* :meth:`~Reasoner.complete` -- free text, only where a paper needs it (backends may refuse).

This module imports nothing from navgym but :mod:`navgym.errors`, and no scene or dataset code:
a zero-shot agent's reasoner must not see the benchmark's generator (docs/reasoning.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from navgym.errors import NavgymError


class CompletionUnsupportedError(NavgymError, NotImplementedError):
    """The backend cannot write free text (the embedded reasoner); use a language-model backend."""


class ReasonerUnavailableError(NavgymError, RuntimeError):
    """A language-model backend failed a call that has no offline fallback (``complete``); the
    failure was counted in the backend's ``stats``."""


@dataclass
class GoalNode:
    """An object of a goal: ``category`` ("chair", "chest of drawers") and ``attributes``
    (``color``, ``material``, ``size``, or any other key a backend returns), optionally the
    ``room`` it is said to be in ("kitchen")."""

    id: str
    category: str
    attributes: dict[str, str] = field(default_factory=dict)
    room: str | None = None

    def phrase(self) -> str:
        """The node as words: attributes then category ("red wooden chair")."""
        order = ("size", "color", "material")
        words = [self.attributes[k] for k in order if self.attributes.get(k)]
        words += [v for k, v in sorted(self.attributes.items()) if k not in order and v]
        return " ".join([*words, self.category])


@dataclass
class GoalEdge:
    """A relation ``subject relation object`` between two node ids, e.g. ("chair", "next to",
    "table"); ``relation`` is the phrase as written ("on", "next to", "near", "facing", "under"...)."""

    subject: str
    relation: str
    object: str


@dataclass
class GoalGraph:
    """A goal as a small graph (UniGoal's goal graph): object nodes, relation edges, the node to
    reach (``target``) and the source ``text``. An ObjectNav goal is one node and no edge
    (:meth:`single`)."""

    nodes: list[GoalNode]
    edges: list[GoalEdge] = field(default_factory=list)
    target: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        if not self.target and self.nodes:
            self.target = self.nodes[0].id

    @classmethod
    def single(cls, category: str, **attributes: str) -> GoalGraph:
        """A one-node goal graph (ObjectNav)."""
        name = str(category).replace("_", " ").strip()
        return cls([GoalNode(name, name, {k: v for k, v in attributes.items() if v})], target=name, text=name)

    def node(self, node_id: str) -> GoalNode:
        """The node with this id (``KeyError`` if none)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def target_node(self) -> GoalNode:
        return self.node(self.target)

    @property
    def room(self) -> str | None:
        """The target's room constraint, if the goal gives one."""
        return self.target_node.room if self.nodes else None

    @property
    def rooms(self) -> dict[str, str]:
        """Room constraints by node id."""
        return {n.id: n.room for n in self.nodes if n.room}

    def neighbors(self, node_id: str) -> list[GoalEdge]:
        """Edges touching ``node_id``."""
        return [e for e in self.edges if node_id in (e.subject, e.object)]

    def describe(self) -> str:
        """The graph as one sentence ("the red chair next to the table in the kitchen"), e.g. to
        prompt a model with a decomposed subgraph."""
        if not self.nodes:
            return ""
        target = self.target_node
        parts = [f"the {target.phrase()}"]
        own = [e for e in self.edges if e.subject == target.id]
        for relation in dict.fromkeys(e.relation for e in own):
            anchors = [f"the {self.node(e.object).phrase()}" for e in own if e.relation == relation]
            parts.append(f"{relation} {' and '.join(anchors)}" if relation == "between" else " ".join(f"{relation} {a}" for a in anchors))
        for e in self.edges:
            if e.subject != target.id:
                parts.append(f"(the {self.node(e.subject).phrase()} {e.relation} the {self.node(e.object).phrase()})")
        others = [n for n in self.nodes if n.id != target.id and not self.neighbors(n.id)]
        parts += [f"and the {n.phrase()}" for n in others]
        if target.room:
            parts.append(f"in the {target.room}")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the schema of :func:`goal_graph_from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GoalGraph:
        """Inverse of :meth:`to_dict`; validates (:func:`goal_graph_from_dict`)."""
        return goal_graph_from_dict(data)


class GoalGraphSchemaError(NavgymError, ValueError):
    """A dict (e.g. a model's JSON) is not a valid goal graph; the message says what is wrong."""


#: Upper bounds on what a parsed goal graph may hold (a model's runaway output is rejected).
MAX_NODES, MAX_EDGES, MAX_TEXT = 16, 32, 80


def goal_graph_from_dict(data: Any, text: str = "") -> GoalGraph:
    """A :class:`GoalGraph` from ``{"nodes": [{"id", "category", "attributes"?, "room"?}],
    "edges": [{"subject", "relation", "object"}], "target"?: id, "room"?: str}``, checking every
    field's type, that edges and target name existing nodes, and the size limits. A top-level
    ``room`` applies to the target. ``source``/``target``/``type`` edge keys (UniGoal's prompt
    format) are accepted for ``subject``/``object``/``relation``; a node without ``category``
    uses its ``id``.

    Raises:
        GoalGraphSchemaError: with the first problem found.
    """

    def fail(message: str) -> GoalGraphSchemaError:
        return GoalGraphSchemaError(f"goal graph: {message}")

    def text_field(value: Any, where: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{where} must be a non-empty string, got {value!r}")
        if len(value) > MAX_TEXT:
            raise fail(f"{where} is longer than {MAX_TEXT} characters")
        return " ".join(value.strip().lower().replace("_", " ").split())

    if not isinstance(data, dict):
        raise fail(f"expected an object, got {type(data).__name__}")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise fail("'nodes' must be a non-empty list")
    if len(raw_nodes) > MAX_NODES:
        raise fail(f"more than {MAX_NODES} nodes")
    nodes: list[GoalNode] = []
    for i, raw in enumerate(raw_nodes):
        if isinstance(raw, str):
            raw = {"id": raw}
        if not isinstance(raw, dict):
            raise fail(f"nodes[{i}] must be an object")
        node_id = text_field(raw.get("id", raw.get("category")), f"nodes[{i}].id")
        category = text_field(raw.get("category", node_id), f"nodes[{i}].category")
        attributes = raw.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise fail(f"nodes[{i}].attributes must be an object")
        clean = {}
        for key, value in attributes.items():
            if value is None or value == "":
                continue
            clean[text_field(key, f"nodes[{i}].attributes key")] = text_field(value, f"nodes[{i}].attributes[{key!r}]")
        room = text_field(raw.get("room"), f"nodes[{i}].room", optional=True)
        nodes.append(GoalNode(node_id, category, clean, room))
    ids = [n.id for n in nodes]
    if len(set(ids)) != len(ids):
        raise fail(f"node ids repeat: {ids}")
    raw_edges = data.get("edges") or []
    if not isinstance(raw_edges, list) or len(raw_edges) > MAX_EDGES:
        raise fail(f"'edges' must be a list of at most {MAX_EDGES}")
    edges = []
    for i, raw in enumerate(raw_edges):
        if not isinstance(raw, dict):
            raise fail(f"edges[{i}] must be an object")
        subject = text_field(raw.get("subject", raw.get("source")), f"edges[{i}].subject")
        obj = text_field(raw.get("object", raw.get("target")), f"edges[{i}].object")
        relation = text_field(raw.get("relation", raw.get("type")), f"edges[{i}].relation")
        for end in (subject, obj):
            if end not in ids:
                raise fail(f"edges[{i}] names {end!r}, which is not a node id ({ids})")
        edges.append(GoalEdge(subject, relation, obj))
    target = data.get("target")
    target = ids[0] if target is None else text_field(target, "target")
    if target not in ids:
        raise fail(f"target {target!r} is not a node id ({ids})")
    room = text_field(data.get("room"), "room", optional=True)
    graph = GoalGraph(nodes, edges, target, str(data.get("text") or text))
    if room and not graph.target_node.room:
        graph.target_node.room = room
    return graph


@dataclass
class ReasonerStats:
    """Counters of a backend's calls, for logs and results pages.

    ``calls`` and ``answered`` (by the backend itself) are per method; ``failures`` per reason
    (``timeout``, ``connection_error``, ``http_error``, ``malformed``, ``refusal``); ``fallbacks``
    per method: failed calls the fallback reasoner answered; ``raised`` per method: failed calls
    that raised instead (``strict=True``, or ``complete``, which has no offline fallback).
    """

    calls: dict[str, int] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    fallbacks: dict[str, int] = field(default_factory=dict)
    raised: dict[str, int] = field(default_factory=dict)
    last_error: str = ""

    @staticmethod
    def _add(counter: dict[str, int], key: str) -> None:
        counter[key] = counter.get(key, 0) + 1

    def call(self, method: str) -> None:
        self._add(self.calls, method)

    def ok(self, method: str) -> None:
        self._add(self.answered, method)

    def failure(self, method: str, reason: str, detail: str = "", *, fell_back: bool) -> None:
        self._add(self.failures, reason)
        self._add(self.fallbacks if fell_back else self.raised, method)
        self.last_error = f"{method}: {reason}: {detail}"[:500]

    @property
    def total_failures(self) -> int:
        return sum(self.failures.values())

    @property
    def total_fallbacks(self) -> int:
        return sum(self.fallbacks.values())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_failures": self.total_failures, "total_fallbacks": self.total_fallbacks}


@runtime_checkable
class Reasoner(Protocol):
    """What zero-shot agents ask of a language model (see the module doc). Backends are built by
    name with :func:`navgym.agents.reasoning.make_reasoner`."""

    #: Whether :meth:`complete` returns text (``False``: it raises :class:`CompletionUnsupportedError`).
    supports_completion: bool

    def similarity(self, a: list[str], b: list[str]) -> np.ndarray:
        """``(len(a), len(b))`` float32 similarities in [-1, 1] (cosine of sentence embeddings for
        the shipped backends); 1 means the same meaning."""
        ...

    def score_options(self, prompt: str, options: list[str]) -> np.ndarray:
        """A distribution over ``options`` (``len(options)`` non-negative float64 summing to 1;
        the argmax is the backend's choice) for ``prompt``, e.g. "Which room is a toilet most
        likely in?" over ["kitchen", "bathroom", ...]."""
        ...

    def parse_goal(self, text: str) -> GoalGraph:
        """The instruction ``text`` as a :class:`GoalGraph`."""
        ...

    def complete(self, prompt: str, max_tokens: int = 256) -> str:
        """Free text for ``prompt`` (at most ``max_tokens`` tokens)."""
        ...


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(scores / temperature)`` as float64 (a stable one)."""
    z = np.asarray(scores, dtype=np.float64) / max(float(temperature), 1e-9)
    z = np.exp(z - z.max()) if z.size else z
    return z / z.sum() if z.size else z


def check_options(options: Any) -> list[str]:
    """``options`` as a list of strings (a non-empty list, or ``InvalidArgumentError``)."""
    from navgym.errors import InvalidArgumentError

    if isinstance(options, str) or not isinstance(options, (list, tuple)) or not options:
        raise InvalidArgumentError(f"options={options!r} must be a non-empty list of strings")
    return [str(o) for o in options]
