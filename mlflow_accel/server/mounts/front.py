"""``FastFront``: the fast routes in front of MLflow's FastAPI app, behind a lean copy of its
middleware; every other request goes to that app untouched.

MLflow's app wraps each route in its security middleware (pure ASGI), a workspace and a gateway
timing middleware (both ``BaseHTTPMiddleware``, which alone cost several times our handler),
FastAPI's exception layers and a router of dozens of routes. ``lean_stack`` rebuilds the app's
own middleware list for the fast routes: the security middleware as is, ``WorkspaceGate`` for the
workspace middleware (same resolution, same error), the gateway timing (``/gateway/`` paths
only) left out; ``None`` when the app carries middleware it does not know (a plugin's).
"""

from __future__ import annotations

import json

from mlflow.exceptions import MlflowException
from starlette.responses import JSONResponse

from mlflow_accel import _compat


class WorkspaceGate:
    """MLflow's ``workspace_context_middleware`` as plain ASGI."""

    def __init__(self, app):
        self.app = app
        header, self.resolve, self.enter, self.leave = _compat.server_workspace_functions()
        self.header = header.lower().encode("latin-1")

    async def __call__(self, scope, receive, send):
        header = next((v for k, v in scope["headers"] if k == self.header), None)
        try:
            workspace = self.resolve(
                scope["path"], None if header is None else header.decode("latin-1")
            )
        except MlflowException as e:
            response = JSONResponse(
                status_code=e.get_http_status_code(), content=json.loads(e.serialize_as_json())
            )
            await response(scope, receive, send)
            return
        self.enter(workspace.name if workspace else None)
        try:
            await self.app(scope, receive, send)
        finally:
            self.leave()


class _Routes:
    def __init__(self, endpoints: dict):
        self.endpoints = endpoints

    async def __call__(self, scope, receive, send):
        await self.endpoints[scope["method"], scope["path"]](scope, receive, send)


class FastFront:
    """Fast routes through ``stack``; everything else to ``app``."""

    def __init__(self, app, endpoints: dict, stack):
        self.app = app
        self.endpoints = endpoints
        self.stack = stack

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] == "http"
            and not scope.get("root_path")
            and (scope["method"], scope["path"]) in self.endpoints
        ):
            await self.stack(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def __getattr__(self, name):  # the wrapped app's attributes (state, router, ...)
        return getattr(self.app, name)


def lean_stack(app, endpoints: dict):
    """The fast routes behind the app's own middleware, made lean; ``None`` if any is unknown.

    ``endpoints``: ``{(method, path): asgi_app}``.
    """
    stack = _Routes(endpoints)
    for middleware in reversed(app.user_middleware):  # the first entry is the outermost
        role = _compat.fastapi_middleware_role(middleware)
        if role is None:
            return None
        if role == "security":
            stack = middleware.cls(stack, *middleware.args, **middleware.kwargs)
        elif role == "workspace":
            stack = WorkspaceGate(stack)
    return stack
