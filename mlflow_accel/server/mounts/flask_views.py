"""The fast handlers as Flask views, in place of MLflow's views for the same endpoints.

Used where requests must go through Flask: under gunicorn or waitress (which serve MLflow's Flask
app directly), and under uvicorn when the Flask app carries request hooks beyond MLflow's own
(``--app-name basic-auth``'s permission checks, ``--expose-prometheus``'s counters, any other
``mlflow.app`` plugin). Flask then routes, runs every ``before_request``/``after_request`` hook
and handles errors exactly as for MLflow's own views; only the view body is ours.
"""

from __future__ import annotations

import flask

from mlflow_accel.server.handlers import HANDLERS
from mlflow_accel.server.http import body as request_body
from mlflow_accel.server.http import request as fast_request


def _view(flask_app: flask.Flask, handler, max_body_size: int):
    def view():
        request = flask.request
        declared = request.content_length
        body = None
        if declared is None or declared <= max_body_size:
            body = request.get_data(cache=True)
        if body is None or len(body) > max_body_size:
            status, data = request_body.too_large(max_body_size)
        else:
            status, data = fast_request.respond(
                handler,
                fast_request.FastRequest(
                    request.method,
                    request.query_string,
                    body,
                    request.content_type,
                ),
            )
        return flask_app.response_class(data, status=status, mimetype="application/json")

    view.__name__ = handler.__name__
    return view


def install(flask_app: flask.Flask, endpoint_names, max_body_size: int) -> None:
    """Serve ``endpoint_names`` (MLflow's Flask endpoint names) with our handlers."""
    for name in endpoint_names:
        flask_app.view_functions[name] = _view(flask_app, HANDLERS[name], max_body_size)
