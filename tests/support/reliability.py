"""Shared pieces of the server reliability tests: sizes, a load generator, a ledger, a checker.

- ``SIZE``: how many clients and how long each phase runs — short by default (CI), longer with
  ``MLFLOW_ACCEL_LONG=1`` (manual runs).
- ``Load``: client threads, each with its own ``requests.Session``, logging into their own run
  and into a few shared runs over the REST API: ``log-batch`` (metrics with steps, timestamps,
  NaN and infinities, params, tags), ``log-metric``, ``log-parameter``, ``set-tag``, some reads,
  and batches refused by design (a param logged again with another value: a 400, and since
  ``log-batch`` is all-or-nothing none of its rows may be written).
- ``Write``: one write request of the ledger, with every row it carries (all tagged with the
  write's own marker: metric values encode it, param and tag keys name it) and its outcome.
- ``check_database``: reads the tables straight from the database and lists every problem: an
  acknowledged row missing, a row of a refused write present, a write half-present, a row
  no write carried, a duplicate, a ``latest_metrics`` row that is not what the metric history
  implies (MLflow's rule: greatest ``(step, timestamp, value)``, NaN stored as 0.0 with
  ``is_nan``, infinities as the largest finite doubles).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa

from tests.support import servers
from tests.support.server_pool import ServerKey

LONG = os.environ.get("MLFLOW_ACCEL_LONG") == "1"


@dataclass(frozen=True)
class Size:
    clients: int
    shared_runs: int
    load_seconds: float  # load test
    crash_after: float  # crash test: load this long before SIGKILL
    outage_phases: tuple[float, float, float]  # fault test: before, during, after the outage
    memory_warmup: float
    memory_seconds: float


SIZE = Size(64, 6, 60, 20, (10, 20, 15), 20, 180) if LONG else Size(24, 3, 5, 3, (2, 3, 3), 4, 10)
T0 = 1_700_000_000_000
MAX_DOUBLE = 1.7976931348623157e308
REQUEST_TIMEOUT = 30.0  # no request of these tests may take longer (a "hang")
API = "/api/2.0/mlflow/"
METRIC_KEYS = 4  # keys shared by all clients: latest_metrics of shared runs is contended


def start_server(kind: str, uri: str, workdir, workers: int = 2) -> servers.RunningServer:
    return servers.start(kind, uri, workdir, workers=workers)


def shared_server_key(dialect: str) -> ServerKey:
    """The session's shared accel server of ``dialect`` that takes the load (``--workers 2``)."""
    return ServerKey.of("accel", dialect, workers=2)


# -- the ledger ---------------------------------------------------------------------------------


@dataclass
class Write:
    """One write request and everything it would store, keyed by the run it writes to."""

    route: str
    run_id: str
    marker: str
    body: dict
    metrics: list = field(default_factory=list)  # stored rows: (key, value, ts, step, is_nan)
    params: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)  # unique keys only ("last" is checked apart)
    refused_by_design: bool = False
    status: int | None = None  # None: no response (connection lost, timeout)
    error_code: str | None = None
    content_type: str | None = None
    started: float = 0.0
    seconds: float = 0.0

    @property
    def acknowledged(self) -> bool:
        return self.status == 200

    @property
    def outcome_known(self) -> bool:
        """Whether the client knows if it was written: 200 yes, 4xx no; else it cannot tell."""
        return self.status is not None and self.status < 500


@dataclass
class Read:
    route: str
    status: int | None = None
    error_code: str | None = None
    content_type: str | None = None
    started: float = 0.0
    seconds: float = 0.0


def _stored(key: str, value: float, timestamp: int, step: int) -> tuple:
    """The metrics row MLflow stores for a logged value."""
    if math.isnan(value):
        return (key, 0.0, timestamp, step, True)
    if math.isinf(value):
        return (key, MAX_DOUBLE if value > 0 else -MAX_DOUBLE, timestamp, step, False)
    return (key, value, timestamp, step, False)


def _wire(value: float):
    """A metric value as MLflow's JSON carries it (non-finite ones as strings)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def metric(key: str, value: float, timestamp: int, step: int) -> tuple[dict, tuple]:
    """``(wire form, stored row)`` of one metric."""
    wire = {"key": key, "value": _wire(value), "timestamp": timestamp, "step": step}
    return wire, _stored(key, value, timestamp, step)


# -- the writes a client makes ------------------------------------------------------------------


def make_write(client: int, seq: int, run_id: str, conflict_param: str | None) -> Write:
    """The ``seq``-th write of ``client`` to ``run_id``; its marker is ``"{client}.{seq}"``.

    Metric values are ``client * 100000 + seq + j / 64`` (exact doubles), unique to the write;
    steps and timestamps repeat across writes and clients so that ``latest_metrics`` is decided
    by step, then timestamp, then value. ``conflict_param``: a param already logged on the run
    with another value, making the write one that must be refused.
    """
    marker = f"{client}.{seq}"
    ident = client * 100_000 + seq
    step, timestamp = seq // 3, T0 + seq % 5
    kind = seq % 8
    if kind == 5:
        wire, row = metric(f"k{client % METRIC_KEYS}", ident + 0.5, timestamp, step)
        return Write("runs/log-metric", run_id, marker, {"run_id": run_id, **wire}, [row])
    if kind == 6:
        body = {"run_id": run_id, "key": f"p.{marker}", "value": marker}
        return Write("runs/log-parameter", run_id, marker, body, params={body["key"]: marker})
    if kind == 7:
        body = {"run_id": run_id, "key": f"t.{marker}", "value": marker}
        return Write("runs/set-tag", run_id, marker, body, tags={body["key"]: marker})
    pairs = [
        metric(f"k{j % METRIC_KEYS}", ident + j / 64, timestamp + j % 2, step) for j in range(10)
    ]
    special = (math.nan, math.inf, -math.inf)[seq % 3]
    pairs.append(metric("special", special, T0 + ident, step))
    params = {f"p.{marker}": marker}
    if conflict_param is not None:
        params[conflict_param] = f"changed by {marker}"
    tags = {f"t.{marker}": marker}
    body = {
        "run_id": run_id,
        "metrics": [wire for wire, _ in pairs],
        "params": [{"key": k, "value": v} for k, v in params.items()],
        "tags": [{"key": k, "value": v} for k, v in {**tags, "last": marker}.items()],
    }
    return Write(
        "runs/log-batch",
        run_id,
        marker,
        body,
        [row for _, row in pairs],
        {k: v for k, v in params.items() if k != conflict_param},
        tags,
        refused_by_design=conflict_param is not None,
    )


# -- the load -----------------------------------------------------------------------------------


class Load:
    """``clients`` threads writing (and sometimes reading) until ``stop()``.

    ``prepare()`` creates an experiment, the shared runs and one run per client (and logs the
    param the refused writes conflict with); ``start()`` starts the clients; every request is
    recorded in ``writes`` / ``reads``. A later ``start()`` (``url`` may have changed: a
    restarted server) continues each client's sequence, so every write stays unique.
    """

    def __init__(self, url: str, clients: int = SIZE.clients, shared_runs: int = SIZE.shared_runs):
        self.url = url
        self.clients = clients
        self.shared_runs_count = shared_runs
        self.writes: list[Write] = []
        self.reads: list[Read] = []
        self.runs: list[str] = []
        self.own_runs: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._seqs = [itertools.count() for _ in range(clients)]  # continued by a later start()

    def prepare(self, name: str) -> None:
        with requests.Session() as session:
            created = _post(session, self.url, "experiments/create", {"name": name})
            experiment_id = created["experiment_id"]
            for _ in range(self.shared_runs_count + self.clients):
                run = _post(session, self.url, "runs/create", {"experiment_id": experiment_id})[
                    "run"
                ]["info"]["run_id"]
                _post(session, self.url, "runs/log-parameter", _fixed_param(run, "original"))
                self.runs.append(run)
        self.own_runs = self.runs[self.shared_runs_count :]

    def start(self) -> None:
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT + 5)
        assert not any(t.is_alive() for t in self._threads), "a client is stuck in a request"

    def run_for(self, seconds: float) -> None:
        self.start()
        time.sleep(seconds)
        self.stop()

    def _client(self, n: int) -> None:
        shared = self.runs[: self.shared_runs_count]
        with requests.Session() as session:
            for seq in self._seqs[n]:
                if self._stop.is_set():
                    return
                run_id = self.own_runs[n] if seq % 2 else shared[(n + seq) % len(shared)]
                if seq % 9 == 4:
                    self.reads.append(self._read(session, run_id, seq))
                    continue
                conflict = "fixed" if seq % 23 == 11 else None
                write = make_write(n, seq, run_id, conflict)
                self._send(session, write, "POST", json=write.body)
                self.writes.append(write)

    def _read(self, session, run_id: str, seq: int) -> Read:
        if seq % 2:
            read = Read("runs/get")
            params = {"run_id": run_id}
        else:
            read = Read("metrics/get-history")
            params = {"run_id": run_id, "metric_key": "k0"}
        self._send(session, read, "GET", params=params)
        return read

    def _send(self, session, record, method: str, **kwargs) -> None:
        record.started = time.monotonic()
        try:
            response = session.request(
                method, self.url + API + record.route, timeout=REQUEST_TIMEOUT, **kwargs
            )
        except requests.RequestException:
            record.seconds = time.monotonic() - record.started
            return
        record.seconds = time.monotonic() - record.started
        record.status = response.status_code
        record.content_type = response.headers.get("content-type")
        if response.status_code != 200:
            record.error_code = _error_code(response)


def _fixed_param(run_id: str, value: str) -> dict:
    return {"run_id": run_id, "key": "fixed", "value": value}


def _post(session, url: str, route: str, body: dict) -> dict:
    response = session.post(url + API + route, json=body, timeout=REQUEST_TIMEOUT)
    response.raise_for_status()
    return response.json()


def _error_code(response) -> str | None:
    try:
        return response.json().get("error_code")
    except ValueError:
        return None


# -- judging the requests -----------------------------------------------------------------------


def unexpected_answers(load: Load, since: float = 0.0) -> list[str]:
    """Requests (started at ``since`` or later) that did not get their designed answer.

    Every write gets a 200 except the refused-by-design ones, which get a JSON 400
    ``INVALID_PARAMETER_VALUE``; every read gets a 200.
    """
    problems = Counter()
    for record in [*load.writes, *load.reads]:
        if record.started < since:
            continue
        designed = getattr(record, "refused_by_design", False)
        want = (400, "INVALID_PARAMETER_VALUE") if designed else (200, None)
        if (record.status, record.error_code) != want:
            problems[f"{record.route}: {record.status} {record.error_code} (want {want})"] += 1
    return [f"{n} x {problem}" for problem, n in problems.most_common()]


def summary(records) -> dict:
    """``{(route, status, error_code): count}`` of some requests, for messages and reports."""
    return dict(Counter((r.route, r.status, r.error_code) for r in records).most_common())


# -- the database checker -----------------------------------------------------------------------


def check_database(uri: str, writes: list[Write], runs: list[str]) -> list[str]:
    """Every problem with ``runs``' rows in the database at ``uri``, given the ledger."""
    stored = read_runs(uri, runs)
    problems = []
    for run_id in runs:
        own = [w for w in writes if w.run_id == run_id]
        problems += [f"run {run_id}: {p}" for p in _check_run(stored[run_id], own)]
    return problems


def read_runs(uri: str, runs: list[str]) -> dict:
    """``{run_id: {"metrics": Counter, "latest": [...], "params": {}, "tags": {}}}``."""
    engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)
    key = "`key`" if engine.dialect.name in ("mysql", "mariadb") else '"key"'
    metric_columns = f"run_uuid, {key}, value, timestamp, step, is_nan"
    out = {
        run_id: {"metrics": Counter(), "latest": [], "params": {}, "tags": {}} for run_id in runs
    }
    try:
        with engine.connect() as conn:

            def rows(table, columns):
                statement = sa.text(f"SELECT {columns} FROM {table} WHERE run_uuid IN :runs")
                statement = statement.bindparams(sa.bindparam("runs", expanding=True))
                return conn.execute(statement, {"runs": runs}).fetchall()

            for run_id, *row in rows("metrics", metric_columns):
                out[run_id]["metrics"][_metric_row(*row)] += 1
            for run_id, *row in rows("latest_metrics", metric_columns):
                out[run_id]["latest"].append(_metric_row(*row))
            for table in ("params", "tags"):
                for run_id, k, v in rows(table, f"run_uuid, {key}, value"):
                    out[run_id][table][k] = v
    finally:
        engine.dispose()
    return out


def _metric_row(key, value, timestamp, step, is_nan) -> tuple:
    return (key, float(value), int(timestamp), int(step), bool(is_nan))


def _check_run(stored: dict, writes: list[Write]) -> list[str]:
    problems = []
    metrics, params, tags = stored["metrics"], stored["params"], stored["tags"]
    doubled = [row for row, n in metrics.items() if n > 1]
    if doubled:
        problems.append(f"{len(doubled)} metric rows stored more than once, e.g. {doubled[:3]}")
    carried = set()
    for write in writes:
        carried.update(write.metrics)
        present = _presence(write, metrics, params, tags)
        if write.acknowledged and not all(present):
            problems.append(f"acknowledged {write.route} {write.marker} not (fully) stored")
        elif write.outcome_known and not write.acknowledged and any(present):
            problems.append(f"{write.route} {write.marker} refused with {write.status} but stored")
        elif any(present) and not all(present):
            problems.append(f"{write.route} {write.marker} ({write.status}) half-written")
    strangers = set(metrics) - carried
    if strangers:
        problems.append(
            f"{len(strangers)} metric rows no write carried, e.g. {sorted(strangers)[:3]}"
        )
    markers = {w.marker for w in writes}
    for name, found in (("param", params), ("tag", tags)):
        unknown = [k for k in found if k.startswith(("p.", "t.")) and k[2:] not in markers]
        if unknown:
            problems.append(f"{name}s no write carried: {unknown[:3]}")
    problems += _check_last_tag(tags, writes)
    problems += _check_latest(metrics, stored["latest"])
    return problems


def _presence(write: Write, metrics, params, tags) -> list[bool]:
    """For each row ``write`` carries: whether it is stored."""
    return [
        *(row in metrics for row in write.metrics),
        *(params.get(k) == v for k, v in write.params.items()),
        *(tags.get(k) == v for k, v in write.tags.items()),
    ]


def _check_last_tag(tags: dict, writes: list[Write]) -> list[str]:
    """The shared tag "last" holds the marker of a batch that may have been written."""
    candidates = {
        w.marker
        for w in writes
        if w.route == "runs/log-batch" and not w.refused_by_design and not w.outcome_known
    }
    acknowledged = {w.marker for w in writes if w.route == "runs/log-batch" and w.acknowledged}
    last = tags.get("last")
    if last is None:
        return (
            ["tag 'last' missing though batches setting it were acknowledged"]
            if acknowledged
            else []
        )
    if last not in acknowledged | candidates:
        return [f"tag 'last' is {last!r}, the marker of no batch that may have been written"]
    return []


def _check_latest(metrics: Counter, latest: list) -> list[str]:
    """``latest_metrics`` holds, per key, the greatest ``(step, timestamp, value)`` stored."""
    best = {}
    for key, value, timestamp, step, is_nan in metrics:
        candidate = ((step, timestamp, value), is_nan)
        if key not in best or candidate[0] > best[key][0]:
            best[key] = candidate
    got = {key: ((step, ts, value), is_nan) for key, value, ts, step, is_nan in latest}
    problems = []
    if len(got) != len(latest):
        problems.append(f"latest_metrics has duplicate keys: {sorted(latest)[:4]}")
    wrong = {
        k: (got.get(k), best.get(k)) for k in set(best) | set(got) if got.get(k) != best.get(k)
    }
    if wrong:
        problems.append(f"latest_metrics wrong for {len(wrong)} keys (got, want): {wrong}")
    return problems
