"""Database outages: under load, a server that loses its database answers 503 and recovers alone.

PostgreSQL and MariaDB only (SQLite has no connection to cut). The shared database servers are never
restarted: a ``FaultProxy`` (``tests/support/fault_proxy.py``) sits between the tracking servers and
the database, and ``pause()`` cuts every connection and refuses new ones. An ``mlflow-accel server``
(``--workers 2``) and a stock ``mlflow server`` (``--workers 1``), each on its own fresh database
behind the same proxy, take the reliability load (``tests/support/reliability.py``) through one
outage: ``SIZE.outage_phases`` seconds before, during and after it.

mlflow-accel must:
- while the database is down, answer MLflow's JSON 503 ``TEMPORARILY_UNAVAILABLE`` to every
  request it answers before the database is back (requests already in flight when it went away
  may still get their designed answer), each within ``REQUEST_BOUND`` seconds: never a hang,
  never a 500;
- once it is back, recover by itself (the pool's pre-ping replaces the cut connections) within
  ``RECOVERY_BOUND`` seconds, with no restart, and from then on give every request its designed
  answer;
- leave nothing half-written: every batch whose answer was a 503 is stored whole or not at all
  (a commit the database made just before the cut may have lost only its answer).

Stock MLflow in the same outage is held to the same rules, with one exception found here: a
request whose connection is cut in the middle of its transaction gets an HTML 500 — MLflow's
session maker catches the ``OperationalError`` but its ``session.rollback()`` on the dead
connection raises again, outside its handler. mlflow-accel rolls back quietly (a connection too
broken to roll back is discarded) and answers the 503. Other differences, by design: stock's
message ends with SQLAlchemy's "(Background on this error at: ...)" link while mlflow-accel's
names the driver's exception alone (README: "Errors from the database itself"); and stock's
``log-batch`` writes params, metrics and tags in separate transactions, so a batch cut by the
outage may be half-written there — the database check is made on mlflow-accel only.

Measured here: on MariaDB a request during the outage takes seconds to fail (up to ~6 s with 24
clients) where PostgreSQL fails it in milliseconds: PyMySQL 2.x opens every connection in
"preferred" TLS mode, building an SSL context (~50 ms of CPU) for each attempt, and every
request of every worker thread attempts one. ``REQUEST_BOUND`` is the hang bound.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.support import reliability
from tests.support.databases import MYSQL_ADMIN_URI, POSTGRES_ADMIN_URI
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.parametrize("dialect", ["postgresql", "mysql"], indirect=True)

ADMIN_URIS = {"postgresql": POSTGRES_ADMIN_URI, "mysql": MYSQL_ADMIN_URI}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
REQUEST_BOUND = 10.0  # seconds any request may take, outage or not
RECOVERY_BOUND = 10.0
UNAVAILABLE = (
    "TEMPORARILY_UNAVAILABLE"  # seconds from the database's return to the first acknowledged write
)
#: (workers, clients) per server kind; stock is ~10x slower per request, so fewer clients
KINDS = {"accel": (2, reliability.SIZE.clients), "stock": (1, 4)}


@pytest.fixture(scope="module")
def proxy(dialect):
    admin = sa.engine.make_url(ADMIN_URIS[dialect])
    with FaultProxy(admin.host, admin.port or DEFAULT_PORTS[dialect]) as running:
        yield running


def through(uri: str, proxy: FaultProxy) -> str:
    url = sa.engine.make_url(uri).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def behind_proxy(fresh_databases, proxy, tmp_path_factory):
    """``{kind: (direct database URI, RunningServer on the proxied URI)}``, booted together."""
    root = tmp_path_factory.mktemp(f"faults-{fresh_databases.dialect}")
    uris = {kind: fresh_databases.new() for kind in KINDS}
    with ThreadPoolExecutor(len(KINDS)) as pool:
        futures = {
            kind: pool.submit(
                reliability.start_server, kind, through(uris[kind], proxy), root / kind, workers
            )
            for kind, (workers, _) in KINDS.items()
        }
        started = {}
        try:
            for kind, future in futures.items():
                started[kind] = future.result()
        finally:
            if len(started) < len(KINDS):
                for server in started.values():
                    server.stop()
    yield {kind: (uris[kind], started[kind]) for kind in KINDS}
    for server in started.values():
        server.stop()


def outage(loads: dict, proxy: FaultProxy) -> tuple[float, float]:
    """Run ``loads`` through one database outage; ``(went down, came back)`` times."""
    before, during, after = reliability.SIZE.outage_phases
    for load in loads.values():
        load.start()
    time.sleep(before)
    down = time.monotonic()
    proxy.pause()
    time.sleep(during)
    up = time.monotonic()
    proxy.resume()
    time.sleep(after)
    for load in loads.values():
        load.stop()
    return down, up


def judge(load: reliability.Load, down: float, up: float, kind: str) -> list[str]:
    """What was wrong with a server's answers around an outage from ``down`` to ``up``."""
    records = [*load.writes, *load.reads]
    problems = []
    slow = [r for r in records if r.status is None or r.seconds > REQUEST_BOUND]
    if slow:
        problems.append(f"{len(slow)} requests unanswered or slower than {REQUEST_BOUND}s")
    cut = [r for r in records if r.started < down < r.started + r.seconds]
    tolerated = cut if kind == "stock" else []  # stock's HTML 500 for a request cut mid-way
    html = [r for r in records if r.status == 500 and r not in tolerated]
    if html:
        problems.append(f"500s: {reliability.summary(html)}")
    during = [r for r in records if down < r.started < up]
    unavailable = [r for r in during if (r.status, r.error_code) == (503, UNAVAILABLE)]
    wrong = [
        r
        for r in during
        if r.content_type != "application/json"
        or (r.started + r.seconds < up and r not in unavailable)
    ]
    if not unavailable or wrong:
        problems.append(
            f"while down: {len(unavailable)} JSON 503s, wrong: {reliability.summary(wrong)}"
        )
    back = [w.started for w in load.writes if w.acknowledged and w.started >= up]
    if not back or back[0] - up > RECOVERY_BOUND:
        problems.append(f"no acknowledged write within {RECOVERY_BOUND}s of the database's return")
    else:
        after = reliability.unexpected_answers(load, since=min(back))
        problems += [f"after recovery: {p}" for p in after]
    return problems


def test_outage_answers_503_and_recovers_without_restart(behind_proxy, proxy):
    loads = {}
    for kind, (_, server) in behind_proxy.items():
        loads[kind] = reliability.Load(server.url, clients=KINDS[kind][1])
        loads[kind].prepare("outage")
    down, up = outage(loads, proxy)

    for kind, load in loads.items():
        during = sorted(r.seconds for r in [*load.writes, *load.reads] if down < r.started < up)
        print(f"{kind}: {reliability.summary([*load.writes, *load.reads])}")
        print(f"{kind}: {len(during)} requests while down, slowest {during[-3:]} s")
    problems = {kind: judge(load, down, up, kind) for kind, load in loads.items()}
    assert problems == {"accel": [], "stock": []}, problems
    accel_uri = behind_proxy["accel"][0]
    stored = reliability.check_database(accel_uri, loads["accel"].writes, loads["accel"].runs)
    assert not stored, "\n".join(stored[:20])
