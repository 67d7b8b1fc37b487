"""Every fast handler, by the name MLflow gives the Flask view it stands in for (its endpoint).

The app factory mounts these on MLflow's own paths and methods for those endpoints.
"""

from __future__ import annotations

from mlflow_accel.server.handlers.registry import REGISTRY
from mlflow_accel.server.handlers.tracking import TRACKING

HANDLERS = {**TRACKING, **REGISTRY}
