"""What MLflow we were written for, and the one module that imports MLflow's private names.

mlflow-accel reads and writes MLflow's tables directly, so it is only correct for the MLflow
releases and database schema revision it was written and tested against. ``support_problem()``
says why the running MLflow is outside that range (or ``None``); the store builders then warn
once and fall back to stock MLflow instead of guessing.

Every private MLflow name the package uses is imported here (under a public alias) and used
elsewhere as ``_compat.<alias>``; the private methods our stores inherit and the private entity
attributes the core reads cannot move here, so :data:`PRIVATE_NAMES` lists them with the rest.
``tests/test_compat_contract.py`` checks that list against the installed MLflow.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import warnings

import mlflow
from mlflow.environment_variables import _MLFLOW_SGI_NAME, MLFLOW_ENABLE_WORKSPACES
from mlflow.store.db.utils import _get_latest_schema_revision
from mlflow.store.model_registry.sqlalchemy_store import (
    _REGISTERED_MODEL_ALIAS_LATEST as REGISTERED_MODEL_ALIAS_LATEST,
)
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistrySqlAlchemyStore
from mlflow.store.model_registry.sqlalchemy_workspace_store import (
    WorkspaceAwareSqlAlchemyStore as WorkspaceAwareRegistrySqlAlchemyStore,
)
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.tracking.sqlalchemy_store import _get_orderby_clauses as orderby_clauses
from mlflow.store.tracking.sqlalchemy_store import (
    _get_sqlalchemy_filter_clauses as filter_clauses,
)
from mlflow.store.tracking.sqlalchemy_workspace_store import WorkspaceAwareSqlAlchemyStore
from mlflow.tracking._model_registry import utils as registry_utils
from mlflow.tracking._tracking_service import utils as tracking_service_utils
from mlflow.utils.name_utils import _generate_random_name as generate_random_name
from mlflow.utils.validation import _parse_experiment_id as parse_experiment_id
from mlflow.utils.validation import _parse_experiment_ids as parse_experiment_ids
from mlflow.utils.validation import (
    _validate_experiment_artifact_location_length as validate_experiment_artifact_location_length,
)
from mlflow.utils.validation import _validate_experiment_name as validate_experiment_name
from mlflow.utils.validation import _validate_experiment_tag as validate_experiment_tag
from mlflow.utils.validation import _validate_model_alias_name as validate_model_alias_name
from mlflow.utils.validation import _validate_model_name as validate_model_name
from mlflow.utils.validation import _validate_model_version as validate_model_version
from mlflow.utils.validation import _validate_model_version_tag as validate_model_version_tag
from mlflow.utils.validation import _validate_registered_model_tag as validate_registered_model_tag

_logger = logging.getLogger("mlflow_accel")

#: MLflow releases (major.minor) whose SQL store this package reproduces.
SUPPORTED_MLFLOW = ("3.17",)
#: The alembic head revision of those releases' tracking schema.
SUPPORTED_SCHEMA_REVISION = "dc11669786a5"

#: What the rest of the package uses from this module.
__all__ = [
    "ARTIFACTS_ONLY_ENV",
    "REGISTERED_MODEL_ALIAS_LATEST",
    "RegistrySqlAlchemyStore",
    "SERVER_KIND_ENV",
    "SqlAlchemyStore",
    "WorkspaceAwareRegistrySqlAlchemyStore",
    "WorkspaceAwareSqlAlchemyStore",
    "auth_readable_experiment_ids",
    "build_registry_with_store_classes",
    "build_with_store_classes",
    "clear_store_cache",
    "fastapi_middleware_role",
    "filter_clauses",
    "generate_random_name",
    "is_stock_flask_request_hook",
    "orderby_clauses",
    "parse_experiment_id",
    "parse_experiment_ids",
    "registry_store_registry",
    "resolve_model_version_source",
    "server_endpoints",
    "server_registry_store",
    "server_tracking_store",
    "server_workspace_functions",
    "serving_app_factory",
    "stock_registry_store_builder",
    "stock_tracking_store_builder",
    "support_problem",
    "tracking_store_registry",
    "validate_custom_view_count",
    "validate_experiment_artifact_location_length",
    "validate_experiment_name",
    "validate_experiment_tag",
    "validate_model_alias_name",
    "validate_model_name",
    "validate_model_version",
    "validate_model_version_tag",
    "validate_registered_model_tag",
    "validate_storage_location_uri",
    "warn_unsupported_once",
]

#: Every private MLflow name the package relies on, by dotted path, and what it must be: a
#: callable with this signature (annotations left out), ``"instance attribute"`` (set on every
#: instance of the class), or ``None`` (present; a module, class or constant). A plain literal:
#: the contract test reads it from this file's source, so it checks every entry even when an
#: import above fails on a new MLflow release.
PRIVATE_NAMES = {
    # Imported in this module.
    "mlflow.environment_variables._MLFLOW_SGI_NAME": None,
    "mlflow.store.db.utils._get_latest_schema_revision": "()",
    "mlflow.store.model_registry.sqlalchemy_store._REGISTERED_MODEL_ALIAS_LATEST": None,
    "mlflow.store.tracking.sqlalchemy_store._get_orderby_clauses": "(order_by_list, session)",
    "mlflow.store.tracking.sqlalchemy_store._get_sqlalchemy_filter_clauses": (
        "(parsed, session, dialect)"
    ),
    "mlflow.tracking._model_registry.utils": None,
    "mlflow.tracking._model_registry.utils._get_sqlalchemy_store": "(store_uri)",
    "mlflow.tracking._model_registry.utils._get_store_registry": "()",
    "mlflow.tracking._tracking_service.utils": None,
    "mlflow.tracking._tracking_service.utils._SERVER_ARTIFACT_ROOT_ENV_VAR": None,
    "mlflow.tracking._tracking_service.utils._get_sqlalchemy_store": "(store_uri, artifact_uri)",
    "mlflow.tracking._tracking_service.utils._tracking_store_registry": None,
    "mlflow.utils.name_utils._generate_random_name": "(sep='-', integer_scale=3, max_length=20)",
    "mlflow.utils.validation._parse_experiment_id": "(experiment_id)",
    "mlflow.utils.validation._parse_experiment_ids": "(experiment_ids)",
    "mlflow.utils.validation._validate_experiment_artifact_location_length": "(artifact_location)",
    "mlflow.utils.validation._validate_experiment_name": "(experiment_name)",
    "mlflow.utils.validation._validate_experiment_tag": "(key, value)",
    "mlflow.utils.validation._validate_model_alias_name": "(model_alias_name)",
    "mlflow.utils.validation._validate_model_name": "(model_name)",
    "mlflow.utils.validation._validate_model_version": "(model_version)",
    "mlflow.utils.validation._validate_model_version_tag": "(key, value)",
    "mlflow.utils.validation._validate_registered_model_tag": "(key, value)",
    # Imported or read in this module inside a server process.
    "mlflow.server._find_app": "(app_name)",
    "mlflow.server.auth._auth_initialized": None,
    "mlflow.server.handlers._get_model_registry_store": "(registry_store_uri=None)",
    "mlflow.server.handlers._get_tracking_store": (
        "(backend_store_uri=None, default_artifact_root=None)"
    ),
    "mlflow.server.handlers._resolve_registered_model_source_lineage": (
        "(source, run_id, model_id, *, has_run_id, has_model_id)"
    ),
    "mlflow.server.handlers._validate_artifact_uri_scheme": "(uri, field_name)",
    "mlflow.server.handlers._validate_custom_view_count": "(tags)",
    "mlflow.server.handlers._validate_prompt_source": "(source)",
    "mlflow.server.handlers._validate_source_model": "(source, model_id)",
    "mlflow.server.handlers._validate_source_run": "(source, run_id)",
    "mlflow.server.handlers._validate_storage_location_uri": "(value, field_name)",
    # Methods of MLflow's store registries, called in clear_store_cache().
    "mlflow.tracking._model_registry.registry.ModelRegistryStoreRegistry"
    "._get_store_with_resolved_uri": "(self, resolved_store_uri, resolved_tracking_uri)",
    "mlflow.tracking._tracking_service.registry.TrackingStoreRegistry"
    "._get_store_with_resolved_uri": "(self, resolved_store_uri, artifact_uri=None)",
    # Methods our stores inherit and call on self / super(), or override (MLflow calls them).
    "mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore._filter_experiment_ids": (
        "(self, session, experiment_ids, lifecycle_stage=None)"
    ),
    "mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore._get_active_workspace": "(self)",
    "mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore._get_artifact_location": (
        "(self, experiment_id)"
    ),
    "mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore._get_dialect": "(self)",
    "mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore"
    "._get_effective_experiment_trace_archival_retention_context": "(self)",
    "mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore._search_runs": (
        "(self, experiment_ids, filter_string, run_view_type, max_results, order_by, page_token)"
    ),
    "mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore._to_experiment": (
        "(self, sql_experiment, effective_retention_context=None)"
    ),
    "mlflow.store.tracking.sqlalchemy_store.SqlAlchemyStore._validate_max_results_param": (
        "(self, max_results, allow_null=False)"
    ),
    "mlflow.store.tracking.sqlalchemy_workspace_store.WorkspaceAwareSqlAlchemyStore"
    "._filter_experiment_ids": "(self, session, experiment_ids, lifecycle_stage=None)",
    "mlflow.store.tracking.sqlalchemy_workspace_store.WorkspaceAwareSqlAlchemyStore"
    "._get_artifact_location": "(self, experiment_id, workspace=None)",
    "mlflow.store.workspace_aware_mixin.WorkspaceAwareMixin._get_active_workspace": "()",
    "mlflow.store.model_registry.sqlalchemy_store.SqlAlchemyStore._get_active_workspace": (
        "(self)"
    ),
    "mlflow.store.model_registry.sqlalchemy_store.SqlAlchemyStore"
    "._get_search_registered_model_filter_query": "(self, session, parsed_filters, dialect)",
    "mlflow.store.model_registry.sqlalchemy_store.SqlAlchemyStore._initialize_store_state": (
        "(self)"
    ),
    "mlflow.store.model_registry.sqlalchemy_store.SqlAlchemyStore"
    "._parse_search_registered_models_order_by": "(order_by_list)",
    "mlflow.store.model_registry.sqlalchemy_workspace_store.WorkspaceAwareSqlAlchemyStore"
    "._initialize_store_state": "(self)",
    # Private parts of MLflow's entities, read by the core's renderers, the stores and handlers.
    "mlflow.entities.LoggedModelInput._model_id": "instance attribute",
    "mlflow.entities.RunData._metric_objs": "instance attribute",
    "mlflow.entities.model_registry.ModelVersion._tags": "instance attribute",
    "mlflow.entities.model_registry.RegisteredModel._aliases": "instance attribute",
    "mlflow.entities.model_registry.RegisteredModel._is_prompt": "(self)",
    "mlflow.entities.model_registry.RegisteredModel._tags": "instance attribute",
}

tracking_store_registry = tracking_service_utils._tracking_store_registry
stock_tracking_store_builder = tracking_service_utils._get_sqlalchemy_store
stock_registry_store_builder = registry_utils._get_sqlalchemy_store
#: Set by ``mlflow server`` when a read replica is configured
#: (``mlflow.server.constants.READ_REPLICA_BACKEND_STORE_URI_ENV_VAR``).
READ_REPLICA_ENV = "_MLFLOW_SERVER_READ_REPLICA_BACKEND_STORE"


def registry_store_registry():
    """The scheme -> builder registry MLflow's client uses for model-registry stores."""
    return registry_utils._get_store_registry()


def build_with_store_classes(store_uri, artifact_uri, store_class, workspace_store_class):
    """Build a SQL tracking store as MLflow's own builder does, from our classes.

    Same artifact-root default (the server's configured root inside a server process) and the
    workspace-aware class when ``MLFLOW_ENABLE_WORKSPACES`` is on.
    """
    if artifact_uri is None:
        artifact_uri = os.environ.get(
            tracking_service_utils._SERVER_ARTIFACT_ROOT_ENV_VAR,
            tracking_service_utils.DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH,
        )
    store_class = workspace_store_class if MLFLOW_ENABLE_WORKSPACES.get() else store_class
    return store_class(store_uri, artifact_uri)


def build_registry_with_store_classes(store_uri, store_class, workspace_store_class):
    """Build a SQL model-registry store as MLflow's builders do, from our classes.

    The workspace-aware class when ``MLFLOW_ENABLE_WORKSPACES`` is on; the server's read replica
    when one is configured.
    """
    store_class = workspace_store_class if MLFLOW_ENABLE_WORKSPACES.get() else store_class
    return store_class(store_uri, read_db_uri=os.environ.get(READ_REPLICA_ENV))


def clear_store_cache() -> None:
    """Forget the stores MLflow has built, so the next one obeys enable()/disable()."""
    type(tracking_store_registry)._get_store_with_resolved_uri.cache_clear()
    type(registry_store_registry())._get_store_with_resolved_uri.cache_clear()


@functools.cache
def support_problem() -> str | None:
    """Why the installed MLflow is outside the supported range, or ``None`` if it is inside."""
    version = mlflow.__version__
    if ".".join(version.split(".")[:2]) not in SUPPORTED_MLFLOW:
        return f"MLflow {version} is not a supported release ({', '.join(SUPPORTED_MLFLOW)}.x)"
    revision = _get_latest_schema_revision()
    if revision != SUPPORTED_SCHEMA_REVISION:
        return (
            f"MLflow's schema revision {revision} is not the supported {SUPPORTED_SCHEMA_REVISION}"
        )
    return None


@functools.cache
def warn_unsupported_once(problem: str) -> None:
    message = f"mlflow-accel is off: {problem}; using stock MLflow instead."
    warnings.warn(message, RuntimeWarning, stacklevel=3)
    _logger.warning(message)


# -- MLflow's tracking server (imported only inside a server process) -----------------------------

#: Set by ``mlflow server`` for its workers: "uvicorn", "gunicorn" or "waitress".
SERVER_KIND_ENV = _MLFLOW_SGI_NAME.name
#: Set by ``mlflow server --artifacts-only`` (``mlflow.server.constants.ARTIFACTS_ONLY_ENV_VAR``,
#: spelled out: importing ``mlflow.server`` builds its Flask app).
ARTIFACTS_ONLY_ENV = "_MLFLOW_SERVER_ARTIFACTS_ONLY"


def server_tracking_store():
    """The tracking store MLflow's REST handlers use in this server process."""
    from mlflow.server.handlers import _get_tracking_store

    return _get_tracking_store()


def server_endpoints() -> list:
    """MLflow's REST endpoints: ``(path, flask_view, methods)``, static prefix applied."""
    from mlflow.server.handlers import get_endpoints

    return get_endpoints()


def server_registry_store():
    """The model-registry store MLflow's REST handlers use in this server process."""
    from mlflow.server.handlers import _get_model_registry_store

    return _get_model_registry_store()


def resolve_model_version_source(values: dict, present, is_prompt: bool) -> tuple:
    """``(source, run_id, model_id)`` of a ``CreateModelVersion`` request, checked as MLflow's
    handler checks them (source regex, prompt placeholders, URI scheme, lineage of a
    ``models:/`` source, and that the source lies inside the run's or logged model's
    artifacts)."""
    import re

    from mlflow.environment_variables import MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
    from mlflow.server import handlers

    source, run_id, model_id = values["source"], values["run_id"], values["model_id"]
    regex = MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX.get()
    if source and regex and not re.search(regex, source):
        raise MlflowException(
            f"Invalid model version source: '{source}'.", error_code=INVALID_PARAMETER_VALUE
        )
    if is_prompt:
        handlers._validate_prompt_source(source)
    handlers._validate_artifact_uri_scheme(source, "source")
    if is_prompt:
        return source, run_id, model_id
    source, run_id, model_id = handlers._resolve_registered_model_source_lineage(
        source,
        run_id,
        model_id,
        has_run_id="run_id" in present,
        has_model_id="model_id" in present,
    )
    if model_id:
        handlers._validate_source_model(source, model_id)
    else:
        handlers._validate_source_run(source, run_id)
    return source, run_id, model_id


def validate_custom_view_count(tags) -> None:
    from mlflow.server.handlers import _validate_custom_view_count

    _validate_custom_view_count(tags)


def validate_storage_location_uri(value: str, field_name: str) -> None:
    from mlflow.server.handlers import _validate_storage_location_uri

    _validate_storage_location_uri(value, field_name)


def auth_readable_experiment_ids(experiment_ids: list) -> list:
    """``search_runs``' experiment ids as MLflow's handler narrows them under basic-auth."""
    auth = sys.modules.get("mlflow.server.auth")
    if auth is None or not getattr(auth, "_auth_initialized", False):
        return experiment_ids
    return auth.filter_experiment_ids(experiment_ids)


def is_stock_flask_request_hook(hook) -> bool:
    """Whether ``hook`` is one MLflow's Flask app registers itself.

    Those are the workspace resolution hooks and, in a server process, the security hooks
    (``mlflow.server.security``: allowed hosts, cross-origin blocking, security headers, and
    Flask-CORS), which MLflow's FastAPI app also applies as middleware in front of every route,
    ours included. Flask-CORS counts as a twin of that middleware only while no origins are
    configured (``--cors-allowed-origins``): with origins, it also answers requests that carry
    no ``Origin`` with ``Access-Control-*`` headers, which the FastAPI middleware does not.
    """
    from mlflow.server import workspace_helpers
    from mlflow.server.security import get_allowed_origins

    module = getattr(hook, "__module__", None) or ""
    if module == "mlflow.server.security":
        return True
    if module.startswith("flask_cors."):
        return not get_allowed_origins()
    return hook in (
        workspace_helpers.workspace_before_request_handler,
        workspace_helpers.workspace_teardown_request_handler,
    )


@contextlib.contextmanager
def serving_app_factory(factory: str, own_name: str, inner_env: str):
    """Within: ``mlflow server``'s app lookup answers ``factory`` for every ``--app-name``.

    MLflow's ``_run_server`` resolves ``--app-name`` to a ``module:attr`` its workers import;
    keeping the user's name (rather than passing ours) keeps its per-app steps, such as
    basic-auth's admin bootstrap. The plugin's own target goes to the workers in ``inner_env``
    (unset for ``own_name``), where the factory builds it and adds the fast path.
    """
    import mlflow.server

    original = mlflow.server._find_app

    def find_app(app_name: str) -> str:
        if app_name == own_name:
            os.environ.pop(inner_env, None)
        else:
            os.environ[inner_env] = original(app_name)
        return factory

    mlflow.server._find_app = find_app
    try:
        yield
    finally:
        mlflow.server._find_app = original


def server_workspace_functions() -> tuple:
    """``(header_name, resolve(path, header_value), enter(name), leave())``.

    What MLflow's FastAPI workspace middleware calls for each request.
    """
    from mlflow.server.workspace_helpers import (
        WORKSPACE_HEADER_NAME,
        resolve_workspace_for_request_if_enabled,
    )
    from mlflow.utils.workspace_context import (
        clear_server_request_workspace,
        set_server_request_workspace,
    )

    return (
        WORKSPACE_HEADER_NAME,
        resolve_workspace_for_request_if_enabled,
        set_server_request_workspace,
        clear_server_request_workspace,
    )


_MIDDLEWARE_DISPATCH_ROLES = {
    "add_fastapi_workspace_middleware.<locals>.workspace_context_middleware": "workspace",
    "add_gateway_timing_middleware.<locals>.gateway_timing_middleware": "gateway-timing",
}


def fastapi_middleware_role(middleware) -> str | None:
    """What an entry of MLflow's FastAPI ``user_middleware`` is, or ``None`` if not MLflow's.

    "security": a class of ``mlflow.server.fastapi_security`` or Starlette's CORS middleware, as
    ``init_fastapi_security`` adds them; "workspace" / "gateway-timing": the
    ``BaseHTTPMiddleware`` functions ``create_fastapi_app`` adds.
    """
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.middleware.cors import CORSMiddleware

    cls = middleware.cls
    if cls is CORSMiddleware or cls.__module__ == "mlflow.server.fastapi_security":
        return "security"
    if cls is BaseHTTPMiddleware:
        dispatch = middleware.kwargs.get("dispatch")
        if getattr(dispatch, "__module__", None) == "mlflow.server.fastapi_app":
            return _MIDDLEWARE_DISPATCH_ROLES.get(dispatch.__qualname__)
    return None
