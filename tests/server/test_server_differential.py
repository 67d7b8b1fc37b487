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
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import servers
from tests.support.databases import (
    differences,
    table_differences,
)
from tests.support.http_differential import Side
from tests.support.server_corpus import (
    API,
    CORPUS,
    HALF,
    HALF_CREATED,
    HALF_PARSED,
    JSON_TYPE,
    SAME,
    STOCK_500,
)

MAX_BODY = 1_000_000  # the accel server's --max-body-size; the corpus stays well under it
#: Same hash seed in both servers: MLflow's messages list Python sets in iteration order.
_SERVER_ENV = {"PYTHONHASHSEED": "0"}
_HALF_PARSED_RUNS = {f"<run {HALF}>", f"<run {HALF_CREATED}>"}


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
