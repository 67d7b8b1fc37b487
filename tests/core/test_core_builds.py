"""The two builds of the core stay apart: a pure module's siblings are pure, a compiled one's
compiled; ``_core.implementations`` lists the builds there are."""

import os

import pytest

from mlflow_accel import _core


def test_pure_modules_import_pure_siblings():
    parse = _core.load_pure("parse")
    assert parse._messages is _core.load_pure("messages")
    assert parse._invalid is _core.load_pure("validation").invalid_parameter
    assert _core.load_pure("render")._messages is _core.load_pure("messages")
    assert not _core.is_compiled(parse._messages)


@pytest.mark.parametrize(("kind", "build"), list(_core.implementations().items()))
def test_a_build_uses_its_own_siblings(kind, build):
    assert build.parse._messages is build.messages
    assert build.parse._invalid is build.validation.invalid_parameter
    assert build.render._messages is build.messages
    compiled = {_core.is_compiled(getattr(build, name)) for name in _core.MODULE_NAMES}
    assert compiled == {kind == "compiled"}


def test_implementations():
    found = _core.implementations()
    assert list(found)[0] == "pure"
    if os.environ.get("MLFLOW_ACCEL_NO_EXTENSIONS"):
        assert list(found) == ["pure"]
    if os.environ.get("MLFLOW_ACCEL_REQUIRE_EXTENSIONS"):
        assert list(found) == ["pure", "compiled"]
    assert ("compiled" in found) == _core.COMPILED
    assert _core.parse is found["compiled" if _core.COMPILED else "pure"].parse


def test_sibling_follows_the_importers_build():
    assert _core.sibling("mlflow_accel._core._parse_py", "messages") is _core.load_pure("messages")
    module = _core.sibling("mlflow_accel._core._parse", "messages")
    assert module.__name__ == "mlflow_accel._core._messages"
