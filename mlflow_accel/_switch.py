"""Whether MLflow's SQL stores are accelerated, and the store builders that obey it.

MLflow picks a tracking store and a model-registry store by URI scheme from two store
registries. We register one builder in each, :func:`build_tracking_store` and
:func:`build_registry_store`, for every SQL scheme — through ``enable()`` and through the
``mlflow.tracking_store`` / ``mlflow.model_registry_store`` entry points, so
``MLFLOW_ACCEL_ENABLE=1`` works without code changes. A builder returns our store when
acceleration is on and the installed MLflow is one we support, and MLflow's stock store otherwise.

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
            _compat.registry_store_registry().register(scheme, build_registry_store)


def _supported() -> bool:
    """Whether acceleration is on and the installed MLflow is supported (warning once if not)."""
    from mlflow_accel import _compat

    if not _enabled:
        return False
    problem = _compat.support_problem()
    if problem:
        _compat.warn_unsupported_once(problem)
        return False
    return True


def build_tracking_store(store_uri, artifact_uri=None):
    """MLflow's tracking-store builder for SQL URIs, accelerated when enabled and supported."""
    from mlflow_accel import _compat

    if not _supported():
        return _compat.stock_tracking_store_builder(store_uri, artifact_uri)
    from mlflow_accel.store import tracking

    return _compat.build_with_store_classes(
        store_uri,
        artifact_uri,
        tracking.AccelTrackingStore,
        tracking.AccelWorkspaceTrackingStore,
    )


def build_registry_store(store_uri):
    """MLflow's registry store builder for SQL URIs, accelerated when enabled and supported."""
    from mlflow_accel import _compat

    if not _supported():
        return _compat.stock_registry_store_builder(store_uri)
    from mlflow_accel.store import registry

    return _compat.build_registry_with_store_classes(
        store_uri, registry.AccelRegistryStore, registry.AccelWorkspaceRegistryStore
    )
