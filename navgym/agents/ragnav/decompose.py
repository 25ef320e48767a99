"""Instruction decomposition (RAGNav §3.2): an instruction -> sub-tasks with their dependencies.

The paper asks an LLM; this is the rule-based parser for MultiGoalVLN's templated instructions
(``"First go to A, then to B, and finally to C."``, ``"Visit A, B and C, in any order."``,
``"Go to A."``), each phrase ``the [colour] [material] <category> [near the <category>] [in the
<room>]``. It sits behind the same seam as an LLM would (:func:`parse_instruction` is the
``decomposer`` argument of the agent): a model's JSON answer would be validated into the same
:class:`TaskPlan`, never eval-ed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from navgym.errors import InvalidArgumentError

#: Colour words the parser recognises (common English colour names).
COLORS = frozenset(
    "black white gray grey red green blue yellow orange brown beige cream pink purple teal navy tan gold silver "
    "olive maroon ivory charcoal turquoise".split()
)
#: Material adjectives the parser recognises, with the material noun they stand for.
MATERIALS = {
    "wooden": "wood", "wood": "wood", "metal": "metal", "fabric": "fabric", "leather": "leather", "plastic": "plastic",
    "ceramic": "ceramic", "glass": "glass", "stone": "stone", "paper": "paper", "canvas": "canvas",
}  # fmt: skip


@dataclass(frozen=True)
class SubTask:
    """One target of the instruction.

    Attributes:
        index: Its position in the instruction (0-based).
        phrase: The phrase as written, e.g. ``"the white nightstand near the picture"``.
        category: The head noun (spaces, e.g. ``"tv monitor"``).
        color, material: Attributes the phrase names.
        near: The anchor's category (spatial dependency "A near B": B is the anchor), if any.
        room: The room the phrase names ("in the kitchen"), if any.
    """

    index: int
    phrase: str
    category: str
    color: str | None = None
    material: str | None = None
    near: str | None = None
    room: str | None = None

    @property
    def target_query(self) -> str:
        """Q_A: the target without its spatial context, e.g. ``"the white nightstand"``."""
        words = ["the"] + [w for w in (self.color, self.material) if w] + [self.category]
        return " ".join(words)

    @property
    def spatial(self) -> bool:
        return self.near is not None or self.room is not None


@dataclass(frozen=True)
class TaskPlan:
    """The decomposed instruction: sub-tasks and their temporal dependency.

    Attributes:
        kind: ``"sequential"``, ``"any_order"`` or ``"spatial"`` (ordered, every phrase spatial).
        ordered: Whether the instruction fixes the visiting order (temporal dependency S).
        subtasks: In instruction order.
    """

    kind: str
    ordered: bool
    subtasks: tuple[SubTask, ...] = field(default_factory=tuple)


def parse_phrase(phrase: str, index: int = 0) -> SubTask:
    """``"the red wooden chair near the bed in the kitchen"`` -> :class:`SubTask`."""
    text = " ".join(phrase.strip().strip(".").lower().split())
    if not text:
        raise InvalidArgumentError(f"phrase={phrase!r} is empty; pass a noun phrase such as 'the red chair'")
    room = near = None
    m = re.search(r"\s+in the (.+)$", text)
    if m:
        room, text = m.group(1).strip(), text[: m.start()]
    m = re.search(r"\s+near the (.+)$", text)
    if m:
        near, text = m.group(1).strip(), text[: m.start()]
    words = text.split()
    if words and words[0] in ("the", "a", "an"):
        words = words[1:]
    color = material = None
    while len(words) > 1 and (words[0] in COLORS or words[0] in MATERIALS):
        if words[0] in COLORS and color is None:
            color = words[0]
        elif words[0] in MATERIALS and material is None:
            material = MATERIALS[words[0]]
        else:
            break
        words = words[1:]
    if not words:
        raise InvalidArgumentError(f"phrase={phrase!r} names no object; pass a noun phrase such as 'the red chair'")
    joined = " ".join(words)
    if "," in joined or ";" in joined or {"then", "finally"} & set(joined.replace(",", " ").split()):
        # A list the templates did not split ("the sofa, then the bed"): never one object's name.
        raise InvalidArgumentError(
            f"phrase={phrase!r} reads as several targets, not one object (category {joined!r}); write the instruction as "
            "'First go to A, then to B.', 'Visit A and B, in any order.' or 'Go to A.'"
        )
    return SubTask(index=index, phrase=phrase.strip(), category=" ".join(words), color=color, material=material, near=near, room=room)


def _split_list(text: str) -> list[str]:
    """``"A, B and C"`` -> ``["A", "B", "C"]`` (phrases never contain commas or " and the")."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    out: list[str] = []
    for p in parts:
        p = re.sub(r"^and\s+", "", p)
        out += [q.strip() for q in re.split(r"\s+and\s+(?=the\s)", p) if q.strip()]
    return out


def parse_instruction(text: str) -> TaskPlan:
    """Decompose a MultiGoalVLN instruction into a :class:`TaskPlan`.

    Raises:
        InvalidArgumentError: for text that matches none of the templates, naming it.
    """
    raw = " ".join(str(text).strip().split())
    low = raw.lower().rstrip(".")
    m = re.match(r"^visit (.+?),?\s+in any order$", low)
    if m:
        phrases, kind, ordered = _split_list(m.group(1)), "any_order", False
    elif low.startswith(("first go to ", "go to ")):
        # "First go to A, then to B, and finally to C." (hand-written variants: "Go to A, then B.")
        body = low[len("first go to "):] if low.startswith("first ") else low[len("go to "):]
        connective = r"^(?:and finally|finally|and then|then|and)\s+(?:to\s+)?"
        phrases = [re.sub(connective, "", p.strip()) for p in re.split(r",\s*|\s+then\s+(?:to\s+)?", body)]
        phrases = [p for p in phrases if p.strip()]
        kind, ordered = "sequential", True
    else:
        raise InvalidArgumentError(
            f"instruction={text!r} matches no template; expected 'First go to A, then to B ...', 'Visit A and B, in any order.' or 'Go to A.'"
        )
    subtasks = tuple(parse_phrase(p, i) for i, p in enumerate(phrases))
    if ordered and subtasks and all(s.spatial for s in subtasks) and len(subtasks) > 1:
        kind = "spatial"
    return TaskPlan(kind=kind, ordered=ordered, subtasks=subtasks)


__all__ = ["COLORS", "MATERIALS", "SubTask", "TaskPlan", "parse_instruction", "parse_phrase"]
