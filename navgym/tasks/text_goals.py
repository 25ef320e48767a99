"""Goal texts as the tasks' ``Text`` observation spaces can hold them (TextNav's ``textgoal``,
SemanticNav's ``prompt_text``, MultiGoalVLN's ``instruction``).

Those spaces have an ASCII charset and a maximum length. :func:`goal_text` folds what it can
(Unicode compatibility forms, accents: "café" -> "cafe"; dashes, curly quotes, other spaces
-> their ASCII forms), warns once per episode and text when characters still had to be dropped
or the text was cut to the space's length, and raises :class:`~navgym.errors.DatasetFormatError`
when nothing of the text is left. A text already in the charset and within the length is
observed unchanged.
"""

from __future__ import annotations

import functools
import string
import threading
import unicodedata
import warnings

from cachetools import LRUCache

from navgym.datasets.episodes import Episode
from navgym.errors import DatasetFormatError

#: Characters without an ASCII compatibility form that have an obvious ASCII spelling.
ASCII_FOLDS = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),  # hyphens, en/em dashes, minus
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a", "'"),  # curly single quotes, prime, single guillemets
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),  # curly double quotes, double prime, guillemets
    "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u0152": "OE", "\u00f8": "o", "\u00d8": "O",
    "\u0142": "l", "\u0141": "L", "\u0111": "d", "\u0110": "D", "\u00f0": "d", "\u00d0": "D", "\u00fe": "th", "\u00de": "Th",
}  # fmt: skip


class GoalTextWarning(UserWarning):
    """A goal text lost characters the observation space cannot hold, or was cut to its length."""


_warned: LRUCache = LRUCache(maxsize=4096)
_warned_lock = threading.Lock()


@functools.lru_cache(maxsize=4096)
def fold_to_charset(text: str, charset: str) -> tuple[str, str]:
    """``text`` folded into ``charset``, and the characters that had to be dropped (in order).

    Whitespace becomes a space; characters of :data:`ASCII_FOLDS` their ASCII spelling; others
    their Unicode compatibility decomposition (NFKD) without combining marks ("é" -> "e",
    "ﬁ" -> "fi", full-width letters -> ASCII). What is still outside ``charset`` is dropped.
    """
    kept, dropped = [], []
    for char in text:
        if char in charset:
            kept.append(char)
            continue
        if char.isspace():
            folded = " "
        elif char in ASCII_FOLDS:
            folded = ASCII_FOLDS[char]
        else:
            folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if folded and all(c in charset for c in folded):
            kept.append(folded)
        else:
            dropped.append(char)
    return "".join(kept), "".join(dropped)


def goal_text(text: str, episode: Episode, field: str, sensor: str, charset: str, max_length: int) -> str:
    """``text`` (the episode's ``field``) as the ``sensor`` observation (a ``Text`` space of
    ``charset`` and ``max_length``): folded by :func:`fold_to_charset`, then cut to ``max_length``.

    Warns (:class:`GoalTextWarning`, once per episode and text) naming the episode and what was
    dropped or cut.

    Raises:
        DatasetFormatError: nothing of the text is left, naming the episode, the field and the fix.
    """
    folded, dropped = fold_to_charset(text, charset)
    where = f"Episode {episode.episode_id} (scene {episode.scene_id})"
    dropped = "".join(dict.fromkeys(dropped))  # each once, in order
    punctuation = charset.translate(str.maketrans("", "", string.ascii_letters + string.digits))
    if not folded.strip():
        reason = f"its characters {dropped!r} are outside the space's charset" if dropped else "it has nothing but whitespace"
        raise DatasetFormatError(
            f"{where}: {field}={_clip(text)} leaves the {sensor!r} observation empty: {reason}. Write the episode's "
            f"{field} with ASCII letters, digits and {punctuation!r} (e.g. in English)"
        )
    observed = folded[:max_length]
    if dropped or len(folded) > max_length:
        key = (str(episode.episode_id), str(episode.scene_id), field, text, charset, max_length)
        with _warned_lock:
            first = key not in _warned
            _warned[key] = True
        if first:
            lost = []
            if dropped:
                lost.append(f"dropped the characters {dropped!r} (outside the space's charset)")
            if len(folded) > max_length:
                lost.append(f"cut it from {len(folded)} characters to the space's {max_length}, losing {_clip(folded[max_length:])}")
            warnings.warn(
                f"{where}: {field}={_clip(text)} observed as {sensor!r} {_clip(observed)}: {' and '.join(lost)}. "
                f"To keep all of it, write it with ASCII letters, digits and {punctuation!r}, within {max_length} characters",
                GoalTextWarning,
                stacklevel=3,
            )
    return observed


def _clip(text: str, length: int = 60) -> str:
    """``repr(text)``, its middle left out when it is longer than ``length``."""
    if len(text) <= length:
        return repr(text)
    return f"{text[: length // 2]!r} ... {text[-length // 2 :]!r} ({len(text)} characters)"
