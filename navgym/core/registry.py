"""Name -> implementation registries with lazy imports and entry points.

navgym registers its own simulators, embodiments, tasks and agents as ``"module:attr"`` strings
(nothing is imported until it is used); third-party packages add theirs through
``importlib.metadata`` entry points in the registry's group, e.g. in their ``pyproject.toml``::

    [project.entry-points."navgym.simulators"]
    mysim = "mypackage.sim:MySimulator"

Unknown names raise :class:`~navgym.errors.UnknownNameError` with "did you mean".
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Generic, Iterator, TypeVar

from navgym.errors import InvalidArgumentError, UnknownNameError

T = TypeVar("T")


def import_object(target: str) -> Any:
    """Import ``"package.module:attr"`` (``attr`` may be dotted)."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise InvalidArgumentError(f"target={target!r} is not 'package.module:attribute'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def did_you_mean(name: str, choices: list[str]) -> str:
    """`` Did you mean 'x'?`` for the closest choices, or an empty string."""
    close = difflib.get_close_matches(name, choices, n=3) or difflib.get_close_matches(name.lower(), [c.lower() for c in choices], n=3)
    if close:
        lowered = {c.lower(): c for c in choices}
        close = [c if c in choices else lowered[c] for c in close]
        return f" Did you mean {' or '.join(repr(c) for c in close)}?"
    return ""


@dataclass
class _Entry:
    target: Any  # the object, or a "module:attr" string not imported yet
    description: str = ""


class Registry(Generic[T]):
    """Names of one kind of thing (``kind``, e.g. ``"simulator"``) and how to build them.

    Args:
        kind: What is registered, for messages.
        group: The entry-point group third parties register under (e.g. ``"navgym.simulators"``).
        parameter: The argument users pass the name as (``sim``, ``agent``...), for messages.
    """

    def __init__(self, kind: str, group: str, parameter: str):
        self.kind = kind
        self.group = group
        self.parameter = parameter
        self._entries: dict[str, _Entry] = {}
        self._entry_points_loaded = False

    def register(self, name: str, target: Any, description: str = "", *, override: bool = False) -> None:
        """Register ``target`` (an object or a ``"module:attr"`` string) under ``name``."""
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"{self.kind} name={name!r} must be a non-empty string")
        if name in self._entries and not override and self._entries[name].target != target:
            raise InvalidArgumentError(f"{self.kind} {name!r} is registered already; pass override=True to replace it")
        self._entries[name] = _Entry(target, description)

    def decorator(self, name: str, description: str = "", **kwargs: Any):
        """``@registry.decorator("name")`` registers the decorated class or function."""

        def decorate(obj):
            self.register(name, obj, description or _first_line(obj), override=True, **kwargs)
            return obj

        return decorate

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for entry_point in metadata.entry_points(group=self.group):
            if entry_point.name not in self._entries:
                self._entries[entry_point.name] = _Entry(entry_point.value, f"from {entry_point.value}")

    def names(self) -> list[str]:
        """Every registered name (navgym's and the entry points'), sorted."""
        self._load_entry_points()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def check(self, name: str) -> str:
        """``name`` if registered, else :class:`UnknownNameError` with the closest names."""
        if isinstance(name, str) and name in self:
            return name
        names = self.names()
        hint = did_you_mean(name, names) if isinstance(name, str) else ""
        raise UnknownNameError(f"{self.parameter}={name!r} is not a registered {self.kind}.{hint} Registered {self.kind}s: {names}")

    def get(self, name: str) -> T:
        """The registered object (imported on first use)."""
        entry = self._entries[self.check(name)]
        if isinstance(entry.target, str):
            entry.target = import_object(entry.target)
            if not entry.description:
                entry.description = _first_line(entry.target)
        return entry.target

    def describe(self, name: str) -> str:
        """The one-line description of ``name`` (imports it when none was given)."""
        entry = self._entries[self.check(name)]
        if not entry.description:
            self.get(name)
        return entry.description


def _first_line(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""
