"""The fast handlers as Flask views, in place of MLflow's views for the same endpoints.

Used where requests must go through Flask: under gunicorn or waitress (which serve MLflow's Flask
app directly), and under uvicorn when the Flask app carries request hooks beyond MLflow's own
(``--app-name basic-auth``'s permission checks, ``--expose-prometheus``'s counters, any other
``mlflow.app`` plugin). Flask then routes, runs every ``before_request``/``after_request`` hook
and handles errors exactly as for MLflow's own views; only the view body is ours. Under uvicorn,
``BodyLimit`` in front of the app keeps the body limit.
"""

from __future__ import annotations

import flask

from mlflow_accel.server.handlers import HANDLERS
from mlflow_accel.server.http import body, response
from mlflow_accel.server.http.request import FastRequest


def install(flask_app: flask.Flask, endpoint_names, max_body_size: int) -> None:
    """Serve ``endpoint_names`` (MLflow's Flask endpoint names) with our handlers."""
    for name in endpoint_names:
        flask_app.view_functions[name] = _view(flask_app, HANDLERS[name], max_body_size)


def _view(flask_app: flask.Flask, handler, max_body_size: int):
    def view():
        request = flask.request
        data = body.read_flask(request, max_body_size)
        if data is None:
            status, data = response.too_large(max_body_size)
        else:
            status, data = response.respond(
                handler,
                FastRequest(request.method, request.query_string, data, request.content_type),
            )
        return flask_app.response_class(data, status=status, mimetype="application/json")

    view.__name__ = handler.__name__
    return view


class BodyLimit:
    """ASGI wrapper: the body of a fast route's request is read here, up to the limit, before
    the app sees it; a larger one is answered 413 at once. MLflow's WSGI bridge would otherwise
    read a body of any size whole before a Flask view runs."""

    def __init__(self, app, routes: set, max_body_size: int):
        self.app = app
        self.routes = routes  # {(method, path)}
        self.max_body_size = max_body_size

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in self.routes:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        data = await body.read_asgi(receive, declared, self.max_body_size)
        if data is None:
            await response.send_json(send, *response.too_large(self.max_body_size))
            return
        pending = [{"type": "http.request", "body": data, "more_body": False}]

        async def replay():
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)
