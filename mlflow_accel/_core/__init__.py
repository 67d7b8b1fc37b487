"""The hot-path core: compiled by Cython when available, the same source as pure Python otherwise.

Each core module is one ``_<name>.py`` source in Cython's pure-Python mode; built, it becomes an
extension module of the same name. This package picks the build every caller uses
(``MLFLOW_ACCEL_NO_EXTENSIONS=1``: the source; ``MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1``: the compiled
build or ``ImportError``; else compiled where built) and exposes each module by its ``<name>``.
"""

import importlib
import importlib.util
import os
import platform
import sys
import types
from pathlib import Path

# setup.py's CORE_MODULES, in dependency order (tests/core/test_core_module_list.py checks).
MODULE_NAMES = ("validation", "rows", "messages", "parse", "render", "json_writer")

_PURE_SUFFIX = "_py"
_FORCE_PURE = bool(os.environ.get("MLFLOW_ACCEL_NO_EXTENSIONS")) or (
    platform.python_implementation() != "CPython"
)
_REQUIRE_COMPILED = bool(os.environ.get("MLFLOW_ACCEL_REQUIRE_EXTENSIONS"))


def is_compiled(module) -> bool:
    """True when ``module`` was loaded from a built extension rather than its ``.py`` source."""
    return not module.__file__.endswith(".py")


def load_pure(name: str):
    """Load core module ``name`` from its ``.py`` source, bypassing any compiled build.

    It runs as ``mlflow_accel._core._<name>_py``; its own ``sibling`` imports are pure too.
    """
    qualified = f"{__name__}._{name}{_PURE_SUFFIX}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    path = Path(__file__).with_name(f"_{name}.py")
    spec = importlib.util.spec_from_file_location(qualified, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[qualified]
        raise
    return module


def load_compiled(name: str):
    """Import core module ``name`` as built; ``ImportError`` if only the source is there."""
    module = importlib.import_module(f"{__name__}._{name}")
    if not is_compiled(module):
        raise ImportError(f"mlflow_accel: the compiled core module {name!r} is not built")
    return module


def sibling(importer: str, name: str):
    """Core module ``name`` of the same build as the core module called ``importer``.

    A core module imports another as ``sibling(__name__, "messages")``: the pure source under
    ``load_pure`` (whose module names end in ``_py``), the module as imported otherwise.
    """
    if importer.endswith(_PURE_SUFFIX):
        return load_pure(name)
    return importlib.import_module(f"{__name__}._{name}")


def _compiled_build() -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: load_compiled(name) for name in MODULE_NAMES})


def _pure_build() -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: load_pure(name) for name in MODULE_NAMES})


def implementations(require_compiled: bool = False) -> dict:
    """``{"pure": build, "compiled": build}``: each build's modules as attributes by name.

    The compiled build where every module is built, and not under
    ``MLFLOW_ACCEL_NO_EXTENSIONS=1``; a missing build is an ``ImportError`` under
    ``MLFLOW_ACCEL_REQUIRE_EXTENSIONS=1`` or ``require_compiled``.
    """
    found = {"pure": _pure_build()}
    if _FORCE_PURE and not require_compiled:
        return found
    try:
        found["compiled"] = _compiled_build()
    except ImportError:
        if require_compiled or _REQUIRE_COMPILED:
            raise
    return found


def _load() -> types.SimpleNamespace:
    if _FORCE_PURE:
        if _REQUIRE_COMPILED:
            raise ImportError(
                "MLFLOW_ACCEL_REQUIRE_EXTENSIONS and MLFLOW_ACCEL_NO_EXTENSIONS are both set"
            )
        return _pure_build()
    try:
        return _compiled_build()
    except ImportError:
        if _REQUIRE_COMPILED:
            raise
        return _pure_build()


_BUILD = _load()
validation = _BUILD.validation
rows = _BUILD.rows
messages = _BUILD.messages
parse = _BUILD.parse
render = _BUILD.render
json_writer = _BUILD.json_writer

COMPILED = all(is_compiled(getattr(_BUILD, name)) for name in MODULE_NAMES)
