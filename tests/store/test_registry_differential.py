"""Differential tests: ``AccelRegistryStore`` must answer exactly like MLflow's registry store.

Each test applies one sequence of registry operations to MLflow's stock
``mlflow.store.model_registry.sqlalchemy_store.SqlAlchemyStore`` and to ``AccelRegistryStore``
(``AccelWorkspaceRegistryStore`` against ``WorkspaceAwareSqlAlchemyStore`` for workspaces), each
on its own fresh clone of the same migrated database (same dialect), and compares every return
value (entities as dicts of their properties plus their protos), every exception (class, error
code, message), and at the end every row of the registry tables (plus row counts of all other
tables), so a wrong side-write cannot hide.

Time is deterministic: both stores read the same fake clock (MLflow's ``get_current_time_millis``,
patched wherever a store module looked it up), which ticks once per operation, so timestamps
are compared exactly and ``last_updated_timestamp`` orderings are meaningful. Covered: every
registry method (registered models, tags, aliases, model versions, stages, searches with
filters/order/pages, download URIs), bad inputs, prompts' exclusion from searches, and
workspace isolation; the harness itself is shown clean on stock vs stock and to catch a wrong
store.
"""

from __future__ import annotations

import contextlib
import sys

import pytest
import sqlalchemy as sa
from google.protobuf.json_format import MessageToDict
from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
from mlflow.store.model_registry import sqlalchemy_store as stock_module
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.model_registry.sqlalchemy_workspace_store import WorkspaceAwareSqlAlchemyStore
from mlflow.utils.workspace_context import WorkspaceContext

from mlflow_accel.store.registry import AccelRegistryStore, AccelWorkspaceRegistryStore
from tests.support.databases import (
    REGISTRY_TABLES,
    _database_error_text,
    dispose_engines,
    dump_tables,
    table_differences,
)
from tests.support.differential import Comparison, op

T0 = 1_600_000_000_000
RUN_A = "a" * 32  # the registry store never checks that a run exists
RUN_B = "b" * 32
PROMPT = "mlflow.prompt.is_prompt"


# -- the clock, the engines ----------------------------------------------------------------------


class Clock:
    """``get_current_time_millis`` for both stores: one tick per operation."""

    def __init__(self):
        self.now = T0

    def __call__(self) -> int:
        return self.now


def _patch_clock(monkeypatch, clock: Clock) -> None:
    """Every store module's own reference to MLflow's clock, and MLflow's, read ``clock``."""
    import mlflow.utils.time

    monkeypatch.setattr(mlflow.utils.time, "get_current_time_millis", clock)
    for name, module in list(sys.modules.items()):
        if module is not None and (
            name == stock_module.__name__ or name.startswith("mlflow_accel.store")
        ):
            monkeypatch.setattr(module, "get_current_time_millis", clock, raising=False)


# -- comparable forms ----------------------------------------------------------------------------


def canonical(x):
    """A comparable form of anything a registry store returns (entities: properties + proto)."""
    from mlflow.entities._mlflow_object import _MlflowObject
    from mlflow.store.entities.paged_list import PagedList

    if isinstance(x, PagedList):
        return {"items": [canonical(item) for item in x], "token": x.token}
    if isinstance(x, _MlflowObject):
        fields = {"__type__": type(x).__name__}
        fields.update({k: canonical(v) for k, v in x})
        if hasattr(x, "to_proto"):
            fields["__proto__"] = MessageToDict(x.to_proto(), preserving_proto_field_name=True)
        return fields
    if isinstance(x, dict):
        return {k: canonical(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [canonical(item) for item in x]
    if x is None or isinstance(x, (bool, int, str)):
        return x
    return f"{type(x).__name__}:{x!r}"


def canonical_error(e: BaseException) -> list:
    from mlflow.exceptions import MlflowException

    message = e.message if isinstance(e, MlflowException) else str(e)
    return [
        "error",
        type(e).__name__,
        getattr(e, "error_code", None),
        _database_error_text(message),
    ]


def dump_registry(uri: str) -> dict:
    """Every row of the registry tables (sorted), and row counts of all other tables."""
    return dump_tables(uri, tables=REGISTRY_TABLES)


# -- the operations ------------------------------------------------------------------------------


def _rm_tags(tags):
    return None if tags is None else [RegisteredModelTag(k, v) for k, v in tags]


def _mv_tags(tags):
    return None if tags is None else [ModelVersionTag(k, v) for k, v in tags]


def _all_pages(search, max_results, **kwargs):
    """Every page of a search, following tokens (at most 30 pages)."""
    pages, token = [], kwargs.pop("page_token", None)
    while len(pages) < 30:
        page = search(max_results=max_results, page_token=token, **kwargs)
        pages.append(canonical(page))
        token = page.token
        if not token:
            break
    return pages


EXECUTORS = {
    "create_registered_model": lambda s, name, tags=None, description=None: (
        s.create_registered_model(name, _rm_tags(tags), description)
    ),
    "get_registered_model": lambda s, name: s.get_registered_model(name),
    "update_registered_model": lambda s, name, description: s.update_registered_model(
        name, description
    ),
    "rename_registered_model": lambda s, name, new_name: s.rename_registered_model(name, new_name),
    "delete_registered_model": lambda s, name: s.delete_registered_model(name),
    "set_registered_model_tag": lambda s, name, key, value: s.set_registered_model_tag(
        name, RegisteredModelTag(key, value)
    ),
    "delete_registered_model_tag": lambda s, name, key: s.delete_registered_model_tag(name, key),
    "get_latest_versions": lambda s, name, stages=None: s.get_latest_versions(name, stages),
    "create_model_version": lambda s, name, source, run_id=None, tags=None, run_link=None, **kw: (
        s.create_model_version(name, source, run_id, _mv_tags(tags), run_link, **kw)
    ),
    "get_model_version": lambda s, name, version: s.get_model_version(name, version),
    "update_model_version": lambda s, name, version, description: s.update_model_version(
        name, version, description
    ),
    "delete_model_version": lambda s, name, version: s.delete_model_version(name, version),
    "transition_model_version_stage": lambda s, name, version, stage, archive=False: (
        s.transition_model_version_stage(name, version, stage, archive)
    ),
    "get_model_version_download_uri": lambda s, name, version: s.get_model_version_download_uri(
        name, version
    ),
    "set_model_version_tag": lambda s, name, version, key, value: s.set_model_version_tag(
        name, version, ModelVersionTag(key, value)
    ),
    "delete_model_version_tag": lambda s, name, version, key: s.delete_model_version_tag(
        name, version, key
    ),
    "set_registered_model_alias": lambda s, name, alias, version: s.set_registered_model_alias(
        name, alias, version
    ),
    "delete_registered_model_alias": lambda s, name, alias: s.delete_registered_model_alias(
        name, alias
    ),
    "get_model_version_by_alias": lambda s, name, alias: s.get_model_version_by_alias(name, alias),
    "search_registered_models": lambda s, max_results=100, **kw: _all_pages(
        s.search_registered_models, max_results, **kw
    ),
    "search_model_versions": lambda s, max_results=10_000, **kw: _all_pages(
        s.search_model_versions, max_results, **kw
    ),
}


# -- the comparison ------------------------------------------------------------------------------


class Differential(Comparison):
    """Applies operations to the stock and the accel store and records every difference."""

    def __init__(self, stores, uris, clock: Clock):
        super().__init__()
        self.stores = stores
        self.uris = uris
        self.clock = clock

    def apply(self, operation, workspace: str | None = None):
        """Run ``operation`` on both stores; the stock store's canonical answer."""
        kind, kwargs = operation
        index = self.next_index()
        self.clock.now = T0 + 1000 * index
        results = []
        for store in self.stores:
            try:
                with WorkspaceContext(workspace) if workspace else contextlib.nullcontext():
                    results.append(canonical(EXECUTORS[kind](store, **kwargs)))
            except Exception as e:
                results.append(canonical_error(e))
        stock, accel = results
        where = f" in workspace {workspace}" if workspace else ""
        self.compare(index, kind, kwargs, stock, accel, where)
        return stock

    def apply_all(self, operations, workspace: str | None = None) -> list:
        return [self.apply(operation, workspace) for operation in operations]

    def table_differences(self) -> list[str]:
        return table_differences(dump_registry(self.uris[0]), dump_registry(self.uris[1]))


@pytest.fixture
def differential(new_database, monkeypatch):
    """``differential(stock_cls, accel_cls)``: a :class:`Differential` on two fresh databases."""
    clock = Clock()
    _patch_clock(monkeypatch, clock)
    uris = []

    def build(stock_cls=SqlAlchemyStore, accel_cls=AccelRegistryStore):
        pair = (new_database(), new_database())
        uris.extend(pair)
        stores = (stock_cls(pair[0]), accel_cls(pair[1]))
        return Differential(stores, pair, clock)

    yield build
    for uri in uris:
        dispose_engines(uri)


# -- hand-written scenarios ----------------------------------------------------------------------


def _model(name, versions=0, **kwargs):
    ops = [op("create_registered_model", name=name, **kwargs)]
    ops += [
        op("create_model_version", name=name, source=f"s3://b/{name}/{v}", run_id=RUN_A)
        for v in range(1, versions + 1)
    ]
    return ops


BAD_VERSIONS = ["abc", "-1", "0", "1.0", " 1", "", "99", None]
BAD_NAMES = ["", "   ", None, "a/b", "a:b", "..", "a/../b"]

SCENARIOS = {
    "registered_models": [
        op("create_registered_model", name="m1"),
        op(
            "create_registered_model",
            name="m2",
            tags=[("k", "v"), ("k", "w"), ("empty", "")],
            description="two",
        ),
        op("create_registered_model", name="m1"),
        op("create_registered_model", name="M1"),
        op("create_registered_model", name="ünïcode 模型 with spaces"),
        *[op("create_registered_model", name=name) for name in BAD_NAMES],
        op("create_registered_model", name="n" * 256),
        op("create_registered_model", name="n" * 257),
        op("create_registered_model", name="t1", tags=[("k" * 250, "v")]),
        op("create_registered_model", name="t2", tags=[("k" * 251, "v")]),
        op("create_registered_model", name="t3", tags=[("k", "v" * 5001)]),
        op("create_registered_model", name="t4", tags=[("k", "v" * 100_001)]),
        op("create_registered_model", name="t5", tags=[("a//b", "v")]),
        op("create_registered_model", name="t6", tags=[("", "v")]),
        op("create_registered_model", name="d1", description="d" * 5000),
        op("get_registered_model", name="m1"),
        op("get_registered_model", name="m2"),
        op("get_registered_model", name="M1"),
        op("get_registered_model", name="missing"),
        op("get_registered_model", name=""),
        op("update_registered_model", name="m1", description="new"),
        op("update_registered_model", name="m1", description=""),
        op("update_registered_model", name="m1", description=None),
        op("update_registered_model", name="missing", description="x"),
        op("set_registered_model_tag", name="m1", key="k", value="v"),
        op("set_registered_model_tag", name="m1", key="k", value="v2"),
        op("set_registered_model_tag", name="m1", key="e", value=""),
        op("set_registered_model_tag", name="m1", key="k" * 251, value="v"),
        op("set_registered_model_tag", name="m1", key="long", value="v" * 100_001),
        op("set_registered_model_tag", name="m1", key="../x", value="v"),
        op("set_registered_model_tag", name="missing", key="k", value="v"),
        op("set_registered_model_tag", name="", key="k", value="v"),
        op("delete_registered_model_tag", name="m1", key="e"),
        op("delete_registered_model_tag", name="m1", key="never-set"),
        op("delete_registered_model_tag", name="missing", key="k"),
        op("get_registered_model", name="m1"),
        op("create_model_version", name="m1", source="s3://b/1", run_id=RUN_A),
        op("create_model_version", name="m1", source="s3://b/2", run_id=RUN_B),
        op("set_registered_model_alias", name="m1", alias="champion", version="2"),
        op("rename_registered_model", name="m1", new_name="m1-renamed"),
        op("get_registered_model", name="m1"),
        op("get_registered_model", name="m1-renamed"),
        op("get_model_version", name="m1-renamed", version="2"),
        op("get_model_version_by_alias", name="m1-renamed", alias="champion"),
        op("rename_registered_model", name="m1-renamed", new_name="m2"),
        op("rename_registered_model", name="m1-renamed", new_name="m1-renamed"),
        op("rename_registered_model", name="missing", new_name="x"),
        *[op("rename_registered_model", name="m2", new_name=name) for name in BAD_NAMES],
        op("rename_registered_model", name="m2", new_name="n" * 257),
        op("delete_registered_model", name="m2"),
        op("delete_registered_model", name="m2"),
        op("delete_registered_model", name="missing"),
        op("get_registered_model", name="m2"),
        op("delete_registered_model", name="m1-renamed"),
        op("get_model_version", name="m1-renamed", version="1"),
        op("create_registered_model", name="m1-renamed"),
        op("get_registered_model", name="m1-renamed"),
        op("search_registered_models"),
    ],
    "model_versions": [
        *_model("mv"),
        op(
            "create_model_version",
            name="mv",
            source="s3://b/mv/1",
            run_id=RUN_A,
            tags=[("t", "1"), ("t", "2"), ("e", "")],
            run_link="http://run/link",
            description="first",
        ),
        op("create_model_version", name="mv", source="/local/path"),
        op("create_model_version", name="mv", source="runs:/" + RUN_B + "/model", run_id=RUN_B),
        op("create_model_version", name="mv", source="models:/mv/1"),
        op("create_model_version", name="mv", source="models:/mv/99"),
        op("create_model_version", name="mv", source="models:/missing/1"),
        op("create_model_version", name="missing", source="s3://b/x"),
        op("create_model_version", name="", source="s3://b/x"),
        op("create_model_version", name="mv", source="s3://b/t", tags=[("k" * 251, "v")]),
        op("create_model_version", name="mv", source="s3://b/t", tags=[("k", "v" * 100_001)]),
        op("create_model_version", name="mv", source="s3://b/t", tags=[("k", None)]),
        op("create_model_version", name="mv", source="s3://b/t", tags=[("a//b", "v")]),
        *[op("get_model_version", name="mv", version=v) for v in ["1", "2", "3", "4", 4]],
        *[op("get_model_version", name="mv", version=v) for v in BAD_VERSIONS],
        op("get_model_version", name="missing", version="1"),
        op("update_model_version", name="mv", version="1", description="updated"),
        op("update_model_version", name="mv", version="1", description=""),
        op("update_model_version", name="mv", version="2", description=None),
        op("update_model_version", name="mv", version="abc", description="x"),
        op("update_model_version", name="mv", version="99", description="x"),
        op("get_model_version_download_uri", name="mv", version="1"),
        op("get_model_version_download_uri", name="mv", version="4"),
        op("get_model_version_download_uri", name="mv", version="99"),
        op("get_model_version_download_uri", name="mv", version="abc"),
        op("set_model_version_tag", name="mv", version="1", key="t", value="3"),
        op("set_model_version_tag", name="mv", version="2", key="new", value=""),
        op("set_model_version_tag", name="mv", version="2", key="k" * 251, value="v"),
        op("set_model_version_tag", name="mv", version="2", key="big", value="v" * 100_001),
        op("set_model_version_tag", name="mv", version="99", key="k", value="v"),
        op("set_model_version_tag", name="mv", version="-1", key="k", value="v"),
        op("set_model_version_tag", name="missing", version="1", key="k", value="v"),
        op("delete_model_version_tag", name="mv", version="1", key="e"),
        op("delete_model_version_tag", name="mv", version="1", key="never"),
        op("delete_model_version_tag", name="mv", version="99", key="t"),
        op("delete_model_version_tag", name="mv", version="x", key="t"),
        op("set_registered_model_alias", name="mv", alias="a4", version="4"),
        op("delete_model_version", name="mv", version="4"),
        op("delete_model_version", name="mv", version="4"),
        op("delete_model_version", name="mv", version="abc"),
        op("delete_model_version", name="missing", version="1"),
        op("get_model_version", name="mv", version="4"),
        op("get_model_version_by_alias", name="mv", alias="a4"),
        op("set_model_version_tag", name="mv", version="4", key="k", value="v"),
        op("update_model_version", name="mv", version="4", description="x"),
        op("create_model_version", name="mv", source="s3://b/after-delete"),
        op("delete_model_version", name="mv", version="2"),
        op("create_model_version", name="mv", source="s3://b/after-delete-2"),
        op("get_registered_model", name="mv"),
        op("search_model_versions", filter_string="name = 'mv'"),
    ],
    "stages": [
        *_model("st", versions=6),
        *_model("other", versions=2),
        op("get_latest_versions", name="st"),
        op("transition_model_version_stage", name="st", version="1", stage="Production"),
        op("transition_model_version_stage", name="st", version="2", stage="production"),
        op(
            "transition_model_version_stage",
            name="st",
            version="3",
            stage="PRODUCTION",
            archive=True,
        ),
        op("transition_model_version_stage", name="st", version="4", stage="staging"),
        op("transition_model_version_stage", name="st", version="5", stage="Staging", archive=True),
        op("transition_model_version_stage", name="st", version="6", stage="archived"),
        op(
            "transition_model_version_stage", name="st", version="6", stage="Archived", archive=True
        ),
        op("transition_model_version_stage", name="st", version="6", stage="none", archive=True),
        op("transition_model_version_stage", name="st", version="6", stage="None"),
        op("transition_model_version_stage", name="st", version="6", stage="Prod"),
        op("transition_model_version_stage", name="st", version="6", stage=""),
        op("transition_model_version_stage", name="st", version="6", stage="Deleted_Internal"),
        op("transition_model_version_stage", name="st", version="99", stage="Staging"),
        op("transition_model_version_stage", name="st", version="x", stage="Staging"),
        op("transition_model_version_stage", name="missing", version="1", stage="Staging"),
        op("transition_model_version_stage", name="other", version="1", stage="Production"),
        op("set_registered_model_alias", name="st", alias="prod", version="3"),
        *[
            op("get_latest_versions", name="st", stages=stages)
            for stages in (
                None,
                [],
                ["Production"],
                ["production", "STAGING"],
                ["None"],
                ["Archived"],
                ["Bogus"],
                ["Production", "Production"],
            )
        ],
        op("get_latest_versions", name="missing"),
        op("get_latest_versions", name=""),
        op("get_registered_model", name="st"),
        op("delete_model_version", name="st", version="3"),
        op("get_latest_versions", name="st", stages=["Production"]),
        op("get_registered_model", name="st"),
        op("get_model_version_by_alias", name="st", alias="latest"),
        op("search_registered_models"),
        op("search_model_versions", order_by=["last_updated_timestamp DESC"]),
    ],
    "aliases": [
        *_model("al", versions=3),
        *_model("empty"),
        op("set_registered_model_alias", name="al", alias="champion", version="1"),
        op("set_registered_model_alias", name="al", alias="champion", version="2"),
        op("set_registered_model_alias", name="al", alias="challenger", version="2"),
        op("set_registered_model_alias", name="al", alias="Champion", version="3"),
        op("set_registered_model_alias", name="al", alias="with-dash_1", version=3),
        *[
            op("set_registered_model_alias", name="al", alias=alias, version="1")
            for alias in (
                "latest",
                "LATEST",
                "Latest",
                "v1",
                "V12",
                "v1a",
                "with space",
                "dot.ted",
                "slash/x",
                "",
                None,
                "a" * 255,
                "a" * 256,
            )
        ],
        op("set_registered_model_alias", name="al", alias="x", version="99"),
        op("set_registered_model_alias", name="al", alias="x", version="abc"),
        op("set_registered_model_alias", name="missing", alias="x", version="1"),
        *[
            op("get_model_version_by_alias", name="al", alias=alias)
            for alias in (
                "champion",
                "challenger",
                "Champion",
                "latest",
                "LATEST",
                "unknown",
                "with space",
                "",
                "v1",
            )
        ],
        op("get_model_version_by_alias", name="missing", alias="champion"),
        op("get_model_version_by_alias", name="empty", alias="latest"),
        op("get_registered_model", name="al"),
        op("get_model_version", name="al", version="2"),
        op("get_latest_versions", name="al"),
        op("delete_registered_model_alias", name="al", alias="challenger"),
        op("delete_registered_model_alias", name="al", alias="challenger"),
        op("delete_registered_model_alias", name="al", alias="never"),
        op("delete_registered_model_alias", name="al", alias="with space"),
        op("delete_registered_model_alias", name="al", alias=""),
        op("delete_registered_model_alias", name="missing", alias="x"),
        op("get_model_version_by_alias", name="al", alias="challenger"),
        op("delete_model_version", name="al", version="2"),
        op("get_model_version_by_alias", name="al", alias="champion"),
        op("delete_model_version", name="al", version="3"),
        op("get_model_version_by_alias", name="al", alias="latest"),
        op("delete_model_version", name="al", version="1"),
        op("get_model_version_by_alias", name="al", alias="latest"),
        op("get_registered_model", name="al"),
        op("search_registered_models", filter_string="name = 'al'"),
    ],
    "prompts": [
        *_model("plain", versions=1),
        op("create_registered_model", name="prompt-a", tags=[(PROMPT, "true")]),
        op("create_registered_model", name="prompt-b", tags=[(PROMPT, "TRUE")]),
        op("create_registered_model", name="not-prompt", tags=[(PROMPT, "false")]),
        op(
            "create_model_version",
            name="prompt-a",
            source="mlflow-prompt://placeholder",
            tags=[(PROMPT, "true"), ("mlflow.prompt.text", "Hello {{x}}")],
        ),
        op("create_registered_model", name="prompt-a"),
        op("create_registered_model", name="prompt-a", tags=[(PROMPT, "true")]),
        op("create_registered_model", name="plain", tags=[(PROMPT, "true")]),
        *[
            op("search_registered_models", filter_string=f)
            for f in (
                None,
                f"tags.`{PROMPT}` = 'true'",
                f"tags.`{PROMPT}` = 'TRUE'",
                f"tags.`{PROMPT}` != 'false'",
                f"tags.`{PROMPT}` = 'false'",
                f"tags.`{PROMPT}` LIKE 'tr%'",
                "name LIKE 'prompt%'",
            )
        ],
        *[
            op("search_model_versions", filter_string=f)
            for f in (None, f"tags.`{PROMPT}` = 'true'", "name = 'prompt-a'")
        ],
        op("get_registered_model", name="prompt-a"),
        op("get_latest_versions", name="prompt-a"),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(differential, name):
    diff = differential()
    diff.apply_all(SCENARIOS[name])
    diff.check()


# -- searches ------------------------------------------------------------------------------------


def _search_setup():
    names = ["alpha", "beta", "Gamma", "delta", "abc", "a_b", "a%b", "zeta"]
    ops = []
    for i, name in enumerate(names):
        tags = [("team", "xy"[i % 2]), ("idx", str(i))] + ([("odd", "1")] if i % 2 else [])
        ops.append(op("create_registered_model", name=name, tags=tags, description=f"d{i}"))
    for i, name in enumerate(names[:6]):
        for v in range(1 + i % 3):
            ops.append(
                op(
                    "create_model_version",
                    name=name,
                    source=f"s3://bucket/{name}/v{v}",
                    run_id=[RUN_A, RUN_B][v % 2],
                    tags=[("v", str(v)), ("env", "ab"[i % 2])],
                )
            )
    ops += [
        op("update_registered_model", name="beta", description="touched"),
        op("set_registered_model_tag", name="zeta", key="team", value="z"),
        op("transition_model_version_stage", name="Gamma", version="1", stage="Production"),
        op("delete_model_version", name="delta", version="1"),
        op("create_registered_model", name="hidden-prompt", tags=[(PROMPT, "true")]),
    ]
    return ops


RM_FILTERS = [
    None,
    "",
    "name = 'beta'",
    "name != 'beta'",
    "name LIKE 'a%'",
    "name LIKE 'A%'",
    "name ILIKE 'a%'",
    "name LIKE 'a\\_b'",
    "name LIKE '%\\%%'",
    "name IN ('alpha', 'zeta', 'nope')",
    "name NOT IN ('alpha')",
    "tags.team = 'x'",
    "tags.team != 'x'",
    "tags.idx ILIKE '1%'",
    "tags.team = 'x' AND tags.odd = '1'",
    "tags.team = 'y' AND tags.odd = '1' AND name LIKE '%a'",
    "tags.missing = 'x'",
    # bad filters
    "name > 'a'",
    "description = 'd1'",
    "tags.team > 'x'",
    "name = beta",
    "foo.bar = 'x'",
    "name = 'a' OR name = 'b'",
]
RM_ORDER_BYS = [
    None,
    [],
    ["name"],
    ["name DESC"],
    ["last_updated_timestamp"],
    ["last_updated_timestamp DESC"],
    ["last_updated_timestamp ASC", "name DESC"],
    ["creation_timestamp DESC"],
    ["name", "name"],
    ["bad_key"],
    ["tags.team"],
]
MV_FILTERS = [
    None,
    "name = 'alpha'",
    "name = 'Gamma'",
    "name LIKE 'a%'",
    "name ILIKE 'G%'",
    "name IN ('alpha', 'beta')",
    f"run_id = '{RUN_A}'",
    f"run_id IN ('{RUN_B}')",
    f"run_id != '{RUN_A}'",
    "source_path = 's3://bucket/Gamma/v0'",
    "source_path LIKE 's3://bucket/a%'",
    "version_number = 2",
    "version_number >= 2",
    "version_number < 2 AND name = 'Gamma'",
    "tags.v = '1'",
    "tags.env = 'a' AND tags.v = '0'",
    "name = 'alpha' AND tags.v = '0'",
    # bad filters
    "version_number = 'abc'",
    "version_number = 1.5",
    "source_path IN ('x')",
    "current_stage = 'Production'",
    "tags.v > '1'",
]
MV_ORDER_BYS = [
    None,
    [],
    ["name"],
    ["name DESC", "version_number ASC"],
    ["version_number"],
    ["version_number DESC"],
    ["last_updated_timestamp DESC"],
    ["last_updated_timestamp ASC", "name DESC"],
    ["name", "name"],
    ["run_id"],
]


def test_searches(differential):
    """Filters and orders on one page each; page tokens followed across pages."""
    diff = differential()
    diff.apply_all(_search_setup())
    for kind, filters, order_bys, limit in (
        ("search_registered_models", RM_FILTERS, RM_ORDER_BYS, 1000),
        ("search_model_versions", MV_FILTERS, MV_ORDER_BYS, 200_000),
    ):
        diff.apply_all([op(kind, filter_string=f) for f in filters])
        diff.apply_all([op(kind, order_by=o) for o in order_bys])
        diff.apply_all(
            [
                op(kind, max_results=2, order_by=["last_updated_timestamp DESC"]),
                op(kind, max_results=3, order_by=["name DESC"], filter_string="name != 'zeta'"),
                op(kind, max_results=7),
                *[op(kind, max_results=n) for n in (0, -1, limit + 1)],
                op(kind, max_results=2, page_token="garbage"),
                op(kind, max_results=5, page_token="eyJvZmZzZXQiOiAzfQ=="),
                op(kind, max_results=2, page_token="eyJvZmZzZXQiOiAtMX0="),
            ]
        )
    diff.check()


# -- workspaces ----------------------------------------------------------------------------------


def test_workspaces_are_kept_apart(differential, monkeypatch):
    """The same names in two workspaces are different models; nothing crosses over."""
    monkeypatch.setenv("MLFLOW_ENABLE_WORKSPACES", "true")
    with WorkspaceContext("default"):
        diff = differential(WorkspaceAwareSqlAlchemyStore, AccelWorkspaceRegistryStore)
    for workspace in ("default", "team-a"):
        diff.apply_all(
            _model("shared", versions=2)
            + _model(f"only-{workspace}", versions=1)
            + [
                op("set_registered_model_alias", name="shared", alias="champ", version="2"),
                op("set_registered_model_tag", name="shared", key="ws", value=workspace),
                op("set_model_version_tag", name="shared", version="1", key="ws", value=workspace),
            ],
            workspace,
        )
    foreign = [
        op("get_registered_model", name="only-default"),
        op("get_model_version", name="only-default", version="1"),
        op("get_latest_versions", name="only-default"),
        op("set_registered_model_tag", name="only-default", key="k", value="v"),
        op("set_registered_model_alias", name="only-default", alias="x", version="1"),
        op("create_model_version", name="only-default", source="s3://b/x"),
        op("rename_registered_model", name="only-default", new_name="stolen"),
        op("delete_model_version", name="only-default", version="1"),
        op("delete_registered_model", name="only-default"),
        op("get_model_version_by_alias", name="shared", alias="champ"),
        op("get_model_version_download_uri", name="shared", version="2"),
        op("transition_model_version_stage", name="shared", version="1", stage="Production"),
        op("search_registered_models"),
        op("search_model_versions"),
        op("search_model_versions", filter_string="name = 'shared'"),
        op("rename_registered_model", name="shared", new_name="only-default"),
        op("delete_registered_model", name="shared"),
    ]
    answers = diff.apply_all(foreign, "team-a")
    assert answers[0][0] == "error", "team-a read a model of the default workspace"
    diff.apply_all(
        [
            op("get_registered_model", name="shared"),
            op("get_registered_model", name="only-default"),
            op("search_registered_models"),
            op("search_model_versions"),
        ],
        "default",
    )
    diff.check()


# -- the harness itself (on SQLite: it checks the comparison, not a dialect) -------------------

on_sqlite = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)


@on_sqlite
def test_stock_against_stock_is_clean(differential):
    """Normalisation must not report differences between two stock stores."""
    diff = differential(SqlAlchemyStore, SqlAlchemyStore)
    diff.apply_all(SCENARIOS["aliases"] + _search_setup())
    diff.apply_all([op("search_registered_models"), op("search_model_versions", max_results=5)])
    assert diff.problems() == []


class _WrongStore(SqlAlchemyStore):
    """Wrong on purpose: version tags are dropped, and an alias also tags the model."""

    def create_model_version(self, name, source, run_id=None, tags=None, *args, **kwargs):
        return super().create_model_version(name, source, run_id, None, *args, **kwargs)

    def set_registered_model_alias(self, name, alias, version):
        super().set_registered_model_alias(name, alias, version)
        with self.ManagedSessionMaker() as session:
            session.execute(
                sa.text("UPDATE registered_models SET description = 'leak' WHERE name = :n"),
                {"n": name},
            )


@on_sqlite
def test_harness_catches_a_wrong_store(differential):
    diff = differential(SqlAlchemyStore, _WrongStore)
    diff.apply_all(
        [
            op("create_registered_model", name="m"),
            op("create_model_version", name="m", source="s3://x", tags=[("t", "v")]),
            op("set_registered_model_alias", name="m", alias="a", version="1"),
        ]
    )
    assert any("create_model_version" in m for m in diff.mismatches), diff.mismatches
    tables = diff.problems()[-1]
    assert "model_version_tags" in tables and "registered_models" in tables, tables
