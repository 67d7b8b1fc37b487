"""What a fast handler reads of an HTTP request, as MLflow's Flask layer reads it.

``FastRequest`` (method, raw query, body, Content-Type); ``values``/``values_and_presence``: the
request message's fields, parsed and checked by the core as ``_get_request_message`` would;
``page_token``; ``check_content_type`` (MLflow's ``_validate_content_type``, same messages);
``decode_json`` (Flask's ``get_json(force=True, silent=True)``: orjson, then ``json`` for what
only it accepts); ``query_pairs`` (werkzeug's ``request.args``). What MLflow answers with an
HTML 500 (JSON nested too deeply, a raw query string that is not UTF-8) is a JSON 400 here.
"""

from __future__ import annotations

import json
from typing import NamedTuple
from urllib.parse import parse_qsl

import orjson
import werkzeug.urls  # noqa: F401  registers the "werkzeug.url_quote" codec error handler
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.utils.search_utils import SearchUtils

from mlflow_accel._core import parse

_JSON_TYPES = ("application/json",)


class FastRequest(NamedTuple):
    """What a handler reads of an HTTP request."""

    method: str
    #: The raw query string.
    query: bytes
    body: bytes
    content_type: str | None


def values(message: str, request: FastRequest) -> dict:
    return values_and_presence(message, request)[0]


def values_and_presence(message: str, request: FastRequest) -> tuple:
    """The request message's fields as MLflow's ``_get_request_message`` reads them."""
    if request.method == "GET":
        query = query_pairs(request.query)
        if query:
            return parse.parse_request_with_presence(message, parse.query_to_json(message, query))
    check_content_type(request.method, request.content_type)
    return parse.parse_request_with_presence(message, decode_json(request.body))


def page_token(values: dict):
    """The request's page token, or ``None``; one MLflow's token parser cannot read is refused.

    MLflow's parser lets a ``ValueError`` (a non-ASCII token) or an ``AttributeError`` (a token
    that decodes to JSON other than an object) escape: an HTML 500 from stock's handlers.
    """
    token = values["page_token"] or None
    if token is not None:
        try:
            SearchUtils.parse_start_offset_from_page_token(token)
        except MlflowException:
            raise
        except Exception:
            raise MlflowException(
                f"Invalid page token: {token!r} is not one a search returned.",
                INVALID_PARAMETER_VALUE,
            ) from None
    return token


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
    """The decoded body, or ``None`` where it is empty or not JSON (MLflow reads ``{}``)."""
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
    """The ``(name, value)`` pairs of a raw query string, in order: UTF-8, percent escapes
    decoded, bytes that are not UTF-8 left percent-encoded."""
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
