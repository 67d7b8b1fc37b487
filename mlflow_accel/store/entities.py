"""Database rows -> MLflow entities, as MLflow's ORM models convert them.

Row shapes are the column lists below, so the SQL that reads them and the code that converts
them stay in one place.
"""

from __future__ import annotations

from mlflow.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunTag,
)
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
# A run's dataset inputs, one row per input tag (or per tagless input); the columns MLflow's
# loader selects, so the database plans (and orders) the rows as it does for MLflow.
DATASET_INPUT_COLUMNS = (
    "inputs.input_uuid, inputs.destination_id AS run_uuid, datasets.dataset_uuid,"
    " datasets.experiment_id, datasets.name, datasets.digest, datasets.dataset_source_type,"
    " datasets.dataset_source, datasets.dataset_schema, datasets.dataset_profile,"
    " input_tags.input_uuid, input_tags.name, input_tags.value"
)
INPUT_COLUMNS = (
    "inputs.input_uuid, inputs.source_type, inputs.source_id, inputs.destination_type,"
    " inputs.destination_id, inputs.step"
)


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


def dataset_inputs(rows, run_ids) -> dict[str, list[DatasetInput]]:
    """Each run's ``DatasetInput``s from :data:`DATASET_INPUT_COLUMNS` rows: one per dataset in
    order of first row, its tags in row order."""
    per_run = {run_id: {} for run_id in run_ids}
    for row in rows:
        run_id, dataset_uuid = row[1], row[2]
        name, digest, source_type, source, schema, profile = row[4:10]
        tagged_input, tag_name, tag_value = row[10:]
        found = per_run[run_id].get(dataset_uuid)
        if found is None:
            dataset = Dataset(name, digest, source_type, source, schema, profile)
            found = per_run[run_id][dataset_uuid] = DatasetInput(dataset, [])
        if tagged_input is not None:
            found.tags.append(InputTag(tag_name, tag_value))
    return {run_id: list(inputs.values()) for run_id, inputs in per_run.items()}


def model_links(rows, run_ids) -> dict[str, tuple[list, list]]:
    """Each run's ``(LoggedModelInput list, LoggedModelOutput list)`` from
    :data:`INPUT_COLUMNS` rows of ``RUN_INPUT``/``RUN_OUTPUT`` links, in row order."""
    per_run = {run_id: ([], []) for run_id in run_ids}
    for _, source_type, run_id, _, model_id, step in rows:
        if source_type == "RUN_INPUT":
            per_run[run_id][0].append(LoggedModelInput(model_id))
        else:
            per_run[run_id][1].append(LoggedModelOutput(model_id, step))
    return per_run
