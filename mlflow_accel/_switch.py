"""Whether MLflow's SQL tracking stores are accelerated, and the store builder that obeys it.

MLflow picks a tracking store by URI scheme from its store registry. We register one builder,
:func:`build_tracking_store`, for every SQL scheme — through ``enable()`` and through the
``mlflow.tracking_store`` entry points, so ``MLFLOW_ACCEL_ENABLE=1`` works without code changes.
The builder returns our store when acceleration is on and the installed MLflow is one we
support, and MLflow's stock store otherwise.

MLflow loads the entry points while it is still importing itself, so this module imports
MLflow only inside its functions.
"""

from __future__ import annotations

import os

_enabled = os.environ.get("MLFLOW_ACCEL_ENABLE", "").strip().lower() in ("1", "true", "yes")


def is_enabled() -> bool:
    """True while MLflow's SQL tracking stores are built accelerated."""
    return _enabled


def set_enabled(enabled: bool) -> None:
    from mlflow.store.db.db_types import DATABASE_ENGINES

    from mlflow_accel import _compat

    global _enabled
    _enabled = enabled
    _compat.clear_store_cache()
    if enabled:
        for scheme in DATABASE_ENGINES:
            _compat.tracking_store_registry.register(scheme, build_tracking_store)


def build_tracking_store(store_uri, artifact_uri=None):
    """MLflow's tracking-store builder for SQL URIs, accelerated when enabled and supported."""
    from mlflow_accel import _compat

    if not _enabled:
        return _compat.stock_tracking_store_builder(store_uri, artifact_uri)
    problem = _compat.support_problem()
    if problem:
        _compat.warn_unsupported_once(problem)
        return _compat.stock_tracking_store_builder(store_uri, artifact_uri)
    from mlflow_accel.store import tracking

    return _compat.build_with_store_classes(
        store_uri,
        artifact_uri,
        tracking.AccelTrackingStore,
        tracking.AccelWorkspaceTrackingStore,
    )
