"""Ray, imported on use: :func:`require_ray` (a clear error without the extra), :func:`check_address`
and :func:`connect`."""

from __future__ import annotations

import logging
import socket
from typing import Any

from navgym.core.checks import check_int
from navgym.errors import InvalidArgumentError, NavgymError

#: Seconds :func:`connect` waits for a TCP connection to a ``host:port`` Ray head before giving up
#: (``ray.init`` itself retries an unreachable address for minutes).
PROBE_TIMEOUT_S = 5.0

_ADDRESS_HELP = "give 'auto' (the cluster `ray start --head` started on this machine), 'HOST:6379', 'ray://HOST:10001', or no address (--ray alone, address=None) for a local Ray"


class RayConnectionError(NavgymError, ConnectionError):
    """The Ray cluster at the given address cannot be reached; the message names the address and
    what to check."""


def require_ray() -> Any:
    """The ``ray`` module, or ``DependencyNotInstalled`` naming the extra."""
    try:
        import ray
    except ImportError as exc:
        from gymnasium.error import DependencyNotInstalled

        raise DependencyNotInstalled('Ray is not installed: pip install "navgym[ray]" (or pass no --ray / ray=False to run in this process)') from exc
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of ``"HOST:PORT"`` / ``"ray://HOST:PORT"``; ``None`` for ``"auto"``."""
    text = address.strip()
    if text == "auto":
        return None
    if text.startswith("ray://"):
        text = text[len("ray://"):]
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")  # [IPv6]:port
    # no other scheme (http://HOST:8265 is the dashboard's job address, not the cluster's) and no
    # path or spaces in the host
    if not sep or not host or "/" in host or any(c.isspace() for c in host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(address)
    return host, int(port)


def check_address(address: Any, name: str = "address") -> str | None:
    """``address`` when it is ``None``, ``"auto"``, ``"HOST:PORT"`` or ``"ray://HOST:PORT"``;
    ``None`` for ``"local"`` (Ray's word for a new local Ray, which no address also means).

    Raises:
        InvalidArgumentError: naming ``name``, the value and the forms that work.
    """
    if address is None or isinstance(address, str) and address.strip() == "local":
        return None  # Ray's own word for a new local Ray, as no address
    if not isinstance(address, str) or not address.strip():
        raise InvalidArgumentError(f"{name}={address!r} is not a Ray address; {_ADDRESS_HELP}")
    try:
        _host_port(address)
    except ValueError:
        dashboard = " (http://HOST:8265 is the dashboard's address, for `ray job submit`)" if "://" in address and not address.strip().startswith("ray://") else ""
        raise InvalidArgumentError(
            f"{name}={address!r} is not a Ray address (HOST:PORT with a port in 1..65535){dashboard}; {_ADDRESS_HELP}"
        ) from None
    return address.strip()


def probe_address(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Raise :class:`RayConnectionError` when nothing accepts a TCP connection at ``address``."""
    target = _host_port(address)
    if target is None:
        return
    try:
        socket.create_connection(target, timeout=timeout).close()
    except OSError as exc:
        raise RayConnectionError(
            f"address={address!r}: nothing answers at {target[0]}:{target[1]} ({type(exc).__name__}: {exc}); start the head there "
            f"(`ray start --head --port={target[1]}`), check the host, port and firewall, or leave the address out for a local Ray"
        ) from exc


def connect(address: str | None = None, num_cpus: int = 2) -> bool:
    """Make sure this process is connected to Ray; returns True when it started Ray itself (then
    the caller shuts it down when done).

    A process already connected to Ray (``ray.init`` called by the user) keeps that connection.
    Otherwise ``address=None`` starts a new local Ray with ``num_cpus`` logical CPUs (no
    dashboard), also where ``RAY_ADDRESS`` is set or ``ray start`` runs on this machine, and
    ``"auto"`` or ``"host:port"`` joins that cluster (started with ``ray start --head``).

    Raises:
        InvalidArgumentError: ``address`` is not a Ray address.
        RayConnectionError: no Ray cluster answers at ``address`` (a ``host:port`` is tried for
            :data:`PROBE_TIMEOUT_S` seconds, not the minutes ``ray.init`` would retry).
    """
    ray = require_ray()
    if ray.is_initialized():
        if address is not None:
            import warnings

            warnings.warn(f"Ray is already initialised in this process; using that cluster, not address={address!r}", stacklevel=2)
        return False
    if address is None:
        # "local": a new Ray on this machine even when RAY_ADDRESS is set (as in a `ray job submit`
        # driver) or `ray start` runs here; ray.init() would join that one and refuse num_cpus
        ray.init(address="local", num_cpus=check_int("num_cpus", num_cpus, 1), include_dashboard=False, logging_level=logging.WARNING)
    else:
        address = check_address(address)
        probe_address(address)
        try:
            ray.init(address=address, logging_level=logging.WARNING)
        except ConnectionError as exc:
            # Ray's text names its own `--address` flag; here the address is navgym's --ray value
            reason = str(exc).replace("by setting `--address` flag or `RAY_ADDRESS` environment variable", "as --ray ADDRESS")
            raise RayConnectionError(f"address={address!r}: {reason} Start one with `ray start --head`, or leave the address out for a local Ray") from exc
    return True
