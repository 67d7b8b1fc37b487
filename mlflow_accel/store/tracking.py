"""``AccelTrackingStore``: MLflow's SQL tracking store with its hot methods in plain SQL.

A subclass of MLflow's ``SqlAlchemyStore`` on the same engine, pool and schema. The methods a
training job and the UI call most — logging, run create/update/get, metric history, experiment
lookup/creation, run search — run as a few plain SQL statements in **one transaction** each
(``log_batch`` is all-or-nothing, unlike stock). Every other method, and every case these do not
cover (a database dialect we do not know), is MLflow's own inherited code.

``AccelWorkspaceTrackingStore`` is the same over MLflow's workspace-aware store: every run and
experiment statement is additionally scoped to the active workspace.
"""

from __future__ import annotations

import uuid

import sqlalchemy
from mlflow.entities import (
    Experiment,
    LifecycleStage,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
)
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.tracking.dbmodels.models import SqlExperiment, SqlExperimentTag, SqlRun
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME
from mlflow.utils.search_utils import SearchUtils
from mlflow.utils.time import get_current_time_millis
from mlflow.utils.uri import append_to_uri_path, resolve_uri_if_local

from mlflow_accel import _compat
from mlflow_accel._core import rows, validation
from mlflow_accel.store import dialects, entities
from mlflow_accel.store.base import AccelStore, accelerated

_RUN_SELECT = f"SELECT {entities.RUN_COLUMNS} FROM runs"
# The run row and, last, whether MLflow would load inputs/outputs for it (one round trip).
_RUN_SELECT_WITH_LINKS = (
    f"SELECT {entities.RUN_COLUMNS}, (EXISTS (SELECT 1 FROM inputs WHERE destination_type = 'RUN'"
    " AND destination_id = runs.run_uuid) OR EXISTS (SELECT 1 FROM inputs WHERE source_id ="
    " runs.run_uuid AND source_type IN ('RUN_INPUT', 'RUN_OUTPUT'))) FROM runs"
)
_EXPERIMENT_COLUMNS = (
    "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time, "
    "workspace"
)
_INSERT_RUN = (
    f"INSERT INTO runs ({', '.join(entities.RUN_COLUMN_NAMES)}, source_type, source_name,"
    " entry_point_name, deleted_time, source_version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'UNKNOWN', '', '', NULL, '')"
)
_IN_CHUNK = 500
_LATEST_METRICS_OF_RUNS = (
    f"SELECT run_uuid, {entities.METRIC_COLUMNS} FROM latest_metrics WHERE run_uuid IN ({{ids}})"
)
_PARAMS_AND_TAGS_OF_RUNS = (
    'SELECT 1, run_uuid, "key", value FROM params WHERE run_uuid IN ({ids}) '
    'UNION ALL SELECT 2, run_uuid, "key", value FROM tags WHERE run_uuid IN ({ids})'
)
# The statements MLflow's run-inputs/outputs loaders issue (same joins, filters and order), so
# the database returns the rows in the order MLflow's entities have.
_DATASET_INPUTS_OF_RUNS = (
    f"SELECT {entities.DATASET_INPUT_COLUMNS} FROM inputs"
    " JOIN datasets ON inputs.source_id = datasets.dataset_uuid"
    " LEFT OUTER JOIN input_tags ON input_tags.input_uuid = inputs.input_uuid"
    " WHERE inputs.destination_type = 'RUN' AND inputs.destination_id IN ({ids})"
    " ORDER BY run_uuid"
)
_MODEL_OUTPUTS_OF_RUNS = (
    f"SELECT {entities.INPUT_COLUMNS} FROM inputs WHERE inputs.source_type = 'RUN_OUTPUT'"
    " AND inputs.source_id IN ({ids}) AND inputs.destination_type = 'MODEL_OUTPUT'"
)
_MODEL_INPUTS_AND_OUTPUTS_OF_RUNS = (
    f"SELECT {entities.INPUT_COLUMNS} FROM inputs WHERE inputs.source_type = 'RUN_INPUT'"
    " AND inputs.source_id IN ({ids}) AND inputs.destination_type = 'MODEL_INPUT'"
    f" UNION ALL {_MODEL_OUTPUTS_OF_RUNS}"
)
_STORED_MODEL_METRICS = (
    "SELECT model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, run_id,"
    " dataset_name, dataset_digest FROM logged_model_metrics WHERE run_id = ?"
    " AND metric_name IN ({ids})"
)
_HAS_INPUTS_OR_OUTPUTS = (
    "SELECT 1 FROM inputs WHERE destination_type = 'RUN' AND destination_id IN ({ids}) "
    "UNION ALL SELECT 1 FROM inputs WHERE source_type IN ('RUN_INPUT', 'RUN_OUTPUT') "
    "AND source_id IN ({ids}) LIMIT 1"
)


def _model_metric(metric) -> tuple:
    """Every field of a ``Metric``, for :func:`rows.model_metric_rows`."""
    return (
        metric.key,
        metric.value,
        metric.timestamp,
        metric.step,
        metric.model_id,
        metric.dataset_name,
        metric.dataset_digest,
        metric.run_id,
    )


def _model_metric_key(row) -> tuple:
    """The primary key of a ``logged_model_metrics`` row: model, name, timestamp, step, run."""
    return (*row[:4], row[5])


class AccelTrackingStore(AccelStore, _compat.SqlAlchemyStore):
    """MLflow's ``SqlAlchemyStore`` with accelerated hot methods; see the module docstring."""

    #: Whether statements are scoped to the active workspace (the workspace-aware variant).
    _workspace_scoped = False

    # ----------------------------------------------------------------------------- helpers

    def _scope(self, alias: str) -> tuple[str, tuple]:
        """A join to ``experiments`` limiting ``alias.experiment_id`` to the active workspace."""
        if not self._workspace_scoped:
            return "", ()
        return (
            f" JOIN experiments scope ON scope.experiment_id = {alias}.experiment_id"
            " AND scope.workspace = ?",
            (self._get_active_workspace(),),
        )

    def _run_row(self, cursor, run_id, select=_RUN_SELECT):
        """The run's :data:`entities.RUN_COLUMNS` row, or MLflow's not-found error."""
        join, args = self._scope("runs")
        cursor.execute(self._sql(f"{select}{join} WHERE runs.run_uuid = ?"), (*args, run_id))
        row = cursor.fetchone()
        if row is None:
            raise MlflowException(f"Run with id={run_id} not found", RESOURCE_DOES_NOT_EXIST)
        return row

    def _active_run_row(self, cursor, run_id):
        row = self._run_row(cursor, run_id)
        if row[7] != LifecycleStage.ACTIVE:
            raise MlflowException(
                f"The run {run_id} must be in the 'active' state. Current state is {row[7]}.",
                INVALID_PARAMETER_VALUE,
            )
        return row

    def _in_chunks(self, cursor, statement: str, ids, *before):
        """Rows of ``statement`` (with ``{ids}`` for an ``IN`` list) over ``ids`` in chunks."""
        repeats = statement.count("{ids}")
        found = []
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            marks = self._dialect.placeholders(len(chunk))
            cursor.execute(self._sql(statement.format(ids=marks)), (*before, *chunk * repeats))
            found.extend(cursor.fetchall())
        return found

    def _has_inputs_or_outputs(self, cursor, run_ids) -> bool:
        """Whether any of the runs has dataset inputs or logged-model inputs/outputs."""
        return bool(self._in_chunks(cursor, _HAS_INPUTS_OR_OUTPUTS, run_ids))

    def _run_children(self, cursor, run_ids):
        """``{run_id: (latest_metrics rows, params rows, tags rows)}`` for ``run_ids``.

        Two statements whatever the number of runs (per chunk): metrics, then params and tags
        together, so a remote database costs two round trips.
        """
        children = {run_id: ([], [], []) for run_id in run_ids}
        for row in self._in_chunks(cursor, _LATEST_METRICS_OF_RUNS, run_ids):
            children[row[0]][0].append(row[1:])
        for row in self._in_chunks(cursor, _PARAMS_AND_TAGS_OF_RUNS, run_ids):
            children[row[1]][row[0]].append(row[2:])
        return children

    def _run_links(self, cursor, run_ids, *, model_inputs: bool):
        """``{run_id: (RunInputs, RunOutputs)}`` as MLflow loads them: dataset inputs, logged-model
        inputs when ``model_inputs`` (MLflow's run search leaves them out), model outputs."""
        datasets = entities.dataset_inputs(
            self._in_chunks(cursor, _DATASET_INPUTS_OF_RUNS, run_ids), run_ids
        )
        statement = _MODEL_INPUTS_AND_OUTPUTS_OF_RUNS if model_inputs else _MODEL_OUTPUTS_OF_RUNS
        models = entities.model_links(self._in_chunks(cursor, statement, run_ids), run_ids)
        return {
            run_id: (
                RunInputs(dataset_inputs=datasets[run_id], model_inputs=models[run_id][0]),
                RunOutputs(models[run_id][1]),
            )
            for run_id in run_ids
        }

    # ------------------------------------------------------------------------------ writes

    def _write_metrics(self, cursor, metric_rows, latest_rows):
        dialect = self._dialect
        dialect.write_rows(cursor, dialect.insert_metrics, metric_rows)
        if dialect.upserts_latest_metrics:
            dialect.write_rows(cursor, dialect.upsert_latest_metrics, latest_rows)
            return
        run_id = latest_rows[0][5]
        keys = [row[0] for row in latest_rows]
        cursor.execute(dialect.lock_latest_metrics(len(keys)), (run_id, *keys))
        stored = {key: (step, timestamp, value) for key, value, timestamp, step in cursor}
        inserts, updates = [], []
        for key, value, timestamp, step, is_nan, _ in latest_rows:
            current = stored.get(key)
            if current is None:
                inserts.append((key, value, timestamp, step, is_nan, run_id))
            elif (step, timestamp, value) > current:
                updates.append((value, timestamp, step, is_nan, key, run_id))
        dialect.write_rows(cursor, dialects.INSERT_LATEST_METRICS, inserts)
        if updates:
            cursor.executemany(dialect.update_latest_metric, updates)

    def _write_params(self, cursor, run_id, param_rows):
        """Insert new params; the same value again is a no-op, a different one MLflow's error."""
        keys = [key for key, _, _ in param_rows]
        stored = dict(
            self._in_chunks(
                cursor,
                'SELECT "key", value FROM params WHERE run_uuid = ? AND "key" IN ({ids})',
                keys,
                run_id,
            )
        )
        conflicts = [
            {"key": key, "old_value": stored[key], "new_value": value}
            for key, value, _ in param_rows
            if key in stored and stored[key] != value
        ]
        if conflicts:
            raise MlflowException(
                "Changing param values is not allowed. Params were already"
                f" logged='{conflicts}' for run ID='{run_id}'.",
                INVALID_PARAMETER_VALUE,
            )
        new = [row for row in param_rows if row[0] not in stored]
        if new:
            self._dialect.write_rows(cursor, dialects.INSERT_PARAMS, new)

    def _write_tags(self, cursor, run_id, tag_rows, run_name):
        self._dialect.write_rows(cursor, self._dialect.upsert_tags, tag_rows)
        if run_name is not None:
            cursor.execute(
                self._sql("UPDATE runs SET name = ? WHERE run_uuid = ?"), (run_name, run_id)
            )

    def _write_model_metrics(self, cursor, run_id, experiment_id, model_rows):
        """Write ``logged_model_metrics`` rows as MLflow does.

        MLflow inserts them all; if that breaks a key (one taken in the batch or already
        stored, or a model that does not exist), it inserts again only those not stored
        already (identical in every column), and that second insert's database error, if any,
        is the answer. Its quirk is kept: it looks stored rows up per 100 names and, lookup by
        lookup, adds every row that lookup did not find (so a row is dropped only if every
        lookup found it, and rows are inserted in that order).
        """
        names = [row[1] for row in model_rows]
        stored_per_lookup = [
            set(self._in_chunks(cursor, _STORED_MODEL_METRICS, names[start : start + 100], run_id))
            for start in range(0, len(names), 100)
        ]
        stored_keys = {_model_metric_key(row) for found in stored_per_lookup for row in found}
        new_keys = {_model_metric_key(row) for row in model_rows}
        model_ids = sorted({row[0] for row in model_rows})
        existing_models = self._in_chunks(
            cursor, "SELECT model_id FROM logged_models WHERE model_id IN ({ids})", model_ids
        )
        if (
            len(new_keys) < len(model_rows)
            or not new_keys.isdisjoint(stored_keys)
            or len(existing_models) < len(model_ids)
        ):
            retried = {}  # MLflow adds each lookup's missing rows in turn; a re-add keeps its place
            for found in stored_per_lookup:
                for index, row in enumerate(model_rows):
                    if row not in found:
                        retried.setdefault(index, row)
            model_rows = list(retried.values())
        self._dialect.write_rows(
            cursor,
            dialects.INSERT_LOGGED_MODEL_METRICS,
            [(*row, experiment_id) for row in model_rows],
        )

    @accelerated
    def log_batch(self, run_id, metrics, params, tags):
        self.log_batch_values(
            run_id,
            [(m.key, m.value, m.timestamp, m.step) for m in metrics],
            [(p.key, p.value) for p in params],
            [(t.key, t.value) for t in tags],
            [_model_metric(m) for m in metrics if m.model_id is not None],
        )

    def log_batch_values(self, run_id, metrics, params, tags, model_metrics=()):
        """``log_batch`` from plain tuples, with no entity objects (the server's fast path).

        ``metrics``: ``(key, value, timestamp, step)``; ``params``, ``tags``: ``(key, value)``;
        ``model_metrics``: those of ``metrics`` bound to a logged model, as
        :func:`_model_metric` tuples. Only for a store whose dialect we know (``_tx`` set).
        """
        checked_params, checked_tags = validation.validate_batch(run_id, metrics, params, tags)
        metric_rows, latest_rows = rows.metric_rows(run_id, metrics)
        model_rows = rows.model_metric_rows(run_id, model_metrics)
        param_rows = rows.param_rows(run_id, checked_params)
        tag_rows, run_name = rows.tag_rows(run_id, checked_tags)

        def apply(cursor):
            run = self._active_run_row(cursor, run_id)
            if param_rows:
                self._write_params(cursor, run_id, param_rows)
            if metric_rows:
                self._write_metrics(cursor, metric_rows, latest_rows)
            if model_rows:
                self._write_model_metrics(cursor, run_id, run[2], model_rows)
            if tag_rows:
                self._write_tags(cursor, run_id, tag_rows, run_name)

        self._tx.write(apply)

    @accelerated
    def log_metric(self, run_id, metric):
        value = (metric.key, metric.value, metric.timestamp, metric.step)
        bound = metric.model_id is not None
        if not bound:  # MLflow checks the run before the metric of a logged model
            validation.validate_metric(*value)

        def apply(cursor):
            run = self._active_run_row(cursor, run_id)
            if bound:
                validation.validate_metric(*value)
                model_rows = rows.model_metric_rows(run_id, [_model_metric(metric)])
                self._write_model_metrics(cursor, run_id, run[2], model_rows)
            self._write_metrics(cursor, *rows.metric_rows(run_id, [value]))

        self._tx.write(apply)

    @accelerated
    def log_param(self, run_id, param):
        key, value = validation.validate_param(param.key, param.value)

        def apply(cursor):
            self._active_run_row(cursor, run_id)
            cursor.execute(
                self._sql('SELECT value FROM params WHERE run_uuid = ? AND "key" = ?'),
                (run_id, key),
            )
            stored = cursor.fetchone()
            if stored is None:
                self._dialect.write_rows(cursor, dialects.INSERT_PARAMS, [(key, value, run_id)])
            elif stored[0] != value:
                raise MlflowException(
                    f"Changing param values is not allowed. Param with key='{key}' was already"
                    f" logged with value='{stored[0]}' for run ID='{run_id}'. Attempted logging"
                    f" new value '{value}'.",
                    INVALID_PARAMETER_VALUE,
                )

        self._tx.write(apply)

    @accelerated
    def set_tag(self, run_id, tag):
        checked = validation.validate_tag(tag.key, tag.value)
        tag_rows, run_name = rows.tag_rows(run_id, [checked])

        def apply(cursor):
            self._active_run_row(cursor, run_id)
            if tag_rows:
                self._write_tags(cursor, run_id, tag_rows, run_name)

        self._tx.write(apply)

    @accelerated
    def update_run_info(self, run_id, run_status, end_time, run_name):
        def apply(cursor):
            row = list(self._active_run_row(cursor, run_id))
            if run_status is not None:
                row[4] = RunStatus.to_string(run_status)
            if end_time is not None:
                row[6] = end_time
            if run_name:
                row[1] = run_name
            cursor.execute(
                self._sql("UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_uuid = ?"),
                (row[4], row[6], row[1], run_id),
            )
            if run_name:
                self._write_tags(cursor, run_id, [(MLFLOW_RUN_NAME, run_name, run_id)], None)
            tags = ()
            if not row[1]:
                cursor.execute(
                    self._sql('SELECT "key", value FROM tags WHERE run_uuid = ? AND "key" = ?'),
                    (run_id, MLFLOW_RUN_NAME),
                )
                tags = cursor.fetchall()
            return entities.run_info(row, tags)

        return self._tx.write(apply, retry=False)

    @accelerated
    def create_run(self, experiment_id, user_id, start_time, tags, run_name):
        tags = list(tags or [])
        name_tag = next((t.value for t in tags if t.key == MLFLOW_RUN_NAME), None)
        if run_name and name_tag and run_name != name_tag:
            raise MlflowException(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', mlflow.runName='{name_tag}').",
                INVALID_PARAMETER_VALUE,
            )
        run_name = run_name or name_tag or _compat.generate_random_name()
        if not name_tag:
            tags.append(RunTag(key=MLFLOW_RUN_NAME, value=run_name))
        run_id = uuid.uuid4().hex

        def apply(cursor):
            experiment_id_int, stage, artifact_location = self._experiment_for_run(
                cursor, experiment_id
            )
            if stage != LifecycleStage.ACTIVE:
                raise MlflowException(
                    f"The experiment {experiment_id_int} must be in the 'active' state. "
                    f"Current state is {stage}.",
                    INVALID_PARAMETER_VALUE,
                )
            row = (  # the experiment id as given, as MLflow inserts it ("" fails in the database)
                run_id,
                run_name,
                experiment_id,
                user_id,
                RunStatus.to_string(RunStatus.RUNNING),
                start_time,
                None,
                LifecycleStage.ACTIVE,
                append_to_uri_path(artifact_location, run_id, self.ARTIFACTS_FOLDER_NAME),
            )
            created = entities.run(row, (), (), [(t.key, t.value) for t in tags])
            cursor.execute(self._sql(_INSERT_RUN), row)
            tag_rows = [(t.key, t.value, run_id) for t in tags]
            self._dialect.write_rows(cursor, dialects.INSERT_TAGS, tag_rows)
            return created

        return self._tx.write(apply, retry=False)

    def _experiment_for_run(self, cursor, experiment_id):
        """``(experiment_id, lifecycle_stage, artifact_location)`` as MLflow's lookup finds it."""
        experiment_id_int = _compat.parse_experiment_id(experiment_id or self.DEFAULT_EXPERIMENT_ID)
        statement = (
            "SELECT experiment_id, lifecycle_stage, artifact_location FROM experiments "
            "WHERE experiment_id = ?"
        )
        args = (experiment_id_int,)
        if self._workspace_scoped:
            statement += " AND workspace = ?"
            args += (self._get_active_workspace(),)
        cursor.execute(self._sql(statement), args)
        found = cursor.fetchone()
        if found is None:
            raise MlflowException(
                f"No Experiment with id={experiment_id_int} exists", RESOURCE_DOES_NOT_EXIST
            )
        return found

    # ------------------------------------------------------------------------------- reads

    @accelerated
    def get_run(self, run_id):
        with self._tx.read() as cursor:
            *row, linked = self._run_row(cursor, run_id, _RUN_SELECT_WITH_LINKS)
            metrics, params, tags = self._run_children(cursor, [run_id])[run_id]
            inputs, outputs = None, RunOutputs([])
            if linked:
                inputs, outputs = self._run_links(cursor, [run_id], model_inputs=True)[run_id]
        return entities.run(row, metrics, params, tags, inputs, outputs)

    @accelerated
    def get_metric_history(self, run_id, metric_key, max_results=None, page_token=None):
        offset = SearchUtils.parse_start_offset_from_page_token(page_token)
        statement = (
            f'SELECT {entities.METRIC_COLUMNS} FROM metrics WHERE run_uuid = ? AND "key" = ?'
            " ORDER BY timestamp, step, value"
        )
        args = [run_id, metric_key]
        if max_results is not None:
            statement += " LIMIT ? OFFSET ?"
            args += [max_results + 1, offset]
        elif offset:
            statement += self._dialect.offset_without_limit
            args.append(offset)
        with self._tx.read() as cursor:
            if self._workspace_scoped:
                self._run_row(cursor, run_id)
            cursor.execute(self._sql(statement), args)
            found = cursor.fetchall()
        next_token = None
        if max_results is not None and len(found) == max_results + 1:
            next_token = SearchUtils.create_page_token(offset + max_results)
            found = found[:max_results]
        return PagedList([entities.metric(row) for row in found], next_token)

    @accelerated
    def get_experiment(self, experiment_id):
        experiment_id_int = _compat.parse_experiment_id(experiment_id or self.DEFAULT_EXPERIMENT_ID)
        found = self._experiment_where("experiment_id", experiment_id_int)
        if found is None:
            raise MlflowException(
                f"No Experiment with id={experiment_id_int} exists", RESOURCE_DOES_NOT_EXIST
            )
        return found

    @accelerated
    def get_experiment_by_name(self, experiment_name):
        return self._experiment_where("name", experiment_name)

    def _experiment_where(self, column: str, value) -> Experiment | None:
        """The experiment (any lifecycle stage) whose ``column`` equals ``value``, or ``None``."""
        retention_context = self._get_effective_experiment_trace_archival_retention_context()
        statement = f"SELECT {_EXPERIMENT_COLUMNS} FROM experiments WHERE {column} = ?"
        args = (value,)
        if self._workspace_scoped:
            statement += " AND workspace = ?"
            args += (self._get_active_workspace(),)
        with self._tx.read() as cursor:
            cursor.execute(self._sql(statement), args)
            found = cursor.fetchone()
            if found is None:
                return None
            cursor.execute(
                self._sql('SELECT "key", value FROM experiment_tags WHERE experiment_id = ?'),
                (found[0],),
            )
            tags = cursor.fetchall()
        return self._experiment_entity(found, tags, retention_context)

    def _experiment_entity(self, row, tags, retention_context) -> Experiment:
        """The ``Experiment`` MLflow builds from this row, via MLflow's own conversion."""
        columns = [c.strip() for c in _EXPERIMENT_COLUMNS.split(",")]
        experiment = SqlExperiment(**dict(zip(columns, row, strict=True)))
        experiment.tags = [SqlExperimentTag(key=key, value=value) for key, value in tags]
        return self._to_experiment(experiment, retention_context)

    @accelerated
    def create_experiment(self, name, artifact_location=None, tags=None):
        _compat.validate_experiment_name(name)
        if artifact_location:
            artifact_location = resolve_uri_if_local(artifact_location)
            _compat.validate_experiment_artifact_location_length(artifact_location)
        for tag in tags or ():
            _compat.validate_experiment_tag(tag.key, tag.value)
        now = get_current_time_millis()
        workspace = self._get_active_workspace()

        def apply(cursor):
            experiment_id = self._dialect.insert_returning_id(
                cursor,
                "INSERT INTO experiments (name, artifact_location, lifecycle_stage, "
                "creation_time, last_update_time, workspace) VALUES (?, ?, ?, ?, ?, ?)",
                (name, artifact_location, LifecycleStage.ACTIVE, now, now, workspace),
                "experiment_id",
            )
            if not artifact_location:
                cursor.execute(
                    self._sql(
                        "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?"
                    ),
                    (self._get_artifact_location(experiment_id), experiment_id),
                )
            if tags:
                self._dialect.write_rows(
                    cursor,
                    dialects.INSERT_EXPERIMENT_TAGS,
                    [(tag.key, tag.value, experiment_id) for tag in tags],
                )
            return str(experiment_id)

        try:
            return self._tx.write(apply, retry=False)
        except MlflowException as error:
            cause = error.__cause__
            if isinstance(cause, self.engine.dialect.loaded_dbapi.IntegrityError):
                raise MlflowException(
                    f"Experiment(name={name}) already exists. Error: {error.message}",
                    RESOURCE_ALREADY_EXISTS,
                ) from cause
            raise

    @accelerated
    def _search_runs(
        self, experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
    ):
        """MLflow's own filter and order clauses, without ORM entity loading."""
        self._validate_max_results_param(max_results, allow_null=True)
        stages = set(LifecycleStage.view_type_to_stages(run_view_type))
        offset = SearchUtils.parse_start_offset_from_page_token(page_token)
        with self.ManagedSessionMaker() as session:
            statement = self._search_statement(
                session, experiment_ids, filter_string, stages, order_by, offset, max_results
            )
            run_rows = [row[:9] for row in session.execute(statement)]
            next_token = None
            if max_results is not None and len(run_rows) == max_results + 1:
                next_token = SearchUtils.create_page_token(offset + max_results)
                run_rows = run_rows[:max_results]
            run_ids = [row[0] for row in run_rows]
            cursor = session.connection().connection.cursor()
            try:
                children = self._run_children(cursor, run_ids)
                links = {}
                if run_ids and self._has_inputs_or_outputs(cursor, run_ids):
                    links = self._run_links(cursor, run_ids, model_inputs=False)
            finally:
                cursor.close()
        runs = [
            entities.run(row, *children[row[0]], *links.get(row[0], (None, RunOutputs([]))))
            for row in run_rows
        ]
        return runs, next_token

    def _search_statement(
        self, session, experiment_ids, filter_string, stages, order_by, offset, max_results
    ):
        parsed_filters = SearchUtils.parse_search_filter(filter_string)
        case_columns, ordering, sorting_joins = _compat.orderby_clauses(order_by, session)
        run_columns = [getattr(SqlRun, name) for name in entities.RUN_COLUMN_NAMES]
        statement = sqlalchemy.select(*run_columns, *case_columns)
        attribute_filters, joined_filters, dataset_filters = _compat.filter_clauses(
            parsed_filters, session, self._get_dialect()
        )
        for joined in joined_filters:
            statement = statement.join(joined)
        for dataset_filter in dataset_filters:
            statement = statement.join(
                dataset_filter, SqlRun.run_uuid == dataset_filter.c.destination_id
            )
        for join in sorting_joins:
            statement = statement.outerjoin(join)
        experiment_ids = self._filter_experiment_ids(
            session, _compat.parse_experiment_ids(experiment_ids)
        )
        statement = (
            statement.distinct()
            .filter(
                SqlRun.experiment_id.in_(experiment_ids),
                SqlRun.lifecycle_stage.in_(stages),
                *attribute_filters,
            )
            .order_by(*ordering)
            .offset(offset)
        )
        if max_results is not None:
            statement = statement.limit(max_results + 1)
        return statement


class AccelWorkspaceTrackingStore(AccelTrackingStore, _compat.WorkspaceAwareSqlAlchemyStore):
    """``AccelTrackingStore`` over MLflow's workspace-aware store: every statement is scoped
    to the active workspace; experiment creation keeps the workspace store's own rules."""

    _workspace_scoped = True

    def create_experiment(self, name, artifact_location=None, tags=None):
        return _compat.WorkspaceAwareSqlAlchemyStore.create_experiment(
            self, name, artifact_location, tags
        )
