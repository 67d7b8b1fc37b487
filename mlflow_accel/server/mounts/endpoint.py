"""``FastEndpoint``: the raw ASGI app serving one fast handler, wherever it is mounted.

Per request: the body is read up to the size limit (a declared ``Content-Length`` over it is
refused before anything is read), the handler runs in a worker thread (database calls block) and
the response bytes are sent with MLflow's headers.
"""

from __future__ import annotations

import anyio.to_thread

from mlflow_accel.server.http import body, response
from mlflow_accel.server.http.request import FastRequest


class FastEndpoint:
    """A raw ASGI app serving one handler."""

    def __init__(self, handler, max_body_size: int):
        self.handler = handler
        self.max_body_size = max_body_size
        self.__name__ = handler.__name__

    async def __call__(self, scope, receive, send):
        content_type = None
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
        data = await body.read_asgi(receive, declared, self.max_body_size)
        if data is None:
            status, data = response.too_large(self.max_body_size)
        else:
            request = FastRequest(scope["method"], scope["query_string"], data, content_type)
            status, data = await anyio.to_thread.run_sync(response.respond, self.handler, request)
        await response.send_json(send, status, data)


def endpoint_table(endpoints, max_body_size: int) -> dict:
    """``{(method, path): FastEndpoint}`` for ``(path, handler, methods)``."""
    table = {}
    for path, handler, methods in endpoints:
        endpoint = FastEndpoint(handler, max_body_size)
        for method in methods:
            table[method, path] = endpoint
    return table
