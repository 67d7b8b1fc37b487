"""The fast handlers, one module per MLflow service area (``tracking``, ``registry``), and
``HANDLERS``: each by the name MLflow gives the Flask view it stands in for (its endpoint).

A handler takes a ``FastRequest`` and returns the response message as a dict. The app factory
mounts the handlers on MLflow's own paths and methods for those endpoints.
"""

from __future__ import annotations

from mlflow_accel.server.handlers.registry import REGISTRY
from mlflow_accel.server.handlers.tracking import TRACKING

HANDLERS = {**TRACKING, **REGISTRY}
