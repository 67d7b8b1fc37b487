"""SQL injection through the accelerated store: whatever a caller hands ``AccelTrackingStore`` is
data, never SQL, on SQLite, PostgreSQL and MySQL/MariaDB.

Each injection string (quotes and comment tricks, ``DROP``/``DELETE`` payloads, backslash-escaped
quotes for MySQL's escaping, ``%``/``_`` LIKE wildcards, driver placeholders ``%s``/``?``/``$1``,
NUL, unicode quotes, a lone surrogate, ...) goes in as every key, value and filter the store
takes: experiment names and tags, run names, user ids and tags, param keys and values, metric
keys, run ids and experiment ids, ``search_runs``/``search_experiments`` filter strings,
``order_by`` and page tokens, and metric history keys. Every call either stores the string
verbatim (read back equal through the store; an equality filter on it finds exactly its row, a
wildcard matching nothing else) or refuses it with ``MlflowException``. Afterwards the database
is intact: the same tables, no table with fewer rows, exactly the runs and experiments created,
and a canary experiment and run read back unchanged through a connection of our own.
"""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from mlflow.entities import ExperimentTag, Metric, Param, RunStatus, RunTag, ViewType
from mlflow.exceptions import MlflowException

from mlflow_accel.store.tracking import AccelTrackingStore

INJECTIONS = [
    "'; DROP TABLE runs; --",
    "'); DELETE FROM metrics; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "x' UNION SELECT run_uuid, name FROM runs --",
    "\\'; DROP TABLE params; --",
    "\\",
    "ends with a backslash\\",
    "%",
    "_",
    "a%b_c",
    "%s",
    "%(name)s",
    "?",
    ":1",
    "$1",
    "\x00",
    "nul\x00'; DROP TABLE tags; --",
    "\u2018; DROP TABLE runs; --\u2019",
    "\u201c OR 1=1 --\u201d",
    "\u02bc OR 1=1 --",
    "\ud800",
    "`; DROP TABLE experiments; --",
    "*/ DROP TABLE runs; /*",
    "1; SELECT pg_sleep(5)",
    "\n; DROP TABLE latest_metrics;\n",
    "0x27",
    "run_uuid",
]
CANARY = "alive"


@pytest.fixture
def store(make_store, db_uri):
    return make_store(AccelTrackingStore, db_uri)


@contextmanager
def _connection(uri: str):
    engine = sa.create_engine(uri)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _census(uri: str) -> dict:
    """``{table: row count}`` of every table, read through our own connection."""
    with _connection(uri) as connection:
        tables = sa.inspect(connection).get_table_names()
        return {
            t: connection.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar()
            for t in tables
        }


def _plant_canary(store) -> tuple[str, str]:
    experiment_id = store.create_experiment("canary", tags=[ExperimentTag("canary", CANARY)])
    run = store.create_run(experiment_id, "canary", 1, [RunTag("canary", CANARY)], "canary")
    run_id = run.info.run_id
    store.log_batch(run_id, [Metric("canary", 42.0, 1, 0)], [Param("canary", CANARY)], [])
    return experiment_id, run_id


def _assert_intact(uri: str, before: dict, canary: tuple[str, str], created: dict) -> None:
    after = _census(uri)
    assert sorted(after) == sorted(before), "tables changed"
    shrunk = {t: (before[t], after[t]) for t in before if after[t] < before[t]}
    assert not shrunk, f"tables lost rows: {shrunk}"
    for table, count in created.items():
        assert after[table] == before[table] + count, table
    experiment_id, run_id = canary
    with _connection(uri) as connection:

        def rows(statement, **params):
            return connection.execute(sa.text(statement), params).all()

        assert rows("SELECT name FROM experiments WHERE experiment_id = :e", e=int(experiment_id))
        assert rows(
            "SELECT value FROM experiment_tags WHERE experiment_id = :e", e=int(experiment_id)
        ) == [(CANARY,)]
        assert rows("SELECT name FROM runs WHERE run_uuid = :r", r=run_id) == [("canary",)]
        for table in ("params", "tags"):
            assert (CANARY,) in rows(f"SELECT value FROM {table} WHERE run_uuid = :r", r=run_id)
        for table in ("metrics", "latest_metrics"):
            assert rows(f"SELECT value FROM {table} WHERE run_uuid = :r", r=run_id) == [(42.0,)]


def _stored(write, read, expected) -> bool:
    """``write()`` then ``read() == expected``; False if ``write`` refused with MLflow's error."""
    try:
        write()
    except MlflowException:
        return False
    assert read() == expected
    return True


def _refused_or(call, check=lambda result: True):
    """``call()`` refuses with ``MlflowException`` or returns a result passing ``check``."""
    try:
        result = call()
    except MlflowException:
        return None
    assert check(result), result
    return result


class _Setup:
    def __init__(self, store, db_uri):
        self.store = store
        self.uri = db_uri
        self.canary = _plant_canary(store)
        self.before = _census(db_uri)
        self.experiment_id = store.create_experiment("injections")
        self.created = {"experiments": 1, "runs": 0}

    def new_run(self, **kwargs):
        args = {"user_id": "u", "start_time": 1, "tags": [], "run_name": "r"} | kwargs
        run = self.store.create_run(self.experiment_id, **args)
        self.created["runs"] += 1
        return run.info.run_id

    def assert_intact(self):
        _assert_intact(self.uri, self.before, self.canary, self.created)


@pytest.fixture
def setup(store, db_uri):
    return _Setup(store, db_uri)


def _store_values(setup, text: str) -> int:
    """``text`` as every value; the number of writes that stored it."""
    store = setup.store
    experiment_id = _refused_or(
        lambda: store.create_experiment(text, None, [ExperimentTag("k", text)])
    )
    if experiment_id is not None:
        setup.created["experiments"] += 1
        experiment = store.get_experiment(experiment_id)
        assert (experiment.name, experiment.tags) == (text, {"k": text})
        assert store.get_experiment_by_name(text).experiment_id == experiment_id
    try:
        run_id = setup.new_run(user_id=text, tags=[RunTag("k", text)], run_name=text)
    except MlflowException:
        run_id = setup.new_run()
    else:
        run = store.get_run(run_id)
        assert (run.info.user_id, run.info.run_name, run.data.tags["k"]) == (text, text, text)

    def data(kind, key):
        return getattr(store.get_run(run_id).data, kind).get(key)

    batch = ([Metric("m", 1.0, 1, 0)], [Param("q", text)], [RunTag("u", text)])
    return sum(
        [
            _stored(
                lambda: store.log_param(run_id, Param("p", text)), lambda: data("params", "p"), text
            ),
            _stored(
                lambda: store.set_tag(run_id, RunTag("t", text)), lambda: data("tags", "t"), text
            ),
            _stored(
                lambda: store.log_batch(run_id, *batch),
                lambda: (data("params", "q"), data("tags", "u")),
                (text, text),
            ),
            _stored(
                lambda: store.update_run_info(run_id, RunStatus.FINISHED, 5, text),
                lambda: store.get_run(run_id).info.run_name,
                text,
            ),
        ]
    )


def test_values_stored_verbatim(setup):
    stored = sum(_store_values(setup, text) for text in INJECTIONS)
    assert stored >= 3 * len(INJECTIONS)  # most strings are storable on every database
    setup.assert_intact()


def _use_as_keys_and_ids(setup, run_id: str, text: str) -> None:
    store = setup.store
    key_run = setup.new_run()
    metric = Metric(text, 1.0, 1, 0)

    def data(kind):
        return getattr(store.get_run(key_run).data, kind)

    _stored(lambda: store.log_param(key_run, Param(text, "v")), lambda: data("params"), {text: "v"})
    _stored(lambda: store.set_tag(key_run, RunTag(text, "v")), lambda: data("tags").get(text), "v")
    _stored(
        lambda: store.log_metric(key_run, metric),
        lambda: store.get_metric_history(key_run, text),
        [metric],
    )
    _refused_or(lambda: store.log_batch(key_run, [metric], [Param(text, "w")], []))
    _refused_or(lambda: store.get_metric_history(run_id, text), lambda found: not found)
    _refused_or(lambda: store.get_metric_history(text, "m"), lambda found: not found)
    _refused_or(
        lambda: store.get_experiment_by_name(text),
        lambda found: found is None or found.name == text,
    )
    _refused_or(lambda: store.search_runs([text], None, ViewType.ALL), lambda found: not found)
    for call in (
        lambda: store.get_run(text),
        lambda: store.get_experiment(text),
        lambda: store.log_batch(text, [Metric("m", 1.0, 1, 0)], [], []),
        lambda: store.log_param(text, Param("p", "v")),
        lambda: store.create_run(text, "u", 1, [], "r"),
    ):
        with pytest.raises(MlflowException):
            call()


def test_keys_and_ids_are_data(setup):
    run_id = setup.new_run()
    for text in INJECTIONS:
        _use_as_keys_and_ids(setup, run_id, text)
    setup.assert_intact()


def _page_tokens(text: str) -> list[str]:
    """``text`` itself, and as the offset inside an otherwise well-formed token."""
    return [text, base64.b64encode(json.dumps({"offset": text}).encode()).decode()]


def _quoted_filters(column: str, text: str) -> list[str]:
    return [f"{column} = '{text}'", f'{column} = "{text}"', f"{column} LIKE '{text}'"]


class _Searches:
    """Searches with ``text`` as filter, order and page token; results only ever rows that
    exist, an equality filter on a stored param value exactly its run."""

    def __init__(self, setup, params: dict):
        self.store = setup.store
        self.experiment_ids = [setup.experiment_id]
        self.params = params
        found = self.store.search_runs(self.experiment_ids, None, ViewType.ALL)
        self.runs = {run.info.run_id for run in found}
        found = self.store.search_experiments(ViewType.ALL, max_results=1000)
        self.experiments = {e.experiment_id for e in found}

    def runs_within(self, found) -> bool:
        return {run.info.run_id for run in found} <= self.runs

    def experiments_within(self, found) -> bool:
        return {e.experiment_id for e in found} <= self.experiments

    def search_runs(self, **kwargs):
        return _refused_or(
            lambda: self.store.search_runs(
                self.experiment_ids, run_view_type=ViewType.ALL, **kwargs
            ),
            self.runs_within,
        )

    def search_experiments(self, **kwargs):
        return _refused_or(
            lambda: self.store.search_experiments(ViewType.ALL, **kwargs), self.experiments_within
        )

    def run(self, text: str) -> None:
        columns = ("params.p", "attributes.run_name")
        for filter_string in [text, *(f for c in columns for f in _quoted_filters(c, text))]:
            self.search_runs(filter_string=filter_string)
        if text in self.params and "'" not in text:
            found = self.search_runs(filter_string=f"params.p = '{text}'")
            assert {run.info.run_id for run in found} == {self.params[text]}, text
        for order in (text, f"params.{text}", f"metrics.`{text}` DESC", f"attributes.{text}"):
            self.search_runs(filter_string=None, order_by=[order])
        for filter_string in [text, *_quoted_filters("name", text), f"tags.k = '{text}'"]:
            self.search_experiments(filter_string=filter_string)
        self.search_experiments(order_by=[text])
        for token in _page_tokens(text):
            if not token.isascii():  # MLflow's own SearchUtils lets base64's ValueError out
                continue  # (stock does the same: an HTTP 500); not SQL, left to MLflow
            self.search_runs(filter_string=None, page_token=token)
            self.search_experiments(page_token=token)


def test_filters_orders_and_page_tokens(setup):
    store, params = setup.store, {}
    for text in INJECTIONS:
        run_id = setup.new_run()
        if _stored(
            lambda: store.log_param(run_id, Param("p", text)),  # noqa: B023 (called at once)
            lambda: store.get_run(run_id).data.params["p"],  # noqa: B023
            text,
        ):
            params[text] = run_id
    searches = _Searches(setup, params)
    for text in INJECTIONS:
        searches.run(text)
    setup.assert_intact()
