"""Every gate stock MLflow's server puts in front of a request applies to the fast routes unchanged.

Differential: a stock ``mlflow server`` and an ``mlflow-accel server`` started with the same options
(each on its own fresh database and working directory) get the same requests, and must answer
each fast route with the same status, the same body (run ids, wall-clock times and the server's
own directory masked) and the same headers (framing and date aside). Covered: basic-auth
(authentication, per-user permissions, the after-request grant on experiment creation, search
filtering), allowed hosts, CORS, security headers, ``--disable-security-middleware``,
``--artifacts-only``, ``--static-prefix``, workspaces, Prometheus counters, gunicorn,
``--no-accel`` and the startup log. All configurations boot together when the module starts.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import pytest
import requests

from tests.support import servers
from tests.support.databases import FreshDatabases, ServerUnavailable

TS = 1_700_000_000_000
ADMIN_PASSWORD = "admin-password-1234"
ALICE_PASSWORD = "alice-password-1234"
GOOD_ORIGIN = "http://good.example"
EVIL_ORIGIN = "http://evil.example"
WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"


# -- the fast routes ------------------------------------------------------------------------------


class Route(NamedTuple):
    endpoint: str  # MLflow's Flask endpoint name
    method: str
    path: str  # under <api>/2.0/mlflow/
    request: dict  # query (GET) or JSON body (POST); "{run}", "{exp}", ... filled per server


ENDPOINTS = [
    Route(
        "log_batch",
        "POST",
        "runs/log-batch",
        {
            "run_id": "{run}",
            "metrics": [{"key": "m", "value": 1.5, "timestamp": TS, "step": 1}],
            "tags": [{"key": "t", "value": "x"}],
        },
    ),
    Route(
        "log_metric",
        "POST",
        "runs/log-metric",
        {"run_id": "{run}", "key": "m", "value": 2.5, "timestamp": TS, "step": 2},
    ),
    Route("log_param", "POST", "runs/log-parameter", {"run_id": "{run}", "key": "p", "value": "v"}),
    Route("set_tag", "POST", "runs/set-tag", {"run_id": "{run}", "key": "t", "value": "y"}),
    Route(
        "create_run",
        "POST",
        "runs/create",
        {"experiment_id": "{exp}", "run_name": "extra", "start_time": TS},
    ),
    Route("update_run", "POST", "runs/update", {"run_id": "{run}", "status": "RUNNING"}),
    Route("get_run", "GET", "runs/get", {"run_id": "{run}"}),
    Route(
        "search_runs",
        "POST",
        "runs/search",
        {"experiment_ids": ["{exp}"], "filter": "attributes.run_name = 'main'"},
    ),
    Route(
        "get_metric_history", "GET", "metrics/get-history", {"run_id": "{run}", "metric_key": "m"}
    ),
    Route(
        "get_experiment_by_name",
        "GET",
        "experiments/get-by-name",
        {"experiment_name": "{exp_name}"},
    ),
    Route("create_experiment", "POST", "experiments/create", {"name": "created-{unique}"}),
    Route("get_experiment", "GET", "experiments/get", {"experiment_id": "{exp}"}),
    Route(
        "search_experiments",
        "POST",
        "experiments/search",
        {"max_results": 5, "order_by": ["experiment_id DESC"]},
    ),
    Route(
        "search_experiments",
        "GET",
        "experiments/search",
        {"max_results": "5", "order_by": "experiment_id DESC"},
    ),
]
ROUTES = [
    route._replace(path=f"/{api}/2.0/mlflow/{route.path}")
    for route in ENDPOINTS
    for api in ("api", "ajax-api")
]
ROUTE_IDS = [f"{route.method} {route.path}" for route in ROUTES]
READS = {
    "get_run",
    "search_runs",
    "get_metric_history",
    "get_experiment_by_name",
    "get_experiment",
    "search_experiments",
}
route_param = pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)


def test_route_table_is_what_the_server_accelerates():
    """The table above and the registry's (``test_server_registry_gates``) are exactly
    ``mlflow-accel server --list-accelerated``: no route untested."""
    from tests.server.test_server_registry_gates import ROUTES as REGISTRY_ROUTES

    listed = subprocess.run(
        [sys.executable, "-m", "mlflow_accel.cli", "server", "--list-accelerated"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    served = {(method, path) for method, path in zip(listed[0::3], listed[1::3], strict=True)}
    assert served == {(route.method, route.path) for route in (*ROUTES, *REGISTRY_ROUTES)}


# -- observing two servers ------------------------------------------------------------------------

_HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_MILLIS = re.compile(r"(?<!\d)1\d{12}(?!\d)")
_FRAMING = {"date", "server", "content-length", "transfer-encoding", "connection", "keep-alive"}


class Observation(NamedTuple):
    status: int
    headers: dict
    body: str


def observe(response: requests.Response, server: servers.RunningServer) -> Observation:
    """What a client sees of ``response``, with what legitimately differs per server masked."""
    text = response.text.replace(str(server.log.parent), "<workdir>")
    ids = {}
    text = _HEX32.sub(lambda m: ids.setdefault(m.group(), f"<id{len(ids)}>"), text)
    text = _MILLIS.sub("<millis>", text)
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in _FRAMING}
    if "vary" in headers:  # "Origin, Origin" means "Origin"; test_vary_header_bytes_as_stock
        headers["vary"] = ", ".join(dict.fromkeys(re.split(r",\s*", headers["vary"])))
    if "allow" in headers:  # werkzeug lists a set: its order varies per process, stock too
        headers["allow"] = ", ".join(sorted(re.split(r",\s*", headers["allow"])))
    return Observation(response.status_code, headers, text)


@dataclass
class Config:
    args: tuple = ()
    accel_args: tuple = ()
    env: dict = field(default_factory=dict)
    prefix: str = ""
    backend: str = "sqlite"
    world: bool = True
    requires: str | None = None  # a module stock MLflow needs for this configuration


@dataclass
class Pair:
    """A stock and an accel server started alike, and what was set up on each (``worlds``)."""

    name: str
    config: Config
    stock: servers.RunningServer
    accel: servers.RunningServer
    worlds: dict = field(default_factory=lambda: {"stock": {}, "accel": {}})
    counter: itertools.count = field(default_factory=itertools.count)

    def servers(self):
        return (("stock", self.stock), ("accel", self.accel))

    def send(self, kind, method, path, request, headers=None, auth=None, prefix=None):
        server = dict(self.servers())[kind]
        url = server.url + (self.config.prefix if prefix is None else prefix) + path
        kwargs = {"params": request} if method in ("GET", "HEAD") else {"json": request}
        return requests.request(method, url, headers=headers, auth=auth, timeout=30, **kwargs)

    def exchange(self, route: Route, world="main", method=None, **kwargs):
        """Send ``route``'s request, filled from each server's ``world``, to both servers."""
        unique = next(self.counter)
        observed = []
        for kind, server in self.servers():
            values = {**self.worlds[kind].get(world, NOWHERE), "unique": unique}
            request = fill(route.request, values)
            response = self.send(kind, method or route.method, route.path, request, **kwargs)
            observed.append(observe(response, server))
        return observed

    def setup_world(self, world, exp_name, headers=None, auth=None):
        """On both servers: an experiment ``exp_name`` and in it a run "main" with a metric."""
        for kind, _ in self.servers():

            def call(path, body, kind=kind):
                response = self.send(kind, "POST", path, body, headers=headers, auth=auth)
                assert response.status_code == 200, (
                    f"{self.name}/{kind} setup {path}: {response.text}"
                )
                return response.json()

            exp = call("/api/2.0/mlflow/experiments/create", {"name": exp_name})["experiment_id"]
            run = call(
                "/api/2.0/mlflow/runs/create",
                {"experiment_id": exp, "run_name": "main", "start_time": TS},
            )["run"]["info"]["run_id"]
            call(
                "/api/2.0/mlflow/runs/log-metric",
                {"run_id": run, "key": "m", "value": 1.0, "timestamp": TS, "step": 0},
            )
            self.worlds[kind][world] = {"exp": exp, "exp_name": exp_name, "run": run}


#: What requests name where a configuration has no world set up (--artifacts-only).
NOWHERE = {"run": "0" * 32, "exp": "0", "exp_name": "Default"}


def fill(template, values):
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    return template


def assert_same(stock: Observation, accel: Observation, expected=None, route=None):
    if expected is not None:
        want = (
            expected.get(route.method, expected.get("*"))
            if isinstance(expected, dict)
            else expected
        )
        if want is not None:
            assert stock.status == want, f"stock answered {stock} (the gate is not in force)"
    assert accel == stock


# -- the servers ----------------------------------------------------------------------------------

AUTH_ENV = {
    "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "MLFLOW_FLASK_SERVER_SECRET_KEY": "gate-test-secret-key",
}
AUTH_INI = """[mlflow]
default_permission = NO_PERMISSIONS
database_uri = sqlite:///basic_auth.db
admin_username = admin
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
auth_cache_ttl_seconds = 600
"""
CONFIGS = {
    "default": Config(),
    "configured": Config(
        args=(
            "--allowed-hosts",
            "127.0.0.1:*,good.example",
            "--cors-allowed-origins",
            GOOD_ORIGIN,
            "--x-frame-options",
            "DENY",
        )
    ),
    "any-origin": Config(args=("--cors-allowed-origins", "*")),
    "no-security": Config(args=("--disable-security-middleware",)),
    # --artifacts-only refuses any backend store but MLflow's default one (which it never opens)
    "artifacts-only": Config(
        args=("--artifacts-only",), backend="sqlite:///mlflow.db", world=False
    ),
    "static-prefix": Config(args=("--static-prefix", "/mlflow"), prefix="/mlflow"),
    "workspaces": Config(args=("--enable-workspaces",), world=False),
    "prometheus": Config(
        args=("--expose-prometheus", "{workdir}/prometheus"), requires="prometheus_flask_exporter"
    ),
    "gunicorn": Config(args=("--gunicorn-opts", "--log-level warning")),
    "no-accel": Config(accel_args=("--no-accel",)),
    "basic-auth": Config(args=("--app-name", "basic-auth"), env=AUTH_ENV, world=False),
    "basic-auth-postgresql": Config(
        args=("--app-name", "basic-auth"), env=AUTH_ENV, backend="postgresql", world=False
    ),
}


class Launcher:
    """Boots every configuration's pair at once (a few at a time) on first use."""

    def __init__(self, db_servers, root, names):
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=4)
        self.databases = {}
        self.futures = {}
        self.unavailable = {}
        for name, config in CONFIGS.items():
            if name not in names:
                continue
            if config.requires and importlib.util.find_spec(config.requires) is None:
                self.unavailable[name] = f"{config.requires} is not installed"
                continue
            if "://" in config.backend:
                for kind in ("stock", "accel"):
                    self.futures[name, kind] = self.pool.submit(
                        self._boot, name, config, kind, config.backend
                    )
                continue
            try:
                databases = self.databases.get(config.backend)
                if databases is None:
                    databases = FreshDatabases(db_servers.get(config.backend))
                    self.databases[config.backend] = databases
            except ServerUnavailable as e:
                self.unavailable[name] = e
                continue
            for kind in ("stock", "accel"):
                uri = databases.new()
                self.futures[name, kind] = self.pool.submit(self._boot, name, config, kind, uri)

    def _boot(self, name, config, kind, uri):
        workdir = self.root / name / kind
        workdir.mkdir(parents=True, exist_ok=True)
        env = dict(config.env)
        if config.env is AUTH_ENV:
            (workdir / "auth.ini").write_text(AUTH_INI)
            env["MLFLOW_AUTH_CONFIG_PATH"] = str(workdir / "auth.ini")
        args = [arg.format(workdir=workdir) for arg in config.args]
        if kind == "accel":
            args += config.accel_args
        wait = config.prefix + "/health"
        return servers.start(kind, uri, workdir, *args, env=env, wait_path=wait)

    def pair(self, name) -> Pair:
        if name in self.unavailable:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true and {name} is required: {self.unavailable[name]}")
            pytest.skip(f"{name}: {self.unavailable[name]}")
        return Pair(
            name, CONFIGS[name], *(self.futures[name, k].result() for k in ("stock", "accel"))
        )

    def release(self, names):
        """Stop the servers of configurations ``names``."""

        def stop(future):
            try:
                future.result().stop()
            except Exception:
                pass  # it never started; its test already reported why

        released = [key for key in self.futures if key[0] in names]
        list(self.pool.map(stop, [self.futures.pop(key) for key in released]))

    def close(self):
        self.release(CONFIGS)
        self.pool.shutdown()
        for databases in self.databases.values():
            databases.close()


def uses(*names):
    """Mark a test as using these configurations (besides those its parameters name)."""

    def mark(test):
        test.configs = names
        return test

    return mark


def configs_of(item) -> set:
    params = item.callspec.params if hasattr(item, "callspec") else {}
    named = {params["case"].config} if "case" in params else set()
    named |= {params[key] for key in ("config", "auth_pair") if key in params}
    return named | set(getattr(item.function, "configs", ()))


@pytest.fixture(scope="module", autouse=True)
def launcher(request, gates_launcher):
    """The session's gates servers (tests/server/conftest.py); when this module ends, those no
    other module uses stop."""
    yield gates_launcher
    others = [
        item
        for item in request.session.items
        if item.module is not sys.modules[__name__] and "gates_launcher" in item.fixturenames
    ]
    gates_launcher.release(set(CONFIGS) - set().union(*(configs_of(item) for item in others)))


@pytest.fixture(scope="module")
def pairs(launcher):
    """``pairs(name)``: the configuration's pair, booted, with its "main" world set up."""
    made = {}

    def get(name):
        if name not in made:
            pair = launcher.pair(name)
            if pair.config.world:
                pair.setup_world("main", "gate-exp")
            made[name] = pair
        return made[name]

    return get


# -- host, CORS, security headers, methods, artifacts-only, gunicorn, --no-accel ------------------


class Case(NamedTuple):
    config: str
    name: str
    headers: dict
    expected: object = None  # stock's status (or {method: status}); checks the gate is in force
    method: str | None = None


def preflight(origin):
    return {"Origin": origin, "Access-Control-Request-Method": "POST"}


CASES = [
    Case("default", "plain", {}, 200),
    Case("default", "foreign-host", {"Host": "evil.example"}, 403),
    Case("default", "localhost-host", {"Host": "localhost"}, 200),
    Case("default", "foreign-origin", {"Origin": EVIL_ORIGIN}, {"POST": 403, "GET": 200}),
    Case("default", "localhost-origin", {"Origin": "http://localhost:3000"}, 200),
    Case("default", "preflight-foreign", preflight(EVIL_ORIGIN), 400, "OPTIONS"),
    Case("default", "preflight-localhost", preflight("http://localhost:3000"), 200, "OPTIONS"),
    Case("default", "plain-options", {}, None, "OPTIONS"),
    Case("default", "head", {}, None, "HEAD"),
    Case("default", "wrong-method", {}, 405, "PUT"),
    Case("configured", "plain", {}, 200),
    Case("configured", "allowed-host", {"Host": "good.example"}, 200),
    Case("configured", "foreign-host", {"Host": "evil.example"}, 403),
    Case("configured", "allowed-origin", {"Origin": GOOD_ORIGIN}, 200),
    Case("configured", "foreign-origin", {"Origin": EVIL_ORIGIN}, {"POST": 403, "GET": 200}),
    Case("configured", "preflight-allowed", preflight(GOOD_ORIGIN), 200, "OPTIONS"),
    Case("configured", "preflight-foreign", preflight(EVIL_ORIGIN), 400, "OPTIONS"),
    Case("any-origin", "plain", {}, 200),
    Case("any-origin", "foreign-origin", {"Origin": EVIL_ORIGIN}, 200),
    Case("any-origin", "preflight-foreign", preflight(EVIL_ORIGIN), 200, "OPTIONS"),
    Case("no-security", "plain", {}, 200),
    Case("no-security", "foreign-host", {"Host": "evil.example"}, 200),
    Case("no-security", "foreign-origin", {"Origin": EVIL_ORIGIN}, 200),
    Case("no-security", "preflight-foreign", preflight(EVIL_ORIGIN), None, "OPTIONS"),
    Case("artifacts-only", "plain", {}, 503),
    Case("artifacts-only", "foreign-host", {"Host": "evil.example"}, 403),
    Case("gunicorn", "plain", {}, 200),
    Case("gunicorn", "foreign-host", {"Host": "evil.example"}, 403),
    Case("gunicorn", "foreign-origin", {"Origin": EVIL_ORIGIN}, {"POST": 403, "GET": 200}),
    Case("no-accel", "plain", {}, 200),
    Case("no-accel", "foreign-origin", {"Origin": EVIL_ORIGIN}, {"POST": 403, "GET": 200}),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.config}-{c.name}" for c in CASES])
@route_param
def test_request_gates_answer_as_stock(pairs, case, route):
    pair = pairs(case.config)
    stock, accel = pair.exchange(route, method=case.method, headers=case.headers)
    assert_same(stock, accel, case.expected, route)


@uses("default", "configured", "no-security")
def test_security_headers_are_stock_ones(pairs):
    """The header gates are really in force (so the differential cases above check them)."""
    route = ROUTES[ROUTE_IDS.index("GET /api/2.0/mlflow/runs/get")]
    seen = {}
    for name in ("default", "configured", "no-security"):
        stock, accel = pairs(name).exchange(route, headers={"Origin": GOOD_ORIGIN})
        assert accel == stock
        seen[name] = stock.headers
    assert seen["default"]["x-frame-options"] == "SAMEORIGIN"
    assert seen["configured"]["x-frame-options"] == "DENY"
    assert seen["configured"]["access-control-allow-origin"] == GOOD_ORIGIN
    assert "x-content-type-options" not in seen["no-security"]


@uses("default")
def test_vary_header_bytes_as_stock(pairs):
    """The exact ``Vary`` value of a CORS response, which the cases above compare token-wise.

    Documented difference: stock's response passes through Flask-CORS *and* Starlette's CORS
    middleware, each adding ``Origin`` (``Vary: Origin, Origin``); a fast response passes the
    middleware only (``Vary: Origin``), which means the same to every cache.
    """
    route = ROUTES[ROUTE_IDS.index("GET /api/2.0/mlflow/runs/get")]
    pair = pairs("default")
    vary = {}
    for kind, _ in pair.servers():
        run_id = pair.worlds[kind]["main"]["run"]
        response = pair.send(
            kind, "GET", route.path, {"run_id": run_id}, headers={"Origin": "http://localhost:3000"}
        )
        vary[kind] = response.headers.get("vary")
    assert (vary["stock"], vary["accel"]) == ("Origin, Origin", "Origin")


# -- static prefix --------------------------------------------------------------------------------


@uses("static-prefix")
@pytest.mark.parametrize("prefix", ["/mlflow", ""], ids=["prefixed", "unprefixed"])
@route_param
def test_static_prefix_routes_as_stock(pairs, prefix, route):
    pair = pairs("static-prefix")
    stock, accel = pair.exchange(route, prefix=prefix)
    assert_same(stock, accel, 200 if prefix else 404, route)


# -- workspaces -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workspaces(pairs):
    pair = pairs("workspaces")
    for kind, _ in pair.servers():
        response = pair.send(kind, "POST", "/api/3.0/mlflow/workspaces", {"name": "team-a"})
        assert response.status_code == 201, response.text
    pair.setup_world("default", "ws-exp")
    pair.setup_world("team-a", "ws-exp-a", headers={WORKSPACE_HEADER: "team-a"})
    return pair


WORKSPACE_CASES = [  # (world the request names, workspace header, stock's status)
    ("default", None, 200),
    ("default", "default", 200),
    ("team-a", "team-a", 200),
    ("default", "team-a", None),  # another workspace's objects: not found, or filtered out
    ("team-a", "default", None),
    ("team-a", "no-such-workspace", None),
    ("team-a", "Bad Name!", None),
]


@uses("workspaces")
@pytest.mark.parametrize(
    "world, workspace, expected",
    WORKSPACE_CASES,
    ids=[f"{w}-from-{h}" for w, h, _ in WORKSPACE_CASES],
)
@route_param
def test_workspaces_are_kept_apart_as_stock(workspaces, world, workspace, expected, route):
    headers = {WORKSPACE_HEADER: workspace} if workspace else {}
    stock, accel = workspaces.exchange(route, world=world, headers=headers)
    if (
        workspace == "team-a"
        and world == "default"
        and route.endpoint not in ("create_experiment",)
    ):
        assert stock.status != 200 or "search" in route.endpoint, "stock let team-a see default"
    assert_same(stock, accel, expected, route)


# -- basic-auth -----------------------------------------------------------------------------------

CREDENTIALS = {
    "anonymous": None,
    "wrong-password": ("admin", "not-the-password-1234"),
    "unknown-user": ("mallory", ALICE_PASSWORD),
    "admin": ("admin", ADMIN_PASSWORD),
    "alice": ("alice", ALICE_PASSWORD),
}


def alice_expects(world, route):
    if route.endpoint in ("create_experiment", "search_experiments", "search_runs"):
        return 200  # creating is open; searches filter what alice may not read
    if world == "own":
        return 200
    if world == "shared":
        return 200 if route.endpoint in READS else 403
    return 403


AUTH_CASES = [  # (who, whose objects, stock's status or None to compute)
    ("anonymous", "secret", 401),
    ("wrong-password", "secret", 401),
    ("unknown-user", "secret", 401),
    ("admin", "secret", 200),
    ("admin", "own", 200),
    ("alice", "secret", None),
    ("alice", "shared", None),
    ("alice", "own", None),
]


@pytest.fixture(scope="module", params=["basic-auth", "basic-auth-postgresql"])
def auth_pair(request, pairs):
    """Admin owns "secret" and "shared" (alice may read it); alice owns "own" (created by her)."""
    pair = pairs(request.param)
    admin = CREDENTIALS["admin"]
    pair.setup_world("secret", "secret-exp", auth=admin)
    pair.setup_world("shared", "shared-exp", auth=admin)
    for kind, _ in pair.servers():
        for path, body in [
            ("/api/2.0/mlflow/users/create", {"username": "alice", "password": ALICE_PASSWORD}),
            (
                "/api/3.0/mlflow/users/permissions/grant",
                {
                    "username": "alice",
                    "resource_type": "experiment",
                    "resource_id": pair.worlds[kind]["shared"]["exp"],
                    "permission": "READ",
                },
            ),
        ]:
            response = pair.send(kind, "POST", path, body, auth=admin)
            assert response.status_code == 200, f"{kind} {path}: {response.text}"
    # Through the fast path on accel: alice may use what she creates (the after-request grant).
    pair.setup_world("own", "alice-exp", auth=CREDENTIALS["alice"])
    return pair


@pytest.mark.parametrize(
    "who, world, expected", AUTH_CASES, ids=[f"{who}-on-{world}" for who, world, _ in AUTH_CASES]
)
@route_param
def test_basic_auth_gates_as_stock(auth_pair, who, world, expected, route):
    if expected is None:
        expected = alice_expects(world, route)
    stock, accel = auth_pair.exchange(route, world=world, auth=CREDENTIALS[who])
    assert_same(stock, accel, expected, route)
    if expected == 401:
        assert stock.headers.get("www-authenticate") == 'Basic realm="mlflow"'


@pytest.mark.parametrize("who", ["admin", "alice"])
def test_basic_auth_search_filters_per_user_as_stock(auth_pair, who):
    """Searches list exactly what each user may read, as stock (names compared, not just bytes)."""
    seen = {}
    for kind, _ in auth_pair.servers():
        ids = [auth_pair.worlds[kind][w]["exp"] for w in ("secret", "shared", "own")]
        experiments = auth_pair.send(
            kind,
            "POST",
            "/api/2.0/mlflow/experiments/search",
            {"max_results": 1000},
            auth=CREDENTIALS[who],
        ).json()["experiments"]
        runs = auth_pair.send(
            kind,
            "POST",
            "/api/2.0/mlflow/runs/search",
            {"experiment_ids": ids, "filter": "attributes.run_name = 'main'"},
            auth=CREDENTIALS[who],
        ).json()
        seen[kind] = (
            sorted(e["name"] for e in experiments),
            sorted(ids.index(r["info"]["experiment_id"]) for r in runs.get("runs", [])),
        )
    assert seen["accel"] == seen["stock"]
    names, run_worlds = seen["stock"]
    if who == "alice":
        assert "secret-exp" not in names and {"shared-exp", "alice-exp"} <= set(names)
        assert run_worlds == [1, 2]
    else:
        assert run_worlds == [0, 1, 2]


# -- Prometheus -----------------------------------------------------------------------------------


def counters(server: servers.RunningServer) -> list[str]:
    """The request counters of ``/metrics`` (labelled by method and status, not by path)."""
    text = requests.get(server.url + "/metrics", timeout=30).text
    return sorted(
        line
        for line in text.splitlines()
        if re.match(r"mlflow_http_request_(total|duration_seconds_count)\{", line)
    )


@uses("prometheus")
@route_param
def test_prometheus_counts_fast_routes_as_stock(pairs, route):
    """Both servers saw the same requests, so their counters agree after each fast request."""
    pair = pairs("prometheus")
    before = counters(pair.stock)
    stock, accel = pair.exchange(route)
    assert_same(stock, accel, 200, route)
    after = {kind: counters(server) for kind, server in pair.servers()}
    assert after["stock"] != before, "stock's counters did not move"
    assert after["accel"] == after["stock"]


# -- logs -----------------------------------------------------------------------------------------

FAST_PATH_ON = "[mlflow-accel] fast path on"


@pytest.mark.parametrize(
    "config, fast_path",
    [
        ("default", True),
        ("gunicorn", True),
        ("prometheus", True),
        ("basic-auth", True),
        ("no-accel", False),
        ("artifacts-only", False),
    ],
)
def test_log_says_whether_the_fast_path_is_on(pairs, config, fast_path):
    pair = pairs(config)
    log = pair.accel.log_text()
    assert (FAST_PATH_ON in log) == fast_path, log[-3000:]
    assert FAST_PATH_ON not in pair.stock.log_text()
    if config == "no-accel":
        assert "[mlflow-accel]" not in log, log[-3000:]


@uses("default")
def test_startup_log_says_core_and_mlflow_version(pairs):
    import mlflow

    import mlflow_accel

    log = pairs("default").accel.log_text()
    line = next((ln for ln in log.splitlines() if FAST_PATH_ON in ln), "")
    core = "compiled" if mlflow_accel.compiled() else "pure Python"
    assert f"core: {core}" in line, line
    assert f"MLflow {mlflow.__version__}" in line, line


@uses("default")
def test_startup_log_names_the_accelerated_routes(pairs):
    log = "\n".join(
        ln for ln in pairs("default").accel.log_text().splitlines() if "[mlflow-accel]" in ln
    )
    unnamed = sorted({r.endpoint for r in ROUTES if r.path not in log and r.endpoint not in log})
    assert not unnamed, f"the startup log does not say these routes are accelerated: {unnamed}"


@uses("default")
def test_log_lines_of_fast_requests_as_stock(pairs):
    """Both servers log the request line (uvicorn access log) for a fast route."""
    pair = pairs("default")
    route = ROUTES[ROUTE_IDS.index("GET /api/2.0/mlflow/experiments/get")]
    pair.exchange(route)
    lines = {
        kind: [
            ln
            for ln in server.log_text().splitlines()
            if "GET /api/2.0/mlflow/experiments/get" in ln
        ]
        for kind, server in pair.servers()
    }
    assert lines["stock"] and lines["accel"]
    assert lines["accel"][-1].split(" - ")[-1] == lines["stock"][-1].split(" - ")[-1]
