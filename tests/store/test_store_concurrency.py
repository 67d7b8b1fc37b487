"""Concurrent logging through ``AccelTrackingStore``: nothing lost, nothing doubled, no errors.

Threads log into one run (MLflow's own test shape: two threads, each 100 ``log_metric`` and 5
``log_batch`` of 100, with identical metrics across threads) and into several shared runs
(8 threads of mixed batches and singles). Afterwards, read straight from the database: every
acknowledged metric is in ``metrics`` exactly once, each ``latest_metrics`` row is the greatest
of its key's history by (step, timestamp, value), params are all there, and no call raised
(no "database is locked", no deadlock left unretried).
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
import sqlalchemy as sa
from mlflow.entities import Metric, Param, RunTag

from mlflow_accel.store.tracking import AccelTrackingStore

T0 = 1_700_000_000_000
MAX = 1.7976931348623157e308
DEADLINE = 240  # seconds for all threads of one test


def stored(metric):
    """The (key, value, timestamp, step, is_nan) row MLflow stores for ``metric``."""
    value = metric.value
    if math.isnan(value):
        return (metric.key, 0.0, metric.timestamp, metric.step, True)
    if math.isinf(value):
        value = MAX if value > 0 else -MAX
    return (metric.key, float(value), metric.timestamp, metric.step, False)


def run_threads(workers):
    """Run each callable on its own thread; returns the exceptions they raised."""
    start = threading.Barrier(len(workers))

    def go(work):
        start.wait()
        work()

    pool = ThreadPoolExecutor(len(workers))
    futures = [pool.submit(go, work) for work in workers]
    done, not_done = wait(futures, timeout=DEADLINE)
    pool.shutdown(wait=not not_done, cancel_futures=True)
    assert not not_done, f"{len(not_done)} thread(s) still running after {DEADLINE}s"
    return [f.exception() for f in done if f.exception() is not None]


def database_rows(uri, run_id):
    """``(metrics, latest_metrics, params)`` of ``run_id``, read straight from the tables."""
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    key = "`key`" if engine.dialect.name == "mysql" else '"key"'
    try:
        with engine.connect() as conn:

            def rows(table, columns):
                statement = sa.text(f"SELECT {columns} FROM {table} WHERE run_uuid = :r")
                return conn.execute(statement, {"r": run_id}).fetchall()

            columns = f"{key}, value, timestamp, step, is_nan"
            metrics = [metric_row(*row) for row in rows("metrics", columns)]
            latest = [metric_row(*row) for row in rows("latest_metrics", columns)]
            params = dict(rows("params", f"{key}, value"))
            return metrics, latest, params
    finally:
        engine.dispose()


def metric_row(key, value, timestamp, step, is_nan):
    return (key, float(value), int(timestamp), int(step), bool(is_nan))


def check_run(uri, run_id, acknowledged, params=None):
    """Problems with ``run_id``'s rows given the metrics whose logging call returned."""
    metrics, latest, stored_params = database_rows(uri, run_id)
    problems = []
    counts = Counter(metrics)
    doubled = [row for row, n in counts.items() if n > 1]
    missing = {stored(m) for m in acknowledged} - set(counts)
    extra = set(counts) - {stored(m) for m in acknowledged}
    if doubled:
        problems.append(f"{len(doubled)} metric rows present more than once, e.g. {doubled[:3]}")
    if missing:
        problems.append(f"{len(missing)} acknowledged metrics missing, e.g. {sorted(missing)[:3]}")
    if extra:
        problems.append(f"{len(extra)} metrics never logged, e.g. {sorted(extra)[:3]}")
    best = {}
    for key, value, ts, step, is_nan in counts:
        candidate = (step, ts, value)
        if key not in best or candidate > best[key][0]:
            best[key] = (candidate, is_nan)
    got = {key: ((step, ts, value), is_nan) for key, value, ts, step, is_nan in latest}
    if len(latest) != len(got):
        problems.append(f"latest_metrics has duplicate keys: {sorted(latest)[:5]}")
    wrong = {k: (got.get(k), best[k]) for k in best if got.get(k) != best[k]}
    wrong.update({k: (got[k], None) for k in got if k not in best})
    if wrong:
        problems.append(
            f"latest_metrics wrong for {len(wrong)} keys (got, want): "
            f"{dict(list(wrong.items())[:3])}"
        )
    if params is not None and stored_params != params:
        problems.append(f"params differ: {len(stored_params)} stored, {len(params)} logged")
    return problems


@pytest.fixture
def accel(db_uri, make_store):
    store = make_store(AccelTrackingStore, db_uri)
    experiment_id = store.create_experiment("concurrency")
    return store, experiment_id


def test_two_threads_one_run(accel, db_uri):
    """MLflow's shape: both threads log the same metric identities into one run."""
    store, experiment_id = accel
    run_id = store.create_run(experiment_id, "u", T0, [], "shared").info.run_id
    acknowledged, lock = [], threading.Lock()

    def log(thread):
        for i in range(100):
            metric = Metric("metric_key", float(i), T0 + i, 0)
            store.log_metric(run_id, metric)
            with lock:
                acknowledged.append(metric)
        for b in range(5):
            batch = [
                Metric(f"metric_batch_{b}", float(b * 100 + j), T0 + j, j % 7) for j in range(100)
            ]
            batch.append(Metric(f"own_{thread}", float(b), T0 + b, b))
            store.log_batch(run_id, batch, [Param(f"p{thread}_{b}", "v")], [RunTag("t", "x")])
            with lock:
                acknowledged.extend(batch)

    errors = run_threads([lambda t=t: log(t) for t in range(2)])
    assert not errors, f"{len(errors)} call(s) raised, first: {errors[0]!r}"
    params = {f"p{t}_{b}": "v" for t in range(2) for b in range(5)}
    problems = check_run(db_uri, run_id, acknowledged, params)
    assert not problems, "\n".join(problems)


def test_many_threads_many_runs(accel, db_uri):
    """8 threads, 4 shared runs: batches and singles, overlapping keys, NaN and infinities."""
    store, experiment_id = accel
    run_ids = [
        store.create_run(experiment_id, "u", T0 + i, [], f"r{i}").info.run_id for i in range(4)
    ]
    acknowledged = {run_id: [] for run_id in run_ids}
    params = {run_id: {} for run_id in run_ids}
    lock = threading.Lock()

    def log(thread):
        rng = random.Random(thread)
        for n in range(12):
            run_id = rng.choice(run_ids)
            batch = [
                Metric(
                    f"k{rng.randrange(6)}",
                    rng.choice([float(rng.randrange(50)), 0.5]),
                    T0 + rng.randrange(40),
                    rng.randrange(8),
                )
                for _ in range(rng.randrange(1, 60))
            ]
            ts = T0 + 1000 + thread * 100 + n  # NaN/inf on timestamps no other metric uses
            batch += [Metric("special", rng.choice([math.nan, math.inf, -math.inf]), ts, n)]
            new_params = [Param(f"p{thread}_{n}", str(n))]
            if n % 3 == 2:
                for metric in batch[:10]:
                    store.log_metric(run_id, metric)
                store.log_param(run_id, new_params[0])
                store.set_tag(run_id, RunTag("who", str(thread)))
                batch = batch[:10]
            else:
                store.log_batch(run_id, batch, new_params, [RunTag("who", str(thread))])
            with lock:
                acknowledged[run_id].extend(batch)
                params[run_id].update({p.key: p.value for p in new_params})

    errors = run_threads([lambda t=t: log(t) for t in range(8)])
    assert not errors, f"{len(errors)} call(s) raised, first: {errors[0]!r}"
    problems = []
    for run_id in run_ids:
        problems += [
            f"run {run_id}: {p}"
            for p in check_run(db_uri, run_id, acknowledged[run_id], params[run_id])
        ]
        who = store.get_run(run_id).data.tags.get("who")
        if acknowledged[run_id] and who not in {str(t) for t in range(8)}:
            problems.append(f"run {run_id}: tag 'who' is {who!r}")
    assert not problems, "\n".join(problems)
