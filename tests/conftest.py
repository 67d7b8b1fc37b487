"""Database fixtures: every store test runs on SQLite, PostgreSQL and MySQL/MariaDB.

- ``dialect`` (module scope, parametrised): the dialect under test. An unreachable server skips
  its tests, or FAILS them when ``CI=true``. ``MLFLOW_ACCEL_TEST_DIALECTS=sqlite,mysql`` narrows
  the set locally (ignored under CI).
- ``fresh_databases`` (module scope): a factory of fresh, migrated databases cloned from one
  per-session template; databases still out at the end of the module are retired then (engines
  disposed, database reset to the template for reuse or dropped; all dropped at session end).
- ``new_database``: ``new_database()`` -> URI of a fresh database, retired after the test;
  ``db_uri``: one such database.
- ``make_store``: ``make_store(cls, uri)`` builds a store whose engine is disposed after the test.
- ``server_pool`` (session scope): tracking servers shared by the modules that can share them
  (``tests.support.server_pool``).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.support.databases import (
    DIALECTS,
    FreshDatabases,
    Servers,
    ServerUnavailable,
    dispose_engines,
)
from tests.support.server_pool import ServerPool

# Under CI the property tests draw the same examples every run: a failure is reproducible
# and a green run stays green. Locally they keep exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


def _selected_dialects() -> list[str]:
    wanted = os.environ.get("MLFLOW_ACCEL_TEST_DIALECTS")
    if not wanted or os.environ.get("CI") == "true":
        return list(DIALECTS)
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    unknown = sorted(set(names) - set(DIALECTS))
    if unknown:
        raise pytest.UsageError(f"MLFLOW_ACCEL_TEST_DIALECTS: unknown dialects {unknown}")
    return names


@pytest.fixture(scope="session")
def db_servers(tmp_path_factory):
    servers = Servers(tmp_path_factory.mktemp("mlflow-dbs"))
    yield servers
    servers.close()


@pytest.fixture(scope="session")
def server_pool(db_servers, tmp_path_factory):
    pool = ServerPool(db_servers, tmp_path_factory.mktemp("server-pool"))
    yield pool
    pool.close()


@pytest.fixture(scope="module", params=_selected_dialects())
def dialect(request, db_servers):
    """The dialect under test; its server is reachable and its template built."""
    name = request.param
    try:
        db_servers.get(name)
    except ServerUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the {name} database is required: {e}", pytrace=False)
        pytest.skip(f"{name} unavailable: {e}")
    return name


@pytest.fixture(scope="module")
def fresh_databases(dialect, db_servers):
    databases = FreshDatabases(db_servers.get(dialect))
    yield databases
    databases.close()


@pytest.fixture
def new_database(fresh_databases):
    """``new_database()``: the URI of a fresh database, retired when the test ends."""
    uris = []

    def new():
        uris.append(fresh_databases.new())
        return uris[-1]

    yield new
    for uri in uris:
        fresh_databases.release(uri)


@pytest.fixture
def db_uri(new_database):
    return new_database()


@pytest.fixture
def artifact_root(fresh_databases):
    """The artifact root every store of the session uses (the templates were built with it)."""
    return fresh_databases.artifact_root


@pytest.fixture
def make_store(artifact_root):
    """``make_store(cls, uri)``: a tracking store of class ``cls``, disposed after the test."""
    uris = []

    def make(cls, uri):
        uris.append(uri)
        return cls(uri, artifact_root)

    yield make
    for uri in uris:
        dispose_engines(uri)
