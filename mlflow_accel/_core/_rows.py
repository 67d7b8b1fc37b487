"""One logging request -> the database rows MLflow's SQL store would write for it.

Row builders over already validated values (a metric is ``(key, value, timestamp, step)``, a
param or tag ``(key, value)``): ``metrics``, ``latest_metrics`` candidates,
``logged_model_metrics``, ``params``, ``tags``.

Cython pure-Python mode: compiled when built, imported as plain Python otherwise.
"""

import math

try:
    import cython
except ImportError:
    from mlflow_accel._core import _cython_shim as cython

RUN_NAME_TAG = "mlflow.runName"
_MAX_FLOAT = 1.7976931348623157e308


@cython.cfunc
def _stored_value(value) -> tuple:
    """``(value, is_nan)`` as MLflow stores a metric value."""
    number: cython.double = value
    if math.isnan(number):
        return 0.0, True
    if math.isinf(number):
        return (_MAX_FLOAT if number > 0 else -_MAX_FLOAT), False
    return number, False


def metric_rows(run_id, metrics):
    """``(rows, latest)`` for a list of metric tuples, with MLflow's semantics.

    ``rows``: ``(key, value, timestamp, step, is_nan, run_id)`` for ``metrics``, once per identity
    (metrics identical once stored, by key, timestamp, step, value and is_nan, are written once);
    NaN is stored as value 0 with ``is_nan`` true, +/-inf as +/-1.7976931348623157e308.
    ``latest``: one row per key, sorted by key (a stable lock order for the store): the greatest
    by (step, timestamp, value), the first of equals winning; the store applies it only where it
    beats the stored one.
    """
    rows = []
    seen = set()
    latest = {}
    for key, value, timestamp, step in metrics:
        stored, is_nan = _stored_value(value)
        identity = (key, timestamp, step, stored, is_nan)
        if identity in seen:
            continue
        seen.add(identity)
        row = (key, stored, timestamp, step, is_nan, run_id)
        rows.append(row)
        best = latest.get(key)
        if best is None or (step, timestamp, stored) > (best[3], best[2], best[1]):
            latest[key] = row
    return rows, [latest[key] for key in sorted(latest)]


def param_rows(run_id, params):
    """``(key, value, run_id)`` rows for validated ``(key, value)`` params."""
    return [(key, value, run_id) for key, value in params]


def tag_rows(run_id, tags):
    """``(rows, run_name)``: one ``(key, value, run_id)`` row per key, and the run's new name.

    The last value of a key wins. ``mlflow.runName`` tags rename the run in order, an empty one
    changing nothing (as MLflow applies each through ``update_run_info``): the new name is the
    last non-empty one, or ``None``.
    """
    values = {}
    run_name = None
    for key, value in tags:
        if key != RUN_NAME_TAG:
            values[key] = value
        elif value:
            run_name = value
    rows = [(key, value, run_id) for key, value in values.items()]
    if run_name is not None:
        rows.append((RUN_NAME_TAG, run_name, run_id))
    return rows, run_name


def model_metric_rows(run_id, metrics):
    """``logged_model_metrics`` rows for a request's metrics, with MLflow's semantics.

    ``metrics``: ``(key, value, timestamp, step, model_id, dataset_name, dataset_digest,
    metric_run_id)`` tuples, every field of MLflow's ``Metric``; those bound to no model are
    skipped, and equal tuples (as ``Metric`` objects compare) are written once. Rows are
    ``(model_id, key, timestamp, step, value, run_id, dataset_name, dataset_digest)``, the value
    stored as in ``metrics`` except that NaN is 0.
    """
    rows = []
    seen = set()
    for metric in metrics:
        if metric[4] is None or metric in seen:
            continue
        seen.add(metric)
        key, value, timestamp, step, model_id, dataset_name, dataset_digest, _ = metric
        stored = _stored_value(value)[0]
        rows.append((model_id, key, timestamp, step, stored, run_id, dataset_name, dataset_digest))
    return rows
