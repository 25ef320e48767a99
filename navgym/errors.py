"""navgym's errors: a small hierarchy under :class:`NavgymError` that also subclasses the
built-ins, so ``except ValueError`` / ``except KeyError`` / ``except FileNotFoundError`` written
against earlier versions keep working.

This module imports nothing from navgym: every layer may raise these.
"""

from __future__ import annotations

from gymnasium.error import ResetNeeded


class NavgymError(Exception):
    """Base class of every error navgym raises on purpose."""


class InvalidArgumentError(NavgymError, ValueError):
    """An argument has a bad value; the message names the parameter, the value and the fix."""


class UnknownNameError(NavgymError, ValueError, KeyError):
    """A name (env id, task, simulator, embodiment, agent) is not registered; the message lists
    the closest registered names. A ``ValueError`` and a ``KeyError``."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataNotFoundError(NavgymError, FileNotFoundError):
    """A scene, episode file or checkpoint is missing; the message says where navgym looked."""


class DatasetFormatError(NavgymError, ValueError):
    """An episode or scene file does not follow its documented format."""


class ResetNeededError(NavgymError, ResetNeeded, RuntimeError):
    """``step()`` before ``reset()``, or after the episode ended (the agent called ``stop``).
    Gymnasium's ``ResetNeeded`` and a ``RuntimeError``."""


class EpisodeGenerationError(NavgymError, RuntimeError):
    """Episode generation cannot make what was asked within its bounded number of tries (e.g.
    no start pose shows the target to the body's camera); the message says what was tried and
    which setting to relax."""


class UnusableEpisodeError(NavgymError, ValueError):
    """An episode asked for by ``reset(options={"episode_index": i})`` or ``{"episode_id": ...}``
    starts off the navigable area (farther than the env snaps starts), so it cannot be run as
    written. Random draws skip such episodes with a warning instead; :func:`navgym.evaluation.evaluate`
    records them as skipped. ``episode_id``, ``scene_id`` and ``distance`` (metres from the
    nearest navigable point) say which and how far."""

    def __init__(self, message: str, episode_id: str = "", scene_id: str = "", distance: float = float("nan")):
        super().__init__(message)
        self.episode_id, self.scene_id, self.distance = episode_id, scene_id, distance

    def __reduce__(self):  # picklable with its fields (Ray workers send it back)
        return (type(self), (str(self), self.episode_id, self.scene_id, self.distance))
