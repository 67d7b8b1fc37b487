"""Database rows -> MLflow entities, as MLflow's ORM models convert them.

Row shapes are the column lists below, so the SQL that reads them and the code that converts
them stay in one place.
"""

from __future__ import annotations

from mlflow.entities import Metric, Param, Run, RunData, RunInfo, RunInputs, RunTag
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

RUN_COLUMN_NAMES = (
    "run_uuid",
    "name",
    "experiment_id",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "artifact_uri",
)
RUN_COLUMNS = ", ".join(f"runs.{name}" for name in RUN_COLUMN_NAMES)
METRIC_COLUMNS = '"key", value, timestamp, step, is_nan'


def run_info(row, tags=()) -> RunInfo:
    """A ``RunInfo`` from a :data:`RUN_COLUMNS` row; an unnamed run takes its name tag's value."""
    run_uuid, name, experiment_id, user_id, status, start, end, stage, artifact_uri = row
    if not name:
        name = next((value for key, value in tags if key == MLFLOW_RUN_NAME), name)
    return RunInfo(
        run_id=run_uuid,
        run_name=name,
        experiment_id=str(experiment_id),
        user_id=user_id,
        status=status,
        start_time=start,
        end_time=end,
        lifecycle_stage=stage,
        artifact_uri=artifact_uri,
    )


def metric(row) -> Metric:
    """A ``Metric`` from a :data:`METRIC_COLUMNS` row (NaN restored from ``is_nan``)."""
    key, value, timestamp, step, is_nan = row
    return Metric(key=key, value=float("nan") if is_nan else value, timestamp=timestamp, step=step)


def run(row, metrics, params, tags, inputs=None, outputs=None) -> Run:
    """A ``Run`` from a run row and its ``latest_metrics``, ``params`` and ``tags`` rows."""
    data = RunData(
        metrics=[metric(m) for m in metrics],
        params=[Param(key, value) for key, value in params],
        tags=[RunTag(key, value) for key, value in tags],
    )
    return Run(run_info(row, tags), data, inputs or RunInputs(dataset_inputs=[]), outputs)
