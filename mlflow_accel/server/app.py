"""The server app factory (``mlflow.app`` entry point ``accel``): MLflow's app with our fast path.

``mlflow-accel server`` runs MLflow's server command with this factory as the app, in every
worker. It builds the app MLflow would have served (its FastAPI or Flask app, or the
``--app-name`` plugin's, ``MLFLOW_ACCEL_INNER_APP``) and mounts the fast path on it
(``mounts``): in front of MLflow's FastAPI app under uvicorn, as routes inside it when it carries
middleware the front does not know, as Flask views when Flask hooks must run (gunicorn,
waitress, plugin hooks). No fast path with ``--artifacts-only``, outside the supported MLflow
range, or on a backend store we do not accelerate.
"""

from __future__ import annotations

import importlib
import os
import sys
import types

import flask

import mlflow_accel
from mlflow_accel import _compat
from mlflow_accel.server.handlers import HANDLERS
from mlflow_accel.server.http import body, nodelay
from mlflow_accel.server.mounts import endpoint, flask_views, front, routes

INNER_APP_ENV = "MLFLOW_ACCEL_INNER_APP"


def create_app():
    app = _inner_app()
    reason = _why_no_fast_path()
    if reason:
        _say(f"fast path off ({reason}); serving stock MLflow")
        return app
    if _server_kind() == "uvicorn":
        nodelay.install()
    endpoints = fast_endpoints()
    limit = body.max_body_size()
    flask_app = _flask_app_of(app)
    flask_views.install(flask_app, {handler.__name__ for _, handler, _ in endpoints}, limit)
    if isinstance(app, flask.Flask) or _has_plugin_hooks(flask_app):
        mode = "through Flask, behind its request hooks"
        if not isinstance(app, flask.Flask):
            fast_routes = {(method, path) for path, _, methods in endpoints for method in methods}
            app = flask_views.BodyLimit(app, fast_routes, limit)
    else:
        table = endpoint.endpoint_table(_with_our_handlers(endpoints), limit)
        stack = front.lean_stack(app, table)
        if stack is not None:
            app = front.FastFront(app, table, stack)
            mode = "in front of MLflow's app, behind a lean copy of its middleware"
        else:
            routes.mount(app, table)
            mode = "as routes inside MLflow's app, behind all of its middleware"
    store = type(_compat.server_tracking_store()).__name__
    registry = type(_compat.server_registry_store()).__name__
    _say(
        f"fast path on for {len(endpoints)} routes {mode}; core: "
        f"{'compiled' if mlflow_accel.compiled() else 'pure Python'}; "
        f"MLflow {_compat.mlflow.__version__}; store: {store}; registry: {registry}"
    )
    names = dict.fromkeys(view.__name__.lstrip("_") for _, view, _ in endpoints)
    _say(f"fast endpoints: {', '.join(names)}")
    return app


def fast_endpoints() -> list:
    """MLflow's ``(path, flask_view, methods)`` for every endpoint we serve, prefix applied."""
    return [
        (path, view, methods)
        for path, view, methods in _compat.server_endpoints()
        if view.__name__ in HANDLERS
    ]


def _with_our_handlers(endpoints) -> list:
    return [(path, HANDLERS[view.__name__], methods) for path, view, methods in endpoints]


def _inner_app():
    """The app MLflow would serve here: the plugin's, or MLflow's FastAPI or Flask app."""
    target = os.environ.get(INNER_APP_ENV)
    if not target:
        uvicorn = _server_kind() == "uvicorn"
        target = "mlflow.server.fastapi_app:app" if uvicorn else "mlflow.server:app"
    module, name = target.rsplit(":", 1)
    app = getattr(importlib.import_module(module), name)
    return app() if isinstance(app, types.FunctionType) else app


def _server_kind() -> str:
    """The server MLflow started this worker under: "uvicorn", "gunicorn" or "waitress"."""
    return os.environ.get(_compat.SERVER_KIND_ENV) or "uvicorn"


def _why_no_fast_path() -> str | None:
    if os.environ.get(_compat.ARTIFACTS_ONLY_ENV):
        return "--artifacts-only"
    problem = _compat.support_problem()
    if problem:
        return problem
    mlflow_accel.enable()
    store = _compat.server_tracking_store()
    if getattr(store, "_tx", None) is None:
        return f"the backend store ({type(store).__name__}) is not one mlflow-accel accelerates"
    return None


def _flask_app_of(app) -> flask.Flask:
    if isinstance(app, flask.Flask):
        return app
    for route in app.router.routes:
        wrapped = getattr(getattr(route, "app", None), "app", None)
        if getattr(route, "path", None) == "" and isinstance(wrapped, flask.Flask):
            return wrapped
    raise RuntimeError("mlflow-accel: no Flask app mounted at '/' in the server's FastAPI app")


def _has_plugin_hooks(flask_app: flask.Flask) -> bool:
    hooks = [
        *flask_app.before_request_funcs.get(None, ()),
        *flask_app.after_request_funcs.get(None, ()),
        *flask_app.teardown_request_funcs.get(None, ()),
        *flask_app.url_value_preprocessors.get(None, ()),
    ]
    return not all(_compat.is_stock_flask_request_hook(hook) for hook in hooks)


def _say(message: str) -> None:
    print(f"[mlflow-accel] {message}", file=sys.stderr, flush=True)
