"""The one range checker: errors name the parameter, the value and the allowed range."""

from __future__ import annotations

import math
import numbers

import numpy as np

from navgym.errors import InvalidArgumentError


def check_int(name: str, value, low: int) -> int:
    """``value`` as an int when it is an integer (not a bool) ``>= low``.

    Raises:
        InvalidArgumentError: (a ``ValueError``) "``name=value`` must be an integer >= low".
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise InvalidArgumentError(f"{name}={value!r} must be an integer >= {low}")
    return int(value)


def check_range(name: str, value: float, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float when it is a finite number in [low, high] (or open ends as asked).

    Raises:
        InvalidArgumentError: (a ``ValueError``) naming ``name``, the value and the range.
    """
    bracket = ("(" if low_open else "[", ")" if high_open else "]")
    allowed = f"allowed {bracket[0]}{low}, {high}{bracket[1]}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise InvalidArgumentError(f"{name}={value!r} is not a number; {allowed}")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        raise InvalidArgumentError(f"{name}={value!r} is out of range; {allowed}") from None
    ok = (low < number if low_open else low <= number) and (number < high if high_open else number <= high)
    if not ok or not math.isfinite(number):
        raise InvalidArgumentError(f"{name}={value!r} is out of range; {allowed}")
    return number


def check_minutes(name: str, value) -> float | None:
    """``value`` as a float when it is a positive finite number of minutes (not a bool), or ``None``
    (no limit).

    Raises:
        InvalidArgumentError: (a ``ValueError``) "``name=value`` must be a positive number of minutes, or None".
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        raise InvalidArgumentError(f"{name}={value!r} must be a positive number of minutes, or None")
    return float(value)


def user_stacklevel() -> int:
    """The ``stacklevel`` for :func:`warnings.warn` that names the first caller outside navgym
    and Gymnasium (the user's ``gym.make`` line, not Gymnasium's registry), for the function
    that calls this and then warns."""
    import sys
    from pathlib import Path

    import gymnasium

    inside = (str(Path(__file__).resolve().parents[1]), str(Path(gymnasium.__file__).resolve().parent))
    frame, level = sys._getframe(1), 1
    while frame is not None:
        if not str(Path(frame.f_code.co_filename).resolve()).startswith(inside):
            return level
        frame, level = frame.f_back, level + 1
    return 1
