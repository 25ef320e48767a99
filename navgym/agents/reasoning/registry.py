"""Reasoner backends by name: navgym's own and third parties' through the ``navgym.reasoners``
entry-point group, e.g. in a package's ``pyproject.toml``::

    [project.entry-points."navgym.reasoners"]
    myllm = "mypackage.reasoner:MyReasoner"

A registered object is called as ``factory(**options)`` and returns a
:class:`~navgym.agents.reasoning.base.Reasoner`.
"""

from __future__ import annotations

from typing import Any

from navgym.core.registry import Registry
from navgym.errors import InvalidArgumentError

#: Reasoner backends by name.
REASONERS: Registry = Registry("reasoner", "navgym.reasoners", "reasoner")
REASONERS.register(
    "embedded", "navgym.agents.reasoning.embedded:EmbeddedReasoner",
    "Offline, deterministic: all-MiniLM-L6-v2 embeddings (similarity, option scoring) and rules (goal parsing); no free text.",
)
REASONERS.register(
    "openai", "navgym.agents.reasoning.openai_compat:OpenAIReasoner",
    "Any OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp server, hosted); counted fallbacks to the embedded reasoner.",
)
REASONERS.register(
    "llama", "navgym.agents.reasoning.llama:LlamaReasoner",
    "In-process llama.cpp with the packaged SmolLM2-135M (navgym[llama]): the openai backend's questions, no server; counted fallbacks.",
)

_METHODS = ("similarity", "score_options", "parse_goal", "complete")


def make_reasoner(name_or_instance: Any = "embedded", **options: Any) -> Any:
    """A reasoner: a registered name built with ``options``, or an object that already has the
    :class:`~navgym.agents.reasoning.base.Reasoner` methods, returned as it is.

    Raises:
        UnknownNameError: an unregistered name, with the closest registered names.
        InvalidArgumentError: options given with an instance, an option the backend does not
            take, or an object missing one of the Reasoner methods.
    """
    if isinstance(name_or_instance, str):
        factory = REASONERS.get(name_or_instance)
        try:
            return factory(**options)
        except TypeError as exc:
            if "argument" not in str(exc):
                raise
            raise InvalidArgumentError(f"reasoner={name_or_instance!r}: {exc}") from None
    missing = [m for m in _METHODS if not callable(getattr(name_or_instance, m, None))]
    if missing:
        raise InvalidArgumentError(
            f"reasoner={name_or_instance!r} is neither a registered name ({REASONERS.names()}) nor a Reasoner (it lacks {missing})"
        )
    if options:
        raise InvalidArgumentError(f"reasoner options {sorted(options)} were given with a reasoner instance; pass them to its constructor")
    return name_or_instance


def make_reasoner_with(
    reasoner: Any = "embedded",
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """:func:`make_reasoner` for agents' keyword arguments: ``base_url``, ``model``, ``api_key`` and
    ``timeout`` belong to ``reasoner="openai"`` (an error names them otherwise); ``options`` are
    passed to any backend's constructor."""
    merged = dict(options or {})
    for key, value in (("base_url", base_url), ("model", model), ("api_key", api_key), ("timeout", timeout)):
        if value is not None:
            if reasoner != "openai":
                raise InvalidArgumentError(f"{key}= is an option of reasoner='openai'; got reasoner={reasoner!r}")
            merged[key] = value
    return make_reasoner(reasoner, **merged)


def reasoner_names() -> dict[str, str]:
    """Registered reasoner names and one-line descriptions."""
    return {name: REASONERS.describe(name) for name in REASONERS.names()}
