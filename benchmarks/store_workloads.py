"""Tracking-store workloads for the stock-vs-accelerated benchmark, as plain functions.

Each workload has a ``setup`` (untimed: creates the experiment, runs and data it needs) and a
``run`` that performs the operation ``n`` times through an ``MlflowClient`` and returns the
seconds spent in the operations alone (untimed preparation, such as creating a fresh run, is
excluded). ``bench_store.py`` drives them under pyperf; ``profile_store.py`` under a profiler.

Write workloads log into an experiment and runs that the calling process creates, so a variant
never writes into (or is slowed by) a run that an earlier measurement filled. Read workloads use
fixtures kept in the database under an experiment named after the workload
(``bench-fixture/<workload>``): the first process to need one creates it, later ones, of either
variant, find it (marked complete by a tag) and read the very same rows.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # MLflow is imported where used: listing the workloads stays cheap
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

READY_TAG = "bench.fixture_ready"
RUN_ID_TAG = "bench.run_id"

GET_RUN_SIZE = 100  # metrics, params and tags on the get_run fixture run
HISTORY_POINTS = 10_000  # points of the one metric read by get_metric_history
SEARCH_RUNS = 1_000  # runs in the search_runs fixture experiment
SEARCH_RUN_SIZE = 5  # metrics, params and tags on each of those runs

_NOW_MS = int(time.time() * 1000)
_counter = itertools.count()


@dataclass(frozen=True)
class Workload:
    """One benchmarked operation: ``setup(client, variant) -> state``, then
    ``run(client, state, n) -> seconds`` for ``n`` operations.

    ``inner_loops`` operations make one pyperf loop (about 0.1 s with the stock store), so a
    value needs no calibration run.
    """

    name: str
    description: str
    setup: Callable[[MlflowClient, str], Any]
    run: Callable[[MlflowClient, Any, int], float]
    inner_loops: int = 1


# --- helpers -------------------------------------------------------------------------------


def _unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _new_experiment(client: MlflowClient, prefix: str) -> str:
    return client.create_experiment(_unique(prefix))


def _fixture(client: MlflowClient, workload: str, build: Callable[[str], dict]):
    """Return the tags of the fixture experiment for ``workload``, building it when missing.

    ``build(experiment_id)`` fills the experiment and returns extra experiment tags to record
    (such as a run id); the experiment is tagged ready only once everything is written.
    """
    name = f"bench-fixture/{workload}"
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.tags.get(READY_TAG) != "1":
            raise RuntimeError(
                f"fixture experiment {name!r} exists but is incomplete (an earlier setup failed?);"
                " use a fresh database"
            )
        return exp.experiment_id, exp.tags
    exp_id = client.create_experiment(name)
    tags = build(exp_id)
    for key, value in tags.items():
        client.set_experiment_tag(exp_id, key, value)
    client.set_experiment_tag(exp_id, READY_TAG, "1")
    return exp_id, {**tags, READY_TAG: "1"}


def _metric_batches(keys: int, steps: int, start_step: int) -> list[Metric]:
    """``keys`` metric keys at ``steps`` consecutive steps from ``start_step``."""
    from mlflow.entities import Metric

    return [
        Metric(f"m{k}", float(step * keys + k) * 0.5, _NOW_MS + step, step)
        for step in range(start_step, start_step + steps)
        for k in range(keys)
    ]


# --- write workloads -------------------------------------------------------------------------


@dataclass
class _WriteState:
    experiment_id: str
    run_id: str | None = None
    calls_in_run: int = 0
    step: int = 0


def _setup_write(prefix: str) -> Callable[[MlflowClient, str], _WriteState]:
    def setup(client: MlflowClient, variant: str) -> _WriteState:
        return _WriteState(_new_experiment(client, f"bench-write/{prefix}/{variant}"))

    return setup


def _log_batch_runner(
    calls_per_run: int, payload: Callable[[_WriteState], dict]
) -> Callable[[MlflowClient, _WriteState, int], float]:
    """Timed ``log_batch`` calls, moving to a fresh run (created untimed) every
    ``calls_per_run`` calls so a run never grows large."""

    def run(client: MlflowClient, state: _WriteState, n: int) -> float:
        # Build every run and payload first so the timed loop holds only log_batch calls.
        plan = []
        for _ in range(n):
            if state.run_id is None or state.calls_in_run >= calls_per_run:
                state.run_id = client.create_run(state.experiment_id).info.run_id
                state.calls_in_run = 0
            state.calls_in_run += 1
            plan.append((state.run_id, payload(state)))
        log_batch = client.log_batch
        t0 = time.perf_counter()
        for run_id, kwargs in plan:
            log_batch(run_id, **kwargs)
        return time.perf_counter() - t0

    return run


def _metrics_payload(keys: int, steps: int) -> Callable[[_WriteState], dict]:
    def payload(state: _WriteState) -> dict:
        metrics = _metric_batches(keys, steps, state.step)
        state.step += steps
        return {"metrics": metrics}

    return payload


def _params_tags_payload(state: _WriteState) -> dict:
    from mlflow.entities import Param, RunTag

    n = next(_counter)  # unique keys per call: a param may be logged only once per run
    return {
        "params": [Param(f"p{n}_{i}", f"value-{i}") for i in range(100)],
        "tags": [RunTag(f"t{n}_{i}", f"tag-value-{i}") for i in range(100)],
    }


def _setup_log_metric(client: MlflowClient, variant: str) -> _WriteState:
    state = _WriteState(_new_experiment(client, f"bench-write/log_metric/{variant}"))
    state.run_id = client.create_run(state.experiment_id).info.run_id
    return state


def _run_log_metric(client: MlflowClient, state: _WriteState, n: int) -> float:
    log_metric = client.log_metric
    run_id = state.run_id
    start = state.step
    state.step += n
    t0 = time.perf_counter()
    for step in range(start, start + n):
        log_metric(run_id, "loss", 1.0 / (step + 1), _NOW_MS + step, step)
    return time.perf_counter() - t0


# --- read workloads --------------------------------------------------------------------------


def _setup_get_run(client: MlflowClient, variant: str) -> str:
    from mlflow.entities import Metric, Param, RunTag

    def build(exp_id: str) -> dict:
        run_id = client.create_run(exp_id).info.run_id
        n = GET_RUN_SIZE
        client.log_batch(
            run_id,
            metrics=[Metric(f"metric_{i}", i * 0.25, _NOW_MS, 0) for i in range(n)],
            params=[Param(f"param_{i}", f"value-{i}") for i in range(n)],
        )
        client.log_batch(run_id, tags=[RunTag(f"tag_{i}", f"tag-value-{i}") for i in range(n)])
        return {RUN_ID_TAG: run_id}

    _, tags = _fixture(client, "get_run", build)
    return tags[RUN_ID_TAG]


def _run_get_run(client: MlflowClient, run_id: str, n: int) -> float:
    get_run = client.get_run
    t0 = time.perf_counter()
    for _ in range(n):
        get_run(run_id)
    return time.perf_counter() - t0


def _setup_metric_history(client: MlflowClient, variant: str) -> str:
    from mlflow.entities import Metric

    def build(exp_id: str) -> dict:
        run_id = client.create_run(exp_id).info.run_id
        chunk = 1000  # MLflow's per-batch metric limit
        for start in range(0, HISTORY_POINTS, chunk):
            client.log_batch(
                run_id,
                metrics=[
                    Metric("loss", 1.0 / (s + 1), _NOW_MS + s, s)
                    for s in range(start, start + chunk)
                ],
            )
        return {RUN_ID_TAG: run_id}

    _, tags = _fixture(client, "get_metric_history", build)
    return tags[RUN_ID_TAG]


def _run_metric_history(client: MlflowClient, run_id: str, n: int) -> float:
    get_metric_history = client.get_metric_history
    t0 = time.perf_counter()
    for _ in range(n):
        history = get_metric_history(run_id, "loss")
    elapsed = time.perf_counter() - t0
    if len(history) != HISTORY_POINTS:
        raise AssertionError(f"get_metric_history returned {len(history)} points")
    return elapsed


def _setup_search_runs(client: MlflowClient, variant: str) -> str:
    from mlflow.entities import Metric, Param, RunTag

    def build(exp_id: str) -> dict:
        k = SEARCH_RUN_SIZE
        for r in range(SEARCH_RUNS):
            run_id = client.create_run(exp_id, start_time=_NOW_MS + r).info.run_id
            client.log_batch(
                run_id,
                metrics=[Metric(f"metric_{i}", r * 0.5 + i, _NOW_MS, 0) for i in range(k)],
                params=[Param(f"param_{i}", f"value-{r % 10}-{i}") for i in range(k)],
                tags=[RunTag(f"tag_{i}", f"tag-{r % 7}-{i}") for i in range(k)],
            )
        return {}

    exp_id, _ = _fixture(client, "search_runs", build)
    return exp_id


def _run_search_runs(client: MlflowClient, exp_id: str, n: int) -> float:
    search_runs = client.search_runs
    t0 = time.perf_counter()
    for _ in range(n):
        runs = search_runs([exp_id], max_results=SEARCH_RUNS)
    elapsed = time.perf_counter() - t0
    if len(runs) != SEARCH_RUNS:
        raise AssertionError(f"search_runs returned {len(runs)} runs")
    return elapsed


# --- registry --------------------------------------------------------------------------------

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload(
            "log_batch_10_metrics",
            "log_batch of 10 metrics (10 keys, one step); fresh run every 100 calls",
            _setup_write("log_batch_10_metrics"),
            _log_batch_runner(100, _metrics_payload(keys=10, steps=1)),
            inner_loops=10,
        ),
        Workload(
            "log_batch_1000_metrics",
            "log_batch of 1000 metrics (100 keys x 10 steps); fresh run every 10 calls",
            _setup_write("log_batch_1000_metrics"),
            _log_batch_runner(10, _metrics_payload(keys=100, steps=10)),
        ),
        Workload(
            "log_batch_100_params_100_tags",
            "log_batch of 100 new params + 100 new tags; fresh run every 10 calls",
            _setup_write("log_batch_100_params_100_tags"),
            _log_batch_runner(10, _params_tags_payload),
            inner_loops=3,
        ),
        Workload(
            "log_metric",
            "log_metric of one key at increasing steps, all into one run",
            _setup_log_metric,
            _run_log_metric,
            inner_loops=20,
        ),
        Workload(
            "get_run",
            f"get_run of a run with {GET_RUN_SIZE} metrics, params and tags",
            _setup_get_run,
            _run_get_run,
            inner_loops=8,
        ),
        Workload(
            "get_metric_history",
            f"get_metric_history of one key with {HISTORY_POINTS:,} points",
            _setup_metric_history,
            _run_metric_history,
        ),
        Workload(
            "search_runs",
            f"search_runs returning all {SEARCH_RUNS:,} runs of an experiment "
            f"({SEARCH_RUN_SIZE} metrics, params, tags each)",
            _setup_search_runs,
            _run_search_runs,
        ),
    ]
}
