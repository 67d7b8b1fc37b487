"""Load without loss: ``mlflow-accel server`` under many concurrent clients keeps every write.

One server per dialect (``--workers 2``, a fresh database). ``SIZE.clients`` client threads log
for ``SIZE.load_seconds`` into their own runs and a few shared ones (``tests/reliability.py``):
batches of metrics (steps, timestamps, NaN, infinities), params and tags, single metrics, params
and tags, reads, and batches refused by design. Afterwards: every request got its designed
answer (no 5xx, no "database is locked" on SQLite, no timeout), and the tables, read straight
from the database, hold every acknowledged row exactly once, nothing of a refused batch, nothing
no write carried, and ``latest_metrics`` as the metric history implies.
"""

from __future__ import annotations

import pytest

from tests import reliability


@pytest.fixture(scope="module")
def server(fresh_databases, tmp_path_factory):
    uri = fresh_databases.new()
    workdir = tmp_path_factory.mktemp(f"load-{fresh_databases.dialect}")
    running = reliability.start_server("accel", uri, workdir)
    yield uri, running
    running.stop()


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
