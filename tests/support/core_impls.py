"""Both implementations of a core module, for parametrising tests over them.

The pure-Python source always; the compiled build when it is importable (and always under
``MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1``, where a missing build must fail, not vanish).
"""

import os

import pytest

from mlflow_accel import _core


def implementations(name: str) -> list:
    """``pytest.param``s of core module ``name``: pure, and compiled where built."""
    found = [pytest.param(_core.load_pure(name), id="pure")]
    if os.environ.get("MLFLOW_ACCEL_NO_EXTENSIONS"):
        return found
    try:
        found.append(pytest.param(_core.load_compiled(name), id="compiled"))
    except ImportError:
        if os.environ.get("MLFLOW_ACCEL_REQUIRE_EXTENSIONS"):
            raise
    return found
