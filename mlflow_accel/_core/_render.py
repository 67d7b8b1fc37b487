"""MLflow entities -> the response dicts ``message_to_json(entity.to_proto())`` decodes to.

``*_to_dict`` render one entity, ``*_response`` one response message: snake_case keys in
field-number order, int64 as JSON numbers, NaN/+inf/-inf doubles as ``"NaN"``/``"Infinity"``/
``"-Infinity"``, unset fields and empty repeated fields omitted as ``to_proto`` and
``MessageToDict`` leave them, the same exceptions as ``to_proto`` for values protobuf refuses.

Cython pure-Python mode: compiled when built, imported as plain Python otherwise.
"""

import builtins
import json
import math
import operator

from mlflow_accel import _core

try:
    import cython
except ImportError:
    from mlflow_accel._core import _cython_shim as cython

_messages = _core.sibling(__name__, "messages")

# Builtins called through module globals so that Cython does not swap in its own conversions:
# every accepted value and every error message must be CPython's, as protobuf sees them.
_int = builtins.int
_float = builtins.float

_I64_MIN = _messages.I64_MIN
_I64_MAX = _messages.I64_MAX
_RUN_STATUS_NAMES = frozenset(_messages.RUN_STATUS[1])


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
    """The response of LogBatch, LogMetric, LogParam, SetTag, DeleteModelVersion, ...: ``{}``."""
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
