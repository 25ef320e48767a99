"""The backend's connection to an AirSim server: cosysairsim's msgpack-rpc client, with errors that
name the host, the port and the fix.

The backend calls the server through ``cosysairsim.VehicleClient.client.call`` (the client's own
transport) with plain dicts (the wire format of AirSim's ``Pose`` / ``ImageRequest``), and checks
every reply itself: cosysairsim's ``from_msgpack`` fills fields missing from a malformed reply
with defaults (a missing position reads as the origin), which would hide a broken server.
"""

from __future__ import annotations

from typing import Any

from navgym.errors import NavgymError

START_HINT = (
    "start one with `navgym airsim-server --scene prochouse:SEED --port {port}` (navgym's embedded AirSim server), "
    "or start your Unreal AirSim map with \"ApiServerPort\": {port} in settings.json; the backend's host/port come from "
    "host=/port= or NAVGYM_AIRSIM_HOST / NAVGYM_AIRSIM_PORT"
)


class AirSimConnectionError(NavgymError, ConnectionError):
    """No AirSim server answers (not running, wrong port, died, or too slow); the message names
    the host, the port and how to start one."""


class AirSimServerError(NavgymError, RuntimeError):
    """The server answered a call with an error (its message is included)."""


class AirSimProtocolError(NavgymError, RuntimeError):
    """The server's reply does not have AirSim's shape (names the call and what was wrong)."""


class Connection:
    """A cosysairsim client to ``host:port`` that turns transport failures into
    :class:`AirSimConnectionError` and reconnects on the next call after one.

    Args:
        host, port: The server.
        timeout: Seconds a call may take before it fails (cosysairsim's default is an hour).
    """

    def __init__(self, host: str, port: int, timeout: float = 60.0):
        self.host = host
        self.port = int(port)
        self.timeout = float(timeout)
        self._client = None
        #: How many clients this connection has made: it grows at each (re)connect, so a user of
        #: the connection can tell that the server it talks to may be another one (a restart).
        self.generation = 0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _new_client(self):
        import socket

        import cosysairsim

        # rpc-msgpack resolves the host inside its I/O loop and drops the error there, so a
        # misspelt host would only show as a timeout after `timeout` seconds: resolve it first.
        try:
            socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise AirSimConnectionError(
                f"cannot resolve the AirSim server's host={self.host!r} ({exc}); check host= (or NAVGYM_AIRSIM_HOST), "
                f"e.g. '127.0.0.1' for a server on this machine; {START_HINT.format(port=self.port)}"
            ) from None

        # cosysairsim counts its timeout in whole seconds (a periodic check each second).
        return cosysairsim.VehicleClient(ip=self.host, port=self.port, timeout_value=max(1, int(round(self.timeout))))

    @property
    def client(self):
        """The cosysairsim ``VehicleClient`` (created on first use)."""
        if self._client is None:
            self._client = self._new_client()
            self.generation += 1
        return self._client

    def drop_if_closed(self) -> bool:
        """Close the client when the server closed its socket (it stopped, or restarted on the
        same port), so the next call reconnects at once; True when it did.

        rpc-msgpack notices a closed socket only while a call waits, and then drops the request
        already written to it: without this check, the first call after a server restart waits
        the whole ``timeout``. The check is one non-blocking ``recv(MSG_PEEK)`` on the client's
        socket. A peer that vanished without closing (a half-open socket: its machine lost power
        or its network) is not seen here; a call to it fails after ``timeout`` seconds."""
        import socket

        if self._client is None:
            return False
        try:
            transport = self._client.client._transport
            streams = [s._stream for s in getattr(transport, "_sockets", [])] if transport is not None else []
        except AttributeError:  # another rpc-msgpack layout: nothing to check
            return False
        for stream in streams:
            sock = getattr(stream, "socket", None)
            dead = stream.closed() or sock is None
            if not dead:
                try:
                    dead = sock.recv(1, socket.MSG_PEEK | getattr(socket, "MSG_DONTWAIT", 0)) == b""
                except (BlockingIOError, InterruptedError):
                    dead = False  # open, nothing to read: the usual case
                except OSError:
                    dead = True  # reset by the peer
            if dead:
                self.close()
                return True
        return False

    def call(self, method: str, *args: Any) -> Any:
        """``method(*args)`` on the server; raises :class:`AirSimConnectionError` or
        :class:`AirSimServerError`."""
        from msgpackrpc.error import RPCError, TimeoutError, TransportError

        client = self.client  # AirSimConnectionError (an OSError) for a host that does not resolve
        try:
            return client.client.call(method, *args)
        except TimeoutError as exc:
            self.close()
            raise AirSimConnectionError(
                f"the AirSim server at {self.address} did not answer {method} within {self.timeout:g} s ({exc}); it may have "
                f"died or hung, or the connection is half-open (the server's machine vanished without closing it). Restart it, or raise timeout= if it is only slow; {START_HINT.format(port=self.port)}"
            ) from None
        except TransportError as exc:
            self.close()
            raise AirSimConnectionError(
                f"no AirSim server answers at {self.address} ({method}: {exc}): it is not running, it stopped, or it listens "
                f"on another port; {START_HINT.format(port=self.port)}"
            ) from None
        except OSError as exc:  # name resolution of a bad host
            self.close()
            raise AirSimConnectionError(f"cannot reach the AirSim server at {self.address} ({method}: {exc}); check host=") from None
        except RPCError as exc:
            message = exc.args[0] if exc.args else str(exc)
            raise AirSimServerError(f"the AirSim server at {self.address} answered {method} with an error: {message}") from None

    def has_method(self, method: str, *args: Any) -> tuple[bool, Any]:
        """(True, reply) when the server implements ``method``; (False, None) when it answers
        that it has no such function (rpclib's 'could not find function')."""
        try:
            return True, self.call(method, *args)
        except AirSimServerError as exc:
            if "could not find function" in str(exc):
                return False, None
            raise

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.client.close()
            except Exception:  # closing a half-dead client is best effort
                pass
        self._client = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_client"] = None
        return state
