"""The request body of a fast route, read with the size limit, for every mount.

``max_body_size`` is the limit (``MLFLOW_ACCEL_MAX_BODY_SIZE``). A body declared larger
(``Content-Length``) is refused before anything is read; one that grows larger while read is
refused as soon as it does. ``read_asgi`` and ``read_flask`` return the body, or ``None`` when it
is too large (the mount then answers ``response.too_large``).
"""

from __future__ import annotations

import os

import flask
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

MAX_BODY_SIZE_ENV = "MLFLOW_ACCEL_MAX_BODY_SIZE"
DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024


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


def _fits(declared, limit: int) -> bool:
    """Whether a declared ``Content-Length`` (raw header or parsed, ``None`` if absent) fits."""
    if declared is None:
        return True
    try:
        return int(declared) <= limit
    except ValueError:
        return True  # the server's own parser rejects a malformed length; read to the limit


async def read_asgi(receive, declared, limit: int) -> bytes | None:
    """The whole body from ASGI ``receive``, or ``None`` as soon as it exceeds ``limit``."""
    if not _fits(declared, limit):
        return None
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


def read_flask(request: flask.Request, limit: int) -> bytes | None:
    """The body of a Flask request (cached: Flask hooks may read it too), or ``None``."""
    if not _fits(request.content_length, limit):
        return None
    body = request.get_data(cache=True)
    return body if len(body) <= limit else None
