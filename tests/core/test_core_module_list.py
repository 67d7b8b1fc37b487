"""The one list of core modules: setup.py's ``CORE_MODULES`` (what Cython compiles), the
loader's ``_core.MODULE_NAMES`` (what the installed package loads) and the ``_<name>.py``
sources on disk name the same modules, in an order where each imports only earlier ones.
"""

import ast
import re
from pathlib import Path

from mlflow_accel import _core

CORE = Path(_core.__file__).resolve().parent  # the package as imported: a checkout or a wheel
SETUP = Path(__file__).resolve().parents[2] / "setup.py"  # beside tests/ (cibuildwheel copies it)
NOT_CORE_MODULES = {"_cython_shim.py"}  # the stand-in for ``cython``, never compiled


def _setup_core_modules() -> list[str]:
    tree = ast.parse(SETUP.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["CORE_MODULES"]:
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py assigns no CORE_MODULES")


def test_setup_and_loader_list_the_same_modules_in_the_same_order():
    assert _setup_core_modules() == list(_core.MODULE_NAMES)


def test_every_core_source_is_listed():
    sources = {p.name for p in CORE.glob("_*.py")} - {"__init__.py"} - NOT_CORE_MODULES
    assert sources == {f"_{name}.py" for name in _core.MODULE_NAMES}


def test_facade_exposes_each_listed_module():
    for name in _core.MODULE_NAMES:
        module = getattr(_core, name)
        assert module.__name__ in (f"{_core.__name__}._{name}", f"{_core.__name__}._{name}_py")


def test_each_module_imports_only_earlier_ones():
    for index, name in enumerate(_core.MODULE_NAMES):
        source = (CORE / f"_{name}.py").read_text()
        imported = re.findall(r"sibling\(__name__, \"(\w+)\"\)", source)
        assert set(imported) <= set(_core.MODULE_NAMES[:index]), (name, imported)
