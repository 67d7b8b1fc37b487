"""The gates' servers, shared by the two gates modules (``test_server_gates``, the registry's)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def gates_launcher(request, db_servers, tmp_path_factory):
    """Every configuration the selected tests of both modules use, booted all at once."""
    from tests.server.test_server_gates import Launcher, configs_of

    users = [item for item in request.session.items if "gates_launcher" in item.fixturenames]
    names = set().union(*(configs_of(item) for item in users))
    launched = Launcher(db_servers, tmp_path_factory.mktemp("gates"), names)
    yield launched
    launched.close()
