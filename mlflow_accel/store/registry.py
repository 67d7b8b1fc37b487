"""``AccelRegistryStore``: MLflow's SQL model-registry store with its hot methods in plain SQL.

A subclass of MLflow's model-registry ``SqlAlchemyStore`` on the same engine, pool and schema.
What deployments call on every deploy and every model load — get a registered model, its latest
versions, a version by number or by alias — and the writes that register models and versions run
as a few plain SQL statements in one transaction each. Version numbers are taken under a lock on
the registered model's row (SQLite: the write lock), so concurrent ``create_model_version`` calls
never collide. Every other method, and the cases these do not cover (a ``models:/`` source, a
version made from a logged model, a database dialect we do not know), is MLflow's own code.

Every statement is scoped to ``_get_active_workspace()``, as MLflow's own queries are: the
default workspace for ``AccelRegistryStore``, the request's workspace for
``AccelWorkspaceRegistryStore`` (over MLflow's workspace-aware store).
"""

from __future__ import annotations

import urllib.parse

import sqlalchemy
from mlflow.entities.model_registry import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from mlflow.entities.model_registry.model_version_stages import (
    ALL_STAGES,
    STAGE_DELETED_INTERNAL,
    STAGE_NONE,
    get_canonical_stage,
)
from mlflow.entities.model_registry.model_version_status import ModelVersionStatus
from mlflow.exceptions import MlflowException
from mlflow.prompt.registry_utils import handle_resource_already_exist_error, has_prompt_tag
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    INVALID_STATE,
    RESOURCE_DOES_NOT_EXIST,
)
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.model_registry import (
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
)
from mlflow.store.model_registry.dbmodels.models import SqlRegisteredModel
from mlflow.store.workspace_aware_mixin import WorkspaceAwareMixin
from mlflow.utils.search_utils import SearchModelUtils, SearchUtils
from mlflow.utils.time import get_current_time_millis

from mlflow_accel import _compat
from mlflow_accel.store.base import STOCK, AccelStore, accelerated

_READY = ModelVersionStatus.to_string(ModelVersionStatus.READY)
_MODEL_COLUMNS = "name, creation_time, last_updated_time, description"
_VERSION_COLUMNS = (
    "name, version, creation_time, last_updated_time, description, user_id, current_stage, "
    "source, run_id, status, status_message, run_link"
)
_MODEL_ROW = f"SELECT {_MODEL_COLUMNS} FROM registered_models WHERE workspace = ? AND name = ?"
_MODEL_TAGS = 'SELECT "key", value FROM registered_model_tags WHERE workspace = ? AND name = ?'
_MODEL_ALIASES = (
    "SELECT alias, version FROM registered_model_aliases WHERE workspace = ? AND name = ?"
)
_ALIAS_TARGET = (
    "SELECT version FROM registered_model_aliases WHERE workspace = ? AND name = ? AND alias = ?"
)
# No ORDER BY, as the ORM's relationship load: the latest version per stage is picked in the order
# the database returns the model's versions, which is also the order of ``latest_versions``.
_MODEL_VERSIONS = f"SELECT {_VERSION_COLUMNS} FROM model_versions WHERE workspace = ? AND name = ?"
_VERSION_ROW = (
    "SELECT {columns} FROM model_versions"
    " WHERE workspace = ? AND name = ? AND version = ? AND current_stage <> ?"
)
_VERSION_TAGS = (
    'SELECT version, "key", value FROM model_version_tags'
    " WHERE workspace = ? AND name = ? AND version IN ({versions})"
)
# Per model of a search page: the latest version of each stage, as MLflow's window query picks it.
_LATEST_OF_MODELS = (
    f"SELECT {', '.join('mv.' + c for c in _VERSION_COLUMNS.split(', '))} FROM model_versions mv"
    " JOIN (SELECT workspace, name, version, row_number() OVER (PARTITION BY workspace, name,"
    " current_stage ORDER BY version DESC) AS rn FROM model_versions WHERE workspace = ?"
    " AND name IN ({names}) AND current_stage <> ?) latest ON mv.workspace = latest.workspace"
    " AND mv.name = latest.name AND mv.version = latest.version"
    " WHERE mv.workspace = ? AND latest.rn = 1"
)
_TAGS_OF_MODELS = (
    'SELECT name, "key", value FROM registered_model_tags WHERE workspace = ? AND name IN ({names})'
)
_ALIASES_OF_MODELS = (
    "SELECT name, alias, version FROM registered_model_aliases"
    " WHERE workspace = ? AND name IN ({names})"
)
_TAGS_OF_VERSIONS = (
    'SELECT name, version, "key", value FROM model_version_tags'
    " WHERE workspace = ? AND (name, version) IN ({pairs})"
)
_INSERT_MODEL = (
    "INSERT INTO registered_models (workspace, name, creation_time, last_updated_time, description)"
    " VALUES (?, ?, ?, ?, ?)"
)
_INSERT_MODEL_TAG = (
    'INSERT INTO registered_model_tags (workspace, name, "key", value) VALUES (?, ?, ?, ?)'
)
_INSERT_VERSION = (
    "INSERT INTO model_versions (workspace, name, version, creation_time, last_updated_time,"
    " description, user_id, current_stage, source, storage_location, run_id, run_link, status,"
    " status_message) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, NULL)"
)
_INSERT_VERSION_TAG = (
    'INSERT INTO model_version_tags (workspace, name, version, "key", value) VALUES (?, ?, ?, ?, ?)'
)


def _not_found(name) -> MlflowException:
    return MlflowException(f"Registered Model with name={name} not found", RESOURCE_DOES_NOT_EXIST)


def _one(rows, name, what: str):
    """The single row of a unique lookup, or MLflow's not-found / duplicate errors."""
    if not rows:
        raise _not_found(name)
    if len(rows) > 1:
        raise MlflowException(
            f"Expected only 1 {what} with name={name}. Found {len(rows)}.", INVALID_STATE
        )
    return rows[0]


def _version(row, tags, aliases, workspace) -> ModelVersion:
    """A ``ModelVersion`` from a :data:`_VERSION_COLUMNS` row, as ``SqlModelVersion`` builds it."""
    (name, version, created, updated, description, user_id, stage, source, run_id, status,
     status_message, run_link) = row  # fmt: skip
    return ModelVersion(
        name,
        version,
        created,
        updated,
        description,
        user_id,
        stage,
        source,
        run_id,
        status,
        status_message,
        [ModelVersionTag(key, value) for key, value in tags],
        run_link,
        aliases,
        workspace=workspace,
    )


def _latest_per_stage(version_rows) -> list:
    """The highest version of each stage, stages in order of first appearance (as MLflow)."""
    latest = {}
    for row in version_rows:
        stage = row[6]
        if stage != STAGE_DELETED_INTERNAL and (stage not in latest or latest[stage][1] < row[1]):
            latest[stage] = row
    return list(latest.values())


class AccelRegistryStore(AccelStore, _compat.RegistrySqlAlchemyStore):
    """MLflow's model-registry ``SqlAlchemyStore`` with accelerated hot methods."""

    # ----------------------------------------------------------------------------- reads

    def _model_row(self, cursor, workspace, name, lock=False):
        statement = _MODEL_ROW + (self._dialect.for_update if lock else "")
        cursor.execute(self._sql(statement), (workspace, name))
        return _one(cursor.fetchall(), name, "registered model")

    def _aliases(self, cursor, workspace, name) -> list:
        cursor.execute(self._sql(_MODEL_ALIASES), (workspace, name))
        return cursor.fetchall()

    def _version_tags(self, cursor, workspace, name, versions) -> dict:
        """``{version: [(key, value), ...]}`` for ``versions`` of model ``name``."""
        tags = {version: [] for version in versions}
        if versions:
            statement = _VERSION_TAGS.format(versions=self._dialect.placeholders(len(versions)))
            cursor.execute(self._sql(statement), (workspace, name, *versions))
            for version, key, value in cursor.fetchall():
                tags[version].append((key, value))
        return tags

    def _latest_version_rows(self, cursor, workspace, name) -> list:
        cursor.execute(self._sql(_MODEL_VERSIONS), (workspace, name))
        return _latest_per_stage(cursor.fetchall())

    def _versions(self, cursor, workspace, rows, aliases=None) -> list:
        """``ModelVersion`` entities for ``rows`` of one model, with their tags; with
        ``aliases`` (``(alias, version)`` rows) each also gets the aliases pointing at it."""
        if not rows:
            return []
        tags = self._version_tags(cursor, workspace, rows[0][0], [row[1] for row in rows])
        return [
            _version(
                row,
                tags[row[1]],
                [alias for alias, version in aliases if version == row[1]] if aliases else [],
                workspace,
            )
            for row in rows
        ]

    @accelerated
    def get_registered_model(self, name):
        workspace = self._get_active_workspace()
        with self._tx.read() as cursor:
            _compat.validate_model_name(name)
            name, created, updated, description = self._model_row(cursor, workspace, name)
            cursor.execute(self._sql(_MODEL_TAGS), (workspace, name))
            tags = [RegisteredModelTag(key, value) for key, value in cursor.fetchall()]
            aliases = [
                RegisteredModelAlias(alias, version)
                for alias, version in self._aliases(cursor, workspace, name)
            ]
            latest = self._versions(
                cursor, workspace, self._latest_version_rows(cursor, workspace, name)
            )
        return RegisteredModel(
            name, created, updated, description, latest, tags, aliases, workspace=workspace
        )

    @accelerated
    def get_latest_versions(self, name, stages=None):
        workspace = self._get_active_workspace()
        with self._tx.read() as cursor:
            _compat.validate_model_name(name)
            self._model_row(cursor, workspace, name)
            rows = self._latest_version_rows(cursor, workspace, name)
            wanted = {get_canonical_stage(stage) for stage in (stages or ALL_STAGES)}
            rows = [row for row in rows if row[6] in wanted]
            return self._versions(cursor, workspace, rows, self._aliases(cursor, workspace, name))

    def _version_row(self, cursor, workspace, name, version, columns=_VERSION_COLUMNS):
        """The ``columns`` of a live version, or MLflow's not-found / duplicate errors."""
        statement = _VERSION_ROW.format(columns=columns)
        cursor.execute(self._sql(statement), (workspace, name, version, STAGE_DELETED_INTERNAL))
        rows = cursor.fetchall()
        if not rows:
            raise MlflowException(
                f"Model Version (name={name}, version={version}) not found",
                RESOURCE_DOES_NOT_EXIST,
            )
        if len(rows) > 1:
            raise MlflowException(
                f"Expected only 1 model version with (name={name}, version={version}). "
                f"Found {len(rows)}.",
                INVALID_STATE,
            )
        return rows[0]

    @accelerated
    def get_model_version(self, name, version):
        workspace = self._get_active_workspace()
        with self._tx.read() as cursor:
            _compat.validate_model_name(name)
            version = _compat.validate_model_version(version)
            row = self._version_row(cursor, workspace, name, version)
            aliases = self._aliases(cursor, workspace, name)
            return self._versions(cursor, workspace, [row], aliases)[0]

    @accelerated
    def get_model_version_by_alias(self, name, alias):
        _compat.validate_model_name(name)
        _compat.validate_model_alias_name(alias)
        if alias.lower() == _compat.REGISTERED_MODEL_ALIAS_LATEST:
            return STOCK
        workspace = self._get_active_workspace()
        with self._tx.read() as cursor:
            self._model_row(cursor, workspace, name)
            cursor.execute(self._sql(_ALIAS_TARGET), (workspace, name, alias))
            target = cursor.fetchone()
            if target is None:
                raise MlflowException(
                    f"Registered model alias {alias} not found.", INVALID_PARAMETER_VALUE
                )
            aliases = self._aliases(cursor, workspace, name)
            row = self._version_row(cursor, workspace, name, target[0])
            return self._versions(cursor, workspace, [row], aliases)[0]

    @accelerated
    def get_model_version_download_uri(self, name, version):
        workspace = self._get_active_workspace()
        with self._tx.read() as cursor:
            _compat.validate_model_name(name)
            version = _compat.validate_model_version(version)
            storage_location, source = self._version_row(
                cursor, workspace, name, version, "storage_location, source"
            )
        return storage_location or source

    @accelerated
    def search_registered_models(
        self,
        filter_string=None,
        max_results=SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by=None,
        page_token=None,
    ):
        """MLflow's filter, order and page (its own query builders), one query per kind of row."""
        if max_results > SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD:
            raise MlflowException(
                "Invalid value for request parameter max_results. It must be at most "
                f"{SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD}, but got value {max_results}",
                INVALID_PARAMETER_VALUE,
            )
        parsed_filters = SearchModelUtils.parse_search_filter(filter_string)
        parsed_order_by = self._parse_search_registered_models_order_by(order_by)
        offset = SearchUtils.parse_start_offset_from_page_token(page_token)
        query = (
            self._get_search_registered_model_filter_query(
                None, parsed_filters, self.engine.dialect.name
            )
            .with_only_columns(
                SqlRegisteredModel.name,
                SqlRegisteredModel.creation_time,
                SqlRegisteredModel.last_updated_time,
                SqlRegisteredModel.description,
            )
            .order_by(*parsed_order_by)
            .limit(max_results + 1)
        )
        if page_token:
            query = query.offset(offset)
        try:
            with (self.read_engine or self.engine).connect() as connection:
                rows = connection.execute(query).all()
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise self._tx.to_mlflow(error) from error
        token = None
        if len(rows) == max_results + 1:
            token = SearchUtils.create_page_token(offset + max_results)
        return PagedList(self._registered_models(rows[:max_results]), token)

    def _registered_models(self, rows) -> list:
        """``RegisteredModel`` entities (tags, aliases, latest versions) for model rows."""
        if not rows:
            return []
        workspace = self._get_active_workspace()
        names = [row[0] for row in rows]
        marks = self._dialect.placeholders(len(names))
        tags = {name: [] for name in names}
        aliases = {name: [] for name in names}
        latest = {name: [] for name in names}
        with self._tx.read() as cursor:
            cursor.execute(self._sql(_TAGS_OF_MODELS.format(names=marks)), (workspace, *names))
            for name, key, value in cursor.fetchall():
                tags[name].append(RegisteredModelTag(key, value))
            cursor.execute(self._sql(_ALIASES_OF_MODELS.format(names=marks)), (workspace, *names))
            for name, alias, version in cursor.fetchall():
                aliases[name].append(RegisteredModelAlias(alias, version))
            cursor.execute(
                self._sql(_LATEST_OF_MODELS.format(names=marks)),
                (workspace, *names, STAGE_DELETED_INTERNAL, workspace),
            )
            version_rows = cursor.fetchall()
            version_tags = {(row[0], row[1]): [] for row in version_rows}
            if version_rows:
                pairs = ", ".join(["(?, ?)"] * len(version_rows))
                cursor.execute(
                    self._sql(_TAGS_OF_VERSIONS.format(pairs=pairs)),
                    (workspace, *(value for row in version_rows for value in row[:2])),
                )
                for name, version, key, value in cursor.fetchall():
                    version_tags[name, version].append((key, value))
        for row in version_rows:
            latest[row[0]].append(_version(row, version_tags[row[0], row[1]], [], workspace))
        return [
            RegisteredModel(
                name,
                created,
                updated,
                description,
                latest[name],
                tags[name],
                aliases[name],
                workspace=workspace,
            )
            for name, created, updated, description in rows
        ]

    # ----------------------------------------------------------------------------- writes

    @accelerated
    def create_registered_model(self, name, tags=None, description=None, deployment_job_id=None):
        _compat.validate_model_name(name)
        for tag in tags or []:
            _compat.validate_registered_model_tag(tag.key, tag.value)
        tag_values = {tag.key: tag.value for tag in tags or []}
        workspace = self._get_active_workspace()
        created = get_current_time_millis()

        def insert(cursor):
            cursor.execute(
                self._sql(_INSERT_MODEL), (workspace, name, created, created, description)
            )
            if tag_values:
                cursor.executemany(
                    self._sql(_INSERT_MODEL_TAG),
                    [(workspace, name, key, value) for key, value in tag_values.items()],
                )

        try:
            self._tx.write(insert, retry=False)
        except MlflowException as error:
            if not isinstance(error.__cause__, self.engine.dialect.loaded_dbapi.IntegrityError):
                raise
            existing = self.get_registered_model(name)
            handle_resource_already_exist_error(
                name, has_prompt_tag(existing._tags), has_prompt_tag(tags)
            )
        return RegisteredModel(
            name,
            created,
            created,
            description,
            [],
            [RegisteredModelTag(key, value) for key, value in tag_values.items()],
            [],
            workspace=workspace,
        )

    @accelerated
    def create_model_version(
        self,
        name,
        source,
        run_id=None,
        tags=None,
        run_link=None,
        description=None,
        local_model_path=None,
        model_id: str | None = None,
    ):
        from_model_uri = urllib.parse.urlparse(source).scheme == "models"
        if from_model_uri or (model_id and not run_id):
            return STOCK
        _compat.validate_model_name(name)
        for tag in tags or []:
            _compat.validate_model_version_tag(tag.key, tag.value)
        tag_values = {tag.key: tag.value for tag in tags or []}
        workspace = self._get_active_workspace()
        created = get_current_time_millis()

        def insert(cursor):
            self._model_row(cursor, workspace, name, lock=True)
            cursor.execute(
                self._sql(
                    "UPDATE registered_models SET last_updated_time = ?"
                    " WHERE workspace = ? AND name = ?"
                ),
                (created, workspace, name),
            )
            cursor.execute(
                self._sql(
                    "SELECT MAX(version) FROM model_versions WHERE workspace = ? AND name = ?"
                ),
                (workspace, name),
            )
            version = (cursor.fetchone()[0] or 0) + 1
            cursor.execute(
                self._sql(_INSERT_VERSION),
                (workspace, name, version, created, created, description, STAGE_NONE, source,
                 source, run_id, run_link, _READY),
            )  # fmt: skip
            if tag_values:
                cursor.executemany(
                    self._sql(_INSERT_VERSION_TAG),
                    [(workspace, name, version, key, value) for key, value in tag_values.items()],
                )
            return version

        version = self._tx.write(insert)
        return ModelVersion(
            name,
            version,
            created,
            created,
            description,
            None,
            STAGE_NONE,
            source,
            run_id,
            _READY,
            None,
            [ModelVersionTag(key, value) for key, value in tag_values.items()],
            run_link,
            [],
            workspace=workspace,
        )


class AccelWorkspaceRegistryStore(WorkspaceAwareMixin, AccelRegistryStore):
    """``AccelRegistryStore`` over MLflow's workspace-aware registry store."""

    def _initialize_store_state(self):
        _compat.WorkspaceAwareRegistrySqlAlchemyStore._initialize_store_state(self)
