"""habitat-sim backend: not implemented yet (docs/architecture.md says what it will wrap).

habitat-sim has no pip wheel for Linux and needs a GPU to render, so it never ran on navgym's
machines. ``sim="habitat"`` raises ``DependencyNotInstalled`` without habitat-sim and
``NotImplementedError`` with it.
"""

from __future__ import annotations

from typing import Any


class HabitatSimulator:
    """Placeholder of the habitat-sim backend: building one says what is missing."""

    @classmethod
    def require(cls) -> None:
        """Raise the reason this backend cannot run here."""
        from gymnasium.error import DependencyNotInstalled

        try:
            import habitat_sim  # noqa: F401
        except ImportError as exc:
            raise DependencyNotInstalled(
                "sim='habitat' needs habitat-sim, which has no pip wheel: `conda install habitat-sim -c conda-forge -c aihabitat`. "
                "Use sim='embedded' (the default) to run on the CPU without it."
            ) from exc
        raise NotImplementedError("The habitat-sim backend is not implemented yet (see docs/architecture.md); use sim='embedded'.")

    def __init__(self, scene_id: str, **kwargs: Any):
        self.require()
