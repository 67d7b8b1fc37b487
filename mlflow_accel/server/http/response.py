"""A fast handler's answer as HTTP, for every mount.

``respond`` runs a handler: ``(status, body)`` with its response message as MLflow's JSON, or
the error MLflow's server would send (same status, error code and message). ``error`` renders an
``MlflowException``, ``too_large`` the 413 for a body over the limit; ``send_json`` sends
``(status, body)`` on an ASGI connection.
"""

from __future__ import annotations

import logging

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE

from mlflow_accel._core import json_writer
from mlflow_accel.server.http.body import MAX_BODY_SIZE_ENV

_logger = logging.getLogger("mlflow_accel.server")
_JSON_HEADERS = ((b"content-type", b"application/json"),)


def respond(handler, request) -> tuple[int, bytes]:
    """``(status, body)``: the handler's response, or the error MLflow's server would send."""
    try:
        return 200, json_writer.dumps(handler(request))
    except MlflowException as e:
        if e.get_http_status_code() >= 500:
            _logger.error("Error in %s: %s", handler.__name__, e)
        return error(e)
    except Exception:
        _logger.exception("Unexpected error in %s", handler.__name__)
        return error(MlflowException("Internal error on the server.", error_code=INTERNAL_ERROR))


def error(exception: MlflowException, status: int | None = None) -> tuple[int, bytes]:
    """``(status, body)`` of MLflow's JSON error; ``status`` defaults to the error code's."""
    return status or exception.get_http_status_code(), exception.serialize_as_json().encode()


def too_large(limit: int) -> tuple[int, bytes]:
    """The 413 response for a body over ``limit`` bytes."""
    error_413 = MlflowException(
        f"Request body is larger than the server's limit of {limit} bytes "
        f"(mlflow-accel server --max-body-size, {MAX_BODY_SIZE_ENV}).",
        INVALID_PARAMETER_VALUE,
    )
    return error(error_413, 413)


async def send_json(send, status: int, data: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
