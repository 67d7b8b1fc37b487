"""mlflow-accel: a faster, faithful backend for MLflow tracking.

``enable()`` makes MLflow's client, pointed at a database URI (``sqlite:///…``,
``postgresql://…``, ``mysql+pymysql://…``), use the accelerated ``AccelTrackingStore``;
``disable()`` goes back to MLflow's stock store. ``MLFLOW_ACCEL_ENABLE=1`` in the environment
enables it without code changes. ``compiled()`` says whether the Cython core is loaded.
"""

from mlflow_accel._version import __version__

__all__ = ["__version__", "compiled", "disable", "enable", "is_enabled"]


def enable() -> None:
    """Accelerate MLflow's SQL tracking stores built from now on."""
    from mlflow_accel import _switch

    _switch.set_enabled(True)


def disable() -> None:
    """Build MLflow's stock SQL tracking stores from now on."""
    from mlflow_accel import _switch

    _switch.set_enabled(False)


def is_enabled() -> bool:
    from mlflow_accel import _switch

    return _switch.is_enabled()


def compiled() -> bool:
    """True when the compiled (Cython) core is in use, False for the pure-Python twin."""
    from mlflow_accel import _core

    return _core.COMPILED
