"""What MLflow we were written for, and the one place that names MLflow internals.

mlflow-accel reads and writes MLflow's tables directly, so it is only correct for the MLflow
releases and database schema revision it was written and tested against. ``support_problem()``
says why the running MLflow is outside that range (or ``None``); the store builders then warn
once and fall back to stock MLflow instead of guessing.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings

import mlflow
from mlflow.environment_variables import MLFLOW_ENABLE_WORKSPACES
from mlflow.store.db.utils import _get_latest_schema_revision
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.tracking.sqlalchemy_store import _get_orderby_clauses as orderby_clauses
from mlflow.store.tracking.sqlalchemy_store import (
    _get_sqlalchemy_filter_clauses as filter_clauses,
)
from mlflow.store.tracking.sqlalchemy_workspace_store import WorkspaceAwareSqlAlchemyStore
from mlflow.tracking._tracking_service import utils as tracking_service_utils
from mlflow.utils.name_utils import _generate_random_name as generate_random_name
from mlflow.utils.validation import _parse_experiment_id as parse_experiment_id
from mlflow.utils.validation import _parse_experiment_ids as parse_experiment_ids

_logger = logging.getLogger("mlflow_accel")

#: MLflow releases (major.minor) whose SQL store this package reproduces.
SUPPORTED_MLFLOW = ("3.17",)
#: The alembic head revision of those releases' tracking schema.
SUPPORTED_SCHEMA_REVISION = "dc11669786a5"

__all__ = [
    "SqlAlchemyStore",
    "WorkspaceAwareSqlAlchemyStore",
    "filter_clauses",
    "generate_random_name",
    "orderby_clauses",
    "parse_experiment_id",
    "parse_experiment_ids",
    "build_with_store_classes",
    "clear_store_cache",
    "stock_tracking_store_builder",
    "support_problem",
    "tracking_store_registry",
    "warn_unsupported_once",
]

tracking_store_registry = tracking_service_utils._tracking_store_registry
stock_tracking_store_builder = tracking_service_utils._get_sqlalchemy_store


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


def clear_store_cache() -> None:
    """Forget the tracking stores MLflow has built, so the next one obeys enable()/disable()."""
    type(tracking_store_registry)._get_store_with_resolved_uri.cache_clear()


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
