"""Differential tests: ``AccelTrackingStore`` must answer exactly like MLflow's ``SqlAlchemyStore``.

Each test applies one sequence of operations to a stock store and to an accel store, each on its own
fresh clone of the same migrated database (same dialect), and compares, after normalising
run/experiment ids and wall-clock times (``tests.support.databases.Normaliser``): every return
value, every exception (class, error code, message), and at the end the whole content of the
tracking tables (plus row counts of all other tables), so a wrong side-write cannot hide. Sequences
are hand-written scenarios and a seeded random workload (``Workload``).

``MLFLOW_ACCEL_DIFF_LOG=<dir>`` writes every operation with both answers to a file per test.
"""

from __future__ import annotations

import copy
import math
import os
import random
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from mlflow.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from mlflow_accel.store.tracking import AccelTrackingStore
from tests.support.databases import TRACKING_TABLES, Normaliser, dump_tables, table_differences
from tests.support.differential import Comparison, describe, op

MISSING_RUN = "0123456789abcdef0123456789abcdef"  # well formed, never created
BAD_RUN = "not a run id!"
MISSING_EXP = "999999"
MISSING_MODEL = "m-0123456789abcdef0123456789abcdef"
T0 = 1_600_000_000_000
NAN, INF = float("nan"), float("inf")
BAD_KEYS = ["../x", "a//b", "bad\x00", "k" * 251, None, "", "/abs", "a/../b", "star*"]
TRUNCATE = "MLFLOW_TRUNCATE_LONG_VALUES"


# -- one store's side of the comparison ------------------------------------------------------


class Side:
    """A store plus its run/experiment ids in creation order and its normaliser."""

    def __init__(self, store, artifact_root: str):
        self.store = store
        self.norm = Normaliser(artifact_root)
        self.runs: list[str] = []
        self.exps: list[str] = ["0"]
        self.models: list[str] = []

    def run(self, ref):
        if isinstance(ref, int):
            return self.runs[ref] if ref < len(self.runs) else MISSING_RUN
        return ref

    def exp(self, ref):
        if isinstance(ref, int):
            return self.exps[ref] if ref < len(self.exps) else MISSING_EXP
        return ref

    def model(self, ref):
        if ref is None or isinstance(ref, str):
            return ref
        return self.models[ref] if ref < len(self.models) else MISSING_MODEL

    def fill(self, template: str | None) -> str | None:
        """``{run:N}`` placeholders in a filter string -> this store's run ids."""
        if template is None:
            return None
        for i in range(len(self.runs) - 1, -1, -1):
            template = template.replace(f"{{run:{i}}}", self.runs[i])
        return template


def _metrics(side, metrics):
    """``Metric``s from ``(key, value, timestamp, step[, model, dataset_name, dataset_digest])``."""
    return [_metric(side, *metric) for metric in metrics]


def _metric(side, key, value, ts, step, model=None, dataset_name=None, dataset_digest=None):
    return Metric(key, value, ts, step, side.model(model), dataset_name, dataset_digest)


def _params(params):
    return [Param(key, value) for key, value in params]


def _tags(tags):
    return [RunTag(key, value) for key, value in tags]


def _order_key(metric):
    """get_metric_history's ORDER BY key: (timestamp, step, stored value); NaN is stored as 0."""
    value = 0.0 if math.isnan(metric.value) else metric.value
    return (metric.timestamp, metric.step, repr(float(value)))


def do_create_experiment(side, name, tags=None):
    tags = [ExperimentTag(k, v) for k, v in tags] if tags else None
    experiment_id = side.store.create_experiment(name, tags=tags)
    side.exps.append(experiment_id)
    side.norm.add_experiment(experiment_id)
    return side.norm.value(experiment_id, "experiment_id")


def do_create_run(side, exp, user_id, start_time, tags, run_name):
    run = side.store.create_run(side.exp(exp), user_id, start_time, _tags(tags), run_name)
    side.runs.append(run.info.run_id)
    side.norm.add_run(run.info.run_id, defaulted_start=start_time is None)
    if start_time is None:
        time.sleep(0.003)  # distinct default start times keep search_runs' order deterministic
    return side.norm.value(run)


def do_create_logged_model(side, exp, name=None):
    model_id = side.store.create_logged_model(experiment_id=side.exp(exp), name=name).model_id
    side.models.append(model_id)
    return side.norm.add_model(model_id)


def do_log_batch(side, run, metrics=(), params=(), tags=()):
    store = side.store
    return side.norm.value(
        store.log_batch(side.run(run), _metrics(side, metrics), _params(params), _tags(tags))
    )


def do_log_metric(side, run, metric):
    return side.norm.value(side.store.log_metric(side.run(run), _metrics(side, [metric])[0]))


def do_log_param(side, run, key, value):
    return side.norm.value(side.store.log_param(side.run(run), Param(key, value)))


def do_set_tag(side, run, key, value):
    return side.norm.value(side.store.set_tag(side.run(run), RunTag(key, value)))


def do_update_run_info(side, run, status, end_time, run_name):
    return side.norm.value(side.store.update_run_info(side.run(run), status, end_time, run_name))


def do_delete_run(side, run):
    return side.norm.value(side.store.delete_run(side.run(run)))


def do_restore_run(side, run):
    return side.norm.value(side.store.restore_run(side.run(run)))


def do_log_inputs(side, run, datasets=(), models=()):
    dataset_inputs = [
        DatasetInput(Dataset(*dataset), [InputTag(k, v) for k, v in tags])
        for dataset, tags in datasets
    ]
    model_inputs = [LoggedModelInput(side.models[m]) for m in models]
    return side.norm.value(side.store.log_inputs(side.run(run), dataset_inputs, model_inputs))


def do_log_outputs(side, run, models):
    outputs = [LoggedModelOutput(side.models[m], step) for m, step in models]
    return side.norm.value(side.store.log_outputs(side.run(run), outputs))


def do_get_run(side, run):
    return side.norm.value(side.store.get_run(side.run(run)))


def do_get_experiment(side, exp):
    return side.norm.value(side.store.get_experiment(side.exp(exp)))


def do_get_experiment_by_name(side, name):
    return side.norm.value(side.store.get_experiment_by_name(name))


def do_get_metric_history(side, run, key, max_results=None, page_token=None):
    pages, token = [], page_token
    while True:
        page = side.store.get_metric_history(side.run(run), key, max_results, token)
        pages.append(page)
        token = page.token
        if max_results is None or not token or len(pages) >= 60:
            break
    return {
        "all": sorted((side.norm.value(m) for page in pages for m in page), key=repr),
        "pages": [[page.token, sorted(_order_key(m) for m in page)] for page in pages],
    }


def do_search_runs(side, exps, filter, view, max_results=1000, order_by=None, page_token=None):
    pages, token = [], page_token
    while True:
        page = side.store.search_runs(
            [side.exp(e) for e in exps], side.fill(filter), view, max_results, order_by, token
        )
        pages.append([[side.norm.value(run) for run in page], page.token])
        token = page.token
        if not token or len(pages) >= 40:
            break
    return pages


EXECUTORS = {name[3:]: fn for name, fn in globals().items() if name.startswith("do_")}


# -- the comparison ---------------------------------------------------------------------------


class Differential(Comparison):
    """Applies operations to the stock and the accel side and records every difference."""

    def __init__(self, stock, accel, uris, artifact_root, monkeypatch):
        super().__init__()
        self.stock = Side(stock, artifact_root)
        self.accel = Side(accel, artifact_root)
        self.uris = uris
        self.monkeypatch = monkeypatch
        self.outcomes: Counter = Counter()
        self.log = _trace_file()

    def apply(self, operation) -> bool:
        """Run ``operation`` on both sides; True when the stock store did not raise."""
        kind, kwargs = operation
        index = self.next_index()
        if kind == "set_truncate":
            self.monkeypatch.setenv(TRUNCATE, "true" if kwargs["on"] else "false")
            return True
        results = []
        for side in (self.stock, self.accel):
            random.seed(f"op-{index}")  # MLflow's random run names come from `random`
            try:
                results.append(EXECUTORS[kind](side, **kwargs))
            except Exception as e:
                results.append(side.norm.error(e))
        stock, accel = results
        if self.log is not None:
            same = "same" if stock == accel else "DIFFERENT"
            self.log.write(f"#{index} {kind}({describe(kwargs, 400)}) -> {same}\n")
            self.log.write(f"    stock: {describe({'': stock}, 600)}\n")
            if stock != accel:
                self.log.write(f"    accel: {describe({'': accel}, 600)}\n")
            self.log.flush()
        ok = not (isinstance(stock, list) and stock[:1] == ["error"])
        self.outcomes[(kind, "ok" if ok else "error")] += 1
        self.compare(index, kind, kwargs, stock, accel)
        return ok

    def apply_all(self, operations) -> None:
        for operation in operations:
            self.apply(operation)

    def table_differences(self) -> list[str]:
        stock = dump_tables(self.uris[0], self.stock.norm)
        accel = dump_tables(self.uris[1], self.accel.norm)
        return table_differences(stock, accel)


def _trace_file():
    """With ``MLFLOW_ACCEL_DIFF_LOG=<dir>``, every op and both answers go to a file per test."""
    directory = os.environ.get("MLFLOW_ACCEL_DIFF_LOG")
    if not directory:
        return None
    test = os.environ.get("PYTEST_CURRENT_TEST", "differential").split(" ")[0]
    path = Path(directory) / (re.sub(r"[^\w.-]+", "_", test) + ".log")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w")


@pytest.fixture
def differential(new_database, make_store, artifact_root, monkeypatch):
    monkeypatch.setenv(TRUNCATE, "true")

    built = []

    def build(stock_cls=SqlAlchemyStore, accel_cls=AccelTrackingStore):
        uris = (new_database(), new_database())
        stock, accel = make_store(stock_cls, uris[0]), make_store(accel_cls, uris[1])
        built.append(Differential(stock, accel, uris, artifact_root, monkeypatch))
        return built[-1]

    yield build
    for diff in built:
        if diff.log is not None:
            diff.log.close()


# -- hand-written scenarios -------------------------------------------------------------------


def _runs(n, exp=1, first=0):
    return [
        op(
            "create_run",
            exp=exp,
            user_id="u",
            start_time=T0 + 1000 * (first + i),
            tags=[],
            run_name=f"run-{first + i}",
        )
        for i in range(n)
    ]


def _reads(n_runs, keys=()):
    reads = [op("get_run", run=i) for i in range(n_runs)]
    for i in range(n_runs):
        for key in keys:
            reads += [
                op("get_metric_history", run=i, key=key),
                op("get_metric_history", run=i, key=key, max_results=2),
            ]
    return reads


EXP = [op("create_experiment", name="scenario", tags=[("team", "core")])]
TRAIN_TAGS = [("mlflow.data.context", "train"), ("z", "last"), ("a", "first")]

SCENARIOS = {
    "create_run": EXP
    + [
        op("create_run", exp=1, user_id="alice", start_time=T0, tags=[], run_name="first"),
        op(
            "create_run",
            exp=1,
            user_id="bob",
            start_time=T0 + 1,
            tags=[("mlflow.runName", "tagged"), ("t", "1")],
            run_name=None,
        ),
        op(
            "create_run",
            exp=1,
            user_id="bob",
            start_time=T0 + 2,
            tags=[("mlflow.runName", "same")],
            run_name="same",
        ),
        op(
            "create_run",
            exp=1,
            user_id=None,
            start_time=T0 + 3,
            tags=[("mlflow.runName", "a")],
            run_name="b",
        ),
        op(
            "create_run",
            exp=1,
            user_id="c",
            start_time=T0 + 4,
            tags=[("t", ""), ("u", "v")],
            run_name=None,
        ),
        op("create_run", exp=1, user_id="c", start_time=None, tags=[], run_name=""),
        op(
            "create_run",
            exp=0,
            user_id="d",
            start_time=T0 + 5,
            tags=[("t", "1"), ("t", "2")],
            run_name="in-default",
        ),
        op("create_run", exp=MISSING_EXP, user_id="e", start_time=T0 + 6, tags=[], run_name="x"),
        op("create_run", exp="abc", user_id="e", start_time=T0 + 7, tags=[], run_name="x"),
        op(
            "create_run",
            exp=1,
            user_id="f",
            start_time=T0 + 8,
            tags=[("a//b", "v")],
            run_name="badtag",
        ),
        *_reads(7),
        op("get_run", run=MISSING_RUN),
        op("get_run", run=BAD_RUN),
    ],
    # Metrics bound to a logged model (model 2 never exists) also write logged_model_metrics.
    "model_metrics": EXP
    + _runs(2)
    + [
        op("create_logged_model", exp=1),
        op("create_logged_model", exp=0),
        op(
            "log_batch",
            run=0,
            metrics=[
                ("acc", 0.5, 10, 0, 0),
                ("acc", 0.5, 10, 0, 0),
                ("acc", 0.75, 11, 1, 0, "train", "d1"),
                ("acc", 0.75, 11, 1, 1, "train", "d1"),
                ("loss", NAN, 10, 0, 0, "eval", "d2"),
                ("loss", INF, 12, 0, 1),
                ("loss", -INF, 13, 0, 1, "eval", "d2"),
                ("plain", 1, 10, 0),
            ],
            params=[("p", "v")],
            tags=[("t", "v")],
        ),
        op(
            "log_batch",
            run=0,
            metrics=[("acc", 0.5, 10, 0, 0), ("loss", NAN, 10, 0, 0, "eval", "d2")],
        ),
        op("log_batch", run=0, metrics=[("acc", 0.5, 10, 0, 0), ("acc", 0.9, 20, 2, 0)]),
        op("log_batch", run=1, metrics=[("acc", 0.5, 10, 0, 0), ("acc", 0.5, 10, 0)]),
        op("log_metric", run=0, metric=("single", 2.5, 30, 3, 0)),
        op("log_metric", run=0, metric=("single", 2.5, 30, 3, 0)),
        op("log_metric", run=0, metric=("single", 2.5, 31, 3, 1, "train", "d1")),
        op("log_metric", run=0, metric=("single", NAN, 32, 3, 1)),
        op("log_metric", run=0, metric=("single", 9.5, 30, 3, 0)),
        op("log_metric", run=0, metric=("single", 1.0, 40, 4, 2)),
        op("log_metric", run=0, metric=("bad//key", 1.0, 40, 4, 0)),
        op("log_metric", run=MISSING_RUN, metric=("bad//key", 1.0, 40, 4, 0)),
        op("log_metric", run=1, metric=("single", 1.0, 40, 4, MISSING_MODEL)),
        op("delete_run", run=1),
        op("log_metric", run=1, metric=("single", 1.0, 40, 4, 0)),
        op("log_batch", run=1, metrics=[("single", 1.0, 40, 4, 0)]),
        op("log_metric", run=0, metric=("digest", 1.0, 50, 5, 0, "train", "d" * 40)),
        # MLflow looks stored rows up per 100 names: a repeat passes when every lookup finds
        # the rows (one name), and fails when they are spread over two lookups.
        op("log_batch", run=0, metrics=[("many", float(i), 100 + i, i, 0) for i in range(150)]),
        op("log_batch", run=0, metrics=[("many", float(i), 100 + i, i, 0) for i in range(150)]),
        op("log_batch", run=0, metrics=[(f"k{i}", 1.0, 5, 0, 0) for i in range(101)]),
        op("log_batch", run=0, metrics=[(f"k{i}", 1.0, 5, 0, 0) for i in range(101)]),
        *_reads(2, keys=["acc", "loss", "single"]),
    ],
    "metric_values": EXP
    + _runs(2)
    + [
        op(
            "log_batch",
            run=0,
            metrics=[
                ("m", 1.5, 10, 0),
                ("m", 1.5, 10, 0),
                ("m", 2, 10, 1),
                ("m", NAN, 11, 1),
                ("m", INF, 12, 2),
                ("m", -INF, 12, 2),
                ("n", 3, 0, 0),
                ("n", 0.0, 0, 0),
                ("n", NAN, 0, 0),
                ("big", 1e308, 5, -1),
                ("tiny", 5e-324, 5, 10**12),
            ],
        ),
        op("log_batch", run=0, metrics=[("m", 1.5, 10, 0), ("m", 7, 9, 2), ("m", 8, 9, 2)]),
        op("log_metric", run=0, metric=("m", 1.5, 10, 0)),
        op("log_metric", run=0, metric=("m", -1, 13, 2)),
        op("log_metric", run=0, metric=("n", NAN, 1, 0)),
        op("log_metric", run=0, metric=("n", 4, 1, 0)),
        op("log_metric", run=1, metric=("m", INF, 0, 0)),
        op("log_metric", run=1, metric=("m", NAN, 0, 0)),
        op("log_metric", run=1, metric=("m", -INF, 0, 0)),
        op("log_metric", run=1, metric=("ints", 3, 0, 0)),
        op("log_batch", run=1, metrics=[("seq", float(i), 100 + i // 2, i % 3) for i in range(9)]),
        op("log_batch", run=1, metrics=[("seq", 0.5, 100, 0)], params=[], tags=[]),
        op("log_batch", run=1, metrics=[], params=[], tags=[]),
        op("log_metric", run=1, metric=("neg", 1, 0, -5)),
        op("log_metric", run=1, metric=("neg", 2, 0, -6)),
        *_reads(2, keys=("m", "n", "seq", "missing")),
        op(
            "get_metric_history", run=1, key="seq", max_results=4, page_token="eyJvZmZzZXQiOiA1fQ=="
        ),
        op("get_metric_history", run=1, key="seq", max_results=2, page_token="garbage"),
        op("get_metric_history", run=1, key="seq", max_results=0),
    ],
    "metric_validation": EXP
    + _runs(1)
    + [
        op("log_metric", run=0, metric=("m", None, 1, 0)),
        op("log_metric", run=0, metric=("m", "1.5", 1, 0)),
        op("log_metric", run=0, metric=("m", True, 1, 0)),
        op("log_metric", run=0, metric=("m", 1.0, -1, 0)),
        op("log_metric", run=0, metric=("m", 1.0, None, 0)),
        op("log_metric", run=0, metric=("m", 1.0, 1, None)),
        op("log_batch", run=0, metrics=[("ok", 1, 1, 0), ("m", None, 1, 0)]),
        op("log_batch", run=0, metrics=[("ok", 1, 1, 0), ("m", 1, -5, 0)]),
        *_reads(1, keys=("ok", "m")),
    ],
    "params": EXP
    + _runs(2)
    + [
        op("log_param", run=0, key="p", value="v"),
        op("log_param", run=0, key="p", value="v"),
        op("log_param", run=0, key="p", value="w"),
        op("log_param", run=0, key="empty", value=""),
        op("log_batch", run=0, params=[("p", "v"), ("q", "1")]),
        op("log_batch", run=0, params=[("q", "1"), ("p", "x"), ("r", "new")]),
        op("log_batch", run=0, params=[("dup", "1"), ("dup", "1")]),
        op("log_batch", run=0, params=[("dup2", "1"), ("dup2", "2")]),
        op("log_batch", run=1, params=[(f"p{i}", str(i)) for i in range(100)]),
        op(
            "log_batch",
            run=1,
            params=[(f"p{i}", str(i)) for i in range(50)] + [("p7", "x")],
            metrics=[("m", 1, 1, 1)],
            tags=[("t", "v")],
        ),
        op("log_param", run=1, key="p3", value="3"),
        op("log_param", run=1, key="p3", value="4"),
        *_reads(2, keys=("m",)),
    ],
    "tags": EXP
    + _runs(2)
    + [
        op("set_tag", run=0, key="t", value="1"),
        op("set_tag", run=0, key="t", value="2"),
        op("set_tag", run=0, key="t", value=""),
        op("set_tag", run=0, key="mlflow.runName", value="renamed"),
        op("set_tag", run=0, key="mlflow.user", value="someone"),
        op("log_batch", run=0, tags=[("a", "1"), ("a", "2"), ("b", "x"), ("a", "3")]),
        op("log_batch", run=0, tags=[("mlflow.runName", "batch-name"), ("c", "y")]),
        op("log_batch", run=1, tags=[("mlflow.runName", "one"), ("mlflow.runName", "two")]),
        op("log_batch", run=1, tags=[("t", "v")], params=[("p", "1")], metrics=[("m", 1, 1, 1)]),
        op("update_run_info", run=1, status=None, end_time=None, run_name="via-update"),
        op("set_tag", run=1, key="mlflow.runName", value=""),
        op("log_batch", run=1, tags=[("mlflow.runName", "adam"), ("mlflow.runName", "")]),
        op("log_batch", run=0, tags=[("mlflow.runName", ""), ("x", "1")]),
        *_reads(2),
    ],
    "long_values_truncated": EXP
    + _runs(1)
    + [
        op("set_truncate", on=True),
        op("log_param", run=0, key="p6000", value="a" * 6000),
        op("log_param", run=0, key="p6001", value="b" * 6001),
        op("log_param", run=0, key="p6001", value="b" * 6001),
        op("log_param", run=0, key="p6001", value="b" * 6000),
        op("log_batch", run=0, params=[("bp", "c" * 7000)], tags=[("bt", "d" * 9000)]),
        op("set_tag", run=0, key="t8000", value="e" * 8000),
        op("set_tag", run=0, key="t8001", value="f" * 8001),
        op("set_tag", run=0, key="mlflow.runName", value="g" * 8001),
        op("log_param", run=0, key="k" * 250, value="ok"),
        op("log_param", run=0, key="k" * 251, value="too long key"),
        op("set_tag", run=0, key="k" * 251, value="too long key"),
        op("log_metric", run=0, metric=("k" * 250, 1, 1, 1)),
        *_reads(1),
    ],
    "long_values_rejected": EXP
    + _runs(1)
    + [
        op("set_truncate", on=False),
        op("log_param", run=0, key="p6000", value="a" * 6000),
        op("log_param", run=0, key="p6001", value="b" * 6001),
        op("log_batch", run=0, params=[("bp", "c" * 7000)], metrics=[("m", 1, 1, 1)]),
        op("log_batch", run=0, tags=[("bt", "d" * 9000)], metrics=[("m", 2, 2, 2)]),
        op("set_tag", run=0, key="t8000", value="e" * 8000),
        op("set_tag", run=0, key="t8001", value="f" * 8001),
        op("update_run_info", run=0, status=None, end_time=None, run_name="h" * 9000),
        op("set_truncate", on=True),
        op("log_param", run=0, key="p6001", value="b" * 6001),
        *_reads(1, keys=("m",)),
    ],
    "bad_keys": EXP
    + _runs(1)
    + [
        step
        for i, key in enumerate(BAD_KEYS)
        for step in (
            op("log_metric", run=0, metric=(key, 1.0, 1, 0)),
            op("log_param", run=0, key=key, value="v"),
            op("set_tag", run=0, key=key, value="v"),
            op("log_batch", run=0, metrics=[("ok", 1, i, 0), (key, 1, 1, 0)]),
            op("log_batch", run=0, params=[(f"ok{i}", "v"), (key, "v")]),
            op("log_batch", run=0, tags=[("ok", "v"), ("ok2", "v"), (key, "v")]),
        )
    ]
    + _reads(1, keys=("ok",)),
    "batch_limits": EXP
    + _runs(2)
    + [
        op("log_batch", run=0, metrics=[(f"m{i % 40}", float(i), i, i // 40) for i in range(1000)]),
        op("log_batch", run=0, metrics=[("x", float(i), i, 0) for i in range(1001)]),
        op("log_batch", run=0, params=[(f"p{i}", "v") for i in range(101)]),
        op("log_batch", run=0, tags=[(f"t{i}", "v") for i in range(101)]),
        op(
            "log_batch",
            run=0,
            metrics=[("y", 1.0, i, 0) for i in range(900)],
            params=[(f"q{i}", "v") for i in range(100)],
            tags=[("t", "v")],
        ),
        op(
            "log_batch",
            run=1,
            metrics=[("d", 1.0, i % 10, 0) for i in range(1000)],
            params=[(f"q{i}", "v") for i in range(0)],
            tags=[(f"t{i}", "v") for i in range(0)],
        ),
        op("log_batch", run=1, metrics=[("bad", 1, 1, 0)] * 999 + [("../x", 1, 1, 0)]),
        *_reads(2, keys=("m0", "m39", "d", "x")),
    ],
    "lifecycle": EXP
    + _runs(3)
    + [
        op("log_batch", run=0, metrics=[("m", 1, 1, 1)], params=[("p", "1")], tags=[("t", "1")]),
        op("update_run_info", run=0, status=RunStatus.FINISHED, end_time=T0 + 50, run_name=None),
        op("update_run_info", run=0, status=RunStatus.FAILED, end_time=None, run_name=""),
        op(
            "update_run_info",
            run=0,
            status=RunStatus.SCHEDULED,
            end_time=T0 + 60,
            run_name="renamed",
        ),
        op("update_run_info", run=1, status=RunStatus.KILLED, end_time=0, run_name="x"),
        op("delete_run", run=1),
        op("delete_run", run=1),
        op("log_batch", run=1, metrics=[("m", 1, 1, 1)]),
        op("log_batch", run=1, metrics=[("../bad", 1, 1, 1)]),
        op("log_metric", run=1, metric=("m", 1, 1, 1)),
        op("log_param", run=1, key="p", value="v"),
        op("set_tag", run=1, key="t", value="v"),
        op("set_tag", run=1, key="mlflow.runName", value="v"),
        op("update_run_info", run=1, status=RunStatus.FINISHED, end_time=1, run_name=None),
        op("get_run", run=1),
        op("restore_run", run=1),
        op("log_batch", run=1, metrics=[("m", 2, 2, 2)], params=[("p", "1")]),
        op("delete_run", run=2),
        *[
            op(kind, run=ref, **args)
            for ref in (MISSING_RUN, BAD_RUN, "")
            for kind, args in (
                ("log_batch", {"metrics": [("m", 1, 1, 1)]}),
                ("log_batch", {}),
                ("log_metric", {"metric": ("m", 1, 1, 1)}),
                ("log_param", {"key": "p", "value": "v"}),
                ("set_tag", {"key": "t", "value": "v"}),
                (
                    "update_run_info",
                    {"status": RunStatus.FINISHED, "end_time": 1, "run_name": None},
                ),
                ("get_run", {}),
                ("get_metric_history", {"key": "m"}),
                ("delete_run", {}),
            )
        ],
        *_reads(3, keys=("m",)),
        op("search_runs", exps=[1], filter=None, view=ViewType.ALL),
        op("search_runs", exps=[1], filter=None, view=ViewType.DELETED_ONLY),
    ],
    # Runs with dataset inputs (context tags, a dataset shared across runs, tagless inputs) and
    # logged-model inputs and outputs: get_run and search_runs load them without MLflow's code.
    # One model link of a kind per run: several come in model id order, and ids are random.
    "run_links": EXP
    + _runs(4)
    + [
        op("create_logged_model", exp=1, name="model-a"),
        op("create_logged_model", exp=1, name="model-b"),
        op("create_logged_model", exp=1, name="model-c"),
        op(
            "log_inputs",
            run=0,
            datasets=[
                (("train", "d1", "local", '{"uri": "/t"}', '{"s": 1}', '{"p": 1}'), TRAIN_TAGS),
                (("eval", "d2", "code", "{}", None, None), [("mlflow.data.context", "eval")]),
                (("bare", "d3", "local", "{}"), []),
            ],
            models=[1],
        ),
        op(
            "log_inputs",
            run=1,
            datasets=[
                (("eval", "d2", "code", "{}", None, None), [("mlflow.data.context", "test")]),
                (("train", "d1", "local", '{"uri": "/t"}', '{"s": 1}', '{"p": 1}'), TRAIN_TAGS),
            ],
        ),
        op("log_inputs", run=2, models=[2]),
        op("log_outputs", run=0, models=[(2, 5)]),
        op("log_outputs", run=2, models=[(1, 7)]),
        op("log_inputs", run=0, datasets=[(("late", "d4", "s3", "{}"), [("b", "2"), ("a", "1")])]),
        op("log_inputs", run=MISSING_RUN, models=[0]),
        op("delete_run", run=1),
        *_reads(4),
        *[
            op("search_runs", exps=[1], filter=filter_string, view=ViewType.ALL, max_results=n)
            for filter_string in (None, "datasets.name = 'train'", "datasets.context = 'eval'")
            for n in (1000, 1)
        ],
    ],
    "experiments": [
        op("create_experiment", name="a"),
        op("create_experiment", name="b", tags=[("k", "v"), ("k2", "")]),
        op("create_experiment", name="a"),
        op("create_experiment", name="Default"),
        op("create_experiment", name=""),
        op("create_experiment", name="n" * 501),
        op("create_experiment", name="c"),
        op("get_experiment_by_name", name="a"),
        op("get_experiment_by_name", name="b"),
        op("get_experiment_by_name", name="c"),
        op("get_experiment_by_name", name="Default"),
        op("get_experiment_by_name", name="missing"),
        op("get_experiment_by_name", name="A"),
        op("get_experiment", exp=0),
        op("get_experiment", exp=2),
        op("get_experiment", exp=99),
        op("get_experiment", exp="not-a-number"),
        op("get_experiment", exp=""),
        op("create_run", exp=3, user_id="u", start_time=T0, tags=[], run_name="in-c"),
        op("get_run", run=0),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(differential, name):
    diff = differential()
    diff.apply_all(SCENARIOS[name])
    diff.check()


LINK_TABLES = ("datasets", "inputs", "input_tags")


def test_run_links_are_not_loaded_by_mlflow(differential, make_store, monkeypatch):
    """Runs with inputs/outputs are read by our SQL, never by MLflow's loaders, and answer as a
    stock store on the same database does (so several model links compare in the database's
    order); the link tables (dataset/input ids normalised) are the same on both sides."""
    diff = differential()
    setup = [step for step in SCENARIOS["run_links"] if step[0] not in ("get_run", "search_runs")]
    diff.apply_all(
        setup
        + [
            op("log_inputs", run=2, models=[1, 0]),
            op("log_outputs", run=0, models=[(0, 0), (1, 3)]),
            op("log_outputs", run=2, models=[(0, 2), (2, 1)]),
        ]
    )
    twin = copy.copy(diff.accel)
    twin.store = make_store(SqlAlchemyStore, diff.uris[1])
    reads = [op("get_run", run=i) for i in range(4)]
    reads += [
        op("search_runs", exps=[1], filter=filter_string, view=ViewType.ALL)
        for filter_string in (None, "datasets.digest = 'd2'")
    ]
    stock = [EXECUTORS[kind](twin, **kwargs) for kind, kwargs in reads]
    for name in ("get_run", "_get_run_inputs", "_get_model_inputs", "_get_model_outputs_bulk"):
        monkeypatch.setattr(SqlAlchemyStore, name, _forbidden(name))
    accel = [EXECUTORS[kind](diff.accel, **kwargs) for kind, kwargs in reads]
    assert accel == stock
    assert len(accel[2]["inputs"]["model_inputs"]) == 3, "the linked run lost model inputs"
    assert len(accel[2]["outputs"]["model_outputs"]) == 3, "the linked run lost model outputs"
    tables = TRACKING_TABLES + LINK_TABLES
    assert (
        table_differences(
            dump_tables(diff.uris[0], diff.stock.norm, tables),
            dump_tables(diff.uris[1], diff.accel.norm, tables),
        )
        == []
    )
    diff.check()


def _forbidden(name):
    def call(*args, **kwargs):
        raise AssertionError(f"MLflow's {name} was called")

    return call


# Batches stock MLflow writes in part before failing (params and metrics are committed in their
# own sessions before tags fail); the accelerated store is all-or-nothing. The one deliberate
# divergence from stock: same error, but nothing of the failed batch is stored.
FAILING_BATCHES = [
    dict(metrics=[("m", 1.0, 1, 1)], params=[("p", "v")], tags=[("mlflow.runName", "n" * 300)]),
    dict(metrics=[("ok", 1.0, 1, 1), ("huge", 1.0, 1, 2**63)], params=[("p", "v")]),
    dict(metrics=[("ok", 1.0, 1, 1), ("ok", 1.0, 1, 1, 1)], params=[("p", "v")]),
    dict(metrics=[("ok", 1.0, 1, 1, 0), ("ok", 2.0, 1, 1, 0)], params=[("p", "v")]),
    dict(metrics=[("ok", float("nan"), 1, 1, 0), ("ok", float("nan"), 1, 1, 0)]),
]


@pytest.mark.parametrize(
    "batch",
    FAILING_BATCHES,
    ids=["run-name-too-long", "step-overflow", "missing-model", "model-key-taken", "two-nans"],
)
def test_log_batch_is_all_or_nothing(differential, dialect, batch):
    diff = differential()
    diff.apply_all(EXP + _runs(1) + [op("create_logged_model", exp=1)])
    outcomes = []
    for side in (diff.stock, diff.accel):
        try:
            do_log_batch(side, run=0, **batch)
            outcomes.append(None)
        except Exception as e:
            outcomes.append(side.norm.error(e)[:3])
    stock_outcome, accel_outcome = outcomes
    assert accel_outcome == stock_outcome
    accel_run = diff.accel.store.get_run(diff.accel.runs[0])
    if accel_outcome is None:  # SQLite stores a 300-character name; nothing failed
        assert dialect == "sqlite" and accel_run.info.run_name == "n" * 300
        return
    assert accel_run.data.params == {}
    assert accel_run.data.metrics == {}
    assert accel_run.info.run_name == "run-0"
    assert diff.accel.store.get_metric_history(diff.accel.runs[0], "ok") == []
    assert dump_tables(diff.uris[1])["logged_model_metrics"] == []


def _refuse(name):
    def refuse(*args, **kwargs):
        raise AssertionError(f"MLflow's {name} was called")

    return refuse


def test_model_metrics_take_the_fast_path(differential, monkeypatch):
    """Metrics bound to a logged model are written without MLflow's own logging methods."""
    diff = differential()
    diff.apply_all(EXP + _runs(1) + [op("create_logged_model", exp=1)])
    for name in ("log_batch", "log_metric", "_log_metrics", "_log_model_metrics"):
        monkeypatch.setattr(SqlAlchemyStore, name, _refuse(name))
    side = diff.accel
    do_log_batch(side, run=0, metrics=[("acc", 0.5, 1, 0, 0, "train", "d1")])
    do_log_metric(side, run=0, metric=("acc", NAN, 2, 1, 0))
    rows = dump_tables(diff.uris[1], side.norm)["logged_model_metrics"]
    assert sorted((r["metric_value"], r["dataset_name"] or "", r["model_id"]) for r in rows) == [
        ("float:0.0", "", "m-<model 1>"),
        ("float:0.5", "train", "m-<model 1>"),
    ]


def _search_setup():
    ops = [op("create_experiment", name="s1"), op("create_experiment", name="s2")]
    names = ["alpha", "beta", "gamma", "delta", "abc", "zeta", "omega", "a_b"]
    for i, name in enumerate(names):
        ops.append(
            op(
                "create_run",
                exp=1 + i % 2,
                user_id=["alice", "bob"][i % 2],
                start_time=T0 + 7919 * ((i * 5) % 8),
                tags=[("t", "xy"[i % 2])],
                run_name=name,
            )
        )
    for i in range(len(names)):
        metrics = [("m", [0.1, 0.9, NAN, 0.5, INF, -INF, 0.7, 0.5][i], 1, 0)] if i != 6 else []
        metrics += [("loss", float(-i), 2, i)] if i % 3 else []
        params = [("p", "vw"[i % 2])] + ([("lr", str(0.1 * (i % 3)))] if i % 4 else [])
        ops.append(op("log_batch", run=i, metrics=metrics, params=params))
    ops += [
        op("update_run_info", run=1, status=RunStatus.FINISHED, end_time=T0 + 9, run_name=None),
        op("update_run_info", run=4, status=RunStatus.FAILED, end_time=T0 + 8, run_name=None),
        op("delete_run", run=5),
    ]
    return ops


FILTERS = [
    None,
    "",
    "metrics.m > 0.5",
    "metrics.m <= 0.5",
    "metrics.m = 0.5",
    "metrics.loss < -2",
    "params.p = 'v'",
    "params.p != 'v'",
    "params.lr LIKE '0.%'",
    "tags.t != 'x'",
    "tags.t = 'y' and metrics.m >= 0",
    "attributes.status = 'FINISHED'",
    "attributes.status != 'RUNNING'",
    "run_name LIKE '%a%'",
    "run_name ILIKE '%A%'",
    "attributes.run_name = 'beta'",
    "tags.`mlflow.runName` LIKE 'a%'",
    f"attributes.start_time > {T0 + 7919 * 3}",
    "attributes.end_time > 0",
    "attributes.user_id = 'alice'",
    "attributes.run_id IN ('{run:0}', '{run:3}')",
    "attributes.run_id = '{run:2}'",
    "params.p IN ('v', 'x')",
    "metrics.m > 0.2 and params.p = 'w'",
    "metrics.m >> 1",
    "foo.bar = 1",
    "params.p > 'a'",
    "attributes.artifact_uri LIKE '%artifacts'",
]
ORDER_BYS = [
    None,
    [],
    ["start_time"],
    ["attributes.start_time DESC"],
    ["metrics.m"],
    ["metrics.m DESC"],
    ["params.p"],
    ["params.lr DESC", "start_time ASC"],
    ["tags.t"],
    ["attributes.run_name"],
    ["attributes.end_time DESC"],
    ["attributes.status"],
    ["metrics.loss", "params.p DESC"],
    ["metrics.m", "metrics.m"],
    ["bad.key"],
    ["run_name DESC", "metrics.missing"],
]


def test_search_runs(differential):
    diff = differential()
    diff.apply_all(_search_setup())
    views = (ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL)
    for i, filter_string in enumerate(FILTERS):
        diff.apply(op("search_runs", exps=[1, 2], filter=filter_string, view=views[i % 3]))
    for i, order_by in enumerate(ORDER_BYS):
        diff.apply(
            op(
                "search_runs",
                exps=[1, 2, 0],
                filter=None,
                view=views[i % 3],
                order_by=order_by,
                max_results=[1000, 3][i % 2],
            )
        )
    for max_results in (1, 2, 5, 8, 100, None, 0, 50001):
        diff.apply(
            op(
                "search_runs",
                exps=[1, 2],
                filter="",
                view=ViewType.ALL,
                max_results=max_results,
                order_by=["metrics.m DESC"],
            )
        )
    for exps in ([1], [2], [], [MISSING_EXP], [1, MISSING_EXP], ["x"]):
        diff.apply(op("search_runs", exps=exps, filter=None, view=ViewType.ALL))
    diff.apply(op("search_runs", exps=[1], filter=None, view=ViewType.ALL, page_token="garbage"))
    diff.check()


# -- the seeded random workload ---------------------------------------------------------------


class Workload:
    """A seeded random sequence of tracking operations, steered by the stock store's outcomes."""

    METRIC_KEYS = ["m", "loss", "acc", "val/loss", "m.1", "m 2", "m-3", "m:4"]
    PARAM_KEYS = ["p", "lr", "opt", "p/1", "batch size"]
    TAG_KEYS = ["t", "note", "mlflow.runName", "mlflow.user", "t/x"]
    VALUES = ["v", "0.1", "adam", "", "x" * 10, "w"]

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.exp_names = ["Default"]
        self.n_runs = 0
        self.params: dict[int, dict] = {}
        self.deleted: set[int] = set()
        self.start = T0 + seed * 10**7
        self.counter = 0

    def observe(self, operation, ok: bool) -> None:
        kind, kw = operation
        if not ok:
            return
        if kind == "create_experiment":
            self.exp_names.append(kw["name"])
        elif kind == "create_run":
            self.params[self.n_runs] = {}
            self.n_runs += 1
        elif kind in ("log_batch", "log_param") and isinstance(kw["run"], int):
            pairs = kw.get("params", ()) if kind == "log_batch" else [(kw["key"], kw["value"])]
            self.params[kw["run"]].update(pairs)
        elif kind == "delete_run" and isinstance(kw["run"], int):
            self.deleted.add(kw["run"])
        elif kind == "restore_run" and isinstance(kw["run"], int):
            self.deleted.discard(kw["run"])

    def next_op(self):
        r = self.rng
        if len(self.exp_names) < 2:
            return self.create_experiment()
        if self.n_runs < 3:
            return self.create_run()
        choices = {
            self.create_experiment: 2,
            self.create_run: 6 if self.n_runs < 20 else 0,
            self.log_batch: 24,
            self.log_metric: 8,
            self.log_param: 7,
            self.set_tag: 7,
            self.update_run_info: 4,
            self.delete_run: 2,
            self.restore_run: 1,
            self.get_run: 6,
            self.get_metric_history: 6,
            self.get_experiment_by_name: 2,
            self.search_runs: 6,
            self.set_truncate: 1,
        }
        makers, weights = zip(*choices.items(), strict=True)
        return r.choices(makers, weights)[0]()

    # -- building blocks
    def run_ref(self):
        r = self.rng.random()
        if r < 0.04:
            return MISSING_RUN
        if r < 0.06:
            return BAD_RUN
        if r < 0.12 and self.deleted:
            return self.rng.choice(sorted(self.deleted))
        return self.rng.randrange(self.n_runs)

    def maybe_bad(self, key, p=0.03):
        return self.rng.choice(BAD_KEYS) if self.rng.random() < p else key

    def metric(self):
        r = self.rng
        value = r.choice(
            [
                round(r.uniform(-10, 10), 3),
                r.randint(-5, 100),
                NAN,
                INF,
                -INF,
                0.0,
                1.0,
                1e308,
            ]
        )
        ts = r.choice([0, 1, 1000, T0, T0 + r.randint(0, 50)])
        step = r.choice([0, 1, 2, 5, -1, r.randint(0, 20)])
        if r.random() < 0.02:
            value, ts = r.choice([(None, ts), ("1.5", ts), (True, ts), (value, -1)])
        return (self.maybe_bad(r.choice(self.METRIC_KEYS), 0.01), value, ts, step)

    def value(self, limit):
        r = self.rng
        if r.random() < 0.05:
            return "L" * (limit + r.choice([0, 1, 500]))
        return r.choice(self.VALUES)

    def param(self, run):
        r = self.rng
        existing = self.params.get(run, {}) if isinstance(run, int) else {}
        if existing and r.random() < 0.3:
            key = r.choice(sorted(existing))
            value = existing[key] if r.random() < 0.7 else r.choice(self.VALUES)
            return (key, value)
        key = r.choice(self.PARAM_KEYS) if r.random() < 0.5 else f"p{r.randrange(60)}"
        return (self.maybe_bad(key, 0.01), self.value(6000))

    def tag(self):
        return (self.maybe_bad(self.rng.choice(self.TAG_KEYS), 0.01), self.value(8000))

    # -- operations
    def create_experiment(self):
        r = self.rng
        if r.random() < 0.15:
            return op("create_experiment", name=r.choice(self.exp_names))
        tags = [("team", r.choice(self.VALUES))] if r.random() < 0.3 else None
        return op(
            "create_experiment", name=f"exp-{len(self.exp_names)}-{r.randrange(99)}", tags=tags
        )

    def create_run(self):
        r = self.rng
        self.start += r.randint(1, 5000)
        start = None if r.random() < 0.03 else self.start  # None: stock raises
        name = r.choice([None, "", f"run-{self.n_runs}", f"r{r.randrange(5)}"])
        tags = [self.tag() for _ in range(r.randrange(3))]
        if r.random() < 0.3:
            tags.append(("mlflow.runName", name if name and r.random() < 0.7 else "other"))
        exp = r.randrange(len(self.exp_names)) if r.random() > 0.03 else MISSING_EXP
        user = r.choice(["alice", "bob", ""]) if r.random() > 0.03 else None  # None: raises
        return op("create_run", exp=exp, user_id=user, start_time=start, tags=tags, run_name=name)

    def log_batch(self):
        r = self.rng
        run = self.run_ref()
        shape = r.random()
        if shape < 0.04:
            n = r.choice([1000, 1001])
            metrics = [(f"k{i % 37}", float(i % 7), i // 37, i % 5) for i in range(n)]
            return op("log_batch", run=run, metrics=metrics)
        if shape < 0.07:
            return op(
                "log_batch", run=run, params=[(f"q{i}", "v") for i in range(r.choice([100, 101]))]
            )
        metrics = [self.metric() for _ in range(r.randrange(12))]
        if metrics and r.random() < 0.3:
            metrics += r.sample(metrics, k=min(len(metrics), 3))
        params = [self.param(run) for _ in range(r.randrange(4))]
        if params and r.random() < 0.05:
            params.append(params[0])
        tags = [self.tag() for _ in range(r.randrange(4))]
        return op("log_batch", run=run, metrics=metrics, params=params, tags=tags)

    def log_metric(self):
        return op("log_metric", run=self.run_ref(), metric=self.metric())

    def log_param(self):
        run = self.run_ref()
        key, value = self.param(run)
        return op("log_param", run=run, key=key, value=value)

    def set_tag(self):
        key, value = self.tag()
        return op("set_tag", run=self.run_ref(), key=key, value=value)

    def update_run_info(self):
        r = self.rng
        status = r.choice(
            [
                None,
                RunStatus.RUNNING,
                RunStatus.FINISHED,
                RunStatus.FAILED,
                RunStatus.KILLED,
                RunStatus.SCHEDULED,
            ]
        )
        end = r.choice([None, self.start + r.randint(0, 10**6)])
        return op(
            "update_run_info",
            run=self.run_ref(),
            status=status,
            end_time=end,
            run_name=r.choice([None, "", f"renamed-{r.randrange(9)}"]),
        )

    def delete_run(self):
        return op("delete_run", run=self.run_ref())

    def restore_run(self):
        return op("restore_run", run=self.run_ref())

    def get_run(self):
        return op("get_run", run=self.run_ref())

    def get_metric_history(self):
        r = self.rng
        key = r.choice(self.METRIC_KEYS + ["k3", "missing"])
        return op(
            "get_metric_history",
            run=self.run_ref(),
            key=key,
            max_results=r.choice([None, None, 1, 2, 3, 50]),
        )

    def get_experiment_by_name(self):
        names = self.exp_names + ["missing", "exp-"]
        return op("get_experiment_by_name", name=self.rng.choice(names))

    def search_runs(self):
        r = self.rng
        exps = r.sample(range(len(self.exp_names)), k=r.randint(1, len(self.exp_names)))
        filter_string = r.choice(
            FILTERS[:-4]
            + [
                f"metrics.`{r.choice(self.METRIC_KEYS)}` > {r.choice([0, 0.5, -1])}",
                f"params.`{r.choice(self.PARAM_KEYS)}` = '{r.choice(self.VALUES)}'",
            ]
        )
        view = r.choice([ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY, ViewType.ALL])
        order_by = r.choice(ORDER_BYS[:13] + [[f"metrics.`{r.choice(self.METRIC_KEYS)}` DESC"]])
        return op(
            "search_runs",
            exps=exps,
            filter=filter_string,
            view=view,
            max_results=r.choice([1000, 1000, 1, 2, 3, None]),
            order_by=order_by,
        )

    def set_truncate(self):
        return op("set_truncate", on=self.rng.random() < 0.6)


def run_workload(diff: Differential, seed: int, n_ops: int) -> None:
    workload = Workload(seed)
    for _ in range(n_ops):
        operation = workload.next_op()
        workload.observe(operation, diff.apply(operation))
    for i in range(workload.n_runs):  # a final read of everything
        diff.apply(op("get_run", run=i))
    diff.apply(
        op(
            "search_runs",
            exps=list(range(len(workload.exp_names))),
            filter=None,
            view=ViewType.ALL,
            max_results=None,
        )
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_workload(differential, seed):
    diff = differential()
    run_workload(diff, seed, n_ops=150)
    ok = sum(n for (kind, outcome), n in diff.outcomes.items() if outcome == "ok")
    assert ok > 75, f"the workload barely ran on the stock store: {diff.outcomes}"
    diff.check()


# -- the harness itself ------------------------------------------------------------------------


def test_stock_against_stock_is_clean(differential):
    """Normalisation must not report differences between two stock stores."""
    diff = differential(SqlAlchemyStore, SqlAlchemyStore)
    run_workload(diff, seed=99, n_ops=80)
    diff.apply_all(SCENARIOS["metric_values"])
    assert diff.problems() == []


class _SideWritingStore(SqlAlchemyStore):
    """Wrong on purpose: NaN metrics vanish, and set_tag also writes an experiment tag."""

    def log_batch(self, run_id, metrics, params, tags):
        kept = [m for m in metrics if not math.isnan(m.value)]
        return super().log_batch(run_id, kept, params, tags)

    def set_tag(self, run_id, tag):
        super().set_tag(run_id, tag)
        self.set_experiment_tag("0", ExperimentTag(f"leak-{tag.key}", "x"))


def test_harness_catches_a_wrong_store(differential):
    diff = differential(SqlAlchemyStore, _SideWritingStore)
    diff.apply_all(
        EXP
        + _runs(1)
        + [
            op("log_batch", run=0, metrics=[("m", NAN, 1, 0), ("m", 1.0, 0, 0)]),
            op("set_tag", run=0, key="t", value="v"),
            op("get_run", run=0),
        ]
    )
    assert any("get_run" in m for m in diff.mismatches), diff.mismatches
    tables = diff.table_differences()
    assert any("metrics" in line for line in tables), tables
    assert any("experiment_tags" in line for line in tables), tables
