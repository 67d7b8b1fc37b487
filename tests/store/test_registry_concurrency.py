"""Concurrent ``create_model_version`` on one registered model: versions exactly 1..N.

8 threads × 10 calls, released together by a barrier, create versions of the same model through
``AccelRegistryStore`` on each dialect. Every call must return a version (the accelerated store
numbers versions under a lock on the model's row, or SQLite's write lock, so calls never
collide); the returned numbers must be distinct and exactly 1..80; and the database must hold
exactly those 80 rows, each with the source and tag of the call that got its number, and the
model's ``last_updated_time`` must be one of the calls' creation times.

Stock MLflow under the same load is run too (PostgreSQL, MySQL), for the record: it takes
``MAX(version) + 1`` without a lock and retries a collision 3 times, so some calls may fail with
"Model Version creation error (name=m). Giving up after 3 attempts." (or a database lock
error). The test asserts only what stock guarantees (no duplicate, every returned version
stored), and says how many of stock's calls failed; accel must not fail any.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
import sqlalchemy as sa
from mlflow.entities.model_registry import ModelVersionTag
from mlflow.exceptions import MlflowException
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

from mlflow_accel.store.registry import AccelRegistryStore
from tests.support.databases import dispose_engines

THREADS = 8
PER_THREAD = 10
DEADLINE = 120  # seconds for all threads of one run


def create_concurrently(store) -> list:
    """Each call's outcome: ``(thread, i, version)`` or ``(thread, i, exception)``."""
    store.create_registered_model("m")
    start = threading.Barrier(THREADS)

    def work(thread):
        start.wait()
        outcomes = []
        for i in range(PER_THREAD):
            try:
                mv = store.create_model_version(
                    "m",
                    f"s3://bucket/{thread}/{i}",
                    tags=[ModelVersionTag("call", f"{thread}-{i}")],
                )
                outcomes.append((thread, i, mv.version))
            except Exception as e:
                outcomes.append((thread, i, e))
        return outcomes

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(work, thread) for thread in range(THREADS)]
        done, not_done = wait(futures, timeout=DEADLINE)
        assert not not_done, f"{len(not_done)} thread(s) still running after {DEADLINE}s"
    return [outcome for future in futures for outcome in future.result()]


def stored_versions(uri) -> tuple[dict, int, set]:
    """``{version: (source, call tag)}`` of model "m", its ``last_updated_time`` and the
    versions' creation times."""
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    key = "`key`" if engine.dialect.name == "mysql" else '"key"'
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT v.version, v.source, t.value, v.creation_time FROM model_versions v"
                    f" LEFT JOIN model_version_tags t ON t.name = v.name AND t.version = v.version"
                    f" AND t.{key} = 'call' WHERE v.name = 'm'"
                )
            ).fetchall()
            updated = conn.execute(
                sa.text("SELECT last_updated_time FROM registered_models WHERE name = 'm'")
            ).scalar()
    finally:
        engine.dispose()
    versions = Counter(int(row[0]) for row in rows)
    duplicated = sorted(v for v, n in versions.items() if n > 1)
    assert not duplicated, f"versions stored more than once: {duplicated}"
    created = {int(row[3]) for row in rows}
    return {int(version): (source, tag) for version, source, tag, _ in rows}, updated, created


def check(outcomes, uri) -> list:
    """Assert what every store must guarantee; return the failed calls."""
    created = {int(v): (t, i) for t, i, v in outcomes if not isinstance(v, Exception)}
    failed = [(t, i, v) for t, i, v in outcomes if isinstance(v, Exception)]
    returned = [int(v) for _, _, v in outcomes if not isinstance(v, Exception)]
    assert len(returned) == len(set(returned)), f"a version number was returned twice: {returned}"
    rows, updated, creation_times = stored_versions(uri)
    assert set(rows) == set(created), (
        f"stored versions {sorted(rows)} != returned versions {sorted(created)}"
    )
    for version, (thread, i) in created.items():
        assert rows[version] == (f"s3://bucket/{thread}/{i}", f"{thread}-{i}"), (version, rows)
    if created:
        assert updated in creation_times, (updated, sorted(creation_times))
    return failed


@pytest.fixture
def store_on(new_database):
    uris = []

    def make(cls):
        uris.append(new_database())
        return cls(uris[-1]), uris[-1]

    yield make
    for uri in uris:
        dispose_engines(uri)


def test_accel_numbers_versions_one_to_n(store_on):
    store, uri = store_on(AccelRegistryStore)
    outcomes = create_concurrently(store)
    failed = check(outcomes, uri)
    assert not failed, f"{len(failed)} call(s) failed, e.g. {failed[0][2]!r}"
    assert sorted(int(v) for _, _, v in outcomes) == list(range(1, THREADS * PER_THREAD + 1))
    assert int(store.get_latest_versions("m")[0].version) == THREADS * PER_THREAD


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"], indirect=True)
def test_stock_under_the_same_load(store_on, record_property):
    """For the record: stock keeps its data consistent, but may give up on some calls.

    (Not on SQLite, whose database lock serialises writers: there stock cannot collide.)"""
    store, uri = store_on(SqlAlchemyStore)
    failed = check(create_concurrently(store), uri)
    messages = Counter(f"{type(e).__name__}: {str(e)[:120]}" for _, _, e in failed)
    record_property("stock_failed_calls", dict(messages))
    print(f"stock: {len(failed)} of {THREADS * PER_THREAD} calls failed: {dict(messages)}")
    assert all(isinstance(e, MlflowException) for _, _, e in failed), messages
