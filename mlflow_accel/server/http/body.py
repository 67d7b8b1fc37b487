"""Request bodies as MLflow's Flask layer sees them: Content-Type, JSON decoding, size limit.

* ``check_content_type``: ``mlflow.server.validation._validate_content_type`` for JSON
  endpoints, same messages.
* ``decode_json``: Flask's ``request.get_json(force=True, silent=True)``: the decoded value, or
  ``None`` where the body is empty or not JSON (MLflow then reads it as ``{}``). orjson first;
  what orjson refuses but Python's ``json`` accepts (``NaN``/``Infinity`` literals, integers
  beyond 64 bits, a BOM, UTF-16/32) is decoded by ``json`` as Flask would. A body nested so
  deeply that ``json`` overflows the stack (an HTML 500 from MLflow) is a JSON 400 here.
* ``query_pairs``: werkzeug's ``request.args``: the query string as UTF-8, percent escapes
  decoded, bytes that are not UTF-8 left percent-encoded. A raw (unescaped) query string that
  is not UTF-8 (an HTML 500 from MLflow) is a JSON 400 here.
* ``max_body_size``: the largest body a fast route reads (``MLFLOW_ACCEL_MAX_BODY_SIZE``), and
  the 413 error for bodies over it.
"""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qsl

import orjson
import werkzeug.urls  # noqa: F401  registers the "werkzeug.url_quote" codec error handler
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

MAX_BODY_SIZE_ENV = "MLFLOW_ACCEL_MAX_BODY_SIZE"
DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
_JSON_TYPES = ("application/json",)


def check_content_type(method: str, content_type: str | None) -> None:
    if method not in ("POST", "PUT"):
        return
    if content_type is None:
        raise MlflowException(
            message="Bad Request. Content-Type header is missing.",
            error_code=INVALID_PARAMETER_VALUE,
        )
    if content_type.split(";")[0] not in _JSON_TYPES:
        raise MlflowException(
            message=f"Bad Request. Content-Type must be one of {list(_JSON_TYPES)}.",
            error_code=INVALID_PARAMETER_VALUE,
        )


def decode_json(body: bytes):
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except ValueError:
        return None
    except RecursionError:
        raise MlflowException(
            "Invalid request body: JSON nested too deeply.", INVALID_PARAMETER_VALUE
        ) from None


def query_pairs(query: bytes) -> list:
    """The ``(name, value)`` pairs of a raw query string, in order."""
    if not query:
        return []
    try:
        text = query.decode()
    except UnicodeDecodeError:
        raise MlflowException(
            "Invalid query string: not UTF-8 (percent-encode non-ASCII characters).",
            INVALID_PARAMETER_VALUE,
        ) from None
    return parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")


def max_body_size() -> int:
    """The configured limit in bytes (``MLFLOW_ACCEL_MAX_BODY_SIZE``, default 16 MiB)."""
    configured = os.environ.get(MAX_BODY_SIZE_ENV, "").strip()
    if not configured:
        return DEFAULT_MAX_BODY_SIZE
    try:
        limit = int(configured)
    except ValueError:
        limit = 0
    if limit <= 0:
        raise MlflowException(
            f"{MAX_BODY_SIZE_ENV} must be a positive number of bytes, got {configured!r}.",
            INVALID_PARAMETER_VALUE,
        )
    return limit


def too_large(limit: int) -> tuple[int, bytes]:
    """The 413 response for a body over ``limit`` bytes."""
    error = MlflowException(
        f"Request body is larger than the server's limit of {limit} bytes "
        f"(mlflow-accel server --max-body-size, {MAX_BODY_SIZE_ENV}).",
        INVALID_PARAMETER_VALUE,
    )
    return 413, error.serialize_as_json().encode()
