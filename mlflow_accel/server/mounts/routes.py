"""The fast routes as ASGI endpoints, placed in MLflow's FastAPI app ahead of its Flask mount;
and ``BodyLimit``, the same body limit in front of an app whose fast routes are Flask views.

Being routes of that app, they sit behind everything it wraps its routes in: the security
middleware (allowed hosts, CORS, security headers), the workspace middleware and any middleware
an ``mlflow.app`` plugin adds. A route matches MLflow's path *and* method exactly; any other
method on the path falls through to Flask, which answers as stock.

Per request: the body is read up to the size limit (a declared ``Content-Length`` over it is
refused before anything is read), the handler runs in a worker thread (database calls block) and
the response bytes are sent with MLflow's headers.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.routing import Route

from mlflow_accel.server.http import body as request_body
from mlflow_accel.server.http import request as fast_request

_JSON_HEADERS = ((b"content-type", b"application/json"),)


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
        body = None
        if declared is None or _fits(declared, self.max_body_size):
            body = await _read_body(receive, self.max_body_size)
        if body is None:
            status, data = request_body.too_large(self.max_body_size)
        else:
            request = fast_request.FastRequest(
                scope["method"], scope["query_string"], body, content_type
            )
            status, data = await anyio.to_thread.run_sync(
                fast_request.respond, self.handler, request
            )
        await _send_json(send, status, data)


class BodyLimit:
    """ASGI wrapper: the body of a fast route's request is read here, up to the limit, before
    the app sees it; a larger one is answered 413 at once (a declared ``Content-Length`` over
    the limit before anything is read). For apps whose fast routes are Flask views: MLflow's
    WSGI bridge would otherwise read a body of any size whole before the view runs."""

    def __init__(self, app, routes: set, max_body_size: int):
        self.app = app
        self.routes = routes  # {(method, path)}
        self.max_body_size = max_body_size

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in self.routes:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        body = None
        if declared is None or _fits(declared, self.max_body_size):
            body = await _read_body(receive, self.max_body_size)
        if body is None:
            await _send_json(send, *request_body.too_large(self.max_body_size))
            return
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def replay():
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)


async def _send_json(send, status: int, data: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _fits(declared: bytes, limit: int) -> bool:
    try:
        return int(declared) <= limit
    except ValueError:
        return True  # the server's own parser rejects a malformed length; read to the limit


async def _read_body(receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it exceeds ``limit`` bytes."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def endpoint_table(endpoints, max_body_size: int) -> dict:
    """``{(method, path): FastEndpoint}`` for ``(path, handler, methods)``."""
    table = {}
    for path, handler, methods in endpoints:
        endpoint = FastEndpoint(handler, max_body_size)
        for method in methods:
            table[method, path] = endpoint
    return table


def routes(table: dict) -> list[Route]:
    """Starlette routes for an endpoint table, each matching exactly its one method."""
    built = []
    for (method, path), endpoint in table.items():
        route = Route(path, endpoint, methods=[method])
        route.methods = {method}  # no implicit HEAD: Flask answers it as stock
        built.append(route)
    return built
