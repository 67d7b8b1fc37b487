"""The lean middleware stack in front of MLflow's app, and when it must refuse.

The fast routes may skip MLflow's FastAPI app only behind a copy of every middleware that app
carries. These tests check that MLflow's own middleware list is fully understood, and that any
middleware we do not know (a plugin's gate) makes ``lean_stack`` refuse, so the fast routes are
mounted inside the app, behind all of it.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware

from mlflow_accel.server.mounts import front


async def _plugin_gate(request, call_next):
    return await call_next(request)


def test_mlflow_app_middleware_is_all_known():
    from mlflow.server.fastapi_app import create_fastapi_app

    app = create_fastapi_app()
    roles = [front._compat.fastapi_middleware_role(m) for m in app.user_middleware]
    assert None not in roles
    assert "workspace" in roles
    assert front.lean_stack(app, {}) is not None


def test_unknown_middleware_refuses_the_lean_stack():
    from mlflow.server.fastapi_app import create_fastapi_app

    app = create_fastapi_app()
    app.add_middleware(BaseHTTPMiddleware, dispatch=_plugin_gate)
    assert front.lean_stack(app, {}) is None


def test_unknown_middleware_class_refuses_the_lean_stack():
    class PluginGate:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            await self.app(scope, receive, send)

    assert front.lean_stack(Starlette(middleware=[Middleware(PluginGate)]), {}) is None
