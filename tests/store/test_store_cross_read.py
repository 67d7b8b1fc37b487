"""Cross-reading: what one store writes, the other reads identically, on the same database.

A stock ``SqlAlchemyStore`` and an ``AccelTrackingStore`` share one URI. A deterministic workload
is written through the stock store, the accel store, or both alternately; then every read
(get_run, get_metric_history with and without pages, search_runs with filters, orders and pages,
get_experiment_by_name) must return the same thing through either store, and each run's
``latest_metrics`` must be the greatest of its history by (step, timestamp, value).
"""

from __future__ import annotations

import itertools
import math

import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from mlflow_accel.store.tracking import AccelTrackingStore
from tests.support.databases import Normaliser, differences

T0 = 1_700_000_000_000
NAN, INF = float("nan"), float("inf")
FILTERS = [
    None,
    "metrics.m > 0.5",
    "params.p = 'v1'",
    "tags.t != 'x'",
    "attributes.status = 'FINISHED'",
    "run_name LIKE '%a%'",
    "metrics.loss <= 2 and params.p != 'v0'",
]
ORDER_BYS = [None, ["start_time"], ["metrics.m DESC"], ["params.p", "metrics.loss"], ["tags.t"]]


def write(stores, pick):
    """The workload; ``pick(i)`` chooses which store performs write number ``i``."""
    counter = iter(range(10_000))

    def w():
        return stores[pick(next(counter))]

    experiment_ids = [w().create_experiment(f"cross-{i}") for i in range(2)]
    names = ["alpha", "bravo", "charlie", "delta", "echo", "fox"]
    runs = []
    for i, name in enumerate(names):
        tags = [RunTag("t", "xy"[i % 2])] + ([RunTag("mlflow.runName", name)] if i % 2 else [])
        run = w().create_run(experiment_ids[i % 2], "user", T0 + 97 * i, tags, name)
        runs.append(run.info.run_id)
    for i, run_id in enumerate(runs):
        values = [0.1 * i, NAN, INF, -INF, float(i), 0.9][i % 6]
        w().log_batch(
            run_id,
            [Metric("m", values, T0 + 1, 0), Metric("m", 0.5 + i, T0 + 2, 1)]
            + [Metric("loss", float(3 - s), T0 + s, s) for s in range(4)]
            + [Metric("m", 0.5 + i, T0 + 2, 1)],
            [Param("p", f"v{i % 3}"), Param("lr", "0.01")],
            [RunTag("t", "xyz"[i % 3]), RunTag("note", "n" * (i * 100))],
        )
        for step in range(5):
            w().log_metric(run_id, Metric("step", float(step * i), T0 + 10 - step, step))
        w().log_metric(run_id, Metric("m", -1.0, T0 + 99, 0))
        w().log_param(run_id, Param("single", str(i)))
        w().set_tag(run_id, RunTag("t", "x" if i < 3 else "q"))
    w().set_tag(runs[0], RunTag("mlflow.runName", "renamed-a"))
    w().update_run_info(runs[1], RunStatus.FINISHED, T0 + 500, None)
    w().update_run_info(runs[2], RunStatus.FAILED, T0 + 600, "charlie-2")
    w().delete_run(runs[3])
    return experiment_ids, runs


def reads(store, experiment_ids, runs, norm):
    out = {}
    for run_id in runs:
        out[f"get_run {norm.text(run_id)}"] = norm.value(store.get_run(run_id))
        for key in ("m", "loss", "step", "missing"):
            history = store.get_metric_history(run_id, key)
            out[f"history {norm.text(run_id)} {key}"] = sorted(
                (norm.value(m) for m in history), key=repr
            )
            page, pages = store.get_metric_history(run_id, key, max_results=2), []
            while True:
                pages.append([page.token, sorted(repr(norm.value(m)) for m in page)])
                if not page.token:
                    break
                page = store.get_metric_history(run_id, key, 2, page.token)
            out[f"history pages {norm.text(run_id)} {key}"] = pages
    searches = [(f, ORDER_BYS[i % len(ORDER_BYS)]) for i, f in enumerate(FILTERS)]
    searches += [(None, order_by) for order_by in ORDER_BYS[1:]]
    views = (("active", ViewType.ACTIVE_ONLY), ("all", ViewType.ALL))
    for (f, order_by), (label, view) in itertools.product(searches, views):
        result = store.search_runs(experiment_ids, f, view, 1000, order_by)
        out[f"search {f} {order_by} {label}"] = [norm.value(r) for r in result]
    page, pages = store.search_runs(experiment_ids, None, ViewType.ALL, 2, ["metrics.m"]), []
    while True:
        pages.append([[norm.value(r) for r in page], page.token])
        if not page.token:
            break
        page = store.search_runs(
            experiment_ids, None, ViewType.ALL, 2, ["metrics.m"], page_token=page.token
        )
    out["search pages"] = pages
    for name in ("cross-0", "cross-1", "Default", "missing"):
        out[f"experiment {name}"] = norm.value(store.get_experiment_by_name(name))
    return out


def check_latest_metrics(store, runs):
    """get_run's metrics are, per key, a greatest history entry by (step, timestamp, value)."""
    problems = []
    for run_id in runs:
        run = store.get_run(run_id)
        for latest in run.data._metric_objs:
            history = store.get_metric_history(run_id, latest.key)

            def order(m):
                return (m.step, m.timestamp, 0.0 if math.isnan(m.value) else m.value)

            best = max(order(m) for m in history)
            if order(latest) != best:
                problems.append(f"{run_id} {latest.key}: latest {order(latest)} != max {best}")
    return problems


def labelled(artifact_root, experiment_ids, runs):
    norm = Normaliser(artifact_root)
    for run_id in runs:
        norm.add_run(run_id)
    for experiment_id in experiment_ids:
        norm.add_experiment(experiment_id)
    return norm


def compare(first, second, what, names):
    problems = [
        f"{what} {key}: {'; '.join(differences(first[key], second.get(key), limit=3, names=names))}"
        for key in first
        if first[key] != second.get(key)
    ]
    return problems + [f"{what} {key}: missing" for key in second if key not in first]


@pytest.mark.parametrize("writer", ["stock", "accel", "alternating"])
def test_reads_agree(new_database, make_store, artifact_root, writer):
    uri, reference_uri = new_database(), new_database()
    stock = make_store(SqlAlchemyStore, uri)
    accel = make_store(AccelTrackingStore, uri)
    pick = {"stock": lambda i: 0, "accel": lambda i: 1, "alternating": lambda i: i % 2}[writer]
    experiment_ids, runs = write((stock, accel), pick)
    norm = labelled(artifact_root, experiment_ids, runs)
    by_stock = reads(stock, experiment_ids, runs, norm)
    by_accel = reads(accel, experiment_ids, runs, norm)
    problems = compare(by_stock, by_accel, "read:", ("stock", "accel"))
    problems += check_latest_metrics(stock, runs)

    # The same workload written by stock alone into another database reads the same, too.
    reference = make_store(SqlAlchemyStore, reference_uri)
    ref_experiments, ref_runs = write((reference,), lambda i: 0)
    ref_norm = labelled(artifact_root, ref_experiments, ref_runs)
    problems += compare(
        reads(reference, ref_experiments, ref_runs, ref_norm),
        by_stock,
        f"read back after writes by {writer}:",
        ("written by stock", f"written by {writer}"),
    )
    assert not problems, f"{len(problems)} read(s) differ:\n" + "\n".join(problems[:12])
    assert len(by_stock["search None None all"]) == len(runs), "the workload wrote too little"
