"""What every conformance check returns or raises, and the small runner that collects results.

A conformance run executes *every* check, even after some failed, and then either returns a
:class:`ConformanceReport` (all passed) or raises one :class:`ConformanceError` that lists every
failed check with its measured and expected values.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CheckFailure:
    """One failed check.

    Attributes:
        check: The check's name, e.g. ``"move_agent.wall"``.
        problems: One line per violated expectation, with measured and expected values.
    """

    check: str
    problems: tuple[str, ...]

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"{self.check}: {self.problems[0]}"
        return f"{self.check}:\n" + "\n".join(f"      - {p}" for p in self.problems)


@dataclass
class ConformanceReport:
    """What a conformance run checked.

    Attributes:
        subject: What was checked (a simulator class, an env id, an agent).
        passed: Names of the checks that passed, in the order they ran.
        skipped: Check name -> why it did not run (a missing optional dependency, a parameter).
        failed: The failed checks (empty in a report that was returned, not raised).
        measurements: Check name -> what it measured, for the record (e.g. a geodesic length).
    """

    subject: str
    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: list[CheckFailure] = field(default_factory=list)
    measurements: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether no check failed."""
        return not self.failed

    def __str__(self) -> str:
        lines = [f"Conformance of {self.subject}: {len(self.passed)} passed, {len(self.failed)} failed, {len(self.skipped)} skipped"]
        for name in self.passed:
            extra = f" ({self.measurements[name]})" if name in self.measurements else ""
            lines.append(f"  PASS {name}{extra}")
        for failure in self.failed:
            lines.append(f"  FAIL {failure}")
        for name, why in self.skipped.items():
            lines.append(f"  SKIP {name}: {why}")
        return "\n".join(lines)


class ConformanceError(AssertionError):
    """Some conformance checks failed. The message lists every failed check with measured vs
    expected values; :attr:`failures` and :attr:`report` give them as data.

    Attributes:
        failures: The failed checks.
        report: The whole run (passed and skipped checks too).
    """

    def __init__(self, report: ConformanceReport):
        self.report = report
        self.failures = list(report.failed)
        total = len(report.passed) + len(report.failed)
        lines = [f"{report.subject}: {len(report.failed)} of {total} conformance checks failed:"]
        lines += [f"  - {failure}" for failure in report.failed]
        if report.skipped:
            lines.append("  (skipped: " + "; ".join(f"{k}: {v}" for k, v in report.skipped.items()) + ")")
        super().__init__("\n".join(lines))

    @property
    def failed_checks(self) -> list[str]:
        """Names of the failed checks."""
        return [failure.check for failure in self.failures]


class Check:
    """The context a check function gets: record violated expectations and keep going.

    Args:
        name: The check's name.
    """

    def __init__(self, name: str):
        self.name = name
        self.problems: list[str] = []
        self.notes: list[str] = []

    def expect(self, condition: Any, message: str) -> bool:
        """Record ``message`` as a problem unless ``condition`` holds; returns the condition."""
        ok = bool(condition)
        if not ok:
            self.problems.append(message)
        return ok

    def fail(self, message: str) -> None:
        """Record a problem."""
        self.problems.append(message)

    def note(self, message: str) -> None:
        """Record a measurement for the report."""
        self.notes.append(message)


class Runner:
    """Runs named check functions, isolating each: an exception fails that check only.

    Args:
        subject: What is checked, for messages.
    """

    def __init__(self, subject: str):
        self.report = ConformanceReport(subject)

    def run(self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Run ``function(check, *args, **kwargs)``; returns whether the check passed."""
        check = Check(name)
        try:
            function(check, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a raising backend is a failed check, not a crash
            where = traceback.extract_tb(exc.__traceback__)[-1]
            check.fail(f"raised {type(exc).__name__}: {exc} (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
        if check.problems:
            self.report.failed.append(CheckFailure(name, tuple(check.problems)))
            return False
        self.report.passed.append(name)
        if check.notes:
            self.report.measurements[name] = "; ".join(check.notes)
        return True

    def skip(self, name: str, why: str) -> None:
        """Record a check that did not run."""
        self.report.skipped[name] = why

    def finish(self) -> ConformanceReport:
        """The report, or a :class:`ConformanceError` listing every failure."""
        if self.report.failed:
            raise ConformanceError(self.report)
        return self.report


def fmt(value: Any, digits: int = 3) -> str:
    """A compact rendering of numbers and arrays for messages."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}f}"
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and value and isinstance(value[0], (float, np.floating))):
        return str(np.round(np.asarray(value, dtype=np.float64), digits).tolist())
    return repr(value)
