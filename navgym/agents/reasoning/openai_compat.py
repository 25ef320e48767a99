"""Any OpenAI-compatible chat endpoint as a reasoner: Ollama, vLLM, llama.cpp's server, hosted APIs.

One ``POST {base_url}/chat/completions`` per question, through ``httpx`` (a maintained HTTP client
with per-request timeouts and no hidden retries; the ``openai`` package wraps the same client but
adds retries, pydantic models and more dependencies, and we need one endpoint). Answers are
*parsed*, never evaluated:

* ``score_options``: the model is asked for the number of one option; the reply must be that
  number (alone, after "Answer:", or as ``{"choice": n}``) or exactly one option's text;
* ``parse_goal``: the model is asked for a JSON goal graph; the reply's JSON object is checked by
  :func:`~navgym.agents.reasoning.base.goal_graph_from_dict` (types, ids, sizes);
* ``complete``: the reply's text;
* ``similarity``: always local (chat models have no embeddings): the embedded reasoner's.

Every failure is counted in :attr:`OpenAIReasoner.stats` (``failures`` by reason: ``timeout``,
``connection_error``, ``http_error``, ``malformed``, ``refusal``, and ``endpoint_down`` for calls
not sent because ``give_up_after`` requests in a row timed out or found no server; ``fallbacks``
by method) and
answered by the fallback reasoner (the embedded one by default); ``strict=True`` raises
:class:`~navgym.agents.reasoning.base.ReasonerUnavailableError` instead. ``complete`` has no
offline fallback: it counts and raises.
"""

from __future__ import annotations

import json
import logging
import numbers
import os
import re
import time
from typing import Any

import numpy as np

from navgym.agents.reasoning.base import (
    GoalGraph,
    GoalGraphSchemaError,
    ReasonerStats,
    ReasonerUnavailableError,
    check_options,
    goal_graph_from_dict,
)
from navgym.agents.reasoning.minilm import require
from navgym.core.checks import check_range
from navgym.core.options import flag
from navgym.errors import InvalidArgumentError

log = logging.getLogger("navgym.agents.reasoning")

#: Environment variables read when an argument is not given (first set one wins).
ENV_BASE_URL = ("NAVGYM_LLM_BASE_URL", "OPENAI_BASE_URL")
ENV_MODEL = ("NAVGYM_LLM_MODEL",)
ENV_API_KEY = ("NAVGYM_LLM_API_KEY", "OPENAI_API_KEY")
ENV_TIMEOUT = ("NAVGYM_LLM_TIMEOUT",)
DEFAULT_TIMEOUT = 30.0

_REFUSAL = re.compile(
    r"^\W*(i'?m sorry|i am sorry|sorry|i can(?:'|no)?t|i cannot|i won'?t|i am unable|i'?m unable|i am not able|"
    r"as an ai|i apologi[sz]e|unfortunately,? i)",
    re.I,
)

SCORE_SYSTEM = "You answer multiple-choice questions about indoor scenes. Reply with the number of the best option and nothing else."
GOAL_SYSTEM = "You turn a navigation instruction into a goal graph. Reply with one JSON object and nothing else."
GOAL_PROMPT = """List the objects and the relations between them in the instruction, as JSON:
{{"nodes": [{{"id": "...", "category": "...", "attributes": {{"color": "...", "material": "..."}}}}],
 "edges": [{{"subject": "<node id>", "relation": "...", "object": "<node id>"}}],
 "target": "<id of the object to go to>", "room": "<room named in the instruction, or null>"}}
Example. Instruction: the red wooden chair next to the dining table in the kitchen
{{"nodes": [{{"id": "chair", "category": "chair", "attributes": {{"color": "red", "material": "wood"}}}}, {{"id": "dining table", "category": "dining table", "attributes": {{}}}}],
 "edges": [{{"subject": "chair", "relation": "next to", "object": "dining table"}}], "target": "chair", "room": "kitchen"}}
Instruction: {text}"""


class _Failure(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def parse_option_index(reply: str, options: list[str]) -> int | None:
    """The 0-based option a reply names, or ``None``: a 1-based number alone ("3", "3.",
    "Option 3", "3. bathroom" when option 3 is the bathroom), after "answer"/"choice" anywhere ("... Answer: 3"), in a JSON object
    (``{"choice": 3}``, also ``answer``/``option``/``index``), or the text of exactly one option
    (whole reply, or the only option named in a short reply). Out-of-range numbers give ``None``."""
    text = reply.strip().strip("`").strip()
    n = len(options)

    def number(value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)) and float(value).is_integer():
            k = int(value)
        elif isinstance(value, str) and value.strip().isdigit():
            k = int(value.strip())
        elif isinstance(value, str):
            return by_text(value)
        else:
            return None
        return k - 1 if 1 <= k <= n else None

    def by_text(value: str) -> int | None:
        clean = re.sub(r"[^a-z0-9 ]+", " ", value.lower()).split()
        normalized = [re.sub(r"[^a-z0-9 ]+", " ", o.lower()).split() for o in options]
        exact = [i for i, o in enumerate(normalized) if o == clean]
        if len(exact) == 1:
            return exact[0]
        if len(clean) <= 12:
            joined = f" {' '.join(clean)} "
            named = [i for i, o in enumerate(normalized) if o and f" {' '.join(o)} " in joined]
            if len(named) == 1:
                return named[0]
        return None

    if not text:
        return None
    if "{" in text:
        try:
            data = json.loads(text[text.index("{") : text.rindex("}") + 1])
        except (ValueError, TypeError):
            data = None
        if isinstance(data, dict):
            for key in ("choice", "answer", "option", "index"):
                if key in data:
                    return number(data[key])
            return None
    m = re.fullmatch(r"[\s\"'*\[(#]*(?:option|answer|choice)?\s*(?:number|no\.?)?\s*[:#(]?\s*(\d+)\s*[).:\]]?\s*(.*)", text, flags=re.I | re.S)
    if m and len(text) <= 80:
        index = number(int(m.group(1)))
        rest = m.group(2).strip(" -:.")
        named = by_text(rest) if rest else None
        return index if named is None or named == index else None  # "3. bathroom": the two must agree
    m = re.findall(r"(?:answer|choice|option)\s*(?:is)?\s*[:#]?\s*(\d+)", text, flags=re.I)
    if m:
        return number(int(m[-1]))
    return by_text(text)


def parse_goal_reply(reply: str, text: str = "") -> GoalGraph:
    """The goal graph in a model's reply: its JSON object (code fences allowed), schema-checked.

    Raises:
        GoalGraphSchemaError: no JSON object, or one that is not a goal graph.
    """
    body = reply.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", body, flags=re.S)
    if fence:
        body = fence.group(1)
    if "{" not in body or "}" not in body:
        raise GoalGraphSchemaError("goal graph: the reply holds no JSON object")
    try:
        data = json.loads(body[body.index("{") : body.rindex("}") + 1])
    except ValueError as exc:
        raise GoalGraphSchemaError(f"goal graph: the reply's JSON does not parse ({exc})") from None
    return goal_graph_from_dict(data, text=text)


class OpenAIReasoner:
    """A reasoner backed by an OpenAI-compatible chat endpoint, with counted fallbacks.

    Args:
        base_url: The API root, e.g. ``http://127.0.0.1:11434/v1`` (Ollama),
            ``http://127.0.0.1:8000/v1`` (vLLM), ``http://127.0.0.1:8080/v1`` (llama.cpp).
            Default: ``$NAVGYM_LLM_BASE_URL``, else ``$OPENAI_BASE_URL``; one is required.
        model: The model name the server knows. Default: ``$NAVGYM_LLM_MODEL``, else the first
            model ``GET {base_url}/models`` lists (asked once, on the first call).
        api_key: Sent as ``Authorization: Bearer ...``. Default: ``$NAVGYM_LLM_API_KEY``, else
            ``$OPENAI_API_KEY``, else no header (local servers need none).
        timeout: Seconds for one request (connect, read, write each); default
            ``$NAVGYM_LLM_TIMEOUT``, else 30.
        fallback: The reasoner that answers when the endpoint fails, and always answers
            ``similarity``: a reasoner, a registered name, default ``"embedded"``.
        strict: Raise :class:`ReasonerUnavailableError` on a failure instead of falling back
            (still counted).
        retries: Extra attempts after a timeout, connection error or HTTP 5xx (0: none).
        temperature: Sampling temperature (0: the most likely answer).
        seed: Sent as ``seed`` when not ``None`` (servers that support it sample reproducibly).
        json_mode: Ask for ``response_format={"type": "json_object"}`` in ``parse_goal``
            (supported by OpenAI, vLLM, Ollama and llama.cpp; turn off for a server that refuses
            it with HTTP 400).
        max_tokens: Reply budget of ``parse_goal``.
        option_tokens: Reply budget of ``score_options`` (8: a number; raise it for models that
            think aloud before answering, whose ``<think>...</think>`` block is dropped).
        give_up_after: After this many requests in a row fail with a timeout or a connection
            error (an endpoint that is down or unreachable), stop sending requests for
            ``retry_after`` seconds: calls fail at once with the reason ``endpoint_down`` (counted,
            answered by the fallback) instead of each waiting ``timeout`` seconds; a warning says
            so. 0: never give up.
        retry_after: Seconds before the next request is tried after giving up.
    """

    name = "openai"
    supports_completion = True

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float | str | None = None,
        fallback: Any = "embedded",
        strict: bool | str = False,
        retries: int | str = 0,
        temperature: float | str = 0.0,
        seed: int | str | None = None,
        json_mode: bool | str = True,
        max_tokens: int | str = 384,
        option_tokens: int | str = 8,
        give_up_after: int | str = 3,
        retry_after: float | str = 60.0,
    ):
        require("The openai reasoner", {"httpx": "httpx"})
        import httpx

        self.base_url = (base_url or _env(ENV_BASE_URL) or "").rstrip("/")
        if not self.base_url:
            raise InvalidArgumentError(
                "reasoner='openai' needs base_url= (or $NAVGYM_LLM_BASE_URL), e.g. http://127.0.0.1:11434/v1 for Ollama"
            )
        if not self.base_url.startswith(("http://", "https://")):
            raise InvalidArgumentError(f"base_url={self.base_url!r} must start with http:// or https://")
        self.model = model or _env(ENV_MODEL)
        self._api_key = api_key or _env(ENV_API_KEY)
        if timeout is None and _env(ENV_TIMEOUT) is not None:
            self.timeout = _number("timeout", _env(ENV_TIMEOUT), 0.0, 86400.0, low_open=True, source=" ($NAVGYM_LLM_TIMEOUT)")
        else:
            self.timeout = _number("timeout", timeout if timeout is not None else DEFAULT_TIMEOUT, 0.0, 86400.0, low_open=True)
        self.strict = flag("strict", strict)
        self.retries = int(_number("retries", retries, 0, 100, integer=True))
        self.temperature = _number("temperature", temperature, 0.0, 2.0)
        self.seed = None if seed in (None, "", "None") else int(_number("seed", seed, 0, 2**63 - 1, integer=True))
        self.json_mode = flag("json_mode", json_mode)
        self.max_tokens = int(_number("max_tokens", max_tokens, 1, 1_000_000, integer=True))
        self.option_tokens = int(_number("option_tokens", option_tokens, 1, 1_000_000, integer=True))
        self.give_up_after = int(_number("give_up_after", give_up_after, 0, 1_000_000, integer=True))
        self.retry_after = _number("retry_after", retry_after, 0.0, 86400.0)
        self._failed_in_a_row, self._down_until, self._down_reason = 0, 0.0, ""
        if isinstance(fallback, str):
            from navgym.agents.reasoning.registry import reasoner_names

            if fallback not in reasoner_names() or fallback == "openai":
                raise InvalidArgumentError(
                    f"fallback={fallback!r} is not a reasoner to fall back to; use one of {[n for n in reasoner_names() if n != 'openai']} or a reasoner instance"
                )
        self._fallback_spec = fallback
        self._fallback: Any = None
        self.stats = ReasonerStats()
        self._warned: set[str] = set()
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        self._httpx = httpx
        # proxies from the environment apply to remote hosts only: a loopback server is reached directly
        host = httpx.URL(self.base_url).host
        loopback = host in ("localhost", "::1") or host.startswith("127.")
        self._client = httpx.Client(base_url=self.base_url + "/", headers=headers, timeout=httpx.Timeout(self.timeout), trust_env=not loopback)

    # -- plumbing -------------------------------------------------------------------------------

    @property
    def fallback(self) -> Any:
        """The reasoner that answers ``similarity`` and failed calls (built on first use)."""
        if self._fallback is None:
            from navgym.agents.reasoning.registry import make_reasoner

            self._fallback = make_reasoner(self._fallback_spec or "embedded")
        return self._fallback

    def _request(self, method: str, path: str, payload: dict | None = None) -> Any:
        httpx = self._httpx
        last: _Failure | None = None
        for _attempt in range(self.retries + 1):
            try:
                response = self._client.request(method, path, json=payload)
            except httpx.TimeoutException as exc:
                last = _Failure("timeout", f"no answer within {self.timeout} s ({type(exc).__name__})")
                continue
            except httpx.HTTPError as exc:  # connection refused, reset, protocol errors
                last = _Failure("connection_error", f"{type(exc).__name__}: {exc}")
                continue
            if response.status_code >= 400:
                last = _Failure("http_error", f"HTTP {response.status_code}: {response.text[:200]}")
                if response.status_code >= 500 or response.status_code == 429:
                    continue
                raise last
            try:
                return response.json()
            except ValueError:
                raise _Failure("malformed", f"the response is not JSON: {response.text[:200]!r}") from None
        assert last is not None
        raise last

    def _resolve_model(self) -> str:
        if self.model is None:
            data = self._request("GET", "models")
            try:
                self.model = str(data["data"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise _Failure("malformed", f"GET /models listed no model: {str(data)[:200]}") from None
        return self.model

    def _chat(self, messages: list[dict[str, str]], max_tokens: int, json_mode: bool = False) -> str:
        """The assistant's text for ``messages`` (raises ``_Failure`` with a reason); while the
        endpoint counts as down (``give_up_after``), fails at once with ``endpoint_down``."""
        down_until = getattr(self, "_down_until", 0.0)
        if down_until:
            if time.monotonic() < down_until:
                raise _Failure("endpoint_down", f"not called for {self.retry_after:g} s after {self.give_up_after} failed requests in a row ({self._down_reason})")
            self._down_until = 0.0  # time to try again: one request decides
            self._failed_in_a_row = max(self.give_up_after - 1, 0)
        try:
            content = self._chat_once(messages, max_tokens, json_mode)
        except _Failure as failure:
            self._note_failure(failure)
            raise
        self._failed_in_a_row = 0
        return content

    def _note_failure(self, failure: _Failure) -> None:
        """Count timeouts and connection errors in a row; give the endpoint up after ``give_up_after``."""
        if failure.reason not in ("timeout", "connection_error"):
            self._failed_in_a_row = 0  # the server answered: it is up
            return
        self._failed_in_a_row = getattr(self, "_failed_in_a_row", 0) + 1
        limit = getattr(self, "give_up_after", 0)
        if limit and self._failed_in_a_row >= limit:
            self._down_until = time.monotonic() + self.retry_after
            self._down_reason = f"last: {failure.reason}: {failure.detail}"[:200]
            self._failed_in_a_row = 0
            log.warning(
                "reasoner %s: %d requests in a row failed (%s: %s); not calling it for %g s: the fallback answers "
                "(counted in .stats as endpoint_down; check base_url= and that the server runs, or set give_up_after=0)",
                self.base_url, limit, failure.reason, failure.detail, self.retry_after,
            )

    def _chat_once(self, messages: list[dict[str, str]], max_tokens: int, json_mode: bool = False) -> str:
        payload: dict[str, Any] = {
            "model": self._resolve_model(),
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": int(max_tokens),
            "stream": False,
        }
        if self.seed is not None:
            payload["seed"] = self.seed
        if json_mode:
            payload["response_format"] = {"type": "json_object"}
        data = self._completion(payload)
        try:
            choice = data["choices"][0]
            message = choice["message"]
            if not isinstance(message, dict):
                raise TypeError
        except (KeyError, IndexError, TypeError):
            raise _Failure("malformed", f"no choices[0].message in {str(data)[:200]}") from None
        if message.get("refusal") or choice.get("finish_reason") == "content_filter":
            raise _Failure("refusal", str(message.get("refusal") or "finish_reason=content_filter")[:200])
        content = message.get("content")
        if isinstance(content, str):  # reasoning models may think aloud first
            content = re.sub(r"<think>.*?</think>", "", content, flags=re.S).strip()
        if not isinstance(content, str) or not content:
            raise _Failure("malformed", "empty content")
        return content

    def _completion(self, payload: dict[str, Any]) -> Any:
        """The chat-completion response (a dict in OpenAI's shape) for ``payload``; here one HTTP
        POST (the in-process llama backend calls llama.cpp instead)."""
        return self._request("POST", "chat/completions", payload)

    def _failed(self, method: str, failure: _Failure, can_fall_back: bool = True) -> None:
        """Count a failure, warn once per reason, and raise unless the caller falls back."""
        fall_back = can_fall_back and not self.strict
        self.stats.failure(method, failure.reason, failure.detail, fell_back=fall_back)
        if failure.reason not in self._warned:
            self._warned.add(failure.reason)
            log.warning("reasoner %s: %s failed (%s: %s); %s", self.base_url, method, failure.reason, failure.detail,
                        "falling back (counted in .stats)" if fall_back else "raising (counted in .stats)")
        if not fall_back:
            raise ReasonerUnavailableError(f"{self.base_url} {method}: {failure.reason}: {failure.detail}")

    @staticmethod
    def _classify(reply: str) -> str:
        return "refusal" if _REFUSAL.match(reply) else "malformed"

    # -- the four questions ---------------------------------------------------------------------

    def similarity(self, a: list[str], b: list[str]) -> np.ndarray:
        """Always the fallback reasoner's (chat models give no embeddings); not a fallback."""
        self.stats.call("similarity")
        return self.fallback.similarity(a, b)

    def score_options(self, prompt: str, options: list[str]) -> np.ndarray:
        """One-hot on the option the model names (fallback: the fallback reasoner's scores)."""
        options = check_options(options)
        self.stats.call("score_options")
        listing = "\n".join(f"{i + 1}. {o}" for i, o in enumerate(options))
        messages = [
            {"role": "system", "content": SCORE_SYSTEM},
            {"role": "user", "content": f"{prompt}\n\nOptions:\n{listing}\n\nAnswer with one number from 1 to {len(options)}."},
        ]
        try:
            reply = self._chat(messages, max_tokens=self.option_tokens)
            index = parse_option_index(reply, options)
            if index is None:
                raise _Failure(self._classify(reply), f"no option number in {reply[:120]!r}")
        except _Failure as failure:
            self._failed("score_options", failure)
            return self.fallback.score_options(prompt, options)
        self.stats.ok("score_options")
        scores = np.zeros(len(options))
        scores[index] = 1.0
        return scores

    def parse_goal(self, text: str) -> GoalGraph:
        """The model's JSON goal graph (fallback: the fallback reasoner's, i.e. the rules)."""
        self.stats.call("parse_goal")
        messages = [{"role": "system", "content": GOAL_SYSTEM}, {"role": "user", "content": GOAL_PROMPT.format(text=text)}]
        try:
            reply = self._chat(messages, max_tokens=self.max_tokens, json_mode=self.json_mode)
            try:
                graph = parse_goal_reply(reply, text)
            except GoalGraphSchemaError as exc:
                raise _Failure(self._classify(reply), str(exc)) from None
        except _Failure as failure:
            self._failed("parse_goal", failure)
            return self.fallback.parse_goal(text)
        self.stats.ok("parse_goal")
        return graph

    def complete(self, prompt: str, max_tokens: int = 256) -> str:
        """The model's text. No fallback: a failure is counted and raises
        :class:`ReasonerUnavailableError`."""
        self.stats.call("complete")
        try:
            reply = self._chat([{"role": "user", "content": str(prompt)}], max_tokens=max_tokens)
        except _Failure as failure:
            self._failed("complete", failure, can_fall_back=False)
        self.stats.ok("complete")
        return reply

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIReasoner:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        key = "set" if self._api_key else "none"
        return f"OpenAIReasoner(base_url={self.base_url!r}, model={self.model!r}, api_key={key}, timeout={self.timeout})"


def _number(name: str, value: Any, low: float, high: float, *, low_open: bool = False, integer: bool = False, source: str = "") -> Any:
    """``value`` (a number, or a string of one: environment variables, command-line options) checked
    to lie in [low, high]; an error names the parameter, the value and the range."""
    kind = "an integer" if integer else "a number"
    number = value
    if isinstance(value, str):
        try:
            number = int(value.strip()) if integer else float(value.strip())
        except ValueError:
            raise InvalidArgumentError(f"{name}={value!r}{source} is not {kind}; allowed {'(' if low_open else '['}{low}, {high}]") from None
    if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real) or (integer and not float(number).is_integer()):
        raise InvalidArgumentError(f"{name}={value!r}{source} is not {kind}; allowed {'(' if low_open else '['}{low}, {high}]")
    try:
        if integer:  # exact: a float round trip would change large seeds (2**63 - 1 read as 2**63)
            whole = int(number)
            if not int(low) <= whole <= int(high):
                raise InvalidArgumentError(f"{name}={value!r} is out of range; allowed [{int(low)}, {int(high)}]")
            return whole
        return check_range(name, number, low, high, low_open=low_open)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{exc}{source}") from None
