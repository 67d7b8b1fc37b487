"""MLflow's request rules for logging, with MLflow's error codes and messages, word for word.

The rules of ``mlflow.utils.validation`` for run ids, metric/param/tag keys and values and
log-batch limits, over plain tuples instead of entity objects: a metric is
``(key, value, timestamp, step)``, a param or tag ``(key, value)``. Every check raises the same
``MlflowException`` (``INVALID_PARAMETER_VALUE``) with the same message as MLflow, in the same
order, so the first error a request meets is the one MLflow would report.

Cython pure-Python mode: compiled when built, imported as plain Python otherwise.
"""

import os
import posixpath
import re

from mlflow.environment_variables import MLFLOW_TRUNCATE_LONG_VALUES
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.utils.validation import invalid_value

try:
    import cython
except ImportError:
    from mlflow_accel._core import _cython_shim as cython

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000

_RUN_ID_REGEX = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_IS_WINDOWS = os.name == "nt"
_NAME_REGEX = re.compile(r"^[/\w.\- ]*$" if _IS_WINDOWS else r"^[/\w.\- :]*$")
_BAD_CHARACTER_MESSAGE = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.),"
    " spaces ( ){} and slashes (/)."
).format("" if _IS_WINDOWS else ", colon(:)")
_MISSING_KEY_NAME_MESSAGE = "A key name must be provided."


def invalid_parameter(message):
    """``MlflowException`` with ``INVALID_PARAMETER_VALUE``: every refusal of the core."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def join_path(path: str, field: str) -> str:
    """MLflow's ``append_to_json_path``: ``metrics[3]`` + ``name`` -> ``metrics[3].name``."""
    if not path:
        return field
    if field.startswith("["):
        return path + field
    return path + "." + field


@cython.cfunc
def _path_not_unique(name) -> cython.bint:
    if "/" not in name:
        # Without a slash, normpath only rewrites "" and "."; ".." prefixes are refused anyway.
        return name == "" or name == "." or name.startswith("..")
    norm = posixpath.normpath(name)
    return norm != name or norm == "." or norm.startswith("..") or norm.startswith("/")


@cython.cfunc
def _check_name_characters(name, path):
    if not _NAME_REGEX.match(name):
        raise invalid_parameter(invalid_value(path, name, _BAD_CHARACTER_MESSAGE))
    if _path_not_unique(name):
        raise invalid_parameter(
            invalid_value(
                path,
                name,
                "Names may be treated as files in certain cases, and must not resolve to other"
                " names when treated as such. This name would resolve to "
                f"{posixpath.normpath(name)!r}",
            )
        )


def check_length(entity_name, limit: cython.Py_ssize_t, value, truncate: cython.bint = False):
    """MLflow's ``_validate_length_limit``: the value, truncated when allowed, or an error."""
    if value is None or len(value) <= limit:
        return value
    if truncate and MLFLOW_TRUNCATE_LONG_VALUES.get():
        return value[:limit]
    raise invalid_parameter(f"'{entity_name}' exceeds the maximum length of {limit} characters")


def validate_run_id(run_id, path="run_id"):
    if _RUN_ID_REGEX.match(run_id) is None:
        raise invalid_parameter(invalid_value(path, run_id))


@cython.cfunc
def _is_number(value) -> cython.bint:
    kind = type(value)
    if kind is float or kind is int:
        return True
    if kind is bool:
        return False
    import numbers

    return isinstance(value, numbers.Number)


def validate_metric(key, value, timestamp, step, path=""):
    """MLflow's ``_validate_metric``."""
    name_path = join_path(path, "name")
    if key is None:
        raise invalid_parameter(
            invalid_value(
                name_path, None, f"Metric name cannot be None. {_MISSING_KEY_NAME_MESSAGE}"
            )
        )
    _check_name_characters(key, name_path)
    if value is None:
        raise invalid_parameter(
            f"Missing value for required parameter '{join_path(path, 'value')}'."
        )
    if not _is_number(value):
        raise invalid_parameter(
            invalid_value(
                join_path(path, "value"),
                value,
                f"(timestamp={timestamp}). "
                "Please specify value as a valid double (64-bit floating point)",
            )
        )
    if not (_is_number(timestamp) or type(timestamp) is bool) or timestamp < 0:
        raise invalid_parameter(
            invalid_value(
                join_path(path, "timestamp"),
                timestamp,
                f"metric '{key}' (value={value}). "
                "Timestamp must be a nonnegative long (64-bit integer) ",
            )
        )
    if not (_is_number(step) or type(step) is bool):
        raise invalid_parameter(
            invalid_value(
                join_path(path, "step"),
                step,
                f"metric '{key}' (value={value}). Step must be a valid long (64-bit integer).",
            )
        )
    check_length("Metric name", MAX_ENTITY_KEY_LENGTH, key)


def validate_param(key, value, path=""):
    """MLflow's ``_validate_param``: the ``(key, value)`` to store, the value maybe truncated."""
    key_path = join_path(path, "key")
    if key is None:
        raise invalid_parameter(invalid_value(key_path, "", _MISSING_KEY_NAME_MESSAGE))
    _check_name_characters(key, key_path)
    return (
        check_length("Param key", MAX_ENTITY_KEY_LENGTH, key),
        check_length("Param value", MAX_PARAM_VAL_LENGTH, value, True),
    )


def validate_tag(key, value, path=""):
    """MLflow's ``_validate_tag``: the ``(key, value)`` to store, the value maybe truncated."""
    key_path = join_path(path, "key")
    if key is None:
        raise invalid_parameter(f"Missing value for required parameter '{key_path}'.")
    _check_name_characters(key, key_path)
    return (
        check_length(key_path, MAX_ENTITY_KEY_LENGTH, key),
        check_length(join_path(path, "value"), MAX_TAG_VAL_LENGTH, value, True),
    )


@cython.cfunc
def _check_batch_limit(entity_name, limit: cython.Py_ssize_t, length: cython.Py_ssize_t):
    if length > limit:
        raise invalid_parameter(
            f"A batch logging request can contain at most {limit} {entity_name}. "
            f"Got {length} {entity_name}. Please split up {entity_name} across multiple"
            " requests and try again."
        )


def validate_batch(run_id, metrics, params, tags):
    """Everything MLflow's ``log_batch`` checks before touching the database, in its order.

    Returns ``(params, tags)`` as lists of ``(key, value)`` with values truncated where MLflow
    truncates them; metrics are only checked.
    """
    validate_run_id(run_id)
    index: cython.Py_ssize_t
    for index, metric in enumerate(metrics):
        key, value, timestamp, step = metric
        validate_metric(key, value, timestamp, step, f"metrics[{index}]")
    checked_params = [
        validate_param(key, value, f"params[{index}]") for index, (key, value) in enumerate(params)
    ]
    checked_tags = [
        validate_tag(key, value, f"tags[{index}]") for index, (key, value) in enumerate(tags)
    ]
    _check_batch_limit("metrics", MAX_METRICS_PER_BATCH, len(metrics))
    _check_batch_limit("params", MAX_PARAMS_TAGS_PER_BATCH, len(params))
    _check_batch_limit("tags", MAX_PARAMS_TAGS_PER_BATCH, len(tags))
    _check_batch_limit(
        "metrics, params, and tags",
        MAX_ENTITIES_PER_BATCH,
        len(metrics) + len(params) + len(tags),
    )
    seen = set()
    duplicates = []
    for key, _ in checked_params:
        if key in seen:
            duplicates.append(key)
        else:
            seen.add(key)
    if duplicates:
        raise invalid_parameter(
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure "
            "the request contains only one param value per param key."
        )
    return checked_params, checked_tags
