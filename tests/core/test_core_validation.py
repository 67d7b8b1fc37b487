"""The validation core against ``mlflow.utils.validation``: same results, same errors."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.utils import validation as stock

from tests.support.core_impls import implementations


@pytest.fixture(scope="module", params=implementations("validation"))
def validation(request):
    return request.param


def outcome(function, *args):
    """The result of a call, or its exception as (type, error code, message)."""
    try:
        return ("ok", function(*args))
    except MlflowException as error:
        return ("error", type(error), error.error_code, error.message)
    except Exception as error:
        return ("error", type(error))


def stock_param(key, value, path=""):
    param = stock._validate_param(key, value, path)
    return (param.key, param.value)


def stock_tag(key, value, path=""):
    tag = stock._validate_tag(key, value, path)
    return (tag.key, tag.value)


def stock_batch(run_id, metrics, params, tags):
    stock._validate_run_id(run_id)
    metric_entities = [Metric(*m) for m in metrics]
    _, checked_params, checked_tags = stock._validate_batch_log_data(
        metric_entities, [Param(*p) for p in params], [RunTag(*t) for t in tags]
    )
    stock._validate_batch_log_limits(metric_entities, checked_params, checked_tags)
    stock._validate_param_keys_unique(checked_params)
    return [(p.key, p.value) for p in checked_params], [(t.key, t.value) for t in checked_tags]


NAME_ALPHABET = string.ascii_letters + string.digits + "/._- :\n\x00é%'\""
names = st.one_of(
    st.text(alphabet=NAME_ALPHABET, max_size=12),
    st.sampled_from(["", ".", "..", "../a", "a/../b", "/abs", "a//b", "a/", "./a", "a" * 251]),
    st.none(),
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
values = st.one_of(st.text(max_size=20), st.none(), st.just("v" * 6001), st.just("t" * 8001))


@settings(max_examples=400, deadline=None)
@given(
    key=names, value=numbers, timestamp=numbers, step=numbers, path=st.sampled_from(["", "m[1]"])
)
def test_metric_matches_mlflow(validation, key, value, timestamp, step, path):
    assert outcome(validation.validate_metric, key, value, timestamp, step, path) == outcome(
        stock._validate_metric, key, value, timestamp, step, path
    )


@pytest.mark.parametrize("truncate", ["true", "false"])
@settings(max_examples=200, deadline=None)
@given(key=names, value=values, path=st.sampled_from(["", "params[3]"]))
def test_param_and_tag_match_mlflow(validation, truncate, key, value, path):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", truncate)
        assert outcome(validation.validate_param, key, value, path) == outcome(
            stock_param, key, value, path
        )
        assert outcome(validation.validate_tag, key, value, path) == outcome(
            stock_tag, key, value, path
        )


metric_tuples = st.tuples(
    st.sampled_from(["m", "a/b", "bad//key", "x" * 251]), numbers, numbers, numbers
)
pairs = st.tuples(st.sampled_from(["k", "j", "../k", "long" * 70]), values)


@settings(max_examples=300, deadline=None)
@given(
    run_id=st.sampled_from(["abc123", "_bad", "a" * 300, "r-1"]),
    metrics=st.lists(metric_tuples, max_size=4),
    params=st.lists(pairs, max_size=4),
    tags=st.lists(pairs, max_size=4),
)
def test_batch_matches_mlflow(validation, run_id, metrics, params, tags):
    assert outcome(validation.validate_batch, run_id, metrics, params, tags) == outcome(
        stock_batch, run_id, metrics, params, tags
    )


@pytest.mark.parametrize(
    ("metrics", "params", "tags"),
    [
        ([("m", 1.0, 0, i) for i in range(1001)], [], []),
        ([], [(f"p{i}", "v") for i in range(101)], []),
        ([], [], [(f"t{i}", "v") for i in range(101)]),
        (
            [("m", 1.0, 0, i) for i in range(900)],
            [(f"p{i}", "v") for i in range(60)],
            [(f"t{i}", "v") for i in range(60)],
        ),
        ([], [("p", "1"), ("q", "1"), ("p", "2"), ("p", "3")], []),
    ],
    ids=["metrics", "params", "tags", "total", "duplicate-params"],
)
def test_batch_limits_match_mlflow(validation, metrics, params, tags):
    ours = outcome(validation.validate_batch, "run1", metrics, params, tags)
    assert ours[0] == "error"
    assert ours == outcome(stock_batch, "run1", metrics, params, tags)
