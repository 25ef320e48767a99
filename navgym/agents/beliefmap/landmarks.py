"""BeliefMapNav's hierarchical landmarks (paper, section 3.3.2 and appendix A.3) and the detection
distance range of its visibility map (appendix A.4), asked of the reasoner seam.

For a target object the paper asks GPT-4o for three *landmark* phrases at each of three levels,
``LEVELS = ("room", "region", "object")`` (the rooms it is likely in, places within those rooms
written with the room type in front, the items it is likely near), with a relevance score
``alpha`` per phrase (each level's scores sum to 1). The belief map then scores each voxel
``b_u = sum_levels sum_i alpha_i * p_u,i + p_u,target`` with ``alpha_target = 1``:
:meth:`Landmarks.queries` returns exactly that list of phrases and weights.

:class:`LandmarkGenerator` gets the landmarks in one of two ways (``mode``):

* ``"prompt"`` (the paper's way; the default when ``reasoner.supports_completion``): the A.3
  prompt through :meth:`Reasoner.complete`, adapted to ask for one JSON object holding the two
  two-dimensional lists (``"landmarks"``, ``"probabilities"``). The reply is *parsed*, never
  evaluated (:func:`parse_landmark_reply`: the first JSON value found by ``json``'s decoder after a
  regex, then a shape check: 3 levels, non-empty strings of at most 60 characters, finite
  non-negative numbers); each level is sorted by probability, cut to ``n`` and renormalised. Any
  failure (the backend cannot write text, a timeout, a refusal, a malformed or oversized reply)
  falls back to the options mode with ``source="fallback"``, counted in
  :attr:`LandmarkGenerator.stats`.
* ``"options"`` (the default for the embedded reasoner, which writes no text): the reasoner
  *ranks general-English vocabularies written in this module* (:data:`ROOM_TYPES`,
  :data:`REGION_PLACES`, :data:`HOUSEHOLD_OBJECTS`):

  - rooms: the top ``n`` of ``score_options("Which room is a <target> most likely in?", ROOM_TYPES)``;
  - regions: the top ``n`` of ``score_options`` over "<room> <place>" for the top rooms x
    :data:`REGION_PLACES` ("bathroom next to the sink"), leaving out places that name the target
    ("bedroom next to the bed" is no landmark of a bed);
  - objects: the top ``n`` of ``similarity([target], HOUSEHOLD_OBJECTS)``, leaving out the target
    itself and near-duplicates (similarity above ``duplicate_similarity``, the same words up to a
    plural, or the same head noun: "office chair" is not a landmark of "chair", "tv stand" is one
    of "tv");
  - scores: each level's top-``n`` scores renormalised to sum 1 (similarities clipped at 0
    first; all zero gives a uniform level; a zero score among positive ones is left out, so a
    language-model backend's one-hot ``score_options`` gives one room of weight 1).

What differs from the paper, honestly:

* With the embedded reasoner nothing is *generated*: MiniLM sentence similarities choose among a
  fixed vocabulary instead of GPT-4o writing free phrases, so regions are templates ("kitchen on
  the counter") and an object that is not in :data:`HOUSEHOLD_OBJECTS` cannot be a landmark. The
  alphas are renormalised softmax scores (rooms, regions) or cosines (objects), not a model's
  stated probabilities: the top-3 cosines of a target are often close, so object alphas are near
  uniform. Similarity is relatedness, not co-location: the ranking can pick a related object that
  is rarely *next to* the target.
* The vocabularies are common English written for this module, not read from navgym's scenes,
  the ProcHouse generator or its datasets (a zero-shot agent may not see the benchmark's priors;
  this module imports nothing from ``navgym.scenes``, ``navgym.datasets``, ``navgym.tasks`` or
  ``navgym.envs``).
* The prompts are the paper's System and User texts joined into one string (``complete`` takes
  one prompt); the landmark prompt asks for JSON instead of two bare lists (two bare lists are
  still accepted) and for ``n`` strings per level instead of three when ``n != 3``.
* ``detection_range``: the paper asks the LLM (A.3/A.4 prompt) for the best detection distance
  ``[d_min, d_max]``; a reasoner that writes no text, or an answer that does not parse into
  ``0 <= d_min < d_max <= 20`` metres, gives the ``default`` range (0.5, 3.5) m instead.

Both the landmarks and the range are cached per target, as in the paper.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from navgym.agents.reasoning import make_reasoner
from navgym.errors import InvalidArgumentError, NavgymError

log = logging.getLogger("navgym.agents.beliefmap")

#: The landmark levels, coarse to fine (paper: L_t = {room, region, object}).
LEVELS = ("room", "region", "object")
#: How landmarks are obtained (see the module doc).
MODES = ("auto", "options", "prompt")
#: Where a :class:`Landmarks` came from.
SOURCES = ("options", "prompt", "fallback")

#: Room types of a private house (general English, written here).
ROOM_TYPES = (
    "bathroom", "bedroom", "kitchen", "living room", "dining room", "office", "hallway", "laundry room",
    "garage", "closet", "nursery", "playroom", "entryway", "basement", "balcony",
)
#: Places within a room; a region landmark is "<room> <place>" ("kitchen on the counter").
REGION_PLACES = (
    "corner", "by the wall", "by the window", "by the door", "in the middle", "on the floor",
    "on the counter", "on a shelf", "on the table", "on the desk", "next to the bed", "next to the sink",
    "next to the sofa",
)
#: Common household objects, candidates for object landmarks (general English, written here; one
#: name per kind: "sofa" but not "couch", "television" but not "tv").
HOUSEHOLD_OBJECTS = (
    # furniture
    "bed", "nightstand", "dresser", "wardrobe", "sofa", "armchair", "coffee table", "dining table", "chair",
    "desk", "office chair", "bookshelf", "shelf", "cabinet", "tv stand", "bench", "stool", "ottoman", "crib",
    "side table", "kitchen island", "counter", "high chair",
    # appliances and electronics
    "refrigerator", "stove", "oven", "microwave", "dishwasher", "washing machine", "clothes dryer", "toaster",
    "kettle", "coffee maker", "television", "computer monitor", "laptop", "keyboard", "printer", "lamp",
    "ceiling fan", "radiator", "fireplace", "vacuum cleaner", "speaker", "remote control",
    # bathroom
    "toilet", "sink", "bathtub", "shower", "mirror", "towel", "toilet paper", "toothbrush", "soap",
    "bath mat", "trash can",
    # kitchen and dining
    "cutting board", "cooking pot", "frying pan", "plate", "bowl", "cup", "bottle", "fruit bowl",
    # bedroom and living
    "pillow", "blanket", "alarm clock", "rug", "curtain", "window", "door", "potted plant", "vase",
    "picture frame", "painting", "wall clock", "cushion", "book", "toy", "piano",
    # storage and utility
    "laundry basket", "ironing board", "shoe rack", "coat rack", "backpack", "suitcase", "treadmill",
)

#: The paper's landmark prompt (appendix A.3): System, then User, adapted to ask for JSON.
LANDMARK_SYSTEM = "You are a helpful robot to find an object in an unknown environment."
LANDMARK_USER = (
    "Now that we need to find {article} {target}, please provide information about how it might be found in a private "
    "house. This information will be embedded with CLIP and must be useful for the robot to recognize the object. "
    "Provide which room it is likely to be found in. Provide where it is likely to be located within specific rooms. "
    "Please add the room type in front of the location. Provide what other items it is likely to be near. What is the "
    "probability of finding the {target} respectively around these landmarks? The sum of the probabilities of each "
    "level is equal to one. At the same time, the output must meet the following requirements: "
    "1. Output {count} related strings for each level. Each string should contain only one piece of information and "
    'avoid using "or" constructions. '
    "2. Each piece of information should consist of only the most relevant phrases, not complete sentences. Keep the "
    'phrases simple and common; avoid uncertain words like "maybe". '
    '3. Output one JSON object with two two-dimensional lists. "landmarks": the first dimension represents the '
    "information level (room, location within a room, nearby item), and the second dimension contains the {count} "
    'related strings for each level. "probabilities": the first dimension represents the information level, and the '
    "second dimension contains the {count} related probabilities for each level. "
    '4. Output only the JSON object, in the form {{"landmarks": [[...], [...], [...]], "probabilities": [[...], [...], '
    "[...]]}}, do not include any additional text."
)
#: The paper's detection-distance prompt (appendix A.3, used by the visibility map of A.4).
DISTANCE_USER = (
    "When we use YOLOv7 and GroundingDINO to detect {article} {target} in a simulated mesh private house environment, "
    "the quality is poor. What is the best distance from the camera pose to the {target} to detect the {target}? The "
    "input images are {width}\u00d7{height} resolution. 1. Please output the distance in meters. 2. Please only output "
    "the distance range as a list: [distance_min, distance_max], without any other text."
)

#: Limits on a model's landmark reply (anything beyond them is rejected: counted, falls back).
MAX_REPLY_CHARS = 8000
MAX_PHRASE_CHARS = 60
MAX_PER_LEVEL = 16
MAX_DISTANCE_M = 20.0
DEFAULT_RANGE = (0.5, 3.5)

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_JSON_START = re.compile(r"[\[{]")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_UNIT = r"\s*(?:m|meters?|metres?)?\s*"
_RANGE = re.compile(rf"\[\s*({_NUMBER}){_UNIT},\s*({_NUMBER}){_UNIT}\]", re.I)
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%?\s*")


class LandmarkReplyError(NavgymError, ValueError):
    """A model's landmark (or distance) reply does not hold a valid answer; the message says why."""


def normalize_target(target: Any, name: str = "target") -> str:
    """``target`` as lower-case words ("Potted_Plant " -> "potted plant"); an empty target raises
    :class:`InvalidArgumentError` naming ``name``."""
    if not isinstance(target, str) or not target.replace("_", " ").strip():
        raise InvalidArgumentError(f"{name}={target!r} must be a non-empty string naming an object, e.g. 'toilet'")
    return " ".join(target.replace("_", " ").lower().split())


def article(word: str) -> str:
    """"an" before a vowel sound's letter, else "a" (the paper writes "a/an {target}")."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _count_words(n: int) -> str:
    return _NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else str(n)


def landmark_prompt(target: str, n: int = 3) -> str:
    """The paper's A.3 landmark prompt for ``target`` asking for ``n`` strings per level, as one
    string (System text, a blank line, User text)."""
    target = normalize_target(target)
    user = LANDMARK_USER.format(article=article(target), target=target, count=_count_words(_check_n(n)))
    return f"{LANDMARK_SYSTEM}\n\n{user}"


def distance_prompt(target: str, resolution: tuple[int, int] = (640, 480)) -> str:
    """The paper's detection-distance prompt for ``target`` (System text, a blank line, User text)."""
    target = normalize_target(target)
    width, height = (int(v) for v in resolution)
    user = DISTANCE_USER.format(article=article(target), target=target, width=width, height=height)
    return f"{LANDMARK_SYSTEM}\n\n{user}"


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidArgumentError(f"n={n!r} must be an int >= 1 (landmarks per level; the paper uses 3)")
    return int(n)


def _check_level_names(levels: tuple[Any, ...]) -> None:
    for level in levels:
        if level not in LEVELS:
            raise InvalidArgumentError(f"levels: {level!r} is not a landmark level; allowed: {list(LEVELS)}")


def _normalized(scores: Any) -> list[float]:
    """``scores`` (non-negative) divided by their sum; all zero gives uniform weights."""
    values = np.asarray(scores, dtype=np.float64)
    if values.size == 0:
        return []
    total = float(values.sum())
    if not total > 0:
        return [1.0 / values.size] * values.size
    return [float(v) for v in values / total]


def _top(phrases: list[str], scores: np.ndarray, n: int) -> tuple[tuple[str, float], ...]:
    """The ``n`` highest-scored phrases (ties keep the list's order) with renormalised scores.
    Phrases scored 0 are left out when another is positive (a language-model backend's
    ``score_options`` is one-hot: its runners-up would be landmarks of weight 0); all zero gives
    uniform weights."""
    scores = np.clip(np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0), 0.0, None)
    order = np.argsort(-scores, kind="stable")[:n]
    if scores[order].any():
        order = order[scores[order] > 0]
    return tuple(zip((phrases[i] for i in order), _normalized(scores[order])))


# -- the landmarks --------------------------------------------------------------------------------


Level = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Landmarks:
    """A target's hierarchical landmarks: per level (:data:`LEVELS`) ``(phrase, alpha)`` pairs,
    the alphas non-negative and summing to 1 (or the level empty), highest first.

    Attributes:
        target: The target object's name ("toilet").
        rooms, regions, objects: The room, region and object levels.
        source: ``"options"`` (the reasoner ranked the module's vocabularies), ``"prompt"``
            (parsed from a text-writing model's answer to the A.3 prompt) or ``"fallback"`` (the
            prompt failed; options were used).
    """

    target: str
    rooms: Level = ()
    regions: Level = ()
    objects: Level = ()
    source: str = "options"

    def __post_init__(self) -> None:
        if not isinstance(self.target, str) or not self.target.strip():
            raise InvalidArgumentError(f"target={self.target!r} must be a non-empty string")
        if self.source not in SOURCES:
            raise InvalidArgumentError(f"source={self.source!r} is not one of {list(SOURCES)}")
        for level, field_name in zip(LEVELS, ("rooms", "regions", "objects")):
            pairs = []
            for item in getattr(self, field_name):
                try:
                    phrase, alpha = item
                except (TypeError, ValueError):
                    raise InvalidArgumentError(f"{field_name}: {item!r} is not a (phrase, alpha) pair") from None
                if not isinstance(phrase, str) or not phrase.strip():
                    raise InvalidArgumentError(f"{field_name}: phrase {phrase!r} must be a non-empty string")
                alpha = float(alpha)
                if not (math.isfinite(alpha) and alpha >= 0):
                    raise InvalidArgumentError(f"{field_name}: alpha {alpha!r} of {phrase!r} must be finite and >= 0")
                pairs.append((phrase, alpha))
            if pairs and abs(sum(a for _, a in pairs) - 1.0) > 1e-6:
                raise InvalidArgumentError(f"{field_name}: the {level} alphas {[a for _, a in pairs]} must sum to 1")
            object.__setattr__(self, field_name, tuple(pairs))

    def levels(self) -> dict[str, list[tuple[str, float]]]:
        """Level name -> ``[(phrase, alpha), ...]`` (coarse to fine)."""
        return {"room": list(self.rooms), "region": list(self.regions), "object": list(self.objects)}

    def without(self, *levels: str) -> Landmarks:
        """A copy with these levels emptied (the paper's ablation removes levels one by one:
        ``lm.without("object")``, ``lm.without("region", "object")``, ``lm.without(*LEVELS)``)."""
        _check_level_names(levels)
        fields = {"room": "rooms", "region": "regions", "object": "objects"}
        return replace(self, **{fields[level]: () for level in levels})

    def queries(self) -> tuple[list[str], np.ndarray]:
        """The phrases the belief map scores voxels with and their weights: the target first with
        alpha 1 (paper: alpha_target = 1), then every landmark, coarse to fine, with its alpha
        (``(phrases, float64 alphas)``)."""
        phrases = [self.target]
        alphas = [1.0]
        for pairs in (self.rooms, self.regions, self.objects):
            phrases += [p for p, _ in pairs]
            alphas += [a for _, a in pairs]
        return phrases, np.asarray(alphas, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict: ``target``, ``source`` and per level a list of ``[phrase, alpha]``."""
        return {"target": self.target, "source": self.source, **{k: [[p, a] for p, a in v] for k, v in self.levels().items()}}


# -- parsing a model's answers --------------------------------------------------------------------


def _clean_reply(reply: Any, limit: int) -> str:
    if not isinstance(reply, str):
        raise LandmarkReplyError(f"the reply is a {type(reply).__name__}, not text")
    if len(reply) > limit:
        raise LandmarkReplyError(f"the reply is {len(reply)} characters long (more than {limit})")
    text = _THINK.sub("", reply).strip()
    fence = _FENCE.search(text)
    return fence.group(1).strip() if fence else text


def _json_values(text: str, opening: str, count: int) -> list[Any]:
    """Up to ``count`` consecutive JSON values, the first one starting at the first ``opening``
    bracket (``"{"`` or ``"["``) from which ``json``'s decoder reads a value; nothing is evaluated."""
    decoder = json.JSONDecoder()
    pattern = re.compile(re.escape(opening))
    values: list[Any] = []
    position = 0
    for _ in range(64):  # bounded: a reply full of stray brackets is rejected, not scanned forever
        match = (pattern if not values else _JSON_START).search(text, position)
        if match is None or len(values) == count:
            break
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            if values:  # the second value must be the next one
                break
            position = match.start() + 1
            continue
        values.append(value)
        position = end
    return values


def _probability(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise LandmarkReplyError(f"{where} is a boolean, not a probability")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and _PERCENT.fullmatch(value):
        number = float(_PERCENT.fullmatch(value).group(1))
    else:
        raise LandmarkReplyError(f"{where}={value!r} is not a number")
    if not (math.isfinite(number) and number >= 0):
        raise LandmarkReplyError(f"{where}={value!r} must be finite and >= 0")
    return number


def parse_landmark_reply(reply: str, n: int = 3) -> dict[str, Level]:
    """The landmarks in a model's answer to :func:`landmark_prompt`: level -> ``n`` at most
    ``(phrase, alpha)`` pairs, highest first, alphas renormalised per level.

    Accepted: ``{"landmarks": [[...], [...], [...]], "probabilities": [[...], [...], [...]]}``
    (also under ``"probability"``), or the paper's two bare two-dimensional lists one after the
    other; code fences and ``<think>`` blocks are dropped, text around the JSON ignored. Phrases
    must be non-empty strings of at most :data:`MAX_PHRASE_CHARS` characters (lower-cased,
    whitespace collapsed); probabilities finite numbers >= 0 (also "40%" or "0.4" as strings) with
    a positive sum per level; each level 1 to :data:`MAX_PER_LEVEL` entries, as many
    probabilities as phrases.

    Raises:
        LandmarkReplyError: the first problem found.
    """
    n = _check_n(n)
    text = _clean_reply(reply, MAX_REPLY_CHARS)
    objects = _json_values(text, "{", 1)
    if objects and isinstance(objects[0], dict):
        data = objects[0]
        landmarks = data.get("landmarks")
        probabilities = data.get("probabilities", data.get("probability"))
    else:
        lists = _json_values(text, "[", 2)
        if len(lists) != 2:
            raise LandmarkReplyError("the reply holds no JSON object and not two lists (landmarks, probabilities)")
        landmarks, probabilities = lists
    for name, value in (("landmarks", landmarks), ("probabilities", probabilities)):
        if not isinstance(value, list) or len(value) != len(LEVELS):
            raise LandmarkReplyError(f"{name} must be a list of {len(LEVELS)} levels, got {str(value)[:80]!r}")
    result: dict[str, Level] = {}
    for i, level in enumerate(LEVELS):
        phrases, probs = landmarks[i], probabilities[i]
        if not isinstance(phrases, list) or not 1 <= len(phrases) <= MAX_PER_LEVEL:
            raise LandmarkReplyError(f"landmarks[{i}] ({level}) must be a list of 1 to {MAX_PER_LEVEL} strings")
        if not isinstance(probs, list) or len(probs) != len(phrases):
            raise LandmarkReplyError(f"probabilities[{i}] ({level}) must be a list of {len(phrases)} numbers")
        clean = []
        for j, phrase in enumerate(phrases):
            if not isinstance(phrase, str) or not phrase.strip():
                raise LandmarkReplyError(f"landmarks[{i}][{j}]={phrase!r} must be a non-empty string")
            phrase = " ".join(phrase.lower().split())
            if len(phrase) > MAX_PHRASE_CHARS:
                raise LandmarkReplyError(f"landmarks[{i}][{j}] is longer than {MAX_PHRASE_CHARS} characters")
            if "<" in phrase or ">" in phrase:
                raise LandmarkReplyError(f"landmarks[{i}][{j}]={phrase!r} is a template placeholder")
            clean.append(phrase)
        scores = np.array([_probability(p, f"probabilities[{i}][{j}]") for j, p in enumerate(probs)])
        if not scores.sum() > 0:
            raise LandmarkReplyError(f"probabilities[{i}] ({level}) are all zero")
        result[level] = _top(clean, scores, n)
    return result


def parse_range_reply(reply: str) -> tuple[float, float]:
    """``(d_min, d_max)`` metres from a model's answer to :func:`distance_prompt`: the first
    "[a, b]" (units "m"/"meters" allowed), with ``0 <= a < b <= 20``.

    Raises:
        LandmarkReplyError: no such list, or values out of range.
    """
    text = _clean_reply(reply, 2000)
    match = _RANGE.search(text)
    if match is None:
        raise LandmarkReplyError(f"no [distance_min, distance_max] list in {text[:80]!r}")
    low, high = float(match.group(1)), float(match.group(2))
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low < high <= MAX_DISTANCE_M):
        raise LandmarkReplyError(f"[{low}, {high}] is not a range with 0 <= min < max <= {MAX_DISTANCE_M} m")
    return low, high


def _check_range(default: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in default)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"default={default!r} must be two numbers (d_min, d_max) in metres") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low < high):
        raise InvalidArgumentError(f"default={default!r} must satisfy 0 <= d_min < d_max (metres)")
    return low, high


def _ask_range(reasoner: Any, target: str, default: tuple[float, float], max_tokens: int) -> tuple[tuple[float, float], str]:
    """The range and ``""``, or ``default`` and why."""
    if not getattr(reasoner, "supports_completion", False):
        return default, "the reasoner writes no text"
    try:
        return parse_range_reply(reasoner.complete(distance_prompt(target), max_tokens=max_tokens)), ""
    except Exception as exc:  # any failure of the model or its answer gives the default
        return default, f"{type(exc).__name__}: {exc}"


def detection_range(reasoner: Any, target: str, default: tuple[float, float] = DEFAULT_RANGE, max_tokens: int = 64) -> tuple[float, float]:
    """``(d_min, d_max)``: the distance range in metres at which the target is best detected
    (paper, A.4), asked of a text-writing ``reasoner`` with the paper's prompt; ``default`` when
    the reasoner writes no text or its answer fails or does not parse
    (:func:`parse_range_reply`). Not cached (:meth:`LandmarkGenerator.detection_range` is).

    Raises:
        InvalidArgumentError: an empty ``target`` or a bad ``default``.
    """
    target = normalize_target(target)
    return _ask_range(reasoner, target, _check_range(default), max_tokens)[0]


# -- the generator --------------------------------------------------------------------------------


def _words(phrase: str) -> list[str]:
    """Lower-case words with a plural "s" dropped ("Towels" -> ["towel"])."""
    words = re.findall(r"[a-z0-9]+", phrase.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


class LandmarkGenerator:
    """A target's hierarchical landmarks from a reasoner, cached per target (see the module doc).

    Args:
        reasoner: A :class:`~navgym.agents.reasoning.base.Reasoner` or a registered name
            (``"embedded"``, ``"openai"``, ``"llama"``), built with ``make_reasoner``.
        n: Landmarks per level (the paper: 3).
        mode: ``"prompt"`` (the A.3 prompt through ``complete``, falling back to options),
            ``"options"`` (rank the module's vocabularies) or ``"auto"``: ``"prompt"`` when
            ``reasoner.supports_completion``, else ``"options"``.
        max_tokens: Reply budget of the landmark prompt.
        range_tokens: Reply budget of the distance prompt.
        default_range: ``(d_min, d_max)`` metres when the model gives no range.
        duplicate_similarity: Object candidates more similar than this to the target are
            near-duplicates of it, not landmarks.

    Attributes:
        stats: Counters: ``prompt_ok`` (landmarks parsed from a model's answer), ``fallback``
            (the prompt failed; options used), ``options`` (options mode by choice), ``cached``
            (answers from the cache), ``range_ok`` / ``range_default`` (detection ranges from the
            model / the default).
        last_error: Why the last prompt fell back (``""`` if none did).
    """

    def __init__(
        self,
        reasoner: Any = "embedded",
        n: int = 3,
        mode: str = "auto",
        max_tokens: int = 384,
        range_tokens: int = 64,
        default_range: tuple[float, float] = DEFAULT_RANGE,
        duplicate_similarity: float = 0.9,
    ):
        self.n = _check_n(n)
        if mode not in MODES:
            raise InvalidArgumentError(f"mode={mode!r} is not a landmark mode; allowed: {list(MODES)}")
        for name, value in (("max_tokens", max_tokens), ("range_tokens", range_tokens)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidArgumentError(f"{name}={value!r} must be an int >= 1")
        if not isinstance(duplicate_similarity, (int, float)) or not -1.0 <= duplicate_similarity <= 1.0:
            raise InvalidArgumentError(f"duplicate_similarity={duplicate_similarity!r} must be a number in [-1, 1]")
        self.reasoner = make_reasoner(reasoner)
        self.requested_mode = mode
        self.mode = ("prompt" if getattr(self.reasoner, "supports_completion", False) else "options") if mode == "auto" else mode
        self.max_tokens = int(max_tokens)
        self.range_tokens = int(range_tokens)
        self.default_range = _check_range(default_range)
        self.duplicate_similarity = float(duplicate_similarity)
        self.stats: dict[str, int] = {"prompt_ok": 0, "fallback": 0, "options": 0, "cached": 0, "range_ok": 0, "range_default": 0}
        self.last_error = ""
        self._cache: dict[str, Landmarks] = {}
        self._ranges: dict[str, tuple[float, float]] = {}
        self._warned = False

    def get(self, target: str) -> Landmarks:
        """The landmarks of ``target`` (the same object for the same target, counted in
        ``stats["cached"]``).

        Raises:
            InvalidArgumentError: an empty ``target``.
        """
        key = normalize_target(target)
        if key in self._cache:
            self.stats["cached"] += 1
            return self._cache[key]
        if self.mode == "prompt":
            landmarks = self._from_prompt(key)
        else:
            landmarks = self.from_options(key)
            self.stats["options"] += 1
        self._cache[key] = landmarks
        return landmarks

    __call__ = get

    def _from_prompt(self, target: str) -> Landmarks:
        try:
            reply = self.reasoner.complete(landmark_prompt(target, self.n), max_tokens=self.max_tokens)
            levels = parse_landmark_reply(reply, self.n)
        except Exception as exc:  # no text, timeout, refusal, malformed reply: options instead
            self.stats["fallback"] += 1
            self.last_error = f"{target}: {type(exc).__name__}: {exc}"[:500]
            if not self._warned:
                self._warned = True
                log.warning("landmarks for %r: the prompt failed (%s); ranking the vocabularies instead (counted in .stats)",
                            target, self.last_error)
            return self.from_options(target, source="fallback")
        self.stats["prompt_ok"] += 1
        return Landmarks(target, levels["room"], levels["region"], levels["object"], source="prompt")

    def from_options(self, target: str, source: str = "options") -> Landmarks:
        """Landmarks ranked by the reasoner over :data:`ROOM_TYPES`, :data:`REGION_PLACES` and
        :data:`HOUSEHOLD_OBJECTS` (not cached; :meth:`get` caches)."""
        target = normalize_target(target)
        n = self.n
        room_scores = self.reasoner.score_options(f"Which room is {article(target)} {target} most likely in?", list(ROOM_TYPES))
        rooms = _top(list(ROOM_TYPES), room_scores, n)
        own = _words(target)
        places = [p for p in REGION_PLACES if own[-1:] != _words(p)[-1:]] or list(REGION_PLACES)  # not "bed next to the bed"
        regions_options = [f"{room} {place}" for room, _ in rooms for place in places]
        region_scores = self.reasoner.score_options(f"Where in the house is {article(target)} {target} most likely located?", regions_options)
        regions = _top(regions_options, region_scores, n)
        similarity = np.asarray(self.reasoner.similarity([target], list(HOUSEHOLD_OBJECTS)), dtype=np.float64)[0]
        keep = [
            i for i, name in enumerate(HOUSEHOLD_OBJECTS)
            if not (similarity[i] > self.duplicate_similarity or sorted(_words(name)) == sorted(own) or _words(name)[-1:] == own[-1:])
        ]
        objects = _top([HOUSEHOLD_OBJECTS[i] for i in keep], similarity[keep], n)
        return Landmarks(target, rooms, regions, objects, source=source)

    def detection_range(self, target: str) -> tuple[float, float]:
        """``(d_min, d_max)`` metres for ``target`` (:func:`detection_range`), cached per target;
        counted in ``stats["range_ok"]`` / ``stats["range_default"]``."""
        key = normalize_target(target)
        if key not in self._ranges:
            value, why = _ask_range(self.reasoner, key, self.default_range, self.range_tokens)
            self.stats["range_default" if why else "range_ok"] += 1
            self._ranges[key] = value
        return self._ranges[key]

    def __repr__(self) -> str:
        return f"LandmarkGenerator(reasoner={self.reasoner!r}, n={self.n}, mode={self.mode!r})"
