"""MultiGoalVLN's language: sub-goal descriptions built from a scene graph, the rule that resolves
a description back to instances, and the instruction templates.

A sub-goal is described by a :class:`Description`: a category plus optional constraints, colour,
material, the room type it stands in (``"the lamp in the kitchen"``) and the category of another
object **near** it (``"the chair near the bed"``). *Near* is geometric, not the scene graph's
relation of the same name: the horizontal (x, z) gap between the two objects' bounding boxes is at
most ``near_distance`` (:data:`NEAR_DISTANCE` = 1.0 m by default). :func:`resolve` returns every
instance a description fits; generation keeps only descriptions that fit exactly one instance of
the whole house (:func:`unique_description`), so each picks out exactly one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from navgym.errors import DatasetFormatError
from navgym.scenes.scene import ObjectInstance, SceneGraph

#: The instruction kinds: ordered visits, visits in any order, ordered visits whose every
#: description carries a spatial constraint ("near the B" or "in the <room>").
INSTRUCTION_KINDS = ("sequential", "any_order", "spatial")
#: Kinds whose sub-goals must be reached in the listed order.
ORDERED_KINDS = ("sequential", "spatial")
#: Default "near" threshold: horizontal gap between bounding boxes, metres.
NEAR_DISTANCE = 1.0

_MATERIAL_ADJECTIVES = {
    "wood": "wooden", "metal": "metal", "fabric": "fabric", "leather": "leather", "plastic": "plastic",
    "ceramic": "ceramic", "glass": "glass", "stone": "stone", "paper": "paper", "canvas": "canvas",
}  # fmt: skip


def _noun(category: str) -> str:
    return category.replace("_", " ")


@dataclass(frozen=True)
class Description:
    """What a sub-goal's phrase says about its instance.

    Attributes:
        category: The instance's category, e.g. ``"chair"``.
        color, material: Its ``attributes["color"]`` / ``["material"]`` when the phrase names them.
        room: The type of the room it stands in (``"kitchen"``), when named.
        near: The category of another object whose box is within the near distance of its box.
    """

    category: str
    color: str | None = None
    material: str | None = None
    room: str | None = None
    near: str | None = None

    @property
    def spatial(self) -> bool:
        """Whether the phrase carries a spatial constraint (a room or a near object)."""
        return self.room is not None or self.near is not None

    def text(self) -> str:
        """The phrase, e.g. ``"the red wooden chair near the bed in the kitchen"``."""
        words = ["the"]
        if self.color:
            words.append(self.color)
        if self.material:
            words.append(_MATERIAL_ADJECTIVES.get(self.material, self.material))
        words.append(_noun(self.category))
        if self.near:
            words += ["near", "the", _noun(self.near)]
        if self.room:
            words += ["in", "the", self.room.replace("_", " ")]
        return " ".join(words)

    def as_dict(self) -> dict[str, str]:
        """The fields that are set (the episode file's ``constraints``)."""
        return {k: v for k, v in (("category", self.category), ("color", self.color), ("material", self.material),
                                  ("room", self.room), ("near", self.near)) if v is not None}

    @classmethod
    def from_dict(cls, raw: Any, where: str = "constraints") -> "Description":
        if not isinstance(raw, dict) or not isinstance(raw.get("category"), str):
            raise DatasetFormatError(f"{where}: must be an object with a string 'category' (and optional color, material, room, near), got {raw!r}")
        unknown = sorted(set(raw) - {"category", "color", "material", "room", "near"})
        if unknown:
            raise DatasetFormatError(f"{where}: unknown constraint fields {unknown}; valid: category, color, material, room, near")
        for key, value in raw.items():
            if not isinstance(value, str):
                raise DatasetFormatError(f"{where}: {key} must be a string, got {value!r}")
        return cls(**raw)


def box_gap(a: ObjectInstance, b: ObjectInstance) -> float:
    """Horizontal (x, z) distance between two instances' bounding boxes; 0 when they overlap."""
    dx = max(float(a.bbox_min[0]) - float(b.bbox_max[0]), float(b.bbox_min[0]) - float(a.bbox_max[0]), 0.0)
    dz = max(float(a.bbox_min[2]) - float(b.bbox_max[2]), float(b.bbox_min[2]) - float(a.bbox_max[2]), 0.0)
    return math.hypot(dx, dz)


def room_type(graph: SceneGraph, inst: ObjectInstance) -> str | None:
    if inst.room_id is None or not graph.rooms:
        return None
    try:
        return graph.room(inst.room_id).type
    except KeyError:
        return None


def near_categories(graph: SceneGraph, inst: ObjectInstance, near_distance: float = NEAR_DISTANCE) -> set[str]:
    """Categories (other than its own) of objects within ``near_distance`` of ``inst``'s box."""
    return {
        o.category for o in graph.objects()
        if o.id != inst.id and o.category != inst.category and box_gap(inst, o) <= near_distance
    }  # fmt: skip


def matches(graph: SceneGraph, inst: ObjectInstance, description: Description, near_distance: float = NEAR_DISTANCE) -> bool:
    """Whether ``description`` fits ``inst``."""
    if inst.structural or inst.category != description.category:
        return False
    if description.color is not None and inst.attributes.get("color") != description.color:
        return False
    if description.material is not None and inst.attributes.get("material") != description.material:
        return False
    if description.room is not None and room_type(graph, inst) != description.room:
        return False
    if description.near is not None and description.near not in near_categories(graph, inst, near_distance):
        return False
    return True


def resolve(graph: SceneGraph, description: Description, near_distance: float = NEAR_DISTANCE) -> list[ObjectInstance]:
    """Every instance of the graph that ``description`` fits."""
    return [i for i in graph.objects(description.category) if matches(graph, i, description, near_distance)]


def candidate_descriptions(graph: SceneGraph, inst: ObjectInstance, spatial: bool, near_distance: float = NEAR_DISTANCE) -> list[Description]:
    """Descriptions of ``inst`` from shortest to longest (``spatial``: only those with a room or a
    near object). Near anchors are tried in alphabetical order, so the result is deterministic."""
    color = inst.attributes.get("color")
    material = inst.attributes.get("material")
    room = room_type(graph, inst)
    nears = sorted(near_categories(graph, inst, near_distance))
    base = [Description(inst.category)]
    if color:
        base.append(Description(inst.category, color=color))
        if material:
            base.append(Description(inst.category, color=color, material=material))
    out: list[Description] = []
    for head in base:
        variants = [head] if not spatial else []
        variants += [Description(head.category, head.color, head.material, near=n) for n in nears]
        if room:
            variants.append(Description(head.category, head.color, head.material, room=room))
            variants += [Description(head.category, head.color, head.material, room=room, near=n) for n in nears]
        out += variants
    return out


def unique_description(graph: SceneGraph, inst: ObjectInstance, spatial: bool, near_distance: float = NEAR_DISTANCE) -> Description | None:
    """The shortest description (:func:`candidate_descriptions`) that fits ``inst`` and no other
    instance of the house; ``None`` when none does."""
    rivals = [o for o in graph.objects(inst.category) if o.id != inst.id]
    for description in candidate_descriptions(graph, inst, spatial, near_distance):
        if not any(matches(graph, o, description, near_distance) for o in rivals):
            return description
    return None


def _join(phrases: Sequence[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def instruction_text(kind: str, phrases: Sequence[str]) -> str:
    """The instruction for sub-goal ``phrases`` of one kind, e.g. ``"First go to the sofa, then to
    the bed."`` (sequential, spatial) or ``"Visit the sofa, the bed and the sink, in any order."``;
    one sub-goal of any kind is ``"Go to the sofa."`` (an order of one goal is no constraint)."""
    if not phrases:
        raise ValueError("an instruction needs at least one sub-goal phrase")
    if kind not in INSTRUCTION_KINDS:
        raise ValueError(f"kind={kind!r} is not an instruction kind; valid: {list(INSTRUCTION_KINDS)}")
    if len(phrases) == 1:
        return f"Go to {phrases[0]}."
    if kind == "any_order":
        return f"Visit {_join(list(phrases))}, in any order."
    parts = [f"First go to {phrases[0]}"]
    parts += [f"then to {p}" for p in phrases[1:-1]]
    parts.append(f"{'and finally' if len(phrases) > 2 else 'then'} to {phrases[-1]}")
    return ", ".join(parts) + "."


__all__ = [
    "Description", "INSTRUCTION_KINDS", "NEAR_DISTANCE", "ORDERED_KINDS", "box_gap", "candidate_descriptions", "instruction_text",
    "matches", "near_categories", "resolve", "room_type", "unique_description",
]  # fmt: skip
