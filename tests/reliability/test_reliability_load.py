"""Load without loss, and crash safety: ``mlflow-accel server`` under many concurrent clients
keeps every acknowledged write, also when it is killed with SIGKILL in the middle of the load.

One server per dialect (``--workers 2``, a fresh database), the session's shared one
(``tests/support/server_pool.py``; a boot is most of a test's cost). ``SIZE.clients`` client threads
log into their own runs and a few shared ones (``tests/support/reliability.py``): batches of metrics
(steps, timestamps, NaN, infinities), params and tags, single metrics, params and tags, reads, and
batches refused by design.

Load without loss: after ``SIZE.load_seconds`` every request got its designed answer (no 5xx,
no "database is locked" on SQLite, no timeout), and the tables, read straight from the database,
hold every acknowledged row exactly once, nothing of a refused batch, nothing no write carried,
and ``latest_metrics`` as the metric history implies.

Crash safety: a new load on the same server; after ``SIZE.crash_after`` seconds (and at least
two acknowledged writes per client) the server's whole process group is killed with SIGKILL
(requests in flight get no answer). The server is started again on the same database and must
come up cleanly (SQLite: a hot journal left by the kill is rolled back, the file passes
``PRAGMA integrity_check``) and serve the same clients without a single unexpected answer. Then
the tables must hold every acknowledged write, nothing of a refused one, and each write whose
answer was lost in the crash either whole or not at all (every row of a write carries its
marker) — and ``latest_metrics`` must be what the stored history implies. The checks read the
runs of each test's own load only.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import sqlalchemy as sa

from tests.support import reliability

AFTER_RESTART_SECONDS = 2.0
LOAD_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def server(dialect, server_pool):
    pooled = server_pool.get(reliability.shared_server_key(dialect))[0]
    return pooled.uri, pooled.server


def test_concurrent_clients_lose_and_duplicate_nothing(server):
    uri, running = server
    load = reliability.Load(running.url)
    load.prepare("load")
    load.run_for(reliability.SIZE.load_seconds)

    acknowledged = sum(w.acknowledged for w in load.writes)
    print(f"{len(load.writes)} writes ({acknowledged} acknowledged), {len(load.reads)} reads")
    assert acknowledged >= 5 * load.clients, "the load did not load"
    problems = reliability.check_database(uri, load.writes, load.runs)
    assert not problems, "\n".join(problems[:20])
    assert not reliability.unexpected_answers(load), reliability.unexpected_answers(load)
    assert "database is locked" not in running.log_text()


def kill_process_group(server) -> None:
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(30)


def loaded(load, acknowledged: int) -> None:
    """Wait ``SIZE.crash_after`` seconds, and longer (up to ``LOAD_TIMEOUT``) until the load
    has ``acknowledged`` writes: a busy shared machine must not make the kill come too early."""
    started = time.monotonic()
    time.sleep(reliability.SIZE.crash_after)
    while sum(w.acknowledged for w in load.writes) < acknowledged:
        assert time.monotonic() - started < LOAD_TIMEOUT, "the load did not load"
        time.sleep(0.1)


def sqlite_integrity(uri: str) -> str:
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA integrity_check").scalar()
    finally:
        engine.dispose()


def test_sigkill_under_load_keeps_every_acknowledged_write(server, dialect, server_pool):
    db_uri, first = server
    load = reliability.Load(first.url)
    load.prepare("crash")
    load.start()
    loaded(load, 2 * load.clients)
    kill_process_group(first)
    load.stop()
    lost = [w for w in load.writes if not w.outcome_known]
    print(f"killed after {len(load.writes)} writes, {len(lost)} without an answer")

    # The pool boots the killed server again, on the same database.
    second = server_pool.get(reliability.shared_server_key(dialect))[0].server
    restarted_at = time.monotonic()
    load.url = second.url
    load.run_for(AFTER_RESTART_SECONDS)
    assert not reliability.unexpected_answers(load, since=restarted_at), (
        reliability.unexpected_answers(load, since=restarted_at)
    )
    assert "Traceback" not in second.log_text(), second.log_text()[-4000:]
    if db_uri.startswith("sqlite"):
        assert sqlite_integrity(db_uri) == "ok"
    problems = reliability.check_database(db_uri, load.writes, load.runs)
    assert not problems, "\n".join(problems[:20])
