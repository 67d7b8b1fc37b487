"""The fast tracking handlers: runs, metrics, params, tags and experiments.

Each does what MLflow's Flask handler of the same name does (``mlflow.server.handlers``), without
Flask, protobuf or the ORM: the core parses and checks the request as ``_get_request_message``
would, the accelerated store does the work, and the core renders the response message as
``message_to_json`` does. Refusals are MLflow's (same status, error code and message); where
MLflow's handler would crash (an HTML 500), the parser refuses with a JSON 400. ``TRACKING`` maps
MLflow's Flask endpoint names to these handlers.
"""

from __future__ import annotations

from mlflow.entities import ExperimentTag, Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST

from mlflow_accel import _compat
from mlflow_accel._core import render
from mlflow_accel.server.http.request import FastRequest, page_token, values, values_and_presence


def _store():
    return _compat.server_tracking_store()


# -- runs ----------------------------------------------------------------------------------------


def log_batch(request: FastRequest) -> dict:
    fields = values("LogBatch", request)
    run_id, metrics, params, tags = (
        fields["run_id"],
        fields["metrics"],
        fields["params"],
        fields["tags"],
    )
    if any(metric[6] for metric in metrics):  # bound to a logged model: needs Metric entities
        _store().log_batch(
            run_id,
            [
                Metric(
                    m[0], m[1], m[2], m[3], m[6] or None, m[4] or None, m[5] or None, m[7] or None
                )
                for m in metrics
            ],
            [Param(key, value) for key, value in params],
            [RunTag(key, value) for key, value in tags],
        )
    else:
        _store().log_batch_values(run_id, [m[:4] for m in metrics], params, tags)
    return render.empty_response()


def log_metric(request: FastRequest) -> dict:
    fields = values("LogMetric", request)
    metric = Metric(
        fields["key"],
        fields["value"],
        fields["timestamp"],
        fields["step"],
        fields["model_id"] or None,
        fields["dataset_name"] or None,
        fields["dataset_digest"] or None,
        fields["run_id"] or None,
    )
    _store().log_metric(fields["run_id"] or fields["run_uuid"], metric)
    return render.empty_response()


def log_param(request: FastRequest) -> dict:
    fields = values("LogParam", request)
    _store().log_param(
        fields["run_id"] or fields["run_uuid"], Param(fields["key"], fields["value"])
    )
    return render.empty_response()


def set_tag(request: FastRequest) -> dict:
    fields = values("SetTag", request)
    _store().set_tag(fields["run_id"] or fields["run_uuid"], RunTag(fields["key"], fields["value"]))
    return render.empty_response()


def create_run(request: FastRequest) -> dict:
    fields = values("CreateRun", request)
    run = _store().create_run(
        experiment_id=fields["experiment_id"],
        user_id=fields["user_id"],
        start_time=fields["start_time"],
        tags=[RunTag(key, value) for key, value in fields["tags"]],
        run_name=fields["run_name"],
    )
    return render.run_response(run)


def update_run(request: FastRequest) -> dict:
    fields, present = values_and_presence("UpdateRun", request)
    run_info = _store().update_run_info(
        fields["run_id"] or fields["run_uuid"],
        fields["status"] if "status" in present else None,
        fields["end_time"] if "end_time" in present else None,
        fields["run_name"] if "run_name" in present else None,
    )
    return render.update_run_response(run_info)


def get_run(request: FastRequest) -> dict:
    fields = values("GetRun", request)
    return render.run_response(_store().get_run(fields["run_id"] or fields["run_uuid"]))


def search_runs(request: FastRequest) -> dict:
    fields, present = values_and_presence("SearchRuns", request)
    view_type = ViewType.ACTIVE_ONLY
    if "run_view_type" in present:
        view_type = ViewType.from_proto(fields["run_view_type"])
    runs = _store().search_runs(
        experiment_ids=_compat.auth_readable_experiment_ids(list(fields["experiment_ids"])),
        filter_string=fields["filter"],
        run_view_type=view_type,
        max_results=fields["max_results"],
        order_by=fields["order_by"],
        page_token=page_token(fields),
    )
    return render.search_runs_response(runs, runs.token)


def get_metric_history(request: FastRequest) -> dict:
    fields, present = values_and_presence("GetMetricHistory", request)
    max_results = fields["max_results"] if "max_results" in present else None
    if max_results is not None and max_results <= 0:
        raise MlflowException(
            f"Invalid value {max_results} for parameter 'max_results' supplied. "
            "It must be a positive integer.",
            error_code=INVALID_PARAMETER_VALUE,
        )
    metrics = _store().get_metric_history(
        fields["run_id"] or fields["run_uuid"],
        fields["metric_key"],
        max_results=max_results,
        page_token=page_token(fields),
    )
    return render.metric_history_response(metrics, metrics.token)


# -- experiments ---------------------------------------------------------------------------------


def create_experiment(request: FastRequest) -> dict:
    fields = values("CreateExperiment", request)
    tags = [ExperimentTag(key, value) for key, value in fields["tags"]]
    _compat.validate_custom_view_count(tags)
    artifact_location = fields["artifact_location"]
    if artifact_location:
        _compat.validate_storage_location_uri(artifact_location, "artifact_location")
    experiment_id = _store().create_experiment(fields["name"], artifact_location, tags)
    return render.create_experiment_response(experiment_id)


def get_experiment(request: FastRequest) -> dict:
    fields = values("GetExperiment", request)
    return render.experiment_response(_store().get_experiment(fields["experiment_id"]))


def get_experiment_by_name(request: FastRequest) -> dict:
    name = values("GetExperimentByName", request)["experiment_name"]
    experiment = _store().get_experiment_by_name(name)
    if experiment is None:
        raise MlflowException(
            f"Could not find experiment with name '{name}'", error_code=RESOURCE_DOES_NOT_EXIST
        )
    return render.experiment_response(experiment)


def search_experiments(request: FastRequest) -> dict:
    fields = values("SearchExperiments", request)
    experiments = _store().search_experiments(
        view_type=fields["view_type"],
        max_results=fields["max_results"],
        order_by=fields["order_by"],
        filter_string=fields["filter"],
        page_token=page_token(fields),
    )
    return render.search_experiments_response(experiments, experiments.token)


#: MLflow's Flask endpoint name -> our handler.
TRACKING = {
    "_log_batch": log_batch,
    "_log_metric": log_metric,
    "_log_param": log_param,
    "_set_tag": set_tag,
    "_create_run": create_run,
    "_update_run": update_run,
    "_get_run": get_run,
    "_search_runs": search_runs,
    "_get_metric_history": get_metric_history,
    "_create_experiment": create_experiment,
    "_get_experiment": get_experiment,
    "_get_experiment_by_name": get_experiment_by_name,
    "_search_experiments": search_experiments,
}
