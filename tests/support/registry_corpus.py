"""The request corpus of the HTTP registry differential (``test_server_registry_differential``).

``REGISTRY_CORPUS`` is one ordered sequence of raw HTTP requests on every model-registry route
MLflow serves (``registered-models/…``, ``model-versions/…``, ``webhooks``; under
``/api/2.0/mlflow/`` and ``/ajax-api/2.0/mlflow/``, with the methods of MLflow's ``get_endpoints``:
GET, POST, PATCH, DELETE), valid and invalid, building its own state as it goes. Requests are
``tests.support.server_corpus.Req`` and use its conventions: ``{run:NAME}`` / ``{exp:NAME}`` name
what an earlier request bound, ``{token}`` is the previous response's ``next_page_token``, and
``expect`` says how stock's and accel's answers must relate (``SAME``, or ``STOCK_500``: stock
crashes with an HTTP 500, accel answers a JSON 400 ``INVALID_PARAMETER_VALUE``).

Registered models and versions are named by the corpus itself, so only runs need binding.
"""

from __future__ import annotations

from dataclasses import replace

from tests.support.server_corpus import AJAX, API, JSON_TYPE, SAME, STOCK_500, T0, Req, get, post

PROMPT = "mlflow.prompt.is_prompt"
RUN_R0 = "{run:r0}"


def patch(name, route, body, **kwargs) -> Req:
    return replace(post(name, route, body, **kwargs), method="PATCH")


def delete(name, route, body, **kwargs) -> Req:
    return replace(post(name, route, body, **kwargs), method="DELETE")


def version(name, model, source, **extra) -> Req:
    return post(name, "model-versions/create", {"name": model, "source": source, **extra})


# -- state: an experiment and runs the versions come from ----------------------------------------

SETUP = [
    post("create exp", "experiments/create", {"name": "registry-exp"}, bind="e1"),
    post(
        "create run r0",
        "runs/create",
        {"experiment_id": "{exp:e1}", "run_name": "r0", "start_time": T0},
        bind="r0",
    ),
    post(
        "create run r1",
        "runs/create",
        {"experiment_id": "{exp:e1}", "run_name": "r1", "start_time": T0 + 1},
        bind="r1",
    ),
]

# -- registered models ---------------------------------------------------------------------------

CREATE_MODELS = [
    post("create m1", "registered-models/create", {"name": "m1"}),
    post(
        "create m2 tags and description",
        "registered-models/create",
        {
            "name": "m2",
            "tags": [{"key": "team", "value": "a"}, {"key": "team", "value": "b"}],
            "description": "second",
        },
    ),
    post("create m3 ajax", "registered-models/create", {"name": "m3"}, prefix=AJAX),
    post("create zeta", "registered-models/create", {"name": "zeta", "tags": [{"key": "k"}]}),
    post(
        "create prompt",
        "registered-models/create",
        {"name": "p1", "tags": [{"key": PROMPT, "value": "true"}, {"key": "x", "value": "y"}]},
    ),
    post("create duplicate", "registered-models/create", {"name": "m1"}),
    post(
        "create duplicate of prompt",
        "registered-models/create",
        {"name": "p1", "tags": [{"key": PROMPT, "value": "true"}]},
    ),
    post("create missing name", "registered-models/create", {}),
    post("create empty name", "registered-models/create", {"name": ""}),
    post("create blank name", "registered-models/create", {"name": "  "}),
    post("create name number", "registered-models/create", {"name": 5}),
    post("create name null", "registered-models/create", {"name": None}),
    post("create name slash", "registered-models/create", {"name": "a/b"}),
    post("create name 300", "registered-models/create", {"name": "n" * 300}),
    post("create unicode name", "registered-models/create", {"name": "grün 模型"}),
    post("create tags not list", "registered-models/create", {"name": "t1", "tags": {"a": 1}}),
    post(
        "create tag key 251",
        "registered-models/create",
        {"name": "t2", "tags": [{"key": "k" * 251, "value": "v"}]},
    ),
    post(
        "create tag key traversal",
        "registered-models/create",
        {"name": "t3", "tags": [{"key": "../k", "value": "v"}]},
    ),
    post(
        "create description number",
        "registered-models/create",
        {"name": "t4", "description": 7},
    ),
    post("create unknown field", "registered-models/create", {"name": "t5", "bogus": 1}),
    post("create malformed JSON", "registered-models/create", b'{"name": '),
    post(
        "create text/plain",
        "registered-models/create",
        b'{"name": "tp"}',
        content_type="text/plain",
    ),
    post(
        "create no content type", "registered-models/create", b'{"name": "nc"}', content_type=None
    ),
    post("create JSON array", "registered-models/create", b"[1]", expect=STOCK_500),
    post("create JSON number", "registered-models/create", b"42", expect=STOCK_500),
    post("create empty body", "registered-models/create", b""),
    get("create with GET", "registered-models/create", [("name", "g")]),
]

MODEL_READS = [
    get("get m1", "registered-models/get", [("name", "m1")]),
    get("get m2 ajax", "registered-models/get", [("name", "m2")], prefix=AJAX),
    get("get prompt", "registered-models/get", [("name", "p1")]),
    get("get unicode", "registered-models/get", [("name", "grün 模型")]),
    get("get unknown", "registered-models/get", [("name", "missing")]),
    get("get no name", "registered-models/get"),
    get("get empty name", "registered-models/get", [("name", "")]),
    get("get name twice", "registered-models/get", [("name", "m1"), ("name", "m2")]),
    get(
        "get with JSON body",
        "registered-models/get",
        body={"name": "m1"},
        content_type=JSON_TYPE,
    ),
    post("get with POST", "registered-models/get", {"name": "m1"}),
]

MODEL_WRITES = [
    patch("update m1", "registered-models/update", {"name": "m1", "description": "first"}),
    patch(
        "update m2 ajax", "registered-models/update", {"name": "m2", "description": ""}, prefix=AJAX
    ),
    patch("update no description", "registered-models/update", {"name": "zeta"}),
    patch("update unknown", "registered-models/update", {"name": "missing", "description": "x"}),
    patch("update no name", "registered-models/update", {"description": "x"}),
    patch("update description list", "registered-models/update", {"name": "m1", "description": []}),
    post("update with POST", "registered-models/update", {"name": "m1", "description": "x"}),
    post("set tag m1", "registered-models/set-tag", {"name": "m1", "key": "k", "value": "v"}),
    post("set tag m1 again", "registered-models/set-tag", {"name": "m1", "key": "k", "value": "w"}),
    post(
        "set tag ajax",
        "registered-models/set-tag",
        {"name": "m2", "key": "env", "value": "prod"},
        prefix=AJAX,
    ),
    post("set tag no value", "registered-models/set-tag", {"name": "m1", "key": "nv"}),
    post("set tag no key", "registered-models/set-tag", {"name": "m1", "value": "v"}),
    post(
        "set tag key 251",
        "registered-models/set-tag",
        {"name": "m1", "key": "k" * 251, "value": "v"},
    ),
    post(
        "set tag value 100001",
        "registered-models/set-tag",
        {"name": "m1", "key": "big", "value": "v" * 100_001},
    ),
    post(
        "set tag value number", "registered-models/set-tag", {"name": "m1", "key": "n", "value": 1}
    ),
    post(
        "set tag unknown",
        "registered-models/set-tag",
        {"name": "missing", "key": "k", "value": "v"},
    ),
    post("set tag prompt", "registered-models/set-tag", {"name": "p1", "key": "pk", "value": "pv"}),
    delete("delete tag", "registered-models/delete-tag", {"name": "m1", "key": "nv"}),
    delete("delete tag never set", "registered-models/delete-tag", {"name": "m1", "key": "never"}),
    delete("delete tag unknown model", "registered-models/delete-tag", {"name": "x", "key": "k"}),
    delete("delete tag no key", "registered-models/delete-tag", {"name": "m1"}),
    delete("delete tag prompt", "registered-models/delete-tag", {"name": "p1", "key": "pk"}),
    post("rename m3", "registered-models/rename", {"name": "m3", "new_name": "m3-renamed"}),
    post(
        "rename ajax",
        "registered-models/rename",
        {"name": "m3-renamed", "new_name": "m3"},
        prefix=AJAX,
    ),
    post("rename to existing", "registered-models/rename", {"name": "m3", "new_name": "m1"}),
    post("rename unknown", "registered-models/rename", {"name": "missing", "new_name": "x"}),
    post("rename no new_name", "registered-models/rename", {"name": "m3"}),
    post("rename empty new_name", "registered-models/rename", {"name": "m3", "new_name": ""}),
    post("rename bad new_name", "registered-models/rename", {"name": "m3", "new_name": "a:b"}),
    post("rename new_name 300", "registered-models/rename", {"name": "m3", "new_name": "r" * 300}),
]

# -- model versions ------------------------------------------------------------------------------

CREATE_VERSIONS = [
    version("version m1 1", "m1", "s3://bucket/m1/1", run_id=RUN_R0),
    version(
        "version m1 2 tags",
        "m1",
        "s3://bucket/m1/2",
        run_id=RUN_R0,
        tags=[{"key": "t", "value": "1"}, {"key": "e", "value": ""}],
        run_link="http://example.com/run",
        description="two",
    ),
    version("version m1 3 runs uri", "m1", f"runs:/{RUN_R0}/model", run_id=RUN_R0),
    version("version m1 4 no run", "m1", "s3://bucket/m1/4"),
    version("version m2 1", "m2", "s3://bucket/m2/1", run_id="{run:r1}"),
    version("version m2 2 from models uri", "m2", "models:/m1/1"),
    version("version m2 models uri unknown", "m2", "models:/m1/99"),
    post(
        "version m2 3 ajax",
        "model-versions/create",
        {"name": "m2", "source": "gs://b/m2/3"},
        prefix=AJAX,
    ),
    version(
        "version prompt",
        "p1",
        "prompt-template",
        tags=[{"key": PROMPT, "value": "true"}, {"key": "mlflow.prompt.text", "value": "Hi {{x}}"}],
    ),
    version("version prompt bad source", "p1", "s3://x", tags=[{"key": PROMPT, "value": "true"}]),
    version("version unknown model", "missing", "s3://bucket/x"),
    post("version no source", "model-versions/create", {"name": "m1"}),
    post("version no name", "model-versions/create", {"source": "s3://bucket/x"}),
    version("version source traversal", "m1", "s3://bucket/../../etc"),
    version("version local source no run", "m1", "/tmp/model"),
    version("version local source other run", "m1", "file:///tmp/model", run_id=RUN_R0),
    version("version runs uri wrong run", "m1", f"runs:/{RUN_R0}/model", run_id="{run:r1}"),
    version("version mlflow-artifacts no run", "m1", "mlflow-artifacts:/x/y"),
    version("version source number", "m1", 5),
    version("version tags not list", "m1", "s3://b/t", tags={"k": "v"}),
    version("version tag key 251", "m1", "s3://b/t", tags=[{"key": "k" * 251, "value": "v"}]),
    version("version run_id number", "m1", "s3://b/t", run_id=5),
]

VERSION_READS = [
    get("get version 1", "model-versions/get", [("name", "m1"), ("version", "1")]),
    get(
        "get version 2 ajax", "model-versions/get", [("name", "m1"), ("version", "2")], prefix=AJAX
    ),
    *[
        get(f"get version {v!r}", "model-versions/get", [("name", "m1"), ("version", v)])
        for v in ("abc", "-1", "0", "99", "1.0", " 1", "")
    ],
    get("get version no version", "model-versions/get", [("name", "m1")]),
    get("get version unknown model", "model-versions/get", [("name", "x"), ("version", "1")]),
    get("download uri 1", "model-versions/get-download-uri", [("name", "m1"), ("version", "1")]),
    get(
        "download uri from models uri",
        "model-versions/get-download-uri",
        [("name", "m2"), ("version", "2")],
        prefix=AJAX,
    ),
    get("download uri 99", "model-versions/get-download-uri", [("name", "m1"), ("version", "99")]),
    get("download uri abc", "model-versions/get-download-uri", [("name", "m1"), ("version", "x")]),
    get("download uri no args", "model-versions/get-download-uri"),
    get("latest versions GET", "registered-models/get-latest-versions", [("name", "m1")]),
    post("latest versions POST", "registered-models/get-latest-versions", {"name": "m2"}),
    get(
        "artifact unknown model",
        "model-versions/get-artifact",
        [("name", "x"), ("version", "1"), ("path", "MLmodel")],
        prefix="/",
    ),
]

VERSION_WRITES = [
    patch(
        "update version",
        "model-versions/update",
        {"name": "m1", "version": "1", "description": "d"},
    ),
    patch(
        "update version ajax",
        "model-versions/update",
        {"name": "m1", "version": "2", "description": ""},
        prefix=AJAX,
    ),
    patch("update version abc", "model-versions/update", {"name": "m1", "version": "abc"}),
    patch("update version number", "model-versions/update", {"name": "m1", "version": 1}),
    patch("update version unknown", "model-versions/update", {"name": "m1", "version": "99"}),
    *[
        post(
            f"stage {v} {stage}{' archive' if archive else ''}",
            "model-versions/transition-stage",
            {"name": "m1", "version": v, "stage": stage, "archive_existing_versions": archive},
        )
        for v, stage, archive in (
            ("1", "Production", False),
            ("2", "production", False),
            ("3", "STAGING", False),
            ("4", "Production", True),
            ("3", "archived", False),
            ("3", "None", False),
            ("3", "Archived", True),
            ("3", "Prod", False),
            ("99", "Staging", False),
        )
    ],
    post(
        "stage ajax",
        "model-versions/transition-stage",
        {"name": "m2", "version": "1", "stage": "Staging"},
        prefix=AJAX,
    ),
    post(
        "stage archive not bool",
        "model-versions/transition-stage",
        {"name": "m1", "version": "1", "stage": "Staging", "archive_existing_versions": "yes"},
    ),
    post("stage missing", "model-versions/transition-stage", {"name": "m1", "version": "1"}),
    get(
        "latest versions stages",
        "registered-models/get-latest-versions",
        [("name", "m1"), ("stages", "Production"), ("stages", "archived")],
    ),
    post(
        "latest versions stages POST",
        "registered-models/get-latest-versions",
        {"name": "m1", "stages": ["staging", "None"]},
        prefix=AJAX,
    ),
    post(
        "latest versions unknown stage",
        "registered-models/get-latest-versions",
        {"name": "m1", "stages": ["Bogus"]},
    ),
    post(
        "latest versions stages not list",
        "registered-models/get-latest-versions",
        {"name": "m1", "stages": "Production"},
    ),
    post("latest versions unknown", "registered-models/get-latest-versions", {"name": "nope"}),
    post(
        "version tag",
        "model-versions/set-tag",
        {"name": "m1", "version": "1", "key": "vt", "value": "1"},
    ),
    post(
        "version tag ajax",
        "model-versions/set-tag",
        {"name": "m1", "version": "2", "key": "t", "value": "2"},
        prefix=AJAX,
    ),
    post(
        "version tag unknown version",
        "model-versions/set-tag",
        {"name": "m1", "version": "99", "key": "k", "value": "v"},
    ),
    post(
        "version tag key traversal",
        "model-versions/set-tag",
        {"name": "m1", "version": "1", "key": "a/../b", "value": "v"},
    ),
    post(
        "version tag prompt",
        "model-versions/set-tag",
        {"name": "p1", "version": "1", "key": "pk", "value": "pv"},
    ),
    delete(
        "version tag delete",
        "model-versions/delete-tag",
        {"name": "m1", "version": "2", "key": "e"},
    ),
    delete(
        "version tag delete never",
        "model-versions/delete-tag",
        {"name": "m1", "version": "2", "key": "never"},
    ),
    delete(
        "version tag delete bad version",
        "model-versions/delete-tag",
        {"name": "m1", "version": "-1", "key": "t"},
    ),
]

ALIASES = [
    post(
        "alias champion 1",
        "registered-models/alias",
        {"name": "m1", "alias": "champion", "version": "1"},
    ),
    post(
        "alias champion moves to 2",
        "registered-models/alias",
        {"name": "m1", "alias": "champion", "version": "2"},
    ),
    post(
        "alias ajax",
        "registered-models/alias",
        {"name": "m1", "alias": "challenger", "version": "3"},
        prefix=AJAX,
    ),
    *[
        post(
            f"alias bad {alias!r}",
            "registered-models/alias",
            {"name": "m1", "alias": alias, "version": "1"},
        )
        for alias in ("latest", "LATEST", "v1", "V12", "with space", "dot.ted", "", "a" * 256)
    ],
    post(
        "alias unknown version",
        "registered-models/alias",
        {"name": "m1", "alias": "x", "version": "99"},
    ),
    post(
        "alias unknown model",
        "registered-models/alias",
        {"name": "nope", "alias": "x", "version": "1"},
    ),
    post("alias no version", "registered-models/alias", {"name": "m1", "alias": "x"}),
    post(
        "alias prompt", "registered-models/alias", {"name": "p1", "alias": "live", "version": "1"}
    ),
    get("by alias champion", "registered-models/alias", [("name", "m1"), ("alias", "champion")]),
    # MySQL compares aliases without case: there "Champion" moves "champion" to version 3
    post(
        "alias case variant",
        "registered-models/alias",
        {"name": "m1", "alias": "Champion", "version": "3"},
    ),
    get(
        "by alias lower after case variant",
        "registered-models/alias",
        [("name", "m1"), ("alias", "champion")],
    ),
    get(
        "by alias ajax",
        "registered-models/alias",
        [("name", "m1"), ("alias", "challenger")],
        prefix=AJAX,
    ),
    get("by alias latest", "registered-models/alias", [("name", "m1"), ("alias", "latest")]),
    get("by alias unknown", "registered-models/alias", [("name", "m1"), ("alias", "nope")]),
    get("by alias bad name", "registered-models/alias", [("name", "m1"), ("alias", "a b")]),
    get(
        "by alias unknown model", "registered-models/alias", [("name", "x"), ("alias", "champion")]
    ),
    get("by alias no alias", "registered-models/alias", [("name", "m1")]),
    get("get m1 with aliases", "registered-models/get", [("name", "m1")]),
    get("get version with aliases", "model-versions/get", [("name", "m1"), ("version", "2")]),
    delete("alias delete", "registered-models/alias", {"name": "m1", "alias": "challenger"}),
    delete("alias delete again", "registered-models/alias", {"name": "m1", "alias": "challenger"}),
    delete("alias delete bad name", "registered-models/alias", {"name": "m1", "alias": "a b"}),
    delete("alias delete unknown model", "registered-models/alias", {"name": "x", "alias": "a"}),
    delete("alias delete prompt", "registered-models/alias", {"name": "p1", "alias": "live"}),
]

# -- searches ------------------------------------------------------------------------------------

SEARCHES = [
    get("search models", "registered-models/search"),
    get("search models ajax", "registered-models/search", [("max_results", "100")], prefix=AJAX),
    get("search models name", "registered-models/search", [("filter", "name = 'm1'")]),
    get("search models like", "registered-models/search", [("filter", "name LIKE 'm%'")]),
    get("search models ilike", "registered-models/search", [("filter", "name ILIKE 'M%'")]),
    get("search models tag", "registered-models/search", [("filter", "tags.team = 'b'")]),
    get("search prompts", "registered-models/search", [("filter", f"tags.`{PROMPT}` = 'true'")]),
    get(
        "search models order",
        "registered-models/search",
        [("order_by", "last_updated_timestamp DESC"), ("order_by", "name")],
    ),
    get("search models page 1", "registered-models/search", [("max_results", "2")]),
    get(
        "search models page 2",
        "registered-models/search",
        [("max_results", "2"), ("page_token", "{token}")],
    ),
    get(
        "search models page 3",
        "registered-models/search",
        [("max_results", "2"), ("page_token", "{token}")],
    ),
    get("search models bad filter", "registered-models/search", [("filter", "name > 'a'")]),
    get("search models bad order", "registered-models/search", [("order_by", "bogus")]),
    get("search models max abc", "registered-models/search", [("max_results", "abc")]),
    get("search models max 1001", "registered-models/search", [("max_results", "1001")]),
    get("search models max -1", "registered-models/search", [("max_results", "-1")]),
    get(
        "search models negative offset",
        "registered-models/search",
        [("max_results", "2"), ("page_token", "eyJvZmZzZXQiOiAtMX0=")],
    ),
    get("search models bad token", "registered-models/search", [("page_token", "garbage")]),
    get(
        "search models non-ASCII token",
        "registered-models/search",
        [("page_token", "\u00e9")],
        expect=STOCK_500,
    ),
    post("search models POST", "registered-models/search", {"max_results": 1}),
    get("search versions", "model-versions/search"),
    get("search versions name", "model-versions/search", [("filter", "name = 'm1'")], prefix=AJAX),
    get("search versions run", "model-versions/search", [("filter", f"run_id = '{RUN_R0}'")]),
    get(
        "search versions source", "model-versions/search", [("filter", "source_path LIKE 's3://%'")]
    ),
    get("search versions tag", "model-versions/search", [("filter", "tags.t = '2'")]),
    get("search versions number", "model-versions/search", [("filter", "version_number >= 2")]),
    get(
        "search versions order",
        "model-versions/search",
        [("order_by", "version_number ASC"), ("order_by", "name DESC")],
    ),
    get("search versions page 1", "model-versions/search", [("max_results", "3")]),
    get(
        "search versions page 2",
        "model-versions/search",
        [("max_results", "3"), ("page_token", "{token}")],
    ),
    get(
        "search versions bad filter", "model-versions/search", [("filter", "version_number = 'x'")]
    ),
    get("search versions bad order", "model-versions/search", [("order_by", "run_id")]),
    get("search versions max 0", "model-versions/search", [("max_results", "0")]),
    get("search versions max huge", "model-versions/search", [("max_results", "200001")]),
]

# -- deletions, at the end (what they remove stays readable above) -------------------------------

DELETIONS = [
    delete("delete version 4", "model-versions/delete", {"name": "m1", "version": "4"}),
    delete("delete version 4 again", "model-versions/delete", {"name": "m1", "version": "4"}),
    delete(
        "delete version abc", "model-versions/delete", {"name": "m1", "version": "abc"}, prefix=AJAX
    ),
    get("get deleted version", "model-versions/get", [("name", "m1"), ("version", "4")]),
    version("version after delete", "m1", "s3://bucket/m1/5"),
    delete("delete version 2 with alias", "model-versions/delete", {"name": "m1", "version": "2"}),
    get(
        "by alias after delete", "registered-models/alias", [("name", "m1"), ("alias", "champion")]
    ),
    delete("delete model m2", "registered-models/delete", {"name": "m2"}),
    delete("delete model m2 again", "registered-models/delete", {"name": "m2"}, prefix=AJAX),
    delete("delete model no name", "registered-models/delete", {}),
    get("get deleted model", "registered-models/get", [("name", "m2")]),
    get("search after deletes", "model-versions/search"),
    get("search models after deletes", "registered-models/search"),
]

# -- webhooks (CRUD answers; deliveries are checked by the differential test itself) -------------

WEBHOOKS = [
    get("list webhooks", "webhooks"),
    post(
        "webhook no url",
        "webhooks",
        {"name": "w", "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]},
    ),
    post(
        "webhook bad scheme",
        "webhooks",
        {
            "name": "w",
            "url": "ftp://x",
            "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}],
        },
    ),
    post(
        "webhook bad action",
        "webhooks",
        {
            "name": "w",
            "url": "http://127.0.0.1:9/x",
            "events": [{"entity": "REGISTERED_MODEL", "action": "DELETED"}],
        },
    ),
    post(
        "webhook no events", "webhooks", {"name": "w", "url": "http://127.0.0.1:9/x", "events": []}
    ),
    get("get unknown webhook", "webhooks/00000000-0000-0000-0000-000000000000"),
]

REGISTRY_CORPUS = [
    *SETUP,
    *CREATE_MODELS,
    *MODEL_READS,
    *MODEL_WRITES,
    *CREATE_VERSIONS,
    *VERSION_READS,
    *VERSION_WRITES,
    *ALIASES,
    *SEARCHES,
    *DELETIONS,
    *WEBHOOKS,
]
assert len({r.name for r in REGISTRY_CORPUS}) == len(REGISTRY_CORPUS), "names must be unique"
assert all(r.expect in (SAME, STOCK_500) for r in REGISTRY_CORPUS)
assert {r.prefix for r in REGISTRY_CORPUS} == {API, AJAX, "/"}
