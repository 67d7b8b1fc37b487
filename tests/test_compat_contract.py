"""The private MLflow names mlflow-accel relies on, checked against the installed MLflow.

``_compat.PRIVATE_NAMES`` lists every one (imports, inherited store methods with their
signatures, entity attributes, constants). One run on a new MLflow release reports each entry
that moved or changed, one test case per entry. The scan of the package's source fails when
the package uses a private MLflow name the list lacks, or the list names one no longer used.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from functools import cache
from pathlib import Path

import pytest

import mlflow_accel

PACKAGE = Path(mlflow_accel.__file__).parent
INSTANCE_ATTRIBUTE = "instance attribute"
# Constructor arguments of the classes whose private instance attributes are listed.
SAMPLE_ARGUMENTS = {
    "mlflow.entities.LoggedModelInput": ("m-0",),
    "mlflow.entities.RunData": (),
    "mlflow.entities.model_registry.ModelVersion": ("model", "1", 0),
    "mlflow.entities.model_registry.RegisteredModel": ("model",),
}
# Private attributes of our own objects read where the scan cannot see their type.
OWN_PRIVATE_ATTRIBUTES = {"_tx"}  # server/app.py: whether a store is accelerated
# Values _compat spells out rather than import (importing them would build MLflow's server app).
SPELLED_OUT = {
    "READ_REPLICA_ENV": "mlflow.server.constants.READ_REPLICA_BACKEND_STORE_URI_ENV_VAR",
    "ARTIFACTS_ONLY_ENV": "mlflow.server.constants.ARTIFACTS_ONLY_ENV_VAR",
}


def _listed_names() -> dict:
    """``PRIVATE_NAMES`` read from ``_compat``'s source: no import of MLflow's private names."""
    tree = ast.parse((PACKAGE / "_compat.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "PRIVATE_NAMES":
            return ast.literal_eval(node.value)
    raise AssertionError("_compat.py has no PRIVATE_NAMES")


PRIVATE_NAMES = _listed_names()


def _resolve(path: str):
    """The object at a dotted path: the longest importable module, then its attributes."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:end]))
        except ModuleNotFoundError:
            continue
        for part in parts[end:]:
            found = getattr(found, part)
        return found
    raise ModuleNotFoundError(path)


def _shape(function) -> str:
    """A callable's signature without annotations, e.g. ``(self, session, run_uuids)``."""
    signature = inspect.signature(function)
    parameters = [p.replace(annotation=p.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=signature.empty))


@pytest.mark.parametrize("path", sorted(PRIVATE_NAMES))
def test_listed_name_is_in_installed_mlflow(path):
    expected = PRIVATE_NAMES[path]
    if expected == INSTANCE_ATTRIBUTE:
        owner, attribute = path.rsplit(".", 1)
        sample = _resolve(owner)(*SAMPLE_ARGUMENTS[owner])
        assert hasattr(sample, attribute), f"{owner} instances have no {attribute}"
        return
    try:
        found = _resolve(path)
    except (AttributeError, ModuleNotFoundError) as error:
        pytest.fail(f"{path} is gone from MLflow {_resolve('mlflow').__version__}: {error}")
    if expected is not None:
        assert _shape(found) == expected, f"{path} changed its signature"


# -- the scan: every private MLflow name the package's source uses ---------------------------------


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_mlflow(target) -> bool:
    """Whether a module or class is MLflow's own."""
    module = target.__name__ if inspect.ismodule(target) else getattr(target, "__module__", "")
    return module == "mlflow" or module.startswith("mlflow.")


def _dotted(target) -> str:
    if inspect.ismodule(target):
        return target.__name__
    return f"{target.__module__}.{target.__qualname__}"


def _attribute_chain(node):
    """``(root, [attribute, ...])`` of ``a.b.c``: ``root`` is a name, or ``None`` for an
    expression such as a call."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return (node.id if isinstance(node, ast.Name) else None), parts[::-1]


def _import_bindings(tree) -> dict[str, str]:
    """``{local name: dotted path}`` for every import of a module (any scope)."""
    bindings = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                bindings[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                bindings[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bindings


def _through_package(path: str, parts: list[str]) -> str | None:
    """An attribute chain rooted in one of our modules, as the MLflow private name it reaches
    (``_compat.SomeStore._method`` -> that method's path in MLflow), or ``None``."""
    target = _resolve(path)
    for index, part in enumerate(parts):
        if _is_private(part):
            if _is_mlflow(target):
                return ".".join([_dotted(target), *parts[index:]])
            return None
        target = getattr(target, part, None)
        if target is None:
            return None
    return None


def _mlflow_private_chains(tree) -> set[str]:
    """Private MLflow names a module reaches itself: ``from mlflow... import _x`` (or a private
    module), and attribute chains such as ``handlers._x`` on an imported MLflow module."""
    bindings = _import_bindings(tree)
    uses = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "level", 0) == 0:
            for alias in node.names:
                path = alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
                if path.split(".")[0] == "mlflow" and any(map(_is_private, path.split("."))):
                    uses.add(path)
        elif isinstance(node, ast.Attribute):
            root, parts = _attribute_chain(node)
            bound = bindings.get(root, "")
            if bound.split(".")[0] == "mlflow" and any(map(_is_private, parts)):
                uses.add(".".join([bound, *parts]))
    return uses


def _module_uses(tree) -> set[str]:
    """Private MLflow names one module uses: its own (above), those reached through our modules
    (``_compat.SomeStore._method``), and ``*._name`` for an attribute of an object whose type
    the source does not show (``run_data._metric_objs``, ``getattr(x, "_name")``)."""
    bindings = _import_bindings(tree)
    uses = _mlflow_private_chains(tree)
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            root, parts = _attribute_chain(node)
            if root in ("self", "cls") or not any(map(_is_private, parts)):
                continue  # self/cls: the class scan below
            bound = bindings.get(root)
            if bound is None:
                uses.add(f"*.{next(part for part in parts if _is_private(part))}")
            elif bound.split(".")[0] == "mlflow_accel":
                uses.add(_through_package(bound, parts) or "")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and _is_private(str(node.args[1].value))
        ):
            uses.add(f"*.{node.args[1].value}")
    uses.discard("")
    return uses - {f"*.{name}" for name in OWN_PRIVATE_ATTRIBUTES}


def _class_uses(cls, class_nodes: dict) -> set[str]:
    """Private MLflow names a store class of ours reaches through ``self``, ``super()`` or an
    override, each as the MLflow class that defines it (in ``cls``'s MRO)."""
    mro = cls.__mro__

    def defined_after(position: int, name: str):
        return next((base for base in mro[position:] if name in vars(base)), None)

    assigned = {
        target.attr
        for node in class_nodes.values()
        for target in ast.walk(node)
        if isinstance(target, ast.Attribute) and isinstance(target.ctx, ast.Store)
    }
    uses = set()
    for position, base in enumerate(mro):
        node = class_nodes.get(base)
        if node is None:
            continue
        found = []
        for child in ast.walk(node):
            if not (isinstance(child, ast.Attribute) and _is_private(child.attr)):
                continue
            if isinstance(child.value, ast.Name) and child.value.id in ("self", "cls"):
                found.append((child.attr, defined_after(0, child.attr)))
            elif ast.unparse(child.value) == "super()":
                found.append((child.attr, defined_after(position + 1, child.attr)))
        for name, owner in found:
            if owner is None and name not in assigned:
                uses.add(f"*.{name}")  # an instance attribute MLflow's own code sets
            elif owner is not None and _is_mlflow(owner):
                uses.add(f"{_dotted(owner)}.{name}")
        for child in node.body:  # overrides: MLflow calls them
            if isinstance(child, ast.FunctionDef) and _is_private(child.name):
                owner = defined_after(position + 1, child.name)
                if owner is not None and _is_mlflow(owner):
                    uses.add(f"{_dotted(owner)}.{child.name}")
    return uses


@cache
def _package_uses() -> dict[str, set[str]]:
    """``{use: {module, ...}}`` over every module of the package."""
    trees = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        trees[module.removesuffix(".__init__")] = ast.parse(path.read_text(), str(path))
    uses: dict[str, set[str]] = {}
    class_nodes = {}
    for module, tree in trees.items():
        for use in _module_uses(tree):
            uses.setdefault(use, set()).add(module)
        class_defs = [node for node in tree.body if isinstance(node, ast.ClassDef)]
        if class_defs:
            loaded = importlib.import_module(module)
            class_nodes.update({getattr(loaded, node.name): node for node in class_defs})
    for cls in class_nodes:
        if any(_is_mlflow(base) for base in cls.__mro__):
            for use in _class_uses(cls, class_nodes):
                uses.setdefault(use, set()).add(cls.__module__)
    return uses


def _covers(entry: str, use: str) -> bool:
    """Whether a listed entry accounts for a use: the same name, an attribute of it with no
    further private part, or (for ``*._name``) any entry ending in that name."""
    if use.startswith("*."):
        return entry.rsplit(".", 1)[1] == use[2:]
    if use == entry:
        return True
    return use.startswith(entry + ".") and not any(
        map(_is_private, use[len(entry) + 1 :].split("."))
    )


def test_package_uses_no_unlisted_private_name():
    unlisted = {
        use: sorted(modules)
        for use, modules in _package_uses().items()
        if not any(_covers(entry, use) for entry in PRIVATE_NAMES)
    }
    assert not unlisted, (
        "private MLflow names used but missing from _compat.PRIVATE_NAMES (import them in"
        f" _compat, or list the inherited method or attribute there): {unlisted}"
    )


def test_every_listed_name_is_used():
    uses = _package_uses()
    unused = [entry for entry in PRIVATE_NAMES if not any(_covers(entry, use) for use in uses)]
    assert not unused, f"_compat.PRIVATE_NAMES lists names the package no longer uses: {unused}"


def test_only_compat_imports_private_mlflow_names():
    elsewhere = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "_compat.py":
            uses = _mlflow_private_chains(ast.parse(path.read_text()))
            if uses:
                elsewhere[str(path.relative_to(PACKAGE.parent))] = sorted(uses)
    assert not elsewhere, f"private MLflow names imported outside _compat: {elsewhere}"


# -- the rest of _compat's contract ----------------------------------------------------------------


def test_compat_all_is_what_the_package_uses():
    from mlflow_accel import _compat

    used = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "_compat":
                used.add(node.attr)
    used = {name for name in used if not inspect.ismodule(getattr(_compat, name))}
    assert sorted(_compat.__all__) == sorted(used)


@pytest.mark.parametrize("name", sorted(SPELLED_OUT))
def test_spelled_out_values_match_mlflow(name):
    from mlflow_accel import _compat

    assert getattr(_compat, name) == _resolve(SPELLED_OUT[name])


def test_accelerated_methods_keep_mlflow_signatures():
    """A call our method leaves to MLflow's is forwarded with the caller's own arguments."""
    from mlflow_accel.store import registry, tracking

    for cls in (tracking.AccelTrackingStore, registry.AccelRegistryStore):
        for name, method in vars(cls).items():
            if hasattr(method, "__wrapped__"):
                stock = getattr(super(cls, cls), name)
                assert _shape(method) == _shape(stock), f"{cls.__name__}.{name}"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
