"""Agent options that may arrive as strings from the CLI (``--agent-option visibility=false``):
booleans, one choice of a list, and lists of names, each checked with an error that names the
parameter, the value and what is allowed."""

from __future__ import annotations

import ast
import json
import numbers
from typing import Any, Sequence

import numpy as np

from navgym.errors import InvalidArgumentError

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def option_value(text: str) -> Any:
    """The value of a ``key=value`` option: JSON when it parses (numbers, lists, true/false, {}),
    else a Python literal number, tuple, list or dict (``(96, 128)``, ``{'a': 1}``; parsed by
    ``ast.literal_eval``, never evaluated), else the string (``aliengo``, ``None``, ``'quoted'``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text
    return value if isinstance(value, (int, float, tuple, list, dict)) and not isinstance(value, bool) else text


def key_values(items: Sequence[str], name: str = "--option") -> dict[str, Any]:
    """``key=value`` strings (``--env-option num_scenes=40``) as a dict, each value by :func:`option_value`;
    an item without ``=`` is an :class:`InvalidArgumentError` naming ``name`` and the item."""
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgumentError(f"{item!r} is not key=value ({name} takes key=value, e.g. num_scenes=40)")
        parsed[key] = option_value(value)
    return parsed


def flag(name: str, value: Any) -> bool:
    """A boolean option: a bool, the integers 0 and 1, or (from the command line and environment
    variables) ``"true"``/``"false"``, ``"1"``/``"0"``, ``"yes"``/``"no"``, ``"on"``/``"off"`` in any case."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidArgumentError(f"{name}={value!r} must be true or false")


def choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    """``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise InvalidArgumentError(f"{name}={value!r} is not one of {list(allowed)}")
    return value


def names(name: str, value: Any, allowed: Sequence[str]) -> tuple[str, ...]:
    """A subset of ``allowed``: a list, or a string separated by commas or ``+`` (``"room+region"``;
    ``""`` or ``"none"`` for none)."""
    if isinstance(value, str):
        text = value.strip().lower()
        items = [] if text in ("", "none") else [v.strip() for v in text.replace("+", ",").split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        raise InvalidArgumentError(f"{name}={value!r} must be a list of names from {list(allowed)}")
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise InvalidArgumentError(f"{name}={value!r}: {unknown} are not in {list(allowed)}")
    return tuple(dict.fromkeys(items))
