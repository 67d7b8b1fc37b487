"""What a fast handler reads of an HTTP request, and how its answer becomes the HTTP response.

A handler takes a :class:`FastRequest` and returns the response message as a dict; ``respond``
turns that into ``(status, body)``: MLflow's pretty JSON, or the error MLflow's server would
send (same status, error code and message). ``page_token`` checks a search's page token.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE
from mlflow.utils.search_utils import SearchUtils

from mlflow_accel._core import json_writer, parse
from mlflow_accel.server import request_body

_logger = logging.getLogger("mlflow_accel.server")


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
        query = request_body.query_pairs(request.query)
        if query:
            return parse.parse_request_with_presence(message, parse.query_to_json(message, query))
    request_body.check_content_type(request.method, request.content_type)
    return parse.parse_request_with_presence(message, request_body.decode_json(request.body))


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


def respond(handler, request: FastRequest) -> tuple[int, bytes]:
    """``(status, body)``: the handler's response, or the error MLflow's server would send."""
    try:
        return 200, json_writer.dumps(handler(request))
    except MlflowException as e:
        status = e.get_http_status_code()
        if status >= 500:
            _logger.error("Error in %s: %s", handler.__name__, e)
        return status, e.serialize_as_json().encode()
    except Exception:
        _logger.exception("Unexpected error in %s", handler.__name__)
        error = MlflowException("Internal error on the server.", error_code=INTERNAL_ERROR)
        return 500, error.serialize_as_json().encode()
