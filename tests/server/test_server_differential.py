"""HTTP differential test: ``mlflow-accel server`` must answer like stock ``mlflow server``.

One stock and one accel server per dialect, each on its own fresh database, receive the same
ordered request corpus (``tests/support/server_corpus.py``) as raw HTTP, each server's sequence
on its own thread. Every response is compared: status, content type and body, after mapping run and
experiment ids to the corpus' symbolic names, server-chosen times to ``<now>`` and generated run
names to ``<name generated for ...>``. Afterwards the two databases' whole content is compared
(``tests.support.databases.dump_tables``) so a wrong side-write cannot hide behind a right answer.

Deliberate differences are asserted as such: ``STOCK_500`` and ``HALF_PARSED`` requests (stock
crashes or acts on a half-parsed message, accel refuses with a JSON 400) and the request body
size limit (``--max-body-size``: accel answers 413, stock reads any size).
"""

from __future__ import annotations

import json
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import servers
from tests.support.databases import (
    Normaliser,
    _database_error_text,
    differences,
    dump_tables,
    table_differences,
)
from tests.support.server_corpus import (
    API,
    CORPUS,
    HALF,
    HALF_CREATED,
    HALF_PARSED,
    JSON_TYPE,
    SAME,
    STOCK_500,
    Req,
)

MAX_BODY = 1_000_000  # the accel server's --max-body-size; the corpus stays well under it
_NOW_FLOOR = int(time.time() * 1000) - 3_600_000  # corpus times are years older than this
_TIME_KEYS = {"start_time", "end_time", "creation_time", "last_update_time", "deleted_time"}
_DATABASE_NAME = re.compile(r"mlfa_\d+_[0-9a-f]+_\d+")  # tests.support.databases' clone names
_PLACEHOLDER = re.compile(rb"\{(run|exp):([\w-]+)\}|\{token\}")
#: Same hash seed in both servers: MLflow's messages list Python sets in iteration order.
_SERVER_ENV = {"PYTHONHASHSEED": "0"}
_HALF_PARSED_RUNS = {f"<run {HALF}>", f"<run {HALF_CREATED}>"}


class Side:
    """One server with its database, its ids by symbolic name and its normaliser."""

    def __init__(self, server: servers.RunningServer, uri: str, artifact_root: str):
        self.server = server
        self.uri = uri
        self.norm = Normaliser(artifact_root)
        self.ids: dict[bytes, str] = {b"exp:0": "0"}
        self.token = ""
        self.generated_names: dict[str, str] = {}

    def fill(self, data: bytes) -> bytes:
        def one(m):
            if m.group(0) == b"{token}":
                return self.token.encode()
            return self.ids[m.group(0)[1:-1]].encode()

        return _PLACEHOLDER.sub(one, data)

    def send(self, req: Req) -> requests.Response:
        headers = {} if req.content_type is None else {"Content-Type": req.content_type}
        query = [(k, self.fill(v.encode()).decode()) for k, v in req.query]
        return requests.request(
            req.method,
            self.server.url + req.prefix + req.route,
            params=query,
            data=None if req.body is None else self.fill(req.body),
            headers=headers,
            timeout=60,
        )

    def observe(self, req: Req, resp: requests.Response, sent: bytes | None) -> None:
        """Learn the ids, page token and generated run name a response reveals."""
        body = _json(resp)
        if not isinstance(body, dict):
            return
        self.token = body.get("next_page_token", "")
        if resp.status_code != 200:
            return
        name = req.bind or req.name
        if req.route == "experiments/create":
            self.ids[f"exp:{name}".encode()] = body["experiment_id"]
            self.norm.exp_labels[body["experiment_id"]] = f"<exp {name}>"
        elif req.route == "runs/create":
            info = body["run"]["info"]
            self.ids[f"run:{name}".encode()] = info["run_id"]
            self.norm.run_labels[info["run_id"]] = f"<run {name}>"
            if info["run_name"].encode() not in (sent or b""):
                self.generated_names[info["run_name"]] = f"<name generated for {name}>"

    def exchange(self, req: Req) -> dict:
        sent = None if req.body is None else self.fill(req.body)
        resp = self.send(req)
        self.observe(req, resp, sent)
        return self.canonical(resp)

    def canonical(self, resp: requests.Response) -> dict:
        body = _json(resp)
        return {
            "status": resp.status_code,
            "content-type": resp.headers.get("content-type"),
            "body": self.scrub(self.norm.value(body)) if body is not None else resp.text,
        }

    def scrub(self, x, key=None):
        """Server-chosen times -> ``<now>``, generated run names -> labels, database error
        messages without SQLAlchemy's wrapper text or the database's name."""
        if isinstance(x, dict):
            return {k: self.scrub(v, k) for k, v in x.items()}
        if isinstance(x, list):
            return [self.scrub(v) for v in x]
        if key in _TIME_KEYS and isinstance(x, int) and x >= _NOW_FLOOR:
            return "<now>"
        if isinstance(x, str):
            if key == "message":
                x = _DATABASE_NAME.sub("<database>", _database_error_text(x))
            return self.generated_names.get(x, x)
        return x

    def dump(self) -> dict:
        return self.scrub(dump_tables(self.uri, self.norm))


def _json(resp: requests.Response):
    if not resp.headers.get("content-type", "").startswith(JSON_TYPE) or not resp.content:
        return None
    return json.loads(resp.content)


def _start_pair(fresh_databases, workdir, *accel_args):
    uris = [fresh_databases.new(), fresh_databases.new()]
    kinds = [("stock", ()), ("accel", accel_args)]
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(servers.start, kind, uri, workdir, *args, env=_SERVER_ENV)
            for (kind, args), uri in zip(kinds, uris, strict=True)
        ]
        started = [f.result() if not f.exception() else f.exception() for f in futures]
    failures = [s for s in started if isinstance(s, BaseException)]
    if failures:
        for s in started:
            if not isinstance(s, BaseException):
                s.stop()
        raise failures[0]
    root = str(workdir / "artifacts")
    return [Side(s, uri, root) for s, uri in zip(started, uris, strict=True)]


@pytest.fixture(scope="module")
def sides(fresh_databases, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("servers")
    pair = _start_pair(fresh_databases, workdir, "--max-body-size", str(MAX_BODY))
    yield pair
    for side in pair:
        side.server.stop()
        fresh_databases.release(side.uri)


@pytest.fixture(scope="module")
def outcomes(sides):
    """Every corpus request's canonical answer from both servers, and both databases after."""
    with ThreadPoolExecutor(2) as pool:  # each server's sequence on its own thread
        stock, accel = pool.map(lambda side: [side.exchange(req) for req in CORPUS], sides)
    answers = {req.name: pair for req, *pair in zip(CORPUS, stock, accel, strict=True)}
    return answers, sides[0].dump(), sides[1].dump()


@pytest.mark.parametrize("req", CORPUS, ids=[r.name for r in CORPUS])
def test_response(outcomes, req):
    stock, accel = outcomes[0][req.name]
    if req.expect == SAME:
        assert stock == accel, "\n".join(differences(stock, accel))
        return
    # Documented exceptions (see tests/support/server_corpus.py): stock crashes with a 500, or acts
    # on a half-parsed message (200); accel refuses with a JSON 400 either way.
    assert stock["status"] == {STOCK_500: 500, HALF_PARSED: 200}[req.expect], stock
    assert accel["status"] == 400, accel
    assert accel["content-type"] == JSON_TYPE
    assert accel["body"]["error_code"] == "INVALID_PARAMETER_VALUE", accel
    if req.expect == HALF_PARSED:
        assert accel["body"]["message"].startswith("Failed to parse "), accel


def test_database_content(outcomes):
    """Equal databases, but for the rows stock's half-parsed writes added (accel has a subset
    of those runs' rows: the ones both logged before)."""
    _, stock, accel = outcomes
    stock_rest, stock_half = _split_half_parsed(stock)
    accel_rest, accel_half = _split_half_parsed(accel)
    assert stock_rest == accel_rest, "\n".join(table_differences(stock_rest, accel_rest))
    extra = {t: [r for r in rows if r not in stock_half[t]] for t, rows in accel_half.items()}
    assert not any(extra.values()), extra


def _split_half_parsed(dump: dict) -> tuple[dict, dict]:
    rest, half = {}, {}
    for table, rows in dump.items():
        if not isinstance(rows, list):
            rest[table] = rows
            continue
        hit = [r for r in rows if r.get("run_uuid") in _HALF_PARSED_RUNS]
        half[table] = hit
        # re-sorted: the dump sorted rows before generated run names were scrubbed to labels
        rest[table] = sorted((r for r in rows if r not in hit), key=repr)
    return rest, half


# -- the body size limit: accel-only, deliberate (stock reads bodies of any size) ---------------


def _padded_search(size: int) -> bytes:
    body = b'{"max_results": 1}'
    return body + b" " * (size - len(body))


def _raw_request(url: str, head: bytes) -> tuple[int, bytes]:
    """Send only a request head (no body), return the status and body of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as conn:
        conn.sendall(head.replace(b"HOST", parts.netloc.encode()))
        data = b""
        while b"\r\n\r\n" not in data or not _complete(data):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    head_part, _, body = data.partition(b"\r\n\r\n")
    return int(head_part.split()[1]), body


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    return length is not None and len(body) >= int(length.group(1))


def _assert_too_large(status: int, body: bytes) -> None:
    assert status == 413
    error = json.loads(body)
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert f"limit of {MAX_BODY} bytes" in error["message"]


@pytest.mark.parametrize("prefix", [API, "/ajax-api/2.0/mlflow/"])
def test_body_at_limit_is_served(sides, prefix):
    for side in sides:
        resp = requests.post(
            side.server.url + prefix + "experiments/search",
            data=_padded_search(MAX_BODY),
            headers={"Content-Type": JSON_TYPE},
            timeout=60,
        )
        assert resp.status_code == 200, (side.server.kind, resp.text)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_limit(sides, chunked):
    body = _padded_search(MAX_BODY + 1)
    answers = {}
    for side in sides:
        resp = requests.post(
            side.server.url + API + "experiments/search",
            data=iter([body[:MAX_BODY], body[MAX_BODY:]]) if chunked else body,
            headers={"Content-Type": JSON_TYPE},
            timeout=60,
        )
        answers[side.server.kind] = resp
    if not chunked:  # stock's WSGI bridge reads a chunked body as empty
        assert answers["stock"].status_code == 200
    _assert_too_large(answers["accel"].status_code, answers["accel"].content)
    assert answers["accel"].headers["content-type"] == JSON_TYPE


def test_huge_declared_length_refused_unread(sides):
    """A declared Content-Length over the limit is refused before any body byte is sent."""
    _, accel = sides
    head = (
        b"POST /api/2.0/mlflow/runs/log-batch HTTP/1.1\r\nHost: HOST\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n"
    )
    _assert_too_large(*_raw_request(accel.server.url, head))


@pytest.mark.parametrize(
    "route, body",
    [
        ("runs/search", b'{"experiment_ids": ["{exp:e1}"], "max_results": 5}'),
        ("experiments/search", b'{"max_results": 3}'),
    ],
)
def test_chunked_body(sides, route, body):
    """Accel reads a chunked body (no Content-Length) as stock reads it sent with a length.

    (Stock itself, under uvicorn, reads a chunked body as empty: its WSGI bridge drops it.)
    """
    stock, accel = sides
    url = API + route
    kwargs = {"headers": {"Content-Type": JSON_TYPE}, "timeout": 60}
    expected = stock.canonical(
        requests.post(stock.server.url + url, data=stock.fill(body), **kwargs)
    )
    body = accel.fill(body)
    chunks = iter([body[:5], body[5:]])
    got = accel.canonical(requests.post(accel.server.url + url, data=chunks, **kwargs))
    assert expected == got, "\n".join(differences(expected, got))
