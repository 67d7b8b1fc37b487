"""The hot-path core: compiled by Cython when available, the same source as pure Python otherwise.

Each core module is one ``_<name>.py`` source in Cython's pure-Python mode. Built, it becomes an
extension module of the same name, which Python imports ahead of the source. This package picks
which one every caller uses:

- ``MLFLOW_ACCEL_NO_EXTENSIONS=1``: always the pure-Python source;
- ``MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1``: a missing compiled module is an ``ImportError``;
- otherwise the compiled module where it was built, the source where it was not.

Callers import ``validation``, ``rows`` and ``codec`` from here, never the ``_<name>`` modules.
"""

import importlib
import importlib.util
import os
import platform
import sys
from pathlib import Path

MODULE_NAMES = ("validation", "rows", "codec")

_FORCE_PURE = bool(os.environ.get("MLFLOW_ACCEL_NO_EXTENSIONS")) or (
    platform.python_implementation() != "CPython"
)
_REQUIRE_COMPILED = bool(os.environ.get("MLFLOW_ACCEL_REQUIRE_EXTENSIONS"))


def is_compiled(module) -> bool:
    """True when ``module`` was loaded from a built extension rather than its ``.py`` source."""
    return not module.__file__.endswith(".py")


def load_pure(name: str):
    """Load core module ``name`` from its ``.py`` source, bypassing any compiled build."""
    qualified = f"{__name__}._{name}_py"
    if qualified in sys.modules:
        return sys.modules[qualified]
    path = Path(__file__).with_name(f"_{name}.py")
    spec = importlib.util.spec_from_file_location(qualified, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


def load_compiled(name: str):
    """Import core module ``name`` as built; ``ImportError`` if only the source is there."""
    module = importlib.import_module(f"{__name__}._{name}")
    if not is_compiled(module):
        raise ImportError(f"mlflow_accel: the compiled core module {name!r} is not built")
    return module


def _load(name: str):
    if _FORCE_PURE:
        if _REQUIRE_COMPILED:
            raise ImportError(
                "MLFLOW_ACCEL_REQUIRE_EXTENSIONS and MLFLOW_ACCEL_NO_EXTENSIONS are both set"
            )
        return load_pure(name)
    try:
        return load_compiled(name)
    except ImportError:
        if _REQUIRE_COMPILED:
            raise
        return load_pure(name)


validation = _load("validation")
rows = _load("rows")
codec = _load("codec")

COMPILED = all(is_compiled(m) for m in (validation, rows, codec))
