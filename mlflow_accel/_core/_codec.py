"""MLflow's REST JSON wire shape <-> plain Python values, with no protobuf message in between.

This module owns both ends of the HTTP fast path:

Requests. ``parse_request(message, body)`` turns an already-decoded JSON body into plain values
the way MLflow's server does in ``mlflow.server.handlers._get_request_message``:

1. ``LogBatch`` bodies are size-checked (``_validate_batch_log_api_req``, on the decoded body),
   then the body is normalised (a JSON string is decoded once more, ``None`` becomes ``{}``);
2. a body spelling one field both ways (``run_id`` and ``runId``) is refused;
3. the body is converted field by field with protobuf's ``json_format.ParseDict`` rules and
   ``ignore_unknown_fields=True`` (MLflow's ``parse_dict``): int64/int32 from numbers or decimal
   strings, doubles from numbers, numeric strings, ``"NaN"``, ``"Infinity"``, ``"-Infinity"``,
   enums from names or numbers, unknown fields and unknown enum names ignored, ``null`` leaving the
   proto default, the first problem in body order reported with protobuf's ``ParseError`` text;
4. the handler's schema (``_assert_required``, ``_assert_string``, ...) is checked against the
   raw body, the type checks only when step 3 failed, with MLflow's messages;
5. where MLflow would carry on with a half-parsed message after a failed step 3 (its schema having
   no objection), this module raises instead, with the ``ParseError`` text as the message.

Every refusal is ``MlflowException`` with ``INVALID_PARAMETER_VALUE``. Where MLflow itself fails
with an unexpected exception (an HTTP 500: a top-level body that is not a JSON object, a metric
element that is not an object, ``int(None)`` inside a schema check, ``float(10**400)``), this
module raises ``MlflowException`` with ``INVALID_PARAMETER_VALUE`` too, naming the parameter.

Left to the HTTP layer, as in MLflow before ``_get_request_message``: the Content-Type check,
and Flask's ``get_json(silent=True)`` turning an undecodable body into ``None`` (so ``{}``).
``query_to_json`` builds the body MLflow derives from a GET request's query arguments.

One table (``_REQUESTS``: a field spec per message: name, kind, repeated, nested spec or enum,
proto default; and the handler's schema) drives one generic parser. The result is a dict of every
field in proto declaration order: absent fields hold the proto default, repeated fields a list,
repeated message fields a list of tuples of the nested message's fields in declaration order
(a ``LogBatch`` metric is ``(key, value, timestamp, step, dataset_name, dataset_digest,
model_id, run_id)``, a param or tag ``(key, value)``). ``parse_request_with_presence`` also
returns the set of singular fields the body set (protobuf's ``HasField``), which handlers such as
``UpdateRun`` and ``GetMetricHistory`` consult.

Responses. ``*_to_dict`` turn MLflow entities into what ``message_to_json(entity.to_proto())``
decodes to, and ``*_response`` the response messages: snake_case keys in field-number order,
int64 as JSON numbers, NaN/+inf/-inf doubles as ``"NaN"``/``"Infinity"``/``"-Infinity"``, unset
fields and empty repeated fields omitted exactly as ``to_proto`` and ``MessageToDict`` leave them,
the same exceptions as ``to_proto`` for values protobuf would refuse. ``dumps`` renders a value
as the bytes MLflow sends: ``json.dumps(value, indent=2)`` (two-space indent, items parted by
``,`` and a newline, ``": "`` after keys, ASCII only with ``\\uXXXX`` escapes, ``repr`` floats),
byte for byte, through orjson.

Cython pure-Python mode: compiled when built, imported as plain Python otherwise.
"""

import builtins
import codecs
import json
import math
import operator
import re
from json.encoder import encode_basestring_ascii

import orjson
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.utils.validation import invalid_value

try:
    import cython
except ImportError:
    from mlflow_accel._core import _cython_shim as cython

# Builtins called through module globals so that Cython does not swap in its own conversions:
# every accepted spelling and every error message must be CPython's, as protobuf sees them.
_int = builtins.int
_float = builtins.float

# -- field kinds and spec layouts -------------------------------------------------------------

_STRING = cython.declare(cython.int, 0)
_INT64 = cython.declare(cython.int, 1)
_INT32 = cython.declare(cython.int, 2)
_DOUBLE = cython.declare(cython.int, 3)
_ENUM = cython.declare(cython.int, 4)
_MESSAGE = cython.declare(cython.int, 5)
_BOOL = cython.declare(cython.int, 6)

# A field spec: (name, json_name, kind, repeated, default, sub); ``sub`` is the nested message
# spec or the enum spec (full_name, {name: number}, frozenset(numbers)).
# A message spec: (full_name, short_name, fields, lookup, alias_plan, defaults, repeated_indexes,
# schema, size_checked, names); ``lookup`` maps json names, then proto names, to field indexes.

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_I32_MIN = -(2**31)
_I32_MAX = 2**31 - 1

# MLflow's validators (mlflow/server/handlers.py). The type checks are skipped when ParseDict
# succeeded, exactly as ``_validate_param_against_schema`` does.
_REQUIRED = cython.declare(cython.int, 0)
_STRING_TYPE = cython.declare(cython.int, 1)
_INTLIKE = cython.declare(cython.int, 2)
_FLOATLIKE = cython.declare(cython.int, 3)
_ARRAY = cython.declare(cython.int, 4)
_ITEMS_STRING = cython.declare(cython.int, 5)
_AT_MOST = cython.declare(cython.int, 6)  # lambda x: _assert_less_than_or_equal(int(x), arg)
_KEYS_PRESENT = cython.declare(cython.int, 7)  # log-batch's _assert_<kind>_fields_present
_BOOL_TYPE = cython.declare(cython.int, 8)
_TYPE_CHECKS = frozenset((1, 2, 3, 4, 5, 8))

_API_DOCS = " See the API docs for more information about request parameters."
MAX_BATCH_LOG_REQUEST_SIZE = 1000000  # mlflow.utils.validation: int(1e6)

# protobuf's json_format patterns, verbatim.
_UNPAIRED_SURROGATE = re.compile(
    "[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]"
)
_EXTENSION_NAME = re.compile(r"\[[a-zA-Z0-9\._]*\]$")


def _json_name(name):
    """protobuf's ToJsonName: ``dataset_digest`` -> ``datasetDigest``."""
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _field(name, kind, default=None, repeated=False, sub=None):
    if repeated:
        default = None
    elif default is None:
        default = {_STRING: "", _INT64: 0, _INT32: 0, _DOUBLE: 0.0, _BOOL: False}.get(kind)
    return (name, _json_name(name), kind, repeated, default, sub)


def _message(full_name, fields, schema=(), size_checked=False):
    fields = tuple(fields)
    lookup = {}
    for index, field in enumerate(fields):
        lookup.setdefault(field[1], index)
    for index, field in enumerate(fields):
        lookup.setdefault(field[0], index)
    alias_plan = tuple(
        (f[0], f[1] if f[0] != f[1] else None, f[5] if f[2] == _MESSAGE else None)
        for f in fields
        if f[0] != f[1] or f[2] == _MESSAGE
    )
    schema = tuple(
        (param, tuple(c if isinstance(c, tuple) else (c, None) for c in checks))
        for param, checks in schema
    )
    return (
        full_name,
        full_name.rsplit(".", 1)[-1],
        fields,
        lookup,
        alias_plan,
        tuple(f[4] for f in fields),
        tuple(i for i, f in enumerate(fields) if f[3]),
        tuple((param, checks, any(c[0] == _REQUIRED for c in checks)) for param, checks in schema),
        size_checked,
        tuple(f[0] for f in fields),
    )


_RUN_STATUS = (
    "mlflow.RunStatus",
    {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5},
    frozenset((1, 2, 3, 4, 5)),
)
_VIEW_TYPE = (
    "mlflow.ViewType",
    {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3},
    frozenset((1, 2, 3)),
)

_METRIC = _message(
    "mlflow.Metric",
    [
        _field("key", _STRING),
        _field("value", _DOUBLE),
        _field("timestamp", _INT64),
        _field("step", _INT64),
        _field("dataset_name", _STRING),
        _field("dataset_digest", _STRING),
        _field("model_id", _STRING),
        _field("run_id", _STRING),
    ],
)
_PARAM = _message("mlflow.Param", [_field("key", _STRING), _field("value", _STRING)])
_RUN_TAG = _message("mlflow.RunTag", [_field("key", _STRING), _field("value", _STRING)])
_EXPERIMENT_TAG = _message(
    "mlflow.ExperimentTag", [_field("key", _STRING), _field("value", _STRING)]
)

_RUN_ID = _field("run_id", _STRING)
_RUN_UUID = _field("run_uuid", _STRING)
_EXPERIMENT_ID = _field("experiment_id", _STRING)
_REQUIRED_STRING = (_REQUIRED, _STRING_TYPE)

_REQUESTS = {
    "LogBatch": _message(
        "mlflow.LogBatch",
        [
            _RUN_ID,
            _field("metrics", _MESSAGE, repeated=True, sub=_METRIC),
            _field("params", _MESSAGE, repeated=True, sub=_PARAM),
            _field("tags", _MESSAGE, repeated=True, sub=_RUN_TAG),
        ],
        schema=[
            ("run_id", (_STRING_TYPE, _REQUIRED)),
            ("metrics", (_ARRAY, (_KEYS_PRESENT, ("key", "value", "timestamp")))),
            ("params", (_ARRAY, (_KEYS_PRESENT, ("key",)))),
            ("tags", (_ARRAY, (_KEYS_PRESENT, ("key",)))),
        ],
        size_checked=True,
    ),
    "LogMetric": _message(
        "mlflow.LogMetric",
        [
            _RUN_ID,
            _RUN_UUID,
            _field("key", _STRING),
            _field("value", _DOUBLE),
            _field("timestamp", _INT64),
            _field("step", _INT64),
            _field("model_id", _STRING),
            _field("dataset_name", _STRING),
            _field("dataset_digest", _STRING),
        ],
        schema=[
            ("run_id", _REQUIRED_STRING),
            ("key", _REQUIRED_STRING),
            ("value", (_REQUIRED, _FLOATLIKE)),
            ("timestamp", (_INTLIKE, _REQUIRED)),
            ("step", (_INTLIKE,)),
            ("model_id", (_STRING_TYPE,)),
            ("dataset_name", (_STRING_TYPE,)),
            ("dataset_digest", (_STRING_TYPE,)),
        ],
    ),
    "LogParam": _message(
        "mlflow.LogParam",
        [_RUN_ID, _RUN_UUID, _field("key", _STRING), _field("value", _STRING)],
        schema=[
            ("run_id", _REQUIRED_STRING),
            ("key", _REQUIRED_STRING),
            ("value", (_STRING_TYPE,)),
        ],
    ),
    "SetTag": _message(
        "mlflow.SetTag",
        [_RUN_ID, _RUN_UUID, _field("key", _STRING), _field("value", _STRING)],
        schema=[
            ("run_id", _REQUIRED_STRING),
            ("key", _REQUIRED_STRING),
            ("value", (_STRING_TYPE,)),
        ],
    ),
    "DeleteTag": _message(
        "mlflow.DeleteTag",
        [_RUN_ID, _field("key", _STRING)],
        schema=[("run_id", _REQUIRED_STRING), ("key", _REQUIRED_STRING)],
    ),
    "CreateRun": _message(
        "mlflow.CreateRun",
        [
            _EXPERIMENT_ID,
            _field("user_id", _STRING),
            _field("run_name", _STRING),
            _field("start_time", _INT64),
            _field("tags", _MESSAGE, repeated=True, sub=_RUN_TAG),
        ],
        schema=[
            ("experiment_id", (_STRING_TYPE,)),
            ("start_time", (_INTLIKE,)),
            ("run_name", (_STRING_TYPE,)),
        ],
    ),
    "UpdateRun": _message(
        "mlflow.UpdateRun",
        [
            _RUN_ID,
            _RUN_UUID,
            _field("status", _ENUM, default=1, sub=_RUN_STATUS),
            _field("end_time", _INT64),
            _field("run_name", _STRING),
        ],
        schema=[
            ("run_id", _REQUIRED_STRING),
            ("end_time", (_INTLIKE,)),
            ("status", (_STRING_TYPE,)),
            ("run_name", (_STRING_TYPE,)),
        ],
    ),
    "DeleteRun": _message("mlflow.DeleteRun", [_RUN_ID], schema=[("run_id", _REQUIRED_STRING)]),
    "RestoreRun": _message("mlflow.RestoreRun", [_RUN_ID], schema=[("run_id", _REQUIRED_STRING)]),
    "GetRun": _message(
        "mlflow.GetRun", [_RUN_ID, _RUN_UUID], schema=[("run_id", _REQUIRED_STRING)]
    ),
    "GetMetricHistory": _message(
        "mlflow.GetMetricHistory",
        [
            _RUN_ID,
            _RUN_UUID,
            _field("metric_key", _STRING),
            _field("page_token", _STRING),
            _field("max_results", _INT32),
        ],
        schema=[
            ("run_id", (_STRING_TYPE, _REQUIRED)),
            ("metric_key", (_STRING_TYPE, _REQUIRED)),
            ("page_token", (_STRING_TYPE,)),
        ],
    ),
    "SearchRuns": _message(
        "mlflow.SearchRuns",
        [
            _field("experiment_ids", _STRING, repeated=True),
            _field("filter", _STRING),
            _field("run_view_type", _ENUM, default=1, sub=_VIEW_TYPE),
            _field("max_results", _INT32, default=1000),
            _field("order_by", _STRING, repeated=True),
            _field("page_token", _STRING),
        ],
        schema=[
            ("experiment_ids", (_ARRAY,)),
            ("filter", (_STRING_TYPE,)),
            ("max_results", (_INTLIKE, (_AT_MOST, 50000))),
            ("order_by", (_ARRAY, _ITEMS_STRING)),
        ],
    ),
    "CreateExperiment": _message(
        "mlflow.CreateExperiment",
        [
            _field("name", _STRING),
            _field("artifact_location", _STRING),
            _field("tags", _MESSAGE, repeated=True, sub=_EXPERIMENT_TAG),
        ],
        schema=[
            ("name", _REQUIRED_STRING),
            ("artifact_location", (_STRING_TYPE,)),
            ("tags", (_ARRAY,)),
        ],
    ),
    "GetExperiment": _message(
        "mlflow.GetExperiment", [_EXPERIMENT_ID], schema=[("experiment_id", _REQUIRED_STRING)]
    ),
    "GetExperimentByName": _message(
        "mlflow.GetExperimentByName",
        [_field("experiment_name", _STRING)],
        schema=[("experiment_name", _REQUIRED_STRING)],
    ),
    "DeleteExperiment": _message(
        "mlflow.DeleteExperiment",
        [_EXPERIMENT_ID],
        schema=[("experiment_id", _REQUIRED_STRING)],
    ),
    "RestoreExperiment": _message(
        "mlflow.RestoreExperiment",
        [_EXPERIMENT_ID],
        schema=[("experiment_id", _REQUIRED_STRING)],
    ),
    "UpdateExperiment": _message(
        "mlflow.UpdateExperiment",
        [_EXPERIMENT_ID, _field("new_name", _STRING)],
        schema=[("experiment_id", _REQUIRED_STRING), ("new_name", (_STRING_TYPE, _REQUIRED))],
    ),
    "SetExperimentTag": _message(
        "mlflow.SetExperimentTag",
        [_EXPERIMENT_ID, _field("key", _STRING), _field("value", _STRING)],
        schema=[
            ("experiment_id", _REQUIRED_STRING),
            ("key", _REQUIRED_STRING),
            ("value", (_STRING_TYPE,)),
        ],
    ),
    "DeleteExperimentTag": _message(
        "mlflow.DeleteExperimentTag",
        [_EXPERIMENT_ID, _field("key", _STRING)],
        schema=[("experiment_id", _REQUIRED_STRING), ("key", _REQUIRED_STRING)],
    ),
    "SearchExperiments": _message(
        "mlflow.SearchExperiments",
        [
            _field("max_results", _INT64),
            _field("page_token", _STRING),
            _field("filter", _STRING),
            _field("order_by", _STRING, repeated=True),
            _field("view_type", _ENUM, default=1, sub=_VIEW_TYPE),
        ],
        schema=[
            ("view_type", (_INTLIKE,)),
            ("max_results", (_INTLIKE,)),
            ("order_by", (_ARRAY,)),
            ("filter", (_STRING_TYPE,)),
            ("page_token", (_STRING_TYPE,)),
        ],
    ),
}

# -- model registry requests (model_registry.proto) ---------------------------------------------

_NAME = _field("name", _STRING)
_VERSION = _field("version", _STRING)
_REGISTERED_MODEL_TAG = _message(
    "mlflow.RegisteredModelTag", [_field("key", _STRING), _field("value", _STRING)]
)
_MODEL_VERSION_TAG = _message(
    "mlflow.ModelVersionTag", [_field("key", _STRING), _field("value", _STRING)]
)
# MLflow's registry handlers check the type first: [_assert_string, _assert_required].
_STRING_REQUIRED = (_STRING_TYPE, _REQUIRED)
_NAME_SCHEMA = ("name", _STRING_REQUIRED)
_VERSION_SCHEMA = ("version", _STRING_REQUIRED)
_SEARCH_SCHEMA = (
    ("filter", (_STRING_TYPE,)),
    ("order_by", (_ARRAY, _ITEMS_STRING)),
    ("page_token", (_STRING_TYPE,)),
)


def _search_message(full_name, default_max_results, max_results_limit):
    return _message(
        full_name,
        [
            _field("filter", _STRING),
            _field("max_results", _INT64, default=default_max_results),
            _field("order_by", _STRING, repeated=True),
            _field("page_token", _STRING),
        ],
        schema=[
            _SEARCH_SCHEMA[0],
            ("max_results", (_INTLIKE, (_AT_MOST, max_results_limit))),
            *_SEARCH_SCHEMA[1:],
        ],
    )


_REQUESTS.update(
    {
        "CreateRegisteredModel": _message(
            "mlflow.CreateRegisteredModel",
            [
                _NAME,
                _field("tags", _MESSAGE, repeated=True, sub=_REGISTERED_MODEL_TAG),
                _field("description", _STRING),
                _field("deployment_job_id", _STRING),
            ],
            schema=[_NAME_SCHEMA, ("tags", (_ARRAY,)), ("description", (_STRING_TYPE,))],
        ),
        "RenameRegisteredModel": _message(
            "mlflow.RenameRegisteredModel",
            [_NAME, _field("new_name", _STRING)],
            schema=[_NAME_SCHEMA, ("new_name", _STRING_REQUIRED)],
        ),
        "UpdateRegisteredModel": _message(
            "mlflow.UpdateRegisteredModel",
            [_NAME, _field("description", _STRING), _field("deployment_job_id", _STRING)],
            schema=[_NAME_SCHEMA, ("description", (_STRING_TYPE,))],
        ),
        "DeleteRegisteredModel": _message(
            "mlflow.DeleteRegisteredModel", [_NAME], schema=[_NAME_SCHEMA]
        ),
        "GetRegisteredModel": _message("mlflow.GetRegisteredModel", [_NAME], schema=[_NAME_SCHEMA]),
        "SearchRegisteredModels": _search_message("mlflow.SearchRegisteredModels", 100, 1000),
        "GetLatestVersions": _message(
            "mlflow.GetLatestVersions",
            [_NAME, _field("stages", _STRING, repeated=True)],
            schema=[_NAME_SCHEMA, ("stages", (_ARRAY, _ITEMS_STRING))],
        ),
        "CreateModelVersion": _message(
            "mlflow.CreateModelVersion",
            [
                _NAME,
                _field("source", _STRING),
                _RUN_ID,
                _field("tags", _MESSAGE, repeated=True, sub=_MODEL_VERSION_TAG),
                _field("run_link", _STRING),
                _field("description", _STRING),
                _field("model_id", _STRING),
            ],
            schema=[
                _NAME_SCHEMA,
                ("source", _STRING_REQUIRED),
                ("run_id", (_STRING_TYPE,)),
                ("tags", (_ARRAY,)),
                ("run_link", (_STRING_TYPE,)),
                ("description", (_STRING_TYPE,)),
                ("model_id", (_STRING_TYPE,)),
            ],
        ),
        "UpdateModelVersion": _message(
            "mlflow.UpdateModelVersion",
            [_NAME, _VERSION, _field("description", _STRING)],
            schema=[_NAME_SCHEMA, _VERSION_SCHEMA, ("description", (_STRING_TYPE,))],
        ),
        "TransitionModelVersionStage": _message(
            "mlflow.TransitionModelVersionStage",
            [
                _NAME,
                _VERSION,
                _field("stage", _STRING),
                _field("archive_existing_versions", _BOOL),
            ],
            schema=[
                _NAME_SCHEMA,
                _VERSION_SCHEMA,
                ("stage", _STRING_REQUIRED),
                ("archive_existing_versions", (_BOOL_TYPE,)),
            ],
        ),
        "DeleteModelVersion": _message(
            "mlflow.DeleteModelVersion", [_NAME, _VERSION], schema=[_NAME_SCHEMA, _VERSION_SCHEMA]
        ),
        "GetModelVersion": _message(
            "mlflow.GetModelVersion", [_NAME, _VERSION], schema=[_NAME_SCHEMA, _VERSION_SCHEMA]
        ),
        "SearchModelVersions": _search_message("mlflow.SearchModelVersions", 200000, 200000),
        "GetModelVersionDownloadUri": _message(
            "mlflow.GetModelVersionDownloadUri", [_NAME, _VERSION]
        ),
        "SetRegisteredModelTag": _message(
            "mlflow.SetRegisteredModelTag",
            [_NAME, _field("key", _STRING), _field("value", _STRING)],
            schema=[_NAME_SCHEMA, ("key", _STRING_REQUIRED), ("value", (_STRING_TYPE,))],
        ),
        "SetModelVersionTag": _message(
            "mlflow.SetModelVersionTag",
            [_NAME, _VERSION, _field("key", _STRING), _field("value", _STRING)],
            schema=[
                _NAME_SCHEMA,
                _VERSION_SCHEMA,
                ("key", _STRING_REQUIRED),
                ("value", (_STRING_TYPE,)),
            ],
        ),
        "DeleteRegisteredModelTag": _message(
            "mlflow.DeleteRegisteredModelTag",
            [_NAME, _field("key", _STRING)],
            schema=[_NAME_SCHEMA, ("key", _STRING_REQUIRED)],
        ),
        "DeleteModelVersionTag": _message(
            "mlflow.DeleteModelVersionTag",
            [_NAME, _VERSION, _field("key", _STRING)],
            schema=[_NAME_SCHEMA, _VERSION_SCHEMA, ("key", _STRING_REQUIRED)],
        ),
        "SetRegisteredModelAlias": _message(
            "mlflow.SetRegisteredModelAlias",
            [_NAME, _field("alias", _STRING), _VERSION],
            schema=[_NAME_SCHEMA, ("alias", _STRING_REQUIRED), _VERSION_SCHEMA],
        ),
        "DeleteRegisteredModelAlias": _message(
            "mlflow.DeleteRegisteredModelAlias",
            [_NAME, _field("alias", _STRING)],
            schema=[_NAME_SCHEMA, ("alias", _STRING_REQUIRED)],
        ),
        "GetModelVersionByAlias": _message(
            "mlflow.GetModelVersionByAlias",
            [_NAME, _field("alias", _STRING)],
            schema=[_NAME_SCHEMA, ("alias", _STRING_REQUIRED)],
        ),
    }
)

MESSAGES = tuple(_REQUESTS)
"""The request messages ``parse_request`` knows, by their ``service.proto`` names."""


# -- request parsing: protobuf's ParseDict ----------------------------------------------------


class _ParseError(Exception):
    """protobuf's ``json_format.ParseError``, with its messages."""


class _ScalarError(Exception):
    """A ParseError of ``_ConvertScalarFieldValue``: its message gets `` at <path>``."""


class _Crash(Exception):
    """An exception ParseDict lets escape (MLflow answers HTTP 500)."""


_SKIP = object()  # an unknown enum name: ParseDict(ignore_unknown_fields=True) leaves the field


def _invalid(message):
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


@cython.cfunc
def _path(ppath, pname, pindex: cython.Py_ssize_t):
    if pname is None:
        return ppath
    if pindex < 0:
        return f"{ppath}.{pname}"
    return f"{ppath}.{pname}[{pindex}]"


@cython.cfunc
def _unencodable(value) -> cython.bint:
    """A str upb cannot look up: one holding surrogates, which UTF-8 cannot encode."""
    if not isinstance(value, str) or value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@cython.cfunc
def _convert_integer(value):
    """protobuf's ``_ConvertInteger``."""
    if isinstance(value, float) and not value.is_integer():
        raise _ScalarError(f"Couldn't parse integer: {value}")
    if isinstance(value, str) and value.find(" ") != -1:
        raise _ScalarError(f'Couldn\'t parse integer: "{value}"')
    if isinstance(value, bool):
        raise _ScalarError(f"Bool value {value} is not acceptable for integer field")
    try:
        return _int(value)
    except ValueError as e:
        try:
            number = _float(value)
        except ValueError:
            raise e from None
        if not number.is_integer():
            raise _ScalarError(f'Couldn\'t parse non-integer string: "{value}"') from None
        return _int(number)


@cython.cfunc
def _convert_float(value):
    """protobuf's ``_ConvertFloat`` for a double field."""
    if isinstance(value, float):
        if math.isnan(value):
            raise _ScalarError('Couldn\'t parse NaN, use quoted "NaN" instead')
        if math.isinf(value):
            if value > 0:
                raise _ScalarError(
                    'Couldn\'t parse Infinity or value too large, use quoted "Infinity" instead'
                )
            raise _ScalarError(
                'Couldn\'t parse -Infinity or value too small, use quoted "-Infinity" instead'
            )
        return _float(value)
    if value == "nan":
        raise _ScalarError('Couldn\'t parse float "nan", use "NaN" instead')
    try:
        return _float(value)
    except ValueError:
        if value == "-Infinity":
            return -math.inf
        if value == "Infinity":
            return math.inf
        if value == "NaN":
            return math.nan
        raise _ScalarError(f"Couldn't parse float: {value}") from None


@cython.cfunc
def _convert_string(value):
    """A string field: protobuf's surrogate check, then upb's UTF-8 encoding."""
    if type(value) is str and value.isascii():
        return value
    if _UNPAIRED_SURROGATE.search(value) is not None:  # a TypeError for non-strings, as protobuf
        raise _ScalarError("Unpaired surrogate")
    value.encode("utf-8")  # paired surrogates: upb's UnicodeEncodeError
    return value


@cython.cfunc
def _convert_enum(value, enum: tuple):
    number = enum[1].get(value)  # a TypeError for unhashable values, as protobuf
    if number is None:
        if _unencodable(value):  # upb's values_by_name.get fails: a SystemError
            raise _Crash(f"Invalid enum value {value!r} for enum type {enum[0]}")
        try:
            number = _int(value)
        except ValueError:
            return _SKIP
        if number not in enum[2]:
            raise _ScalarError(f"Invalid enum value {value} for enum type {enum[0]}")
    return number


@cython.cfunc
def _convert_scalar(kind: cython.int, field: tuple, value):
    """One scalar as ParseDict stores it: ``_ScalarError``/``ValueError``/``TypeError`` else."""
    if kind == _STRING:
        return _convert_string(value)
    if kind == _INT64 or kind == _INT32:  # noqa: SIM109 (C ints, no tuple)
        number = value if type(value) is int else _convert_integer(value)
        if kind == _INT64:
            if number < _I64_MIN or number > _I64_MAX:
                raise ValueError(f"Value out of range: {number}")
        elif number < _I32_MIN or number > _I32_MAX:
            raise ValueError(f"Value out of range: {number}")
        return number
    if kind == _DOUBLE:
        if type(value) is float and value - value == 0.0:
            return value
        return _convert_float(value)
    if kind == _BOOL:
        if isinstance(value, bool):
            return value
        raise _ScalarError("Expected true or false without quotes")
    return _convert_enum(value, field[5])


@cython.cfunc
def _convert_message(mspec: tuple, js, ppath, pname, pindex: cython.Py_ssize_t):
    """A nested message: the tuple of its fields (proto defaults where unset)."""
    values = list(mspec[5])
    for index in mspec[6]:
        values[index] = []
    _convert_fields(mspec, js, values, None, ppath, pname, pindex)
    return tuple(values)


@cython.cfunc
def _convert_fields(
    mspec: tuple, js, values: list, present, ppath, pname, pindex: cython.Py_ssize_t
):
    """protobuf's ``_Parser._ConvertFieldValuePair``, into ``values`` (and the ``present``
    list of flags, or None)."""
    fields: tuple = mspec[2]
    lookup: dict = mspec[3]
    elem: cython.Py_ssize_t
    for name in js:  # a TypeError for non-iterables, caught by the parent field as protobuf's
        field = None
        elem = -1
        try:
            index = lookup.get(name)
            if index is None:
                if _unencodable(name):  # upb's fields_by_name.get fails: a SystemError
                    raise _Crash(f"Invalid field name {name!r} at {_path(ppath, pname, pindex)}.")
                if _EXTENSION_NAME.match(name) is not None:
                    path = _path(ppath, pname, pindex)
                    raise _ParseError(f"Message type {mspec[0]} does not have extensions at {path}")
                continue
            field = fields[index]
            value = js[name]
            if value is None:
                values[index] = [] if field[3] else field[4]
                if present is not None:
                    present[index] = False
                continue
            kind: cython.int = field[2]
            if field[3]:
                if not isinstance(value, (list, tuple)):
                    path = _path(ppath, pname, pindex)
                    raise _ParseError(
                        f"repeated field {name} must be in [] which is {value} at {path}"
                    )
                out = []
                values[index] = out
                if kind == _MESSAGE:
                    sub: tuple = field[5]
                    path = _path(ppath, pname, pindex)
                    for elem, item in enumerate(value):
                        if item is None:
                            raise _ParseError(
                                "null is not allowed to be used as an element in a repeated "
                                f"field at {path}.{name}[{elem}]"
                            )
                        out.append(_convert_message(sub, item, path, name, elem))
                else:
                    for elem, item in enumerate(value):
                        if item is None:
                            raise _ParseError(
                                "null is not allowed to be used as an element in a repeated "
                                f"field at {_path(ppath, pname, pindex)}.{name}[{elem}]"
                            )
                        converted = _convert_scalar(kind, field, item)
                        if converted is not _SKIP:
                            out.append(converted)
                    elem = -1
            elif kind == _MESSAGE:
                values[index] = _convert_message(
                    field[5], value, _path(ppath, pname, pindex), name, -1
                )
                if present is not None:
                    present[index] = True
            else:
                converted = _convert_scalar(kind, field, value)
                if converted is not _SKIP:
                    values[index] = converted
                    if present is not None:
                        present[index] = True
        except _Crash:
            raise
        except _ScalarError as e:
            path = _path(_path(ppath, pname, pindex), name, elem)
            raise _ParseError(f"Failed to parse {name} field: {e} at {path}.") from None
        except _ParseError as e:
            if field is not None:
                raise _ParseError(f"Failed to parse {name} field: {e}.") from None
            raise
        except (ValueError, TypeError) as e:
            raise _ParseError(f"Failed to parse {name} field: {e}.") from None
        except Exception as e:
            path = _path(_path(ppath, pname, pindex), name, elem)
            raise _Crash(f"Failed to parse {name} field: {e} at {path}.") from None


# -- request parsing: MLflow's checks around ParseDict ------------------------------------------


@cython.cfunc
def _reject_conflicting_aliases(mspec: tuple, js):
    """``handlers._reject_conflicting_field_aliases``."""
    if not isinstance(js, dict):
        return
    for name, json_name, sub in mspec[4]:
        if json_name is not None and name in js and json_name in js:
            raise _invalid(
                f"Request specifies both '{name}' and '{json_name}'; provide only one of them."
            )
        if sub is not None:
            value = js.get(name, js.get(json_name if json_name is not None else name))
            if isinstance(value, list):
                for item in value:
                    _reject_conflicting_aliases(sub, item)
            else:
                _reject_conflicting_aliases(sub, value)


_FAILED = object()  # a check that raised something other than AssertionError (an HTTP 500)


@cython.cfunc
def _check(code: cython.int, arg, param, value):
    """One of MLflow's schema checks: None if it passes; else "" (AssertionError without a
    message), the AssertionError's message, or ``_FAILED``."""
    if code == _REQUIRED:
        return None if value is not None and value != "" else ""
    if code == _STRING_TYPE:
        return None if isinstance(value, str) else ""
    if code == _ARRAY:
        return None if isinstance(value, list) else ""
    if code == _BOOL_TYPE:
        return None if isinstance(value, bool) else ""
    if code == _INTLIKE:
        try:
            value = _int(value)
        except ValueError:
            pass
        except Exception:
            return _FAILED
        return None if isinstance(value, int) else ""
    if code == _FLOATLIKE:
        try:
            value = _float(value)
        except ValueError:
            pass
        except Exception:
            return _FAILED
        return None if isinstance(value, float) else ""
    if code == _ITEMS_STRING:
        try:
            for item in value:
                if not isinstance(item, str):
                    return ""
        except Exception:
            return _FAILED
        return None
    if code == _AT_MOST:
        try:
            return None if _int(value) <= arg else ""
        except Exception:
            return _FAILED
    # _KEYS_PRESENT
    try:
        for index, element in enumerate(value):
            for key in arg:
                item = element.get(key)
                if item is None or item == "":
                    return f"Missing value for required parameter '{param}[{index}].{key}'."
    except Exception:
        return _FAILED
    return None


@cython.cfunc
def _invalid_value(param, value, hint):
    """MLflow's ``invalid_value`` message; for a value nested too deeply for its ``json.dumps``
    (a ``RecursionError``: MLflow answers HTTP 500) the same message without the value."""
    try:
        return invalid_value(param, value, hint)
    except RecursionError:
        return f"Invalid value (nested too deeply) for parameter '{param}' supplied:{hint}"


@cython.cfunc
def _validate_schema(mspec: tuple, js: dict, parsed: cython.bint):
    """``handlers._validate_request_json_with_schema``."""
    for param, checks, required in mspec[7]:
        if param not in js and not required:
            continue
        value = js.get(param)
        if param == "run_id" and value is None and "run_uuid" in js:
            value = js.get("run_uuid")
        for code, arg in checks:
            if parsed and code in _TYPE_CHECKS:
                continue
            failure = _check(code, arg, param, value)
            if failure is None:
                continue
            if failure is _FAILED or failure == "":
                if failure == "" and code == _REQUIRED:
                    message = f"Missing value for required parameter '{param}'."
                else:
                    hint = f" Hint: Value was of type '{type(value).__name__}'."
                    message = _invalid_value(param, value, hint)
            else:
                message = failure
            raise _invalid(message + _API_DOCS)


@cython.cfunc
def _parse(message, body):
    mspec = _REQUESTS.get(message)
    if mspec is None:
        raise ValueError(f"mlflow_accel codec: unknown request message {message!r}")
    if mspec[8] and isinstance(body, (dict, list, str)) and len(body) > MAX_BATCH_LOG_REQUEST_SIZE:
        # utils.validation._validate_batch_log_api_req, on the body as Flask decoded it.
        raise _invalid(
            f"Batched logging API requests must be at most {MAX_BATCH_LOG_REQUEST_SIZE} bytes, "
            f"got a request of size {len(body)}."
        )
    if isinstance(body, str):  # older clients double-encode their JSON
        try:
            body = json.loads(body)
        except ValueError as e:
            raise _invalid(f"Malformed JSON in the request body: {e}") from None
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _invalid(f"Invalid request body: expected a JSON object, got {type(body).__name__}.")
    _reject_conflicting_aliases(mspec, body)
    values = list(mspec[5])
    for index in mspec[6]:
        values[index] = []
    present = [False] * len(values)
    failure = None
    try:
        _convert_fields(mspec, body, values, present, mspec[1], None, -1)
    except _ParseError as e:
        failure = e
    except _Crash as e:
        raise _invalid(str(e)) from None
    _validate_schema(mspec, body, failure is None)
    if failure is not None:
        raise _invalid(str(failure))
    return mspec, values, present


def parse_request(message: str, body) -> dict:
    """The fields of request ``message`` (e.g. ``"LogBatch"``) from a decoded JSON ``body``.

    Every field, in declaration order, with the proto default where the body has none; repeated
    message fields as lists of tuples. Raises ``MlflowException`` (``INVALID_PARAMETER_VALUE``)
    where MLflow's server refuses the body, with its message; see the module docstring.
    """
    mspec, values, _ = _parse(message, body)
    return dict(zip(mspec[9], values, strict=True))


def parse_request_with_presence(message: str, body) -> tuple:
    """``(parse_request(message, body), frozenset of the singular fields the body set)``.

    A field is set when the body gives it a non-null value (an unknown enum name does not set
    it): protobuf's ``HasField``.
    """
    mspec, values, present = _parse(message, body)
    names = mspec[9]
    return (
        dict(zip(names, values, strict=True)),
        frozenset([name for name, flag in zip(names, present, strict=True) if flag]),
    )


def query_to_json(message: str, args) -> dict:
    """The body MLflow's server builds from a GET request's query arguments.

    ``args``: a ``werkzeug`` ``MultiDict`` (anything with ``getlist``), a mapping of name to a
    string or a list of strings, or an iterable of ``(name, value)`` pairs. Fields in declaration
    order, by proto name only; repeated fields take every value, the others the first.
    """
    mspec = _REQUESTS.get(message)
    if mspec is None:
        raise ValueError(f"mlflow_accel codec: unknown request message {message!r}")
    if hasattr(args, "getlist"):
        multi = {name: args.getlist(name) for name in args}
    else:
        multi = {}
        pairs = args.items() if hasattr(args, "items") else args
        for name, value in pairs:
            if isinstance(value, list):
                multi.setdefault(name, []).extend(value)
            else:
                multi.setdefault(name, []).append(value)
    request_json = {}
    for field in mspec[2]:
        name = field[0]
        found = multi.get(name)
        if found is None:
            continue
        if field[3]:
            request_json[name] = list(found)
        elif found:
            request_json[name] = found[0]
    return request_json


# -- responses: MLflow entities -> message_to_json's dicts ---------------------------------------


@cython.cfunc
def _str(value):
    """A string as upb stores it."""
    if type(value) is str:
        if not value.isascii():
            value.encode("utf-8")  # upb's UnicodeEncodeError for surrogates
        return value
    if isinstance(value, str):
        value.encode("utf-8")
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise TypeError("bad argument type for built-in operation")


@cython.cfunc
def _double(value):
    """A double as upb stores it, as MessageToDict writes it."""
    kind = type(value)
    if kind is float:
        number = value
    elif hasattr(kind, "__float__"):
        number = _float(value)
    elif hasattr(kind, "__index__"):
        number = _float(operator.index(value))
    else:
        raise TypeError(f"must be real number, not {kind.__name__}")
    if number - number == 0.0:
        return number
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


@cython.cfunc
def _int64(value, field_name):
    """An int64 as upb stores it."""
    if type(value) is not int:
        if isinstance(value, bool):
            raise TypeError(f"Field {field_name}: Expected an int, got a boolean.")
        value = operator.index(value)
    if value < _I64_MIN or value > _I64_MAX:
        raise ValueError(f"Value out of range: {value}")
    return _int(value)


@cython.cfunc
def _key_value(key, value) -> dict:
    """``Proto(key=key, value=value)``: a None argument leaves its field unset."""
    entry = {}
    if key is not None:
        entry["key"] = _str(key)
    if value is not None:
        entry["value"] = _str(value)
    return entry


@cython.cfunc
def _key_value_set(key, value) -> dict:
    """``proto.key = key; proto.value = value``."""
    return {"key": _str(key), "value": _str(value)}


def metric_to_dict(metric) -> dict:
    """``Metric.to_proto()`` as ``message_to_json`` writes it."""
    key = _str(metric.key)
    value = _double(metric.value)
    timestamp = _int64(metric.timestamp, "mlflow.Metric.timestamp")
    step = _int64(metric.step, "mlflow.Metric.step")
    model_id = metric.model_id
    if model_id:
        model_id = _str(model_id)
    dataset_name = metric.dataset_name
    if dataset_name:
        dataset_name = _str(dataset_name)
    dataset_digest = metric.dataset_digest
    if dataset_digest:
        dataset_digest = _str(dataset_digest)
    run_id = metric.run_id
    if run_id:
        run_id = _str(run_id)
    entry = {"key": key, "value": value, "timestamp": timestamp, "step": step}
    if dataset_name:
        entry["dataset_name"] = dataset_name
    if dataset_digest:
        entry["dataset_digest"] = dataset_digest
    if model_id:
        entry["model_id"] = model_id
    if run_id:
        entry["run_id"] = run_id
    return entry


def tag_to_dict(tag) -> dict:
    """``Param``/``RunTag``/``ExperimentTag``/``InputTag`` ``.to_proto()``: key and value."""
    return _key_value_set(tag.key, tag.value)


param_to_dict = tag_to_dict


_RUN_STATUS_NAMES = frozenset(_RUN_STATUS[1])


@cython.cfunc
def _status_name(status):
    if type(status) is str and status in _RUN_STATUS_NAMES:
        return status
    from mlflow.entities import RunStatus

    return RunStatus.to_string(RunStatus.from_string(status))  # MLflow's exception


def run_info_to_dict(run_info) -> dict:
    """``RunInfo.to_proto()`` as ``message_to_json`` writes it."""
    run_id = _str(run_info.run_id)
    run_name = run_info.run_name
    if run_name is not None:
        run_name = _str(run_name)
    experiment_id = _str(run_info.experiment_id)
    user_id = _str(run_info.user_id)
    status = _status_name(run_info.status)
    start_time = _int64(run_info.start_time, "mlflow.RunInfo.start_time")
    end_time = run_info.end_time
    if end_time:
        end_time = _int64(end_time, "mlflow.RunInfo.end_time")
    artifact_uri = run_info.artifact_uri
    if artifact_uri:
        artifact_uri = _str(artifact_uri)
    lifecycle_stage = _str(run_info.lifecycle_stage)
    entry = {"run_uuid": run_id, "experiment_id": experiment_id}
    if run_name is not None:
        entry["run_name"] = run_name
    entry["user_id"] = user_id
    entry["status"] = status
    entry["start_time"] = start_time
    if end_time:
        entry["end_time"] = end_time
    if artifact_uri:
        entry["artifact_uri"] = artifact_uri
    entry["lifecycle_stage"] = lifecycle_stage
    entry["run_id"] = run_id
    return entry


def run_data_to_dict(run_data) -> dict:
    """``RunData.to_proto()`` as ``message_to_json`` writes it."""
    metrics = [metric_to_dict(m) for m in run_data._metric_objs]
    params = [_key_value(k, v) for k, v in run_data.params.items()]
    tags = [_key_value(k, v) for k, v in run_data.tags.items()]
    entry = {}
    if metrics:
        entry["metrics"] = metrics
    if params:
        entry["params"] = params
    if tags:
        entry["tags"] = tags
    return entry


def dataset_to_dict(dataset) -> dict:
    """``Dataset.to_proto()`` as ``message_to_json`` writes it."""
    entry = {
        "name": _str(dataset.name),
        "digest": _str(dataset.digest),
        "source_type": _str(dataset.source_type),
        "source": _str(dataset.source),
    }
    schema = dataset.schema
    if schema:
        entry["schema"] = _str(schema)
    profile = dataset.profile
    if profile:
        entry["profile"] = _str(profile)
    return entry


def dataset_input_to_dict(dataset_input) -> dict:
    """``DatasetInput.to_proto()`` as ``message_to_json`` writes it."""
    tags = [_key_value_set(t.key, t.value) for t in dataset_input.tags]
    dataset = dataset_to_dict(dataset_input.dataset)
    entry = {}
    if tags:
        entry["tags"] = tags
    entry["dataset"] = dataset
    return entry


@cython.cfunc
def _model_io(model_id, step, has_step: cython.bint) -> dict:
    entry = {}
    if model_id is not None:
        model_id = _str(model_id)
    if has_step and step is not None:
        step = _int64(step, "mlflow.ModelOutput.step")
    if model_id is not None:
        entry["model_id"] = model_id
    if has_step and step is not None:
        entry["step"] = step
    return entry


def run_inputs_to_dict(run_inputs) -> dict:
    """``RunInputs.to_proto()`` as ``message_to_json`` writes it."""
    datasets = [dataset_input_to_dict(d) for d in run_inputs.dataset_inputs]
    models = [_model_io(m._model_id, None, False) for m in run_inputs.model_inputs]
    entry = {}
    if datasets:
        entry["dataset_inputs"] = datasets
    if models:
        entry["model_inputs"] = models
    return entry


def run_outputs_to_dict(run_outputs) -> dict:
    """``RunOutputs.to_proto()`` as ``message_to_json`` writes it."""
    models = [_model_io(m.model_id, m.step, True) for m in run_outputs.model_outputs]
    return {"model_outputs": models} if models else {}


def run_to_dict(run) -> dict:
    """``Run.to_proto()`` as ``message_to_json`` writes it."""
    entry = {"info": run_info_to_dict(run.info)}
    data = run.data
    if data:
        entry["data"] = run_data_to_dict(data)
    inputs = run.inputs
    if inputs:
        entry["inputs"] = run_inputs_to_dict(inputs)
    outputs = run.outputs
    if outputs:
        entry["outputs"] = run_outputs_to_dict(outputs)
    return entry


def experiment_to_dict(experiment) -> dict:
    """``Experiment.to_proto()`` as ``message_to_json`` writes it."""
    experiment_id = _str(experiment.experiment_id)
    name = _str(experiment.name)
    artifact_location = _str(experiment.artifact_location)
    lifecycle_stage = _str(experiment.lifecycle_stage)
    creation_time = experiment.creation_time
    if creation_time:
        creation_time = _int64(creation_time, "mlflow.Experiment.creation_time")
    last_update_time = experiment.last_update_time
    if last_update_time:
        last_update_time = _int64(last_update_time, "mlflow.Experiment.last_update_time")
    retention = experiment.effective_trace_archival_retention
    if retention is not None:
        retention = _str(retention)
    workspace = experiment.workspace
    if workspace is not None:
        workspace = _str(workspace)
    tags = [_key_value(k, v) for k, v in experiment.tags.items()]
    entry = {
        "experiment_id": experiment_id,
        "name": name,
        "artifact_location": artifact_location,
        "lifecycle_stage": lifecycle_stage,
    }
    if last_update_time:
        entry["last_update_time"] = last_update_time
    if creation_time:
        entry["creation_time"] = creation_time
    if tags:
        entry["tags"] = tags
    if retention is not None:
        entry["effective_trace_archival_retention"] = retention
    if workspace is not None:
        entry["workspace"] = workspace
    return entry


def empty_response() -> dict:
    """The response of LogBatch, LogMetric, LogParam, SetTag, DeleteRun, ...: ``{}``."""
    return {}


def run_response(run) -> dict:
    """``GetRun.Response`` / ``CreateRun.Response`` for ``run``."""
    return {"run": run_to_dict(run)}


def update_run_response(run_info) -> dict:
    """``UpdateRun.Response`` for the updated ``run_info``."""
    return {"run_info": run_info_to_dict(run_info)}


@cython.cfunc
def _page(key, items: list, next_page_token) -> dict:
    entry = {}
    if items:
        entry[key] = items
    if next_page_token:
        entry["next_page_token"] = _str(next_page_token)
    return entry


def search_runs_response(runs, next_page_token=None) -> dict:
    """``SearchRuns.Response``: the runs, and the token when there is one."""
    return _page("runs", [run_to_dict(r) for r in runs], next_page_token)


def metric_history_response(metrics, next_page_token=None) -> dict:
    """``GetMetricHistory.Response``: the metrics, and the token when there is one."""
    return _page("metrics", [metric_to_dict(m) for m in metrics], next_page_token)


def experiment_response(experiment) -> dict:
    """``GetExperiment.Response`` / ``GetExperimentByName.Response``."""
    return {"experiment": experiment_to_dict(experiment)}


def create_experiment_response(experiment_id) -> dict:
    """``CreateExperiment.Response``: the id is always set."""
    return {"experiment_id": _str(experiment_id)}


def search_experiments_response(experiments, next_page_token=None) -> dict:
    """``SearchExperiments.Response``: the experiments, and the token when there is one."""
    return _page("experiments", [experiment_to_dict(e) for e in experiments], next_page_token)


# -- model registry responses -------------------------------------------------------------------

_MODEL_VERSION_STATUS = ("PENDING_REGISTRATION", "FAILED_REGISTRATION", "READY")


@cython.cfunc
def _proto_as_dict(entity) -> dict:
    """``message_to_json(entity.to_proto())`` decoded: for fields our stores never set."""
    from mlflow.utils.proto_json_utils import message_to_json

    return json.loads(message_to_json(entity.to_proto()))


def model_version_to_dict(model_version) -> dict:
    """``ModelVersion.to_proto()`` as ``message_to_json`` writes it."""
    if model_version.deployment_job_state is not None:
        return _proto_as_dict(model_version)
    entry = {
        "name": _str(model_version.name),
        "version": _str(str(model_version.version)),
        "creation_timestamp": _int64(
            model_version.creation_timestamp, "mlflow.ModelVersion.creation_timestamp"
        ),
    }
    value = model_version.last_updated_timestamp
    if value is not None:
        entry["last_updated_timestamp"] = _int64(
            value, "mlflow.ModelVersion.last_updated_timestamp"
        )
    value = model_version.user_id
    if value is not None:
        entry["user_id"] = _str(value)
    value = model_version.current_stage
    if value is not None:
        entry["current_stage"] = _str(value)
    value = model_version.description
    if value is not None:
        entry["description"] = _str(value)
    value = model_version.source
    if value is not None:
        entry["source"] = _str(str(value))
    value = model_version.run_id
    if value is not None:
        entry["run_id"] = _str(str(value))
    status = model_version.status
    if status is not None:
        if status not in _MODEL_VERSION_STATUS:
            return _proto_as_dict(model_version)  # MLflow's own error for an unknown status
        entry["status"] = status
    value = model_version.status_message
    if value:
        entry["status_message"] = _str(value)
    tags = [_key_value(k, v) for k, v in model_version._tags.items()]
    if tags:
        entry["tags"] = tags
    value = model_version.run_link
    if value is not None:
        entry["run_link"] = _str(str(value))
    aliases = [_str(alias) for alias in model_version.aliases]
    if aliases:
        entry["aliases"] = aliases
    return entry


def registered_model_to_dict(registered_model) -> dict:
    """``RegisteredModel.to_proto()`` as ``message_to_json`` writes it."""
    if registered_model.deployment_job_id or registered_model.deployment_job_state:
        return _proto_as_dict(registered_model)
    entry = {"name": _str(registered_model.name)}
    value = registered_model.creation_timestamp
    if value is not None:
        entry["creation_timestamp"] = _int64(value, "mlflow.RegisteredModel.creation_timestamp")
    value = registered_model.last_updated_timestamp
    if value:
        entry["last_updated_timestamp"] = _int64(
            value, "mlflow.RegisteredModel.last_updated_timestamp"
        )
    value = registered_model.description
    if value:
        entry["description"] = _str(value)
    latest = registered_model.latest_versions
    if latest:
        entry["latest_versions"] = [model_version_to_dict(mv) for mv in latest]
    tags = [_key_value(k, v) for k, v in registered_model._tags.items()]
    if tags:
        entry["tags"] = tags
    aliases = [
        {"alias": _str(alias), "version": _str(str(version))}
        for alias, version in registered_model._aliases.items()
    ]
    if aliases:
        entry["aliases"] = aliases
    return entry


def registered_model_response(registered_model) -> dict:
    """``{Create,Get,Update,Rename}RegisteredModel.Response``."""
    return {"registered_model": registered_model_to_dict(registered_model)}


def model_version_response(model_version) -> dict:
    """``{Create,Get,Update}ModelVersion.Response``, ``TransitionModelVersionStage.Response``,
    ``GetModelVersionByAlias.Response``."""
    return {"model_version": model_version_to_dict(model_version)}


def latest_versions_response(model_versions) -> dict:
    """``GetLatestVersions.Response``."""
    return _page("model_versions", [model_version_to_dict(mv) for mv in model_versions], None)


def search_registered_models_response(registered_models, next_page_token=None) -> dict:
    """``SearchRegisteredModels.Response``: the models, and the token when there is one."""
    return _page(
        "registered_models",
        [registered_model_to_dict(rm) for rm in registered_models],
        next_page_token,
    )


def search_model_versions_response(model_versions, next_page_token=None) -> dict:
    """``SearchModelVersions.Response``: the versions, and the token when there is one."""
    return _page(
        "model_versions", [model_version_to_dict(mv) for mv in model_versions], next_page_token
    )


def download_uri_response(artifact_uri) -> dict:
    """``GetModelVersionDownloadUri.Response``."""
    return {"artifact_uri": _str(artifact_uri)}


# -- dumps: json.dumps(obj, indent=2), byte for byte -------------------------------------------

_MAX_DEPTH = cython.declare(cython.int, 200)  # below orjson's own limit (255)
_JSON_ESCAPE = "mlflow_accel.json_ascii"
_orjson_dumps = orjson.dumps
_OrjsonError = orjson.JSONEncodeError
_Fragment = orjson.Fragment
_INDENT_2 = orjson.OPT_INDENT_2


def _json_ascii_errors(error):
    """Codec error handler: non-ASCII characters as ``json`` escapes them (``\\u00e9``)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return encode_basestring_ascii(error.object[error.start : error.end])[1:-1], error.end


codecs.register_error(_JSON_ESCAPE, _json_ascii_errors)


_NOT_EXACT = cython.declare(cython.int, 1)
_RESPELL = cython.declare(cython.int, 2)
_NON_ASCII_KEY = cython.declare(cython.int, 4)


@cython.cfunc
def _respell(obj) -> cython.bint:
    """A value orjson spells unlike ``json``: a float below 1e-4 (orjson writes 1e-5 as
    ``0.00001`` and 1e-7 as ``1e-7``, ``json`` ``1e-05`` and ``1e-07``; every other finite float
    is spelled alike), or a str with non-ASCII characters (``json`` escapes them)."""
    number: cython.double
    kind = type(obj)
    if kind is str:
        return not obj.isascii()  # O(1): CPython keeps the flag
    if kind is float:
        number = obj
        return number != 0.0 and -1e-4 < number < 1e-4
    return False


@cython.cfunc
def _scan(obj, depth: cython.int) -> cython.int:
    """Flags: ``_NOT_EXACT`` where orjson cannot render ``obj`` as ``json`` does (a type other
    than JSON's own exact types, a NaN or infinite float, deep nesting), ``_RESPELL`` where it
    holds a value to respell, ``_NON_ASCII_KEY``. (orjson itself refuses non-str keys, lone
    surrogates and ints beyond 64 bits.)"""
    number: cython.double
    flags: cython.int = 0
    kind = type(obj)
    if kind is str:
        return _RESPELL if _respell(obj) else 0
    if kind is int or kind is bool or obj is None:
        return 0
    if kind is float:
        number = obj
        if number - number != 0.0:
            return _NOT_EXACT
        return _RESPELL if _respell(obj) else 0
    if depth >= _MAX_DEPTH:
        return _NOT_EXACT
    if kind is dict:
        for key, value in obj.items():
            if type(key) is str and not key.isascii():
                flags |= _NON_ASCII_KEY
            flags |= _scan(value, depth + 1)
            if flags & _NOT_EXACT:
                return flags
        return flags
    if kind is list or kind is tuple:
        for value in obj:
            flags |= _scan(value, depth + 1)
            if flags & _NOT_EXACT:
                return flags
        return flags
    return _NOT_EXACT


@cython.cfunc
def _respelled(obj):
    """``obj`` with each value to respell as an ``orjson.Fragment`` of ``json``'s spelling
    (``repr`` for floats). Containers are copied only where changed."""
    kind = type(obj)
    if kind is dict:
        copied = None
        for key, value in obj.items():
            new = _respelled(value)
            if new is not value:
                if copied is None:
                    copied = dict(obj)
                copied[key] = new
        return obj if copied is None else copied
    if kind is list or kind is tuple:
        copied = None
        for index, value in enumerate(obj):
            new = _respelled(value)
            if new is not value:
                if copied is None:
                    copied = list(obj)
                copied[index] = new
        return obj if copied is None else copied
    if _respell(obj):
        return _Fragment(repr(obj) if kind is float else encode_basestring_ascii(obj))
    return obj


def dumps(obj) -> bytes:
    """``json.dumps(obj, indent=2).encode()``: what ``message_to_json`` gives MLflow's response.

    orjson renders; the values it spells differently (floats below 1e-4, non-ASCII strings) go
    in as fragments spelled by ``repr`` and ``json``'s own string encoder; non-ASCII keys and DEL
    are escaped in its output as ``json`` escapes them. Values
    orjson cannot render as ``json`` would (NaN/inf floats, subclasses, non-str keys, other
    types, ints beyond 64 bits, deep nesting, lone surrogates) go to ``json.dumps`` itself, with
    its exceptions.
    """
    flags: cython.int = _scan(obj, 0)
    if flags & _NOT_EXACT:
        return json.dumps(obj, indent=2).encode("ascii")
    try:
        out = _orjson_dumps(_respelled(obj) if flags & _RESPELL else obj, option=_INDENT_2)
    except _OrjsonError:  # non-str keys, lone surrogates, ints beyond 64 bits
        return json.dumps(obj, indent=2).encode("ascii")
    if flags & _NON_ASCII_KEY:
        out = out.decode("utf-8").encode("ascii", _JSON_ESCAPE)
    if b"\x7f" in out:  # DEL is ASCII, so left alone above; only ever inside a string
        out = out.replace(b"\x7f", b"\\u007f")
    return out
