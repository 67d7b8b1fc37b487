"""Group commit: concurrent SQLite writes share one transaction, each still all-or-nothing.

Unit tests drive ``GroupCommit`` with a scripted ``run_group``; the store test runs real
concurrent ``log_batch`` calls on a SQLite database, one of them failing, and checks that the
writes were grouped, the failing one wrote nothing and every other one is committed.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException

from mlflow_accel.store.group_commit import GroupCommit
from mlflow_accel.store.tracking import AccelTrackingStore
from tests.support.databases import dispose_engines

WRITERS = 8


def _submit_all(group_commit, works):
    with ThreadPoolExecutor(len(works)) as pool:
        futures = [pool.submit(group_commit.submit, work) for work in works]
        return [f.exception() or f.result() for f in futures]


class ScriptedGroups:
    """A ``run_group`` that holds its first group until every other write has queued."""

    def __init__(self, expected: int, fail_transaction: bool = False):
        self.sizes = []
        self.expected = expected
        self.fail_transaction = fail_transaction
        self.gc = None

    def __call__(self, writes):
        self.sizes.append(len(writes))
        if len(self.sizes) == 1:
            while len(self.gc._queue) < self.expected - 1:
                threading.Event().wait(0.001)
        for write in writes:
            try:
                write.result = write.run(cursor=None)
            except Exception as e:
                write.error = e
        if self.fail_transaction:
            raise MlflowException("commit failed")


def _grouped(expected, **kwargs):
    groups = ScriptedGroups(expected, **kwargs)
    groups.gc = GroupCommit(groups)
    return groups


def test_writes_queued_behind_a_leader_share_one_group():
    groups = _grouped(WRITERS)
    results = _submit_all(groups.gc, [lambda cursor, i=i: i for i in range(WRITERS)])
    assert results == list(range(WRITERS))
    assert groups.sizes == [1, WRITERS - 1]


def test_a_failing_write_fails_alone():
    groups = _grouped(WRITERS)

    def work(i):
        def run(cursor):
            if i == 3:
                raise MlflowException("bad write")
            return i

        return run

    results = _submit_all(groups.gc, [work(i) for i in range(WRITERS)])
    assert [str(r) if isinstance(r, Exception) else r for r in results] == [
        0,
        1,
        2,
        "bad write",
        4,
        5,
        6,
        7,
    ]


def test_a_failed_transaction_fails_every_write_in_it():
    groups = _grouped(WRITERS, fail_transaction=True)
    results = _submit_all(groups.gc, [lambda cursor, i=i: i for i in range(WRITERS)])
    assert all(isinstance(r, MlflowException) for r in results)


def test_each_write_runs_in_its_callers_context():
    request_workspace = contextvars.ContextVar("request_workspace")
    groups = _grouped(WRITERS)

    def submit_as(name):
        request_workspace.set(name)
        return groups.gc.submit(lambda cursor: request_workspace.get())

    with ThreadPoolExecutor(WRITERS) as pool:
        names = [f"ws-{i}" for i in range(WRITERS)]
        assert list(pool.map(submit_as, names)) == names
    assert max(groups.sizes) > 1


@pytest.fixture
def sqlite_store(tmp_path):
    """Group commit is SQLite's write path: a store on a new SQLite file."""
    uri = f"sqlite:///{tmp_path / 'group.db'}"
    yield AccelTrackingStore(uri, str(tmp_path / "artifacts"))
    dispose_engines(uri)


def test_concurrent_log_batches_are_grouped_and_each_all_or_nothing(sqlite_store, monkeypatch):
    store = sqlite_store
    runs = [store.create_run("0", "u", 0, [], f"r{i}").info.run_id for i in range(WRITERS)]
    store.delete_run(runs[5])
    sizes = []
    run_group = store._tx._write_group

    def recording(writes):
        sizes.append(len(writes))
        run_group(writes)

    monkeypatch.setattr(store._tx._group, "_run_group", recording)
    start = threading.Barrier(WRITERS)

    def log(run_id):
        start.wait()
        store.log_batch(
            run_id,
            [Metric(f"m{i}", float(i), 1, 0) for i in range(50)],
            [Param("p", run_id)],
            [],
        )

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = [f.exception() for f in [pool.submit(log, run_id) for run_id in runs]]
    assert [type(e).__name__ if e else None for e in outcomes] == [
        None,
        None,
        None,
        None,
        None,
        "MlflowException",
        None,
        None,
    ]
    assert sum(sizes) == WRITERS
    for i, run_id in enumerate(runs):
        data = store.get_run(run_id).data
        assert (len(data.metrics), data.params) == ((0, {}) if i == 5 else (50, {"p": run_id}))
