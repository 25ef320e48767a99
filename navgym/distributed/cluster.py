"""Ray, imported on use: :func:`require_ray` (a clear error without the extra) and :func:`connect`."""

from __future__ import annotations

import logging
from typing import Any

from navgym.core.checks import check_int


def require_ray() -> Any:
    """The ``ray`` module, or ``DependencyNotInstalled`` naming the extra."""
    try:
        import ray
    except ImportError as exc:
        from gymnasium.error import DependencyNotInstalled

        raise DependencyNotInstalled('Ray is not installed: pip install "navgym[ray]" (or pass no --ray / ray=False to run in this process)') from exc
    return ray


def connect(address: str | None = None, num_cpus: int = 2) -> bool:
    """Make sure this process is connected to Ray; returns True when it started Ray itself (then
    the caller shuts it down when done).

    A process already connected to Ray (``ray.init`` called by the user) keeps that connection.
    Otherwise ``address=None`` starts a local Ray with ``num_cpus`` logical CPUs (no dashboard),
    and ``"auto"`` or ``"host:port"`` joins that cluster (started with ``ray start --head``).
    """
    ray = require_ray()
    if ray.is_initialized():
        return False
    if address is None:
        ray.init(num_cpus=check_int("num_cpus", num_cpus, 1), include_dashboard=False, logging_level=logging.WARNING)
    else:
        if not isinstance(address, str) or not address.strip():
            from navgym.errors import InvalidArgumentError

            raise InvalidArgumentError(f"address={address!r} is not a Ray address; give 'auto', 'host:6379' or None for a local Ray")
        ray.init(address=address, logging_level=logging.WARNING)
    return True
