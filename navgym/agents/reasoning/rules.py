"""An instruction as a goal graph, by rules over the sentence (no model, no scene knowledge).

Handles referring expressions such as "the red wooden chair next to the dining table in the
kitchen" (navgym's TextNav sentences), "find the small lamp on the nightstand", "go to the towel
between the sink and the shower in the bathroom", "the cup in the cabinet":

1. lower-case, drop punctuation and a leading request ("find", "go to", "navigate to", "look for", ...);
2. split at relation phrases (longest first: "to the left of", "in front of", "next to", "on",
   "near", "facing", "under", ...; :data:`RELATIONS`); the first piece is the target;
3. "in"/"inside" + a room word (:data:`ROOM_WORDS`, or any phrase ending in "room") is the
   target's room (wherever it stands: "the cup on the table in the kitchen" puts the cup in the
   kitchen), not an edge; "between X and Y" gives two edges;
4. a relation attaches to the noun phrase just before it ("the book on the table next to the
   sofa": book on table, table next to sofa), or to the target after "and" or a comma;
5. in each noun phrase, leading colour (:data:`COLORS`, with light/dark/... modifiers), material
   (:data:`MATERIALS`, "wooden" -> "wood"), size and shape words become attributes; the rest is the
   category ("chest of drawers", "dining table"), with at least one word left for it.

The vocabularies are general English (colours, materials, sizes, rooms, spatial prepositions),
written here; nothing is read from navgym's scenes, generator or datasets.
"""

from __future__ import annotations

import re

from navgym.agents.reasoning.base import GoalEdge, GoalGraph, GoalNode
from navgym.errors import InvalidArgumentError

COLORS = frozenset(
    """red blue green yellow orange purple pink brown black white grey gray beige cream teal turquoise
    cyan magenta maroon burgundy navy olive tan gold golden silver bronze copper brass ivory lavender
    lilac violet indigo terracotta mustard khaki charcoal coral salmon mint peach rust crimson scarlet
    aqua emerald ochre sand taupe mauve plum amber chocolate walnut mahogany cherry oak offwhite
    multicolored multicoloured colorful colourful""".split()
)
#: Words that modify a following colour ("light brown", "navy blue").
COLOR_MODIFIERS = frozenset("light dark pale bright deep navy pastel sky royal forest olive hot baby off".split())
#: Colours that are also materials: a colour when no colour was given yet.
COLOR_OR_MATERIAL = frozenset("gold golden silver bronze copper brass oak walnut mahogany cherry".split())
MATERIALS = {
    **{m: m for m in """wood metal steel iron aluminium aluminum glass plastic leather fabric cloth cotton
    wool linen velvet ceramic porcelain stone marble granite concrete brick paper cardboard canvas wicker
    rattan bamboo rubber silk chrome brass copper bronze gold silver oak walnut mahogany cherry pine
    vinyl suede denim""".split()},
    "wooden": "wood", "metallic": "metal", "woolen": "wool", "woollen": "wool", "stainless": "steel",
    "golden": "gold", "glazed": "ceramic", "upholstered": "fabric",
}
SIZES = frozenset("small large big tall short little tiny huge long wide narrow low medium".split())
SHAPES = frozenset("round square rectangular oval circular triangular curved".split())
#: Words that are rooms by themselves; any phrase ending in "room" is a room too.
ROOM_WORDS = frozenset(
    """kitchen kitchenette hallway hall corridor office study laundry garage basement cellar attic loft
    pantry foyer entrance entryway lobby lounge den nursery gym porch patio balcony terrace veranda
    library studio scullery washroom restroom bathroom bedroom lavatory closet""".split()
)
#: Spatial relation phrases, longest first (as written; "beside" stays "beside").
RELATIONS = tuple(
    sorted(
        """to the left of|to the right of|on the left of|on the right of|in front of|on top of|in the middle of|
        at the end of|across from|opposite to|opposite|close to|closest to|nearest to|next to|adjacent to|
        beside|behind|beneath|underneath|under|below|above|over|near|by|facing|against|inside|within|
        between|left of|right of|in|on|at|along""".replace("\n", "").split("|"),
        key=lambda r: -len(r.split()),
    )
)
RELATIONS = tuple(r.strip() for r in RELATIONS if r.strip())
_ROOM_RELATIONS = frozenset({"in", "inside", "within", "in the middle of", "at"})
_REQUESTS = (
    "please", "can you", "could you", "i want you to", "i want to", "you need to", "you should", "try to",
    "navigate to", "go to", "go towards", "walk to", "move to", "head to", "get to", "take me to", "bring me to",
    "find", "locate", "search for", "look for", "reach", "approach", "stop at", "stop by", "go and find",
    "there is", "there's", "it is", "it's", "i see",
)
_DETERMINERS = frozenset("the a an some one another any that this my your its their".split())
_RELATIVE = ("that is", "which is", "that's", "which's", "who is", "located", "placed", "standing", "sitting", "lying", "hanging", "positioned")


def _words(text: str) -> list[str]:
    text = text.lower().replace("_", " ").replace("-", " ").replace("'s ", " ")
    # Letters of any script stay whole ("écran", "près"); [^a-z] used to cut them into "cran pr s".
    text = re.sub(r"[^\w, ]+|_", " ", text)
    text = text.replace(",", " , ")
    return text.split()


def _strip_prefixes(words: list[str]) -> list[str]:
    changed = True
    while changed and words:
        changed = False
        for phrase in _REQUESTS:
            p = phrase.split()
            if words[: len(p)] == p and len(words) > len(p):
                words, changed = words[len(p) :], True
                break
    return words


def _match_relation(words: list[str], i: int) -> str | None:
    for rel in RELATIONS:
        r = rel.split()
        if words[i : i + len(r)] == r and i + len(r) < len(words):
            return rel
    return None


def _is_room(np_words: list[str]) -> bool:
    words = [w for w in np_words if w not in _DETERMINERS]
    return bool(words) and (words[-1] in ROOM_WORDS or words[-1] == "room" or words[-1].endswith("room"))


def parse_noun_phrase(words: list[str]) -> tuple[str, dict[str, str]]:
    """(category, attributes) of a noun phrase's words: leading colour, material, size and shape
    words become attributes (at least one word is left for the category), and so does a trailing
    "made of X"."""
    words = [w for w in words if w not in _DETERMINERS and w != ","]
    attributes: dict[str, str] = {}
    for k in range(1, len(words) - 2):
        if words[k] == "made" and words[k + 1] in ("of", "from") and words[k + 2] in MATERIALS:
            attributes["material"] = MATERIALS[words[k + 2]]
            words = words[:k] + words[k + 3 :]
            break
    while len(words) > 1:
        w = words[0]
        if w in COLOR_MODIFIERS and len(words) > 2 and words[1] in COLORS and "color" not in attributes:
            attributes["color"] = f"{w} {words[1]}"
            words = words[2:]
        elif w in COLORS and "color" not in attributes:
            attributes["color"] = "gold" if w == "golden" else w
            words = words[1:]
        elif w in MATERIALS and "material" not in attributes:  # "silver metal": silver was the colour
            attributes["material"] = MATERIALS[w]
            words = words[1:]
        elif w in SIZES and "size" not in attributes:
            attributes["size"] = w
            words = words[1:]
        elif w in SHAPES and "shape" not in attributes:
            attributes["shape"] = w
            words = words[1:]
        elif w in ("and", "colored", "coloured"):
            words = words[1:]
        else:
            break
    return " ".join(words), attributes


def parse_goal_rules(text: str) -> GoalGraph:
    """The goal graph of an instruction (see the module doc).

    Raises:
        InvalidArgumentError: when ``text`` has no words.
    """
    if not isinstance(text, str):
        raise InvalidArgumentError(f"text={text!r} must be a string")
    words = _strip_prefixes(_words(text))
    if not any(w not in _DETERMINERS and w != "," for w in words):
        raise InvalidArgumentError(f"text={text!r} has no words to parse a goal from")
    # segments: (relation or None, connector, noun-phrase words)
    segments: list[tuple[str | None, bool, list[str]]] = [(None, False, [])]
    i = 0
    while i < len(words):
        w = words[i]
        connector = False
        j = i
        if w in (",", "and") and j + 1 < len(words):
            k = j + 1
            while k < len(words) and words[k] in (",", "and"):
                k += 1
            if k < len(words) and _match_relation(words, k):
                connector, j = True, k
        rel = _match_relation(words, j) if segments[-1][2] else None
        if rel is not None:
            segments.append((rel, connector, []))
            i = j + len(rel.split())
            continue
        # a relative clause ("that is", "located") before a relation is dropped
        skipped = False
        for phrase in _RELATIVE:
            p = phrase.split()
            if words[i : i + len(p)] == p and i + len(p) < len(words) and _match_relation(words, i + len(p)):
                i += len(p)
                skipped = True
                break
        if skipped:
            continue
        segments[-1][2].append(w)
        i += 1

    nodes: list[GoalNode] = []
    edges: list[GoalEdge] = []

    def add_node(np_words: list[str]) -> GoalNode | None:
        category, attributes = parse_noun_phrase(np_words)
        if not category:
            return None
        node_id, n = category, 2
        while any(x.id == node_id for x in nodes):
            node_id, n = f"{category} #{n}", n + 1
        node = GoalNode(node_id, category, attributes)
        nodes.append(node)
        return node

    target = add_node(segments[0][2])
    if target is None:  # e.g. "in the kitchen": the room is all there is
        target = add_node([w for seg in segments for w in seg[2]] or words)
        assert target is not None
        return GoalGraph(nodes, [], target.id, text)
    previous = target
    for rel, connector, np_words in segments[1:]:
        if not np_words:
            continue
        subject = target if connector else previous
        if rel in _ROOM_RELATIONS and _is_room(np_words):
            room = " ".join(w for w in np_words if w not in _DETERMINERS and w != ",")
            if target.room is None and room != "room":
                target.room = room
            continue
        if rel == "between":
            parts: list[list[str]] = [[]]
            for w in np_words:
                if w == "and" and parts[-1]:
                    parts.append([])
                elif w != ",":
                    parts[-1].append(w)
            anchors = [add_node(p) for p in parts if p]
            for anchor in anchors:
                if anchor is not None:
                    edges.append(GoalEdge(subject.id, "between", anchor.id))
            previous = anchors[-1] if anchors and anchors[-1] is not None else previous
            continue
        anchor = add_node(np_words)
        if anchor is None:
            continue
        edges.append(GoalEdge(subject.id, rel, anchor.id))
        previous = anchor
    return GoalGraph(nodes, edges, target.id, text)
