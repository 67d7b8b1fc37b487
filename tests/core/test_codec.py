"""The core's request parser, response renderer and ``dumps`` against MLflow itself: requests
through MLflow's handlers, responses through ``message_to_json``, ``dumps`` against
``json.dumps(indent=2)``.

Requests: each body goes, as JSON bytes, through MLflow's own handler function (in a Flask
request context, ``_get_request_message`` spied on and stopped right after it returns, before any
store is touched), and, decoded, through ``parse``. The outcomes must agree:

- MLflow refuses with ``MlflowException``: ``parse`` raises the same class, code and message;
- MLflow accepts and ``ParseDict`` succeeded: ``parse`` gives the message's field values (and the
  fields ``HasField`` reports);
- MLflow accepts a half-parsed message (``ParseDict`` failed, the schema had no objection):
  ``parse`` refuses with ``INVALID_PARAMETER_VALUE`` and protobuf's ``ParseError`` text;
- MLflow fails otherwise (an HTTP 500), or the body is not a JSON object: ``parse`` refuses with
  ``INVALID_PARAMETER_VALUE``.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from unittest import mock

import flask
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import ParseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    ExperimentTag,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)
from mlflow.entities.model_registry import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from mlflow.exceptions import MlflowException
from mlflow.protos import model_registry_pb2, service_pb2
from mlflow.server import handlers
from mlflow.utils.proto_json_utils import message_to_json

from tests.support.core_impls import builds


@pytest.fixture(scope="module", params=builds())
def core(request):
    """One build of the core: ``core.parse``, ``core.render``, ``core.json_writer``, ..."""
    return request.param


HANDLERS = {
    "LogBatch": "_log_batch",
    "LogMetric": "_log_metric",
    "LogParam": "_log_param",
    "SetTag": "_set_tag",
    "CreateRun": "_create_run",
    "UpdateRun": "_update_run",
    "GetRun": "_get_run",
    "GetMetricHistory": "_get_metric_history",
    "SearchRuns": "_search_runs",
    "CreateExperiment": "_create_experiment",
    "GetExperiment": "_get_experiment",
    "GetExperimentByName": "_get_experiment_by_name",
    "SearchExperiments": "_search_experiments",
    "CreateRegisteredModel": "_create_registered_model",
    "RenameRegisteredModel": "_rename_registered_model",
    "UpdateRegisteredModel": "_update_registered_model",
    "DeleteRegisteredModel": "_delete_registered_model",
    "GetRegisteredModel": "_get_registered_model",
    "SearchRegisteredModels": "_search_registered_models",
    "GetLatestVersions": "_get_latest_versions",
    "CreateModelVersion": "_create_model_version",
    "UpdateModelVersion": "_update_model_version",
    "TransitionModelVersionStage": "_transition_stage",
    "DeleteModelVersion": "_delete_model_version",
    "GetModelVersion": "_get_model_version",
    "SearchModelVersions": "_search_model_versions",
    "GetModelVersionDownloadUri": "_get_model_version_download_uri",
    "SetRegisteredModelTag": "_set_registered_model_tag",
    "SetModelVersionTag": "_set_model_version_tag",
    "DeleteRegisteredModelTag": "_delete_registered_model_tag",
    "DeleteModelVersionTag": "_delete_model_version_tag",
    "SetRegisteredModelAlias": "_set_registered_model_alias",
    "DeleteRegisteredModelAlias": "_delete_registered_model_alias",
    "GetModelVersionByAlias": "_get_model_version_by_alias",
}
MESSAGES = sorted(HANDLERS)
IPV = "INVALID_PARAMETER_VALUE"
NO_BODY = object()

_APP = flask.Flask("codec-oracle")


class _Stop(Exception):
    pass


def _descriptor(message: str):
    """The request message's descriptor, from service.proto or model_registry.proto."""
    proto = getattr(service_pb2, message, None) or getattr(model_registry_pb2, message)
    return proto.DESCRIPTOR


# -- the oracle: MLflow's handlers ---------------------------------------------------------------


def _norm(value):
    """Comparable values: floats by repr (NaN equal to NaN, -0.0 apart from 0.0, 1.0 from 1)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, int):
        return ("int", int(value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_norm(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(k, _norm(v)) for k, v in value.items()])
    return (type(value).__name__, value)


def _proto_values(message):
    """Every field of a parsed request message, as ``parse`` reports them."""
    values = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.is_repeated and field.type == FieldDescriptor.TYPE_MESSAGE:
            value = [tuple(getattr(item, f.name) for f in item.DESCRIPTOR.fields) for item in value]
        elif field.is_repeated:
            value = list(value)
        values[field.name] = value
    present = frozenset(
        f.name for f in message.DESCRIPTOR.fields if not f.is_repeated and message.HasField(f.name)
    )
    return values, present


def mlflow_outcome(message, body=NO_BODY, query=None):
    """What MLflow's handler makes of the request: ("refused", code, message), ("ok", values,
    present), ("partial", ParseError text) or ("crash", exception)."""
    captured = {}
    get_request_message = handlers._get_request_message
    parse_dict = handlers.parse_dict

    def spy(request_message, flask_request=flask.request, schema=None):
        try:
            captured["message"] = get_request_message(request_message, flask_request, schema)
        except Exception as e:
            captured["error"] = e
        raise _Stop

    def parse_spy(js, request_message):
        try:
            parse_dict(js, request_message)
        except ParseError as e:
            captured["parse_error"] = str(e)
            raise

    if query is not None:
        context = {"method": "GET", "query_string": query}
    elif body is NO_BODY:
        context = {"method": "POST", "data": b"", "content_type": "application/json"}
    else:
        context = {
            "method": "POST",
            "data": json.dumps(body).encode(),
            "content_type": "application/json",
        }
    handler = inspect.unwrap(getattr(handlers, HANDLERS[message]))
    with (
        _APP.test_request_context("/", **context),
        mock.patch.object(handlers, "_get_request_message", spy),
        mock.patch.object(handlers, "parse_dict", parse_spy),
    ):
        try:
            handler()
        except _Stop:
            pass
        except Exception as e:
            captured["error"] = e
    if "error" in captured:
        error = captured["error"]
        if isinstance(error, MlflowException):
            return ("refused", error.error_code, error.message)
        return ("crash", error)
    if "parse_error" in captured:
        return ("partial", captured["parse_error"])
    values, present = _proto_values(captured["message"])
    return ("ok", _norm(values), present)


def core_outcome(core, message, body=NO_BODY, query=None):
    if query is not None:
        request = core.parse.query_to_json(message, query)
    elif body is NO_BODY:
        request = None
    else:
        request = json.loads(json.dumps(body))  # the body exactly as the server decodes it
    try:
        values, present = core.parse.parse_request_with_presence(message, request)
    except MlflowException as e:
        return ("refused", e.error_code, e.message)
    return ("ok", _norm(values), present)


def _is_object(body):
    if body is NO_BODY:
        return True
    body = json.loads(json.dumps(body))
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return False
    return body is None or isinstance(body, dict)


def agree(expected, got, body_is_object=True):
    """The contract in the module docstring, as an assertion."""
    if expected[0] == "crash" or not body_is_object:
        assert got[0] == "refused" and got[1] == IPV, (expected, got)
    elif expected[0] == "partial":
        assert got == ("refused", IPV, expected[1])
    else:
        assert got == expected


def check(core, message, body=NO_BODY, query=None):
    expected = mlflow_outcome(message, body, query)
    got = core_outcome(core, message, body, query)
    agree(expected, got, query is not None or _is_object(body))
    return got


# -- the table against service.proto -----------------------------------------------------------

_KINDS = {
    0: FieldDescriptor.TYPE_STRING,
    1: FieldDescriptor.TYPE_INT64,
    2: FieldDescriptor.TYPE_INT32,
    3: FieldDescriptor.TYPE_DOUBLE,
    4: FieldDescriptor.TYPE_ENUM,
    5: FieldDescriptor.TYPE_MESSAGE,
    6: FieldDescriptor.TYPE_BOOL,
}


def _assert_spec_matches(spec, descriptor):
    assert spec[0] == descriptor.full_name
    assert spec[1] == descriptor.name
    assert [f[0] for f in spec[2]] == [f.name for f in descriptor.fields]
    for field, proto in zip(spec[2], descriptor.fields, strict=True):
        name, json_name, kind, repeated, default, sub = field
        assert json_name == proto.json_name
        assert _KINDS[kind] == proto.type, name
        assert repeated == proto.is_repeated, name
        if not repeated and kind != 5:
            assert default == proto.default_value and type(default) is type(proto.default_value)
        if kind == 4:
            assert sub[0] == proto.enum_type.full_name
            assert sub[1] == {v.name: v.number for v in proto.enum_type.values}
            assert sub[2] == frozenset(v.number for v in proto.enum_type.values)
        if kind == 5:
            _assert_spec_matches(sub, proto.message_type)


def test_messages_are_those_tested(core):
    assert sorted(core.messages.MESSAGES) == MESSAGES


@pytest.mark.parametrize("message", MESSAGES)
def test_table_matches_service_proto(core, message):
    _assert_spec_matches(core.messages.REQUESTS[message], _descriptor(message))


# -- requests: hand-written cases --------------------------------------------------------------

METRIC = {"key": "m", "value": 1.5, "timestamp": 10, "step": 2}

CASES = [
    # well-formed, with every proto3-JSON spelling
    ("LogBatch", {"run_id": "r", "metrics": [METRIC], "params": [{"key": "p", "value": "v"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "value": "NaN", "timestamp": "1"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "value": "Infinity", "timestamp": 1}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "value": "-Infinity", "timestamp": 1}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "value": "1e3", "timestamp": 1.0}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "value": True, "timestamp": "1e3"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "value": " 2.5 ", "timestamp": "\t7"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "value": 1, "timestamp": "1_000"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "datasetName": "d", "modelId": "x"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "step": None}], "tags": None}),
    ("LogBatch", {"runId": "r"}),
    ("LogBatch", {"run_id": "r", "unknown": [1, {"x": 2}], "metrics": []}),
    ("LogBatch", {"run_id": "r", "params": [{"key": "p"}], "tags": [{"key": "t", "value": None}]}),
    ("LogBatch", {"run_uuid": "r"}),
    (
        "LogBatch",
        {"run_id": "r", "metrics": [{**METRIC, "timestamp": 2**63 - 1, "step": -(2**63)}]},
    ),
    # wrong types and values, in ParseDict and in the schema
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "value": "abc"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "value": "nan"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "value": [1]}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "value": {"a": 1}}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "timestamp": 1.5}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "timestamp": "1.5"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "timestamp": " 1"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "timestamp": "abc"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "timestamp": True}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "timestamp": 2**63}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "step": -(2**63) - 1}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "step": "9223372036854775808"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "step": 1e19}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "step": [1]}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "key": 5}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "key": ["k"]}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "key": "\ud800"}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "key": ""}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "timestamp": 1}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{"key": "m", "value": 1}]}),
    ("LogBatch", {"run_id": "r", "metrics": [METRIC, {"value": 1, "timestamp": 1}]}),
    ("LogBatch", {"run_id": "r", "metrics": [None]}),
    ("LogBatch", {"run_id": "r", "metrics": ["abc"]}),
    ("LogBatch", {"run_id": "r", "metrics": [5]}),
    ("LogBatch", {"run_id": "r", "metrics": [["key", "m"]]}),
    ("LogBatch", {"run_id": "r", "metrics": [[[1]]]}),
    ("LogBatch", {"run_id": "r", "metrics": {"key": "m"}}),
    ("LogBatch", {"run_id": "r", "metrics": "abc"}),
    ("LogBatch", {"run_id": "r", "metrics": None}),
    ("LogBatch", {"run_id": "r", "params": [{"value": "v"}]}),
    ("LogBatch", {"run_id": "r", "params": [{"key": "p", "value": 1}]}),
    ("LogBatch", {"run_id": "r", "tags": [{"key": ""}]}),
    ("LogBatch", {"run_id": 5}),
    ("LogBatch", {"run_id": ""}),
    ("LogBatch", {"run_id": None, "metrics": [METRIC]}),
    ("LogBatch", {}),
    ("LogBatch", NO_BODY),
    ("LogBatch", {"run_id": "r", "runId": "r"}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "model_id": "a", "modelId": "b"}]}),
    ("LogBatch", {"run_id": "r", "[ext]": 1}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "[a.b]": 1}]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "value": 10**400}]}),
    ("LogBatch", {"run_id": "r", "metrics": ["\ud800"]}),
    ("LogBatch", {"run_id": "r", "metrics": [{**METRIC, "\udc00x": 1}]}),
    ("LogBatch", {"run_id": "r", "\ud800": 1}),
    ("LogBatch", {"run_id": "r", "\u00e9": 1}),
    ("LogBatch", json.dumps({"run_id": "r", "metrics": [METRIC]})),
    ("LogBatch", "null"),
    ("LogBatch", "not json"),
    ("LogBatch", [1, 2]),
    ("LogBatch", 5),
    ("LogBatch", None),
    ("LogMetric", {"run_id": "r", "key": "m", "value": 1.0, "timestamp": 1}),
    ("LogMetric", {"run_uuid": "r", "key": "m", "value": "1", "timestamp": "1", "step": "2"}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": "abc", "timestamp": 1}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": [1], "timestamp": 1}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": None, "timestamp": 1}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": 1, "timestamp": "x"}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": 1, "timestamp": [1]}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": 1}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": 1, "timestamp": "", "step": 1.5}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": 1, "timestamp": 1, "step": 1.5}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": 1, "timestamp": 1, "model_id": 3}),
    ("LogMetric", {"run_id": "r", "key": "m", "value": 1, "timestamp": 1, "dataset_name": ""}),
    ("LogMetric", {"run_id": "r", "run_uuid": "u", "key": "m", "value": 1, "timestamp": 1}),
    ("LogMetric", {"runId": "r", "key": "m", "value": 1, "timestamp": 1}),
    ("LogParam", {"run_id": "r", "key": "p", "value": "v"}),
    ("LogParam", {"run_id": "r", "key": "p"}),
    ("LogParam", {"run_id": "r", "key": "p", "value": 5}),
    ("LogParam", {"run_id": "r", "key": "p", "value": None}),
    ("LogParam", {"key": "p", "value": "v"}),
    ("SetTag", {"run_id": "r", "key": "t", "value": "v"}),
    ("SetTag", {"run_id": "r", "key": 7, "value": "v"}),
    ("SetTag", {"run_uuid": "r", "key": "t", "value": "v"}),
    ("CreateRun", {"experiment_id": "0", "start_time": 5, "tags": [{"key": "a", "value": "b"}]}),
    ("CreateRun", {}),
    ("CreateRun", {"experiment_id": 0}),
    ("CreateRun", {"start_time": "x"}),
    ("CreateRun", {"start_time": [1]}),
    ("CreateRun", {"start_time": 1.5}),
    ("CreateRun", {"run_name": 5, "start_time": "x"}),
    ("CreateRun", {"tags": [{"key": "a", "value": 5}]}),
    ("CreateRun", {"tags": "x"}),
    ("CreateRun", []),
    ("UpdateRun", {"run_id": "r", "status": "FINISHED", "end_time": 5}),
    ("UpdateRun", {"run_id": "r", "status": 3}),
    ("UpdateRun", {"run_id": "r", "status": "3"}),
    ("UpdateRun", {"run_id": "r", "status": " 3"}),
    ("UpdateRun", {"run_id": "r", "status": 2.7}),
    ("UpdateRun", {"run_id": "r", "status": True}),
    ("UpdateRun", {"run_id": "r", "status": "FOO"}),
    ("UpdateRun", {"run_id": "r", "status": "nan"}),
    ("UpdateRun", {"run_id": "r", "status": "\ud800"}),
    ("UpdateRun", {"run_id": "r", "status": "\u00e9"}),
    ("UpdateRun", {"run_id": "r", "status": 99}),
    ("UpdateRun", {"run_id": "r", "status": 0}),
    ("UpdateRun", {"run_id": "r", "status": [1]}),
    ("UpdateRun", {"run_id": "r", "status": {}}),
    ("UpdateRun", {"run_id": "r", "status": None, "run_name": None}),
    ("UpdateRun", {"run_id": "r", "end_time": "5", "run_name": ""}),
    ("UpdateRun", {"run_id": "r", "endTime": 0}),
    ("UpdateRun", {"run_id": "r", "run_name": 1}),
    ("UpdateRun", {"run_uuid": "r"}),
    ("GetRun", {"run_id": "r"}),
    ("GetRun", {"run_uuid": "r"}),
    ("GetRun", {"runId": "r"}),
    ("GetRun", {}),
    ("GetRun", {"run_id": ["r"]}),
    ("GetMetricHistory", {"run_id": "r", "metric_key": "m", "max_results": 10}),
    ("GetMetricHistory", {"run_id": "r", "metric_key": "m", "max_results": 2**31}),
    ("GetMetricHistory", {"run_id": "r", "metric_key": "m", "max_results": "0"}),
    ("GetMetricHistory", {"run_id": "r"}),
    ("GetMetricHistory", {"metric_key": "m", "max_results": "x"}),
    ("SearchRuns", {"experiment_ids": ["1", "2"], "max_results": 10, "order_by": ["a"]}),
    ("SearchRuns", {"experiment_ids": "1"}),
    ("SearchRuns", {"experiment_ids": [1]}),
    ("SearchRuns", {"experiment_ids": [None]}),
    ("SearchRuns", {"max_results": 50001}),
    ("SearchRuns", {"max_results": 50000, "run_view_type": "ALL"}),
    ("SearchRuns", {"max_results": "1e3"}),
    ("SearchRuns", {"max_results": 1.0}),
    ("SearchRuns", {"max_results": None}),
    ("SearchRuns", {"max_results": "abc"}),
    ("SearchRuns", {"order_by": [1]}),
    ("SearchRuns", {"order_by": "a", "filter": 5}),
    ("SearchRuns", {"run_view_type": 3, "runViewType": 2}),
    ("SearchRuns", {"run_view_type": "DELETED"}),
    ("SearchRuns", {"run_view_type": 7}),
    ("SearchRuns", {"filter": "metrics.a > 1", "page_token": "abc"}),
    ("CreateExperiment", {"name": "e", "artifact_location": "s3://b", "tags": [{"key": "k"}]}),
    ("CreateExperiment", {"name": ""}),
    ("CreateExperiment", {"name": "e", "tags": {"k": "v"}}),
    ("CreateExperiment", {"name": "e", "artifactLocation": 5}),
    ("GetExperiment", {"experiment_id": "1"}),
    ("GetExperiment", {"experiment_id": 1}),
    ("GetExperimentByName", {"experiment_name": "e"}),
    ("GetExperimentByName", {"experimentName": "e"}),
    ("SearchExperiments", {"max_results": "5", "view_type": "ALL", "order_by": ["name"]}),
    ("SearchExperiments", {"max_results": 2**63, "view_type": 1}),
    ("SearchExperiments", {"view_type": "x", "max_results": "y"}),
]


@pytest.mark.parametrize(("message", "body"), CASES)
def test_request_like_mlflow(core, message, body):
    check(core, message, body)


def test_parsed_values(core):
    """The result shape, spelled out (the oracle aside)."""
    body = {
        "run_id": "r",
        "metrics": [{"key": "m", "value": "NaN", "timestamp": "5", "step": 1.0}],
        "params": [{"key": "p", "value": "v"}],
        "tags": [{"key": "t"}],
    }
    parsed = core.parse.parse_request("LogBatch", body)
    assert list(parsed) == ["run_id", "metrics", "params", "tags"]
    [metric] = parsed["metrics"]
    assert metric[0] == "m" and math.isnan(metric[1]) and metric[2:] == (5, 1, "", "", "", "")
    assert type(metric[2]) is int and type(metric[3]) is int
    assert parsed["params"] == [("p", "v")] and parsed["tags"] == [("t", "")]
    values, present = core.parse.parse_request_with_presence(
        "UpdateRun", {"run_id": "r", "endTime": 0}
    )
    assert values == {"run_id": "r", "run_uuid": "", "status": 1, "end_time": 0, "run_name": ""}
    assert present == {"run_id", "end_time"}
    assert core.parse.parse_request("SearchRuns", {})["max_results"] == 1000


def test_error_messages_spelled_out(core):
    """Messages as MLflow writes them, checked without the oracle."""
    cases = [
        (
            {"run_id": "r", "metrics": [{"key": "m", "value": "x", "timestamp": 1}]},
            "Failed to parse metrics field: Failed to parse value field: Couldn't parse float: x"
            " at LogBatch.metrics[0].value..",
        ),
        (
            {"run_id": "r", "metrics": [{"key": "m", "timestamp": 1}]},
            "Missing value for required parameter 'metrics[0].value'. See the API docs for more"
            " information about request parameters.",
        ),
        (
            {"run_id": 5},
            "Invalid value 5 for parameter 'run_id' supplied:  Hint: Value was of type 'int'."
            " See the API docs for more information about request parameters.",
        ),
        (
            {"run_id": "r", "runId": "s"},
            "Request specifies both 'run_id' and 'runId'; provide only one of them.",
        ),
    ]
    for body, message in cases:
        with pytest.raises(MlflowException) as info:
            core.parse.parse_request("LogBatch", body)
        assert info.value.error_code == IPV
        assert info.value.message == message


def test_agree_can_fail():
    with pytest.raises(AssertionError):
        agree(("refused", IPV, "a"), ("refused", IPV, "b"))
    with pytest.raises(AssertionError):
        agree(("ok", _norm({"a": 1}), frozenset()), ("ok", _norm({"a": 1.0}), frozenset()))
    with pytest.raises(AssertionError):
        agree(("partial", "x"), ("ok", _norm({}), frozenset()))


def test_unknown_message(core):
    with pytest.raises(ValueError, match="unknown request message"):
        core.parse.parse_request("NoSuchMessage", {})


def test_batch_size_limit(core):
    """``_validate_batch_log_api_req`` measures the decoded body: keys of an object, characters
    of a double-encoded string."""
    from mlflow.utils.validation import MAX_BATCH_LOG_REQUEST_SIZE, _validate_batch_log_api_req

    assert core.parse.MAX_BATCH_LOG_REQUEST_SIZE == MAX_BATCH_LOG_REQUEST_SIZE
    too_big = dict.fromkeys(map(str, range(MAX_BATCH_LOG_REQUEST_SIZE + 1)), 0)
    for body in (too_big, json.dumps({"run_id": "r", "x": "y" * MAX_BATCH_LOG_REQUEST_SIZE})):
        with pytest.raises(MlflowException) as theirs:
            _validate_batch_log_api_req(body)
        with pytest.raises(MlflowException) as ours:
            core.parse.parse_request("LogBatch", body)
        assert (ours.value.error_code, ours.value.message) == (IPV, theirs.value.message)
    del too_big["0"], too_big["1"]
    assert core.parse.parse_request("LogBatch", {**too_big, "run_id": "r"})["run_id"] == "r"


# -- requests: GET query strings -----------------------------------------------------------------

QUERIES = [
    ("GetRun", [("run_id", "r")]),
    ("GetRun", [("run_uuid", "r"), ("run_id", "")]),
    ("GetRun", [("runId", "r")]),
    ("GetMetricHistory", [("run_id", "r"), ("metric_key", "m"), ("max_results", "10")]),
    ("GetMetricHistory", [("run_id", "r"), ("metric_key", "m"), ("max_results", "x")]),
    ("GetMetricHistory", [("run_id", "r"), ("run_id", "s"), ("metric_key", "m")]),
    ("GetExperimentByName", [("experiment_name", "e")]),
    ("GetExperiment", [("experiment_id", "1")]),
    ("SearchExperiments", [("max_results", "3"), ("order_by", "a"), ("order_by", "b")]),
    ("SearchExperiments", [("view_type", "ALL"), ("filter", "name = 'x'")]),
    ("SearchRuns", [("experiment_ids", "1"), ("max_results", "60000")]),
]


@pytest.mark.parametrize(("message", "query"), QUERIES)
def test_query_like_mlflow(core, message, query):
    check(core, message, query=query)


def test_query_forms(core):
    from werkzeug.datastructures import MultiDict

    pairs = [("order_by", "a"), ("max_results", "3"), ("order_by", "b"), ("x", "y")]
    expected = {"max_results": "3", "order_by": ["a", "b"]}
    assert core.parse.query_to_json("SearchExperiments", pairs) == expected
    assert core.parse.query_to_json("SearchExperiments", MultiDict(pairs)) == expected
    mapping = {"order_by": ["a", "b"], "max_results": "3"}
    assert core.parse.query_to_json("SearchExperiments", mapping) == expected


# -- requests: generated bodies ------------------------------------------------------------------

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-3, 6),
    st.floats(),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "-5",
            " 1",
            "1 ",
            "\t3",
            "1e3",
            "1.5",
            "1.0",
            "NaN",
            "nan",
            "NAN",
            "Infinity",
            "-Infinity",
            "inf",
            "abc",
            "1_000",
            "0x10",
            "RUNNING",
            "FINISHED",
            "ALL",
            "DELETED_ONLY",
            "FOO",
            "\u0663",
            "9223372036854775808",
            "2147483648",
            "[x]",
            "\ud800",
            "\u00e9",
            "key",
            "null",
        ]
    ),
    st.text(max_size=6),
    st.lists(st.one_of(st.integers(0, 3), st.text(max_size=3), st.none()), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _valid(field):
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return st.text(max_size=10)
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
        bits = 63 if kind == FieldDescriptor.TYPE_INT64 else 31
        ints = st.integers(-(2**bits), 2**bits - 1)
        return st.one_of(ints, ints.map(str), st.integers(-(2**40), 2**40).map(float))
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.floats(allow_nan=False).map(repr),
            st.integers(-(2**60), 2**60),
            st.sampled_from(["NaN", "Infinity", "-Infinity"]),
        )
    if kind == FieldDescriptor.TYPE_ENUM:
        values = field.enum_type.values
        return st.sampled_from([v.name for v in values] + [v.number for v in values])
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    return st.nothing()


_EXTRA_KEYS = st.sampled_from(["unknown", "[ext]", "[a.b]", "RUN_ID", "metric"])
_HOW = st.sampled_from(["valid"] * 12 + ["absent", "absent", "junk", "alias", "null", "both"])


def _value(field):
    """Mostly a value of the field's type, sometimes junk."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        item = st.one_of(*[_body(field.message_type)] * 4, _JUNK)
        return st.lists(item, max_size=3) if field.is_repeated else item
    if field.is_repeated:
        return st.lists(st.one_of(_valid(field), _valid(field), _JUNK), max_size=3)
    return _valid(field)


def _body(descriptor):
    """A body of ``descriptor``: each field valid, absent, junk, null, camelCase or spelled both
    ways; maybe an unknown key; in any order (the first error in body order is reported)."""

    @st.composite
    def build(draw):
        entries = []
        for field in descriptor.fields:
            how = draw(_HOW)
            if how == "absent":
                continue
            if how == "null":
                value = None
            elif how == "junk":
                value = draw(_JUNK)
            else:
                value = draw(_value(field))
            key = field.json_name if how == "alias" else field.name
            entries.append((key, value))
            if how == "both" and field.json_name != field.name:
                entries.append((field.json_name, draw(_value(field))))
        entries += draw(st.lists(st.tuples(_EXTRA_KEYS, _JUNK), max_size=1))
        return dict(draw(st.permutations(entries)))

    return build()


_SETTINGS = settings(
    max_examples=int(os.environ.get("CODEC_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("message", MESSAGES)
@_SETTINGS
@given(data=st.data())
def test_generated_requests_like_mlflow(core, message, data):
    body = data.draw(_body(_descriptor(message)))
    check(core, message, body)


def _metric_dicts(junk):
    """LogBatch metrics with key, value and timestamp; with ``junk``, scalars sometimes junk."""
    fields = service_pb2.Metric.DESCRIPTOR.fields_by_name

    def value(name):
        valid = _valid(fields[name])
        return st.one_of(valid, valid, valid, _JUNK) if junk else valid

    return st.lists(
        st.fixed_dictionaries(
            {"key": st.text(min_size=1, max_size=5), "value": value("value")},
            optional={
                "timestamp": value("timestamp"),
                "step": value("step"),
                "model_id": value("model_id"),
                "datasetName": value("dataset_name"),
            },
        ),
        max_size=5,
    )


@_SETTINGS
@given(
    metrics=_metric_dicts(junk=False),
    tags=st.lists(
        st.fixed_dictionaries({"key": st.text(min_size=1)}, optional={"value": st.text()})
    ),
)
def test_generated_valid_log_batches_like_mlflow(core, metrics, tags):
    got = check(core, "LogBatch", {"run_id": "r", "metrics": metrics, "tags": tags})
    if all("timestamp" in m for m in metrics):
        assert got[0] == "ok"


@_SETTINGS
@given(metrics=_metric_dicts(junk=True))
def test_generated_log_batch_values_like_mlflow(core, metrics):
    check(core, "LogBatch", {"run_id": "r", "metrics": metrics})


# -- responses ------------------------------------------------------------------------------------

_text = st.text(max_size=12)
_int64 = st.integers(-(2**63), 2**63 - 1)
_floats = st.one_of(st.floats(), st.sampled_from([1e-5, -3.2e-7, 1e16, 1e-4, 0.0, -0.0]))


@st.composite
def _metrics(draw):
    with_dataset = draw(st.booleans())
    return Metric(
        draw(_text),
        draw(_floats),
        draw(_int64),
        draw(_int64),
        model_id=draw(st.none() | _text),
        dataset_name=draw(_text) if with_dataset else None,
        dataset_digest=draw(_text) if with_dataset else None,
        run_id=draw(st.none() | _text),
    )


_run_infos = st.builds(
    RunInfo,
    run_id=_text,
    experiment_id=_text,
    user_id=_text,
    status=st.sampled_from(["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]),
    start_time=_int64,
    end_time=st.none() | _int64,
    lifecycle_stage=_text,
    artifact_uri=st.none() | _text,
    run_name=st.none() | _text,
)
_run_datas = st.builds(
    RunData,
    metrics=st.lists(_metrics(), max_size=3),
    params=st.lists(st.builds(Param, _text, _text), max_size=3),
    tags=st.lists(st.builds(RunTag, _text, _text), max_size=3),
)
_datasets = st.builds(
    Dataset, _text, _text, _text, _text, schema=st.none() | _text, profile=st.none() | _text
)
_run_inputs = st.builds(
    RunInputs,
    st.lists(
        st.builds(DatasetInput, _datasets, st.lists(st.builds(InputTag, _text, _text), max_size=2)),
        max_size=2,
    ),
    st.lists(st.builds(LoggedModelInput, st.none() | _text), max_size=2),
)
_run_outputs = st.builds(
    RunOutputs,
    st.lists(st.builds(LoggedModelOutput, st.none() | _text, st.none() | _int64), max_size=2),
)
_runs = st.builds(
    Run,
    _run_infos,
    st.none() | _run_datas,
    st.none() | _run_inputs,
    st.none() | _run_outputs,
)
_experiments = st.builds(
    Experiment,
    _text,
    _text,
    _text,
    _text,
    tags=st.lists(st.builds(ExperimentTag, _text, _text), max_size=3),
    creation_time=st.none() | _int64,
    last_update_time=st.none() | _int64,
    workspace=st.none() | _text,
    effective_trace_archival_retention=st.none() | _text,
)
_tokens = st.none() | _text
_model_versions = st.builds(
    ModelVersion,
    _text,
    st.integers(0, 10**6) | _text,
    _int64,
    last_updated_timestamp=st.none() | _int64,
    description=st.none() | _text,
    user_id=st.none() | _text,
    current_stage=st.none() | st.sampled_from(["None", "Staging", "Production", "Archived"]),
    source=st.none() | _text,
    run_id=st.none() | _text,
    status=st.sampled_from(["READY", "PENDING_REGISTRATION", "FAILED_REGISTRATION"]),
    status_message=st.none() | _text,
    tags=st.lists(st.builds(ModelVersionTag, _text, _text), max_size=2),
    run_link=st.none() | _text,
    aliases=st.lists(_text, max_size=2),
)
_registered_models = st.builds(
    RegisteredModel,
    _text,
    creation_timestamp=st.none() | _int64,
    last_updated_timestamp=st.none() | _int64,
    description=st.none() | _text,
    latest_versions=st.none() | st.lists(_model_versions, max_size=2),
    tags=st.lists(st.builds(RegisteredModelTag, _text, _text), max_size=2),
    aliases=st.lists(
        st.builds(RegisteredModelAlias, _text, st.integers(0, 10**6) | _text), max_size=2
    ),
    deployment_job_id=st.none() | _text,
    deployment_job_state=st.none() | st.sampled_from(["NOT_SET_UP", "CONNECTED", "NOT_FOUND"]),
)


def same_json(core, ours, message):
    """Our dict and bytes against ``message_to_json(message)``."""
    expected = message_to_json(message)
    assert _norm(ours) == _norm(json.loads(expected))
    assert core.json_writer.dumps(ours) == expected.encode()


@_SETTINGS
@given(run=_runs)
def test_run_like_message_to_json(core, run):
    same_json(core, core.render.run_to_dict(run), run.to_proto())
    response = service_pb2.GetRun.Response()
    response.run.MergeFrom(run.to_proto())
    same_json(core, core.render.run_response(run), response)


@_SETTINGS
@given(runs=st.lists(_runs, max_size=3), token=_tokens)
def test_search_runs_like_message_to_json(core, runs, token):
    response = service_pb2.SearchRuns.Response()
    response.runs.extend([r.to_proto() for r in runs])
    if token:
        response.next_page_token = token
    same_json(core, core.render.search_runs_response(runs, token), response)


@_SETTINGS
@given(metrics=st.lists(_metrics(), max_size=4), token=_tokens)
def test_metric_history_like_message_to_json(core, metrics, token):
    response = service_pb2.GetMetricHistory.Response()
    response.metrics.extend([m.to_proto() for m in metrics])
    if token:
        response.next_page_token = token
    same_json(core, core.render.metric_history_response(metrics, token), response)


@_SETTINGS
@given(run_info=_run_infos)
def test_update_run_like_message_to_json(core, run_info):
    response = service_pb2.UpdateRun.Response(run_info=run_info.to_proto())
    same_json(core, core.render.update_run_response(run_info), response)


@_SETTINGS
@given(model=_registered_models, models=st.lists(_registered_models, max_size=3), token=_tokens)
def test_registered_models_like_message_to_json(core, model, models, token):
    response = model_registry_pb2.GetRegisteredModel.Response(registered_model=model.to_proto())
    same_json(core, core.render.registered_model_response(model), response)
    response = model_registry_pb2.SearchRegisteredModels.Response()
    response.registered_models.extend([m.to_proto() for m in models])
    if token:
        response.next_page_token = token
    same_json(core, core.render.search_registered_models_response(models, token), response)


@_SETTINGS
@given(version=_model_versions, versions=st.lists(_model_versions, max_size=3), token=_tokens)
def test_model_versions_like_message_to_json(core, version, versions, token):
    response = model_registry_pb2.GetModelVersion.Response(model_version=version.to_proto())
    same_json(core, core.render.model_version_response(version), response)
    response = model_registry_pb2.GetLatestVersions.Response()
    response.model_versions.extend([v.to_proto() for v in versions])
    same_json(core, core.render.latest_versions_response(versions), response)
    response = model_registry_pb2.SearchModelVersions.Response()
    response.model_versions.extend([v.to_proto() for v in versions])
    if token:
        response.next_page_token = token
    same_json(core, core.render.search_model_versions_response(versions, token), response)


@_SETTINGS
@given(uri=_text)
def test_download_uri_like_message_to_json(core, uri):
    response = model_registry_pb2.GetModelVersionDownloadUri.Response(artifact_uri=uri)
    same_json(core, core.render.download_uri_response(uri), response)


@_SETTINGS
@given(experiment=_experiments, experiments=st.lists(_experiments, max_size=3), token=_tokens)
def test_experiments_like_message_to_json(core, experiment, experiments, token):
    same_json(core, core.render.experiment_to_dict(experiment), experiment.to_proto())
    response = service_pb2.GetExperimentByName.Response()
    response.experiment.MergeFrom(experiment.to_proto())
    same_json(core, core.render.experiment_response(experiment), response)
    response = service_pb2.SearchExperiments.Response()
    response.experiments.extend([e.to_proto() for e in experiments])
    if token:
        response.next_page_token = token
    same_json(core, core.render.search_experiments_response(experiments, token), response)


@_SETTINGS
@given(experiment_id=_text)
def test_create_experiment_like_message_to_json(core, experiment_id):
    response = service_pb2.CreateExperiment.Response()
    response.experiment_id = experiment_id
    same_json(core, core.render.create_experiment_response(experiment_id), response)


def test_empty_responses(core):
    for response in (service_pb2.LogBatch.Response(), service_pb2.SetTag.Response()):
        same_json(core, core.render.empty_response(), response)


def test_entity_pieces(core):
    metric = Metric("m", float("nan"), 1, 2, dataset_name="d", dataset_digest="x")
    same_json(core, core.render.metric_to_dict(metric), metric.to_proto())
    assert core.render.metric_to_dict(metric)["value"] == "NaN"
    assert core.render.metric_to_dict(Metric("m", -math.inf, 1, 2))["value"] == "-Infinity"
    assert core.render.metric_to_dict(Metric("m", 3, 1, 2))["value"] == 3.0
    run = Run(RunInfo("r", "0", "u", "RUNNING", 0, None, "active"), RunData(), RunInputs([]))
    assert (
        core.render.run_to_dict(run)["data"] == {} and core.render.run_to_dict(run)["inputs"] == {}
    )
    same_json(core, core.render.run_to_dict(run), run.to_proto())


BAD_ENTITIES = [
    Metric("m", 1.0, 1.0, 0),
    Metric("m", 1.0, True, 0),
    Metric("m", "1.0", 1, 0),
    Metric("m", None, 1, 0),
    Metric(None, 1.0, 1, 0),
    Metric(5, 1.0, 1, 0),
    Metric("m", 1.0, 2**63, 0),
    Metric("\ud800", 1.0, 1, 0),
    Metric("m", 1.0, 1, 0, model_id=7),
    RunInfo("r", "0", "u", "DONE", 0, None, "active"),
    RunInfo("r", "0", "u", "RUNNING", "0", None, "active"),
    RunInfo("r", "0", "u", "RUNNING", 0, 1.5, "active"),
    RunInfo(None, "0", "u", "RUNNING", 0, None, "active"),
]


@pytest.mark.parametrize("entity", BAD_ENTITIES, ids=repr)
def test_refused_entities_like_to_proto(core, entity):
    to_dict = (
        core.render.metric_to_dict if isinstance(entity, Metric) else core.render.run_info_to_dict
    )
    with pytest.raises(Exception) as theirs:
        entity.to_proto()
    with pytest.raises(Exception) as ours:
        to_dict(entity)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


# -- dumps ----------------------------------------------------------------------------------------

_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-(2**64), 2**65),
        st.floats(),
        st.floats(min_value=-1e-3, max_value=1e-3),
        st.text(),
        st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Co", "Zl", "So"])),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=25,
)


@settings(deadline=None, max_examples=int(os.environ.get("CODEC_EXAMPLES", "120")) * 3)
@given(value=_json_values)
def test_dumps_is_json_dumps_indent_2(core, value):
    assert core.json_writer.dumps(value) == json.dumps(value, indent=2).encode()


DUMPS_CASES = [
    {},
    [],
    [[]],
    {"a": {}},
    0.00001,
    -1e-7,
    [1e-05, 9.999999999999999e-05, 1.5e-9, 1e-10, 1e22, 1e16, 123456789012345.0],
    {"k": "10.00001", "0.00001": "e-5", "x": "a 1e-7"},
    {"x": 1e-5, "y": [2e-6, {"z": -3.5e-8}]},
    '\u00e9\x7f\u2028\U0001f600\x00\x1f"\\/',
    {"\u00e9": ["\x7f", 1e-5]},
    float("nan"),
    [math.inf, -math.inf],
    2**64,
    -(2**63) - 1,
    2**64 - 1,
    {1: "int key"},
    "\ud800",
    True,
    None,
]


@pytest.mark.parametrize("value", DUMPS_CASES, ids=repr)
def test_dumps_cases(core, value):
    assert core.json_writer.dumps(value) == json.dumps(value, indent=2).encode()


def test_dumps_refuses_what_json_refuses(core):
    for value in ({"a": object()}, {(1, 2): 3}):
        with pytest.raises(TypeError):
            core.json_writer.dumps(value)


def test_dumps_deep_nesting(core):
    value = []
    for _ in range(300):
        value = [value]
    assert core.json_writer.dumps(value) == json.dumps(value, indent=2).encode()


def test_generated_bodies_are_not_all_trivial():
    """Guard on the generator: it reaches acceptance, refusal and half-parsed outcomes."""
    seen = set()

    @settings(
        max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def run(data):
        body = {"run_id": "r", "metrics": data.draw(_metric_dicts(junk=True))}
        seen.add(mlflow_outcome("LogBatch", body)[0])

    run()
    assert {"ok", "refused", "partial"} <= seen
