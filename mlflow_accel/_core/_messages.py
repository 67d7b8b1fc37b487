"""The request messages the fast routes parse: each one's fields, proto defaults and MLflow schema.

``REQUESTS`` maps a ``service.proto``/``model_registry.proto`` message name to its spec, the one
table ``_parse`` converts and checks a request body with. Plain data, built once at import.

Cython pure-Python mode: compiled when built, imported as plain Python otherwise.
"""

# Field kinds.
STRING = 0
INT64 = 1
INT32 = 2
DOUBLE = 3
ENUM = 4
MESSAGE = 5
BOOL = 6

# A field spec: (name, json_name, kind, repeated, default, sub); ``sub`` is the nested message
# spec or the enum spec (full_name, {name: number}, frozenset(numbers)).
# A message spec: (full_name, short_name, fields, lookup, alias_plan, defaults, repeated_indexes,
# schema, size_checked, names); ``lookup`` maps json names, then proto names, to field indexes.

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
I32_MIN = -(2**31)
I32_MAX = 2**31 - 1

# MLflow's validators (mlflow/server/handlers.py), the checks of a message's schema. The type
# checks are skipped when ParseDict succeeded, exactly as ``_validate_param_against_schema`` does.
REQUIRED = 0
STRING_TYPE = 1
INTLIKE = 2
FLOATLIKE = 3
ARRAY = 4
ITEMS_STRING = 5
AT_MOST = 6  # lambda x: _assert_less_than_or_equal(int(x), arg)
KEYS_PRESENT = 7  # log-batch's _assert_<kind>_fields_present
BOOL_TYPE = 8
TYPE_CHECKS = frozenset((STRING_TYPE, INTLIKE, FLOATLIKE, ARRAY, ITEMS_STRING, BOOL_TYPE))


def _json_name(name):
    """protobuf's ToJsonName: ``dataset_digest`` -> ``datasetDigest``."""
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _field(name, kind, default=None, repeated=False, sub=None):
    if repeated:
        default = None
    elif default is None:
        default = {STRING: "", INT64: 0, INT32: 0, DOUBLE: 0.0, BOOL: False}.get(kind)
    return (name, _json_name(name), kind, repeated, default, sub)


def _message(full_name, fields, schema=(), size_checked=False):
    fields = tuple(fields)
    lookup = {}
    for index, field in enumerate(fields):
        lookup.setdefault(field[1], index)
    for index, field in enumerate(fields):
        lookup.setdefault(field[0], index)
    alias_plan = tuple(
        (f[0], f[1] if f[0] != f[1] else None, f[5] if f[2] == MESSAGE else None)
        for f in fields
        if f[0] != f[1] or f[2] == MESSAGE
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
        tuple((param, checks, any(c[0] == REQUIRED for c in checks)) for param, checks in schema),
        size_checked,
        tuple(f[0] for f in fields),
    )


RUN_STATUS = (
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
        _field("key", STRING),
        _field("value", DOUBLE),
        _field("timestamp", INT64),
        _field("step", INT64),
        _field("dataset_name", STRING),
        _field("dataset_digest", STRING),
        _field("model_id", STRING),
        _field("run_id", STRING),
    ],
)
_PARAM = _message("mlflow.Param", [_field("key", STRING), _field("value", STRING)])
_RUN_TAG = _message("mlflow.RunTag", [_field("key", STRING), _field("value", STRING)])
_EXPERIMENT_TAG = _message("mlflow.ExperimentTag", [_field("key", STRING), _field("value", STRING)])

_RUN_ID = _field("run_id", STRING)
_RUN_UUID = _field("run_uuid", STRING)
_EXPERIMENT_ID = _field("experiment_id", STRING)
_REQUIRED_STRING = (REQUIRED, STRING_TYPE)

REQUESTS = {
    "LogBatch": _message(
        "mlflow.LogBatch",
        [
            _RUN_ID,
            _field("metrics", MESSAGE, repeated=True, sub=_METRIC),
            _field("params", MESSAGE, repeated=True, sub=_PARAM),
            _field("tags", MESSAGE, repeated=True, sub=_RUN_TAG),
        ],
        schema=[
            ("run_id", (STRING_TYPE, REQUIRED)),
            ("metrics", (ARRAY, (KEYS_PRESENT, ("key", "value", "timestamp")))),
            ("params", (ARRAY, (KEYS_PRESENT, ("key",)))),
            ("tags", (ARRAY, (KEYS_PRESENT, ("key",)))),
        ],
        size_checked=True,
    ),
    "LogMetric": _message(
        "mlflow.LogMetric",
        [
            _RUN_ID,
            _RUN_UUID,
            _field("key", STRING),
            _field("value", DOUBLE),
            _field("timestamp", INT64),
            _field("step", INT64),
            _field("model_id", STRING),
            _field("dataset_name", STRING),
            _field("dataset_digest", STRING),
        ],
        schema=[
            ("run_id", _REQUIRED_STRING),
            ("key", _REQUIRED_STRING),
            ("value", (REQUIRED, FLOATLIKE)),
            ("timestamp", (INTLIKE, REQUIRED)),
            ("step", (INTLIKE,)),
            ("model_id", (STRING_TYPE,)),
            ("dataset_name", (STRING_TYPE,)),
            ("dataset_digest", (STRING_TYPE,)),
        ],
    ),
    "LogParam": _message(
        "mlflow.LogParam",
        [_RUN_ID, _RUN_UUID, _field("key", STRING), _field("value", STRING)],
        schema=[
            ("run_id", _REQUIRED_STRING),
            ("key", _REQUIRED_STRING),
            ("value", (STRING_TYPE,)),
        ],
    ),
    "SetTag": _message(
        "mlflow.SetTag",
        [_RUN_ID, _RUN_UUID, _field("key", STRING), _field("value", STRING)],
        schema=[
            ("run_id", _REQUIRED_STRING),
            ("key", _REQUIRED_STRING),
            ("value", (STRING_TYPE,)),
        ],
    ),
    "CreateRun": _message(
        "mlflow.CreateRun",
        [
            _EXPERIMENT_ID,
            _field("user_id", STRING),
            _field("run_name", STRING),
            _field("start_time", INT64),
            _field("tags", MESSAGE, repeated=True, sub=_RUN_TAG),
        ],
        schema=[
            ("experiment_id", (STRING_TYPE,)),
            ("start_time", (INTLIKE,)),
            ("run_name", (STRING_TYPE,)),
        ],
    ),
    "UpdateRun": _message(
        "mlflow.UpdateRun",
        [
            _RUN_ID,
            _RUN_UUID,
            _field("status", ENUM, default=1, sub=RUN_STATUS),
            _field("end_time", INT64),
            _field("run_name", STRING),
        ],
        schema=[
            ("run_id", _REQUIRED_STRING),
            ("end_time", (INTLIKE,)),
            ("status", (STRING_TYPE,)),
            ("run_name", (STRING_TYPE,)),
        ],
    ),
    "GetRun": _message(
        "mlflow.GetRun", [_RUN_ID, _RUN_UUID], schema=[("run_id", _REQUIRED_STRING)]
    ),
    "GetMetricHistory": _message(
        "mlflow.GetMetricHistory",
        [
            _RUN_ID,
            _RUN_UUID,
            _field("metric_key", STRING),
            _field("page_token", STRING),
            _field("max_results", INT32),
        ],
        schema=[
            ("run_id", (STRING_TYPE, REQUIRED)),
            ("metric_key", (STRING_TYPE, REQUIRED)),
            ("page_token", (STRING_TYPE,)),
        ],
    ),
    "SearchRuns": _message(
        "mlflow.SearchRuns",
        [
            _field("experiment_ids", STRING, repeated=True),
            _field("filter", STRING),
            _field("run_view_type", ENUM, default=1, sub=_VIEW_TYPE),
            _field("max_results", INT32, default=1000),
            _field("order_by", STRING, repeated=True),
            _field("page_token", STRING),
        ],
        schema=[
            ("experiment_ids", (ARRAY,)),
            ("filter", (STRING_TYPE,)),
            ("max_results", (INTLIKE, (AT_MOST, 50000))),
            ("order_by", (ARRAY, ITEMS_STRING)),
        ],
    ),
    "CreateExperiment": _message(
        "mlflow.CreateExperiment",
        [
            _field("name", STRING),
            _field("artifact_location", STRING),
            _field("tags", MESSAGE, repeated=True, sub=_EXPERIMENT_TAG),
        ],
        schema=[
            ("name", _REQUIRED_STRING),
            ("artifact_location", (STRING_TYPE,)),
            ("tags", (ARRAY,)),
        ],
    ),
    "GetExperiment": _message(
        "mlflow.GetExperiment", [_EXPERIMENT_ID], schema=[("experiment_id", _REQUIRED_STRING)]
    ),
    "GetExperimentByName": _message(
        "mlflow.GetExperimentByName",
        [_field("experiment_name", STRING)],
        schema=[("experiment_name", _REQUIRED_STRING)],
    ),
    "SearchExperiments": _message(
        "mlflow.SearchExperiments",
        [
            _field("max_results", INT64),
            _field("page_token", STRING),
            _field("filter", STRING),
            _field("order_by", STRING, repeated=True),
            _field("view_type", ENUM, default=1, sub=_VIEW_TYPE),
        ],
        schema=[
            ("view_type", (INTLIKE,)),
            ("max_results", (INTLIKE,)),
            ("order_by", (ARRAY,)),
            ("filter", (STRING_TYPE,)),
            ("page_token", (STRING_TYPE,)),
        ],
    ),
}

# -- model registry requests (model_registry.proto) ---------------------------------------------

_NAME = _field("name", STRING)
_VERSION = _field("version", STRING)
_REGISTERED_MODEL_TAG = _message(
    "mlflow.RegisteredModelTag", [_field("key", STRING), _field("value", STRING)]
)
_MODEL_VERSION_TAG = _message(
    "mlflow.ModelVersionTag", [_field("key", STRING), _field("value", STRING)]
)
# MLflow's registry handlers check the type first: [_assert_string, _assert_required].
_STRING_REQUIRED = (STRING_TYPE, REQUIRED)
_NAME_SCHEMA = ("name", _STRING_REQUIRED)
_VERSION_SCHEMA = ("version", _STRING_REQUIRED)
_SEARCH_SCHEMA = (
    ("filter", (STRING_TYPE,)),
    ("order_by", (ARRAY, ITEMS_STRING)),
    ("page_token", (STRING_TYPE,)),
)


def _search_message(full_name, default_max_results, max_results_limit):
    return _message(
        full_name,
        [
            _field("filter", STRING),
            _field("max_results", INT64, default=default_max_results),
            _field("order_by", STRING, repeated=True),
            _field("page_token", STRING),
        ],
        schema=[
            _SEARCH_SCHEMA[0],
            ("max_results", (INTLIKE, (AT_MOST, max_results_limit))),
            *_SEARCH_SCHEMA[1:],
        ],
    )


REQUESTS.update(
    {
        "CreateRegisteredModel": _message(
            "mlflow.CreateRegisteredModel",
            [
                _NAME,
                _field("tags", MESSAGE, repeated=True, sub=_REGISTERED_MODEL_TAG),
                _field("description", STRING),
                _field("deployment_job_id", STRING),
            ],
            schema=[_NAME_SCHEMA, ("tags", (ARRAY,)), ("description", (STRING_TYPE,))],
        ),
        "RenameRegisteredModel": _message(
            "mlflow.RenameRegisteredModel",
            [_NAME, _field("new_name", STRING)],
            schema=[_NAME_SCHEMA, ("new_name", _STRING_REQUIRED)],
        ),
        "UpdateRegisteredModel": _message(
            "mlflow.UpdateRegisteredModel",
            [_NAME, _field("description", STRING), _field("deployment_job_id", STRING)],
            schema=[_NAME_SCHEMA, ("description", (STRING_TYPE,))],
        ),
        "DeleteRegisteredModel": _message(
            "mlflow.DeleteRegisteredModel", [_NAME], schema=[_NAME_SCHEMA]
        ),
        "GetRegisteredModel": _message("mlflow.GetRegisteredModel", [_NAME], schema=[_NAME_SCHEMA]),
        "SearchRegisteredModels": _search_message("mlflow.SearchRegisteredModels", 100, 1000),
        "GetLatestVersions": _message(
            "mlflow.GetLatestVersions",
            [_NAME, _field("stages", STRING, repeated=True)],
            schema=[_NAME_SCHEMA, ("stages", (ARRAY, ITEMS_STRING))],
        ),
        "CreateModelVersion": _message(
            "mlflow.CreateModelVersion",
            [
                _NAME,
                _field("source", STRING),
                _RUN_ID,
                _field("tags", MESSAGE, repeated=True, sub=_MODEL_VERSION_TAG),
                _field("run_link", STRING),
                _field("description", STRING),
                _field("model_id", STRING),
            ],
            schema=[
                _NAME_SCHEMA,
                ("source", _STRING_REQUIRED),
                ("run_id", (STRING_TYPE,)),
                ("tags", (ARRAY,)),
                ("run_link", (STRING_TYPE,)),
                ("description", (STRING_TYPE,)),
                ("model_id", (STRING_TYPE,)),
            ],
        ),
        "UpdateModelVersion": _message(
            "mlflow.UpdateModelVersion",
            [_NAME, _VERSION, _field("description", STRING)],
            schema=[_NAME_SCHEMA, _VERSION_SCHEMA, ("description", (STRING_TYPE,))],
        ),
        "TransitionModelVersionStage": _message(
            "mlflow.TransitionModelVersionStage",
            [
                _NAME,
                _VERSION,
                _field("stage", STRING),
                _field("archive_existing_versions", BOOL),
            ],
            schema=[
                _NAME_SCHEMA,
                _VERSION_SCHEMA,
                ("stage", _STRING_REQUIRED),
                ("archive_existing_versions", (BOOL_TYPE,)),
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
            [_NAME, _field("key", STRING), _field("value", STRING)],
            schema=[_NAME_SCHEMA, ("key", _STRING_REQUIRED), ("value", (STRING_TYPE,))],
        ),
        "SetModelVersionTag": _message(
            "mlflow.SetModelVersionTag",
            [_NAME, _VERSION, _field("key", STRING), _field("value", STRING)],
            schema=[
                _NAME_SCHEMA,
                _VERSION_SCHEMA,
                ("key", _STRING_REQUIRED),
                ("value", (STRING_TYPE,)),
            ],
        ),
        "DeleteRegisteredModelTag": _message(
            "mlflow.DeleteRegisteredModelTag",
            [_NAME, _field("key", STRING)],
            schema=[_NAME_SCHEMA, ("key", _STRING_REQUIRED)],
        ),
        "DeleteModelVersionTag": _message(
            "mlflow.DeleteModelVersionTag",
            [_NAME, _VERSION, _field("key", STRING)],
            schema=[_NAME_SCHEMA, _VERSION_SCHEMA, ("key", _STRING_REQUIRED)],
        ),
        "SetRegisteredModelAlias": _message(
            "mlflow.SetRegisteredModelAlias",
            [_NAME, _field("alias", STRING), _VERSION],
            schema=[_NAME_SCHEMA, ("alias", _STRING_REQUIRED), _VERSION_SCHEMA],
        ),
        "DeleteRegisteredModelAlias": _message(
            "mlflow.DeleteRegisteredModelAlias",
            [_NAME, _field("alias", STRING)],
            schema=[_NAME_SCHEMA, ("alias", _STRING_REQUIRED)],
        ),
        "GetModelVersionByAlias": _message(
            "mlflow.GetModelVersionByAlias",
            [_NAME, _field("alias", STRING)],
            schema=[_NAME_SCHEMA, ("alias", _STRING_REQUIRED)],
        ),
    }
)

MESSAGES = tuple(REQUESTS)
"""The request messages ``_parse.parse_request`` knows, by their proto names."""
