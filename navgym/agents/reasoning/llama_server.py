"""``python -m navgym.agents.reasoning.llama_server ARGS``: llama-cpp-python's OpenAI-compatible
server (``python -m llama_cpp.server ARGS``, the same arguments) with llama.cpp's CPU extra buffer
types off (:func:`navgym.agents.reasoning.llama.disable_extra_buffers`: its AMX kernels crashed
the server on the first prompt on navgym's CI machines)."""

from __future__ import annotations

import runpy

from navgym.agents.reasoning.llama import disable_extra_buffers

if __name__ == "__main__":
    disable_extra_buffers()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
