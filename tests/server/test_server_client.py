"""End to end with MLflow's own client: an accel server gives the client what a stock one gives.

One stock and one accel server per dialect (``--workers 2``, fresh databases). The same client
workload (``MlflowClient`` and the fluent ``mlflow`` API, ``MLFLOW_TRACKING_URI`` pointing at the
server) runs against each, and the normalised results must be equal. Also: keep-alive latency of
a fast route through one ``requests.Session`` (MLflow's multi-worker uvicorn stalls ~40 ms per
request on delayed ACKs; the fast path must not).
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import mlflow
import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.tracking._tracking_service.utils import _use_tracking_uri

from tests.support import servers
from tests.support.databases import Normaliser

TS = 1_700_000_000_000
KINDS = ("stock", "accel")


@pytest.fixture(scope="module")
def pair(fresh_databases, tmp_path_factory):
    """``{kind: RunningServer}`` on the dialect under test, booted side by side."""
    root = tmp_path_factory.mktemp(f"client-{fresh_databases.dialect}")
    uris = {kind: fresh_databases.new() for kind in KINDS}
    with ThreadPoolExecutor(2) as pool:
        futures = {
            kind: pool.submit(servers.start, kind, uris[kind], root / kind, workers=2)
            for kind in KINDS
        }
        started = {}
        try:
            for kind, future in futures.items():
                started[kind] = future.result()
        except BaseException:
            for server in started.values():
                server.stop()
            raise
    yield started
    for server in started.values():
        server.stop()


class ServerNormaliser(Normaliser):
    """Also masks the server's own artifact root, which differs per server."""

    def __init__(self, server: servers.RunningServer):
        self.root = str(server.log.parent / "artifacts")
        super().__init__(self.root)

    def text(self, s: str) -> str:
        return super().text(s).replace(self.root, "<artifact root>")


def attempt(norm, call):
    try:
        return norm.value(call())
    except Exception as e:
        return norm.error(e)


def workload(server: servers.RunningServer) -> dict:
    """Everything the client sees of one workload against ``server``, normalised."""
    norm = ServerNormaliser(server)
    out = {}
    with (
        mock.patch.dict(os.environ, {"MLFLOW_TRACKING_URI": server.url}),
        _use_tracking_uri(server.url),
    ):
        client = MlflowClient()
        assert client.tracking_uri == server.url
        exp_id = client.create_experiment("client-exp", tags={"team": "a"})
        norm.add_experiment(exp_id)
        out["duplicate experiment"] = attempt(norm, lambda: client.create_experiment("client-exp"))
        out["experiment"] = attempt(norm, lambda: client.get_experiment(exp_id))
        out["by name"] = attempt(norm, lambda: client.get_experiment_by_name("client-exp"))
        out["missing by name"] = attempt(norm, lambda: client.get_experiment_by_name("nope"))

        run_ids = []
        for i in range(6):
            run = client.create_run(
                exp_id, start_time=TS + i, tags={"i": str(i)}, run_name=f"run-{i}"
            )
            run_id = run.info.run_id
            norm.add_run(run_id)
            run_ids.append(run_id)
            client.log_batch(
                run_id,
                metrics=[Metric("loss", 1.0 / (i + 1) + s, TS + s, s) for s in range(3)],
                params=[Param("lr", str(0.1 * i))],
                tags=[RunTag("kind", "even" if i % 2 == 0 else "odd")],
            )
            client.log_metric(run_id, "acc", 0.5 + i / 10, timestamp=TS + 10, step=7)
            client.log_param(run_id, "layers", str(i))
            client.set_tag(run_id, "note", f"n{i}")
        out["param overwrite"] = attempt(norm, lambda: client.log_param(run_ids[0], "lr", "9"))
        out["missing run"] = attempt(norm, lambda: client.get_run("0" * 32))
        client.update_run(run_ids[0], status="KILLED", name="renamed")
        client.set_terminated(run_ids[1], "FINISHED", end_time=TS + 100)
        client.set_terminated(run_ids[2], "FAILED", end_time=TS + 200)
        out["runs"] = [attempt(norm, lambda r=r: client.get_run(r)) for r in run_ids]
        out["histories"] = [
            attempt(norm, lambda r=r: client.get_metric_history(r, "loss")) for r in run_ids
        ]

        searches = [
            ("", ["metrics.acc DESC"], 2),
            ("metrics.loss < 0.6 and tags.kind = 'even'", ["params.layers ASC"], 1),
            ("params.lr != '0.0'", ["attributes.start_time ASC"], 4),
            ("attributes.status = 'FINISHED'", None, 10),
            ("tags.note LIKE 'n%'", ["tags.note DESC"], 3),
            ("attributes.run_name = 'renamed'", None, 10),
        ]
        out["searches"] = []
        for filter_string, order_by, page_size in searches:
            pages, token = [], None
            while True:
                page = client.search_runs(
                    [exp_id],
                    filter_string=filter_string,
                    order_by=order_by,
                    max_results=page_size,
                    page_token=token,
                )
                pages.append([run.info.run_id for run in page])
                token = page.token
                if not token:
                    break
            out["searches"].append(norm.value(pages))
        out["full search"] = attempt(
            norm, lambda: list(client.search_runs([exp_id], run_view_type=ViewType.ALL))
        )

        with mlflow.start_run(experiment_id=exp_id, run_name="fluent") as active:
            mlflow.log_metrics({"a": 1.0, "b": 2.5}, step=3)
            mlflow.log_params({"x": "1", "y": "two"})
            mlflow.set_tag("fluent", "yes")
        fluent_id = active.info.run_id
        norm.add_run(fluent_id, defaulted_start=True)
        data = client.get_run(fluent_id).data
        out["fluent data"] = norm.value([data.metrics, data.params, data.tags])
        frame = mlflow.search_runs([exp_id], order_by=["attributes.run_name ASC"])
        frame = frame.drop(columns=["start_time", "end_time"])
        out["pandas columns"] = sorted(frame.columns)
        out["pandas"] = norm.value(frame.to_dict("records"))
        out["experiments"] = attempt(
            norm, lambda: list(client.search_experiments(order_by=["name ASC"]))
        )
    return out


def test_client_sees_the_same_on_accel_as_on_stock(pair):
    seen = {kind: workload(server) for kind, server in pair.items()}
    for key, stock in seen["stock"].items():
        assert seen["accel"][key] == stock, key
    assert seen["accel"] == seen["stock"]
    assert "[mlflow-accel] fast path on" in pair["accel"].log_text()


LATENCY_CALLS = {  # route: (method, request), run_id filled in
    "runs/get": ("GET", {"run_id": None}),
    "runs/log-metric": ("POST", {"run_id": None, "key": "m", "value": 1.0, "timestamp": TS}),
}


def median_latency_ms(server: servers.RunningServer, route: str, calls: int = 50) -> float:
    method, request = LATENCY_CALLS[route]
    with requests.Session() as session:
        created = session.post(
            server.url + "/api/2.0/mlflow/runs/create",
            json={"experiment_id": "0", "start_time": TS},
            timeout=30,
        )
        created.raise_for_status()
        request = {**request, "run_id": created.json()["run"]["info"]["run_id"]}
        kwargs = {"params": request} if method == "GET" else {"json": request}
        url = f"{server.url}/api/2.0/mlflow/{route}"
        times = []
        for _ in range(5 + calls):  # the first 5 warm up both workers
            start = time.perf_counter()
            session.request(method, url, timeout=30, **kwargs).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[5:])


@pytest.mark.parametrize("route", list(LATENCY_CALLS))
def test_keep_alive_requests_do_not_stall(pair, route):
    """One keep-alive connection, 50 sequential calls: no ~40 ms delayed-ACK stall on accel."""
    medians = {kind: round(median_latency_ms(server, route), 2) for kind, server in pair.items()}
    print(f"median {route} latency over one keep-alive connection, --workers 2: {medians} ms")
    assert medians["accel"] < 30, f"accel stalls like stock's uvicorn: {medians} (ms)"
