"""The builds of the core under test, as ``pytest.param``s: pure, and compiled where built.

One place for every core test (``_core.implementations`` decides which builds there are, and
fails under ``MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1`` when the compiled one is missing).
"""

import pytest

from mlflow_accel import _core


def builds() -> list:
    """``pytest.param``s of each build (its modules as attributes), with ids "pure", "compiled"."""
    return [pytest.param(build, id=kind) for kind, build in _core.implementations().items()]


def implementations(name: str) -> list:
    """``pytest.param``s of core module ``name`` in each build."""
    return [pytest.param(getattr(p.values[0], name), id=p.id) for p in builds()]
