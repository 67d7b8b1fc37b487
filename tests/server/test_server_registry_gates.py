"""Basic-auth permissions and ``--artifacts-only`` on every registry route, identical to stock.

Differential, with the machinery of ``tests/server/test_server_gates.py`` (its "basic-auth" and
"artifacts-only" servers, booted once for both modules, its ``Pair`` that sends each request to a
stock and an accel server and masks ids and times): every registry route (both API prefixes) gets
the same status, body and headers from both servers, for each user and registered model:

- nobody logged in: 401 with stock's ``WWW-Authenticate``;
- alice on admin's model she has no permission on: 403 (creating a model and searching, which
  filters, stay open);
- alice with READ on the model: reads answered, writes 403;
- alice with MANAGE on the model, on a model she created herself (the after-request grant runs
  on the accelerated route too), and the admin: everything answered.

Routes that delete or rename act on a fresh model (with the same owner and grants) per request.
Under ``--artifacts-only`` every registry route is refused (503) as stock refuses it.
"""

from __future__ import annotations

import itertools

import pytest

from tests.server.test_server_gates import CREDENTIALS, Route, assert_same, uses

MODEL = {"name": "{model}"}
VERSION = {"name": "{model}", "version": "1"}
FRESH = {"name": "{fresh}"}
ENDPOINTS = [
    Route("create_registered_model", "POST", "registered-models/create", {"name": "new-{unique}"}),
    Route("get_registered_model", "GET", "registered-models/get", MODEL),
    Route(
        "update_registered_model",
        "PATCH",
        "registered-models/update",
        {**MODEL, "description": "d{unique}"},
    ),
    Route(
        "rename_registered_model",
        "POST",
        "registered-models/rename",
        {**FRESH, "new_name": "{fresh}-renamed"},
    ),
    Route("delete_registered_model", "DELETE", "registered-models/delete", FRESH),
    Route("search_registered_models", "GET", "registered-models/search", {"max_results": "50"}),
    Route("get_latest_versions", "POST", "registered-models/get-latest-versions", MODEL),
    Route("get_latest_versions", "GET", "registered-models/get-latest-versions", MODEL),
    Route(
        "set_registered_model_tag",
        "POST",
        "registered-models/set-tag",
        {**MODEL, "key": "k", "value": "v{unique}"},
    ),
    Route(
        "delete_registered_model_tag",
        "DELETE",
        "registered-models/delete-tag",
        {**MODEL, "key": "k"},
    ),
    Route(
        "create_model_version",
        "POST",
        "model-versions/create",
        {**MODEL, "source": "s3://bucket/{unique}"},
    ),
    Route("get_model_version", "GET", "model-versions/get", VERSION),
    Route(
        "update_model_version",
        "PATCH",
        "model-versions/update",
        {**VERSION, "description": "d{unique}"},
    ),
    Route(
        "transition_stage",
        "POST",
        "model-versions/transition-stage",
        {**VERSION, "stage": "Staging", "archive_existing_versions": False},
    ),
    Route("delete_model_version", "DELETE", "model-versions/delete", {**FRESH, "version": "1"}),
    Route("search_model_versions", "GET", "model-versions/search", {"filter": "name = '{model}'"}),
    Route("get_model_version_download_uri", "GET", "model-versions/get-download-uri", VERSION),
    Route(
        "set_model_version_tag",
        "POST",
        "model-versions/set-tag",
        {**VERSION, "key": "k", "value": "v{unique}"},
    ),
    Route(
        "delete_model_version_tag",
        "DELETE",
        "model-versions/delete-tag",
        {**VERSION, "key": "gone"},
    ),
    Route(
        "set_registered_model_alias",
        "POST",
        "registered-models/alias",
        {**MODEL, "alias": "champ", "version": "1"},
    ),
    Route(
        "delete_registered_model_alias",
        "DELETE",
        "registered-models/alias",
        {**MODEL, "alias": "gone"},
    ),
    Route(
        "get_model_version_by_alias", "GET", "registered-models/alias", {**MODEL, "alias": "latest"}
    ),
]
ROUTES = [
    route._replace(path=f"/{api}/2.0/mlflow/{route.path}")
    for route in ENDPOINTS
    for api in ("api", "ajax-api")
]
ROUTE_IDS = [f"{route.method} {route.path}" for route in ROUTES]
READS = {
    "get_registered_model",
    "search_registered_models",
    "get_latest_versions",
    "get_model_version",
    "search_model_versions",
    "get_model_version_download_uri",
    "get_model_version_by_alias",
}
OPEN = {"create_registered_model", "search_registered_models", "search_model_versions"}
route_param = pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)


def test_route_table_covers_every_accelerated_registry_route():
    """Every registry route the fast path serves (``--list-accelerated``) is tested here."""
    from mlflow_accel.server.app import fast_endpoints

    served = {
        (method, path)
        for path, _, methods in fast_endpoints()
        for method in methods
        if "/registered-models/" in path or "/model-versions/" in path
    }
    assert served <= {(route.method, route.path) for route in ROUTES}


# -- the servers and their worlds ----------------------------------------------------------------

#: world -> (who creates its models, the permission alice is granted on them)
WORLDS = {
    "secret": ("admin", None),
    "shared": ("admin", "READ"),
    "managed": ("admin", "MANAGE"),
    "own": ("alice", None),
}


@pytest.fixture(scope="module")
def launcher(gates_launcher):
    """The gates' servers, shared with test_server_gates (tests/server/conftest.py)."""
    return gates_launcher


class Models:
    """Makes registered models (with version 1) in a world on both servers of a pair."""

    def __init__(self, pair):
        self.pair = pair
        self.counter = itertools.count()

    def make(self, world: str, key: str) -> None:
        owner, permission = WORLDS[world]
        name = f"{world}-model-{next(self.counter)}"
        for kind, _ in self.pair.servers():
            self.call(kind, owner, "/api/2.0/mlflow/registered-models/create", {"name": name})
            self.call(
                kind,
                owner,
                "/api/2.0/mlflow/model-versions/create",
                {"name": name, "source": f"s3://bucket/{name}/1"},
            )
            if permission:
                self.call(
                    kind,
                    "admin",
                    "/api/3.0/mlflow/users/permissions/grant",
                    {
                        "username": "alice",
                        "resource_type": "registered_model",
                        "resource_id": name,
                        "permission": permission,
                    },
                )
            self.pair.worlds[kind].setdefault(world, {})[key] = name

    def call(self, kind, who, path, body):
        response = self.pair.send(kind, "POST", path, body, auth=CREDENTIALS[who])
        assert response.status_code == 200, f"{kind} {path} {body}: {response.text}"


@pytest.fixture(scope="module")
def auth_pair(launcher):
    """The basic-auth pair with alice, and in each world a model she may (not) use."""
    pair = launcher.pair("basic-auth")
    for kind, _ in pair.servers():
        known = pair.send(
            kind,
            "GET",
            "/api/2.0/mlflow/users/get",
            {"username": "alice"},
            auth=CREDENTIALS["admin"],
        )
        if known.status_code == 200:  # test_server_gates made her on the shared server
            continue
        response = pair.send(
            kind,
            "POST",
            "/api/2.0/mlflow/users/create",
            {"username": "alice", "password": CREDENTIALS["alice"][1]},
            auth=CREDENTIALS["admin"],
        )
        assert response.status_code == 200, response.text
    models = Models(pair)
    for world in WORLDS:
        models.make(world, "model")
    pair.models = models
    return pair


def alice_expects(world: str, route: Route) -> int:
    if world in ("managed", "own") or route.endpoint in OPEN:
        return 200
    if world == "shared" and route.endpoint in READS:
        return 200
    return 403


AUTH_CASES = [  # (who, whose model, stock's status or None to compute)
    ("anonymous", "secret", 401),
    ("admin", "secret", 200),
    ("alice", "secret", None),
    ("alice", "shared", None),
    ("alice", "managed", None),
    ("alice", "own", None),
]


@pytest.mark.parametrize(
    "who, world, expected", AUTH_CASES, ids=[f"{who}-on-{world}" for who, world, _ in AUTH_CASES]
)
@uses("basic-auth")
@route_param
def test_basic_auth_gates_as_stock(auth_pair, who, world, expected, route):
    if "{fresh}" in str(route.request):
        auth_pair.models.make(world, "fresh")
    if expected is None:
        expected = alice_expects(world, route)
    stock, accel = auth_pair.exchange(route, world=world, auth=CREDENTIALS[who])
    assert_same(stock, accel, expected, route)
    if expected == 401:
        assert stock.headers.get("www-authenticate") == 'Basic realm="mlflow"'


@uses("basic-auth")
@pytest.mark.parametrize("who", ["admin", "alice"])
def test_searches_list_what_each_user_may_read_as_stock(auth_pair, who):
    seen = {}
    for kind, _ in auth_pair.servers():
        models = auth_pair.send(
            kind,
            "GET",
            "/api/2.0/mlflow/registered-models/search",
            {"max_results": "1000"},
            auth=CREDENTIALS[who],
        ).json()
        versions = auth_pair.send(
            kind,
            "GET",
            "/api/2.0/mlflow/model-versions/search",
            {"max_results": "1000"},
            auth=CREDENTIALS[who],
        ).json()
        seen[kind] = (
            sorted(m["name"] for m in models.get("registered_models", [])),
            sorted((v["name"], v["version"]) for v in versions.get("model_versions", [])),
        )
    assert seen["accel"] == seen["stock"]
    names = seen["stock"][0]
    if who == "alice":
        assert "secret-model-0" not in names and "shared-model-1" in names, names
    else:
        assert "secret-model-0" in names, names


@uses("artifacts-only")
@route_param
def test_artifacts_only_refuses_registry_routes_as_stock(launcher, route):
    pair = launcher.pair("artifacts-only")
    for kind, _ in pair.servers():
        pair.worlds[kind]["main"] = {"model": "m", "fresh": "m"}
    stock, accel = pair.exchange(route)
    assert_same(stock, accel, 503, route)
