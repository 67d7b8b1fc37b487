"""The fast routes inside MLflow's FastAPI app, ahead of its Flask mount.

Being routes of that app, they sit behind everything it wraps its routes in: the security
middleware (allowed hosts, CORS, security headers), the workspace middleware and any middleware
an ``mlflow.app`` plugin adds. A route matches MLflow's path *and* method exactly; any other
method on the path falls through to Flask, which answers as stock.
"""

from __future__ import annotations

from starlette.routing import Route


def mount(app, endpoints: dict) -> None:
    """Insert ``{(method, path): asgi_app}`` into ``app``'s routes, before its Flask mount."""
    table = app.router.routes
    flask_mount = next(i for i, route in enumerate(table) if getattr(route, "path", None) == "")
    table[flask_mount:flask_mount] = [
        _route(method, path, endpoint) for (method, path), endpoint in endpoints.items()
    ]


def _route(method: str, path: str, endpoint) -> Route:
    route = Route(path, endpoint, methods=[method])
    route.methods = {method}  # no implicit HEAD: Flask answers it as stock
    return route
