"""TCP_NODELAY on every connection uvicorn accepts in this worker.

uvicorn sends a response's headers and body in separate writes. With more than one worker it
accepts on a socket asyncio does not recognise as TCP, so asyncio leaves Nagle's algorithm on
(uvicorn issue #3149): the body then waits for the client's delayed ACK of the headers, about
40 ms for every keep-alive request after the first. Stock ``mlflow server`` (4 workers by
default) pays that on every client call; we set ``TCP_NODELAY`` as each connection is made.
"""

from __future__ import annotations

import importlib
import socket

_PROTOCOLS = (
    ("uvicorn.protocols.http.h11_impl", "H11Protocol"),
    ("uvicorn.protocols.http.httptools_impl", "HttpToolsProtocol"),
)


def _set_nodelay(transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _with_nodelay(connection_made):
    def connection_made_with_nodelay(self, transport):
        _set_nodelay(transport)
        connection_made(self, transport)

    connection_made_with_nodelay.mlflow_accel_nodelay = True
    return connection_made_with_nodelay


def install() -> None:
    """Wrap the ``connection_made`` of uvicorn's HTTP protocols (those importable here)."""
    for module_name, class_name in _PROTOCOLS:
        try:
            protocol = getattr(importlib.import_module(module_name), class_name)
        except ImportError:  # httptools is optional
            continue
        if not getattr(protocol.connection_made, "mlflow_accel_nodelay", False):
            protocol.connection_made = _with_nodelay(protocol.connection_made)
