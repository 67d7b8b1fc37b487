"""The row builder: MLflow's stored values, de-duplication and ``latest_metrics`` choice."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.core_impls import implementations

MAX = 1.7976931348623157e308


@pytest.fixture(scope="module", params=implementations("rows"))
def rows(request):
    return request.param


def test_stored_values(rows):
    metric_rows, _ = rows.metric_rows(
        "r", [("a", math.nan, 1, 0), ("b", math.inf, 1, 0), ("c", -math.inf, 1, 0), ("d", 2, 1, 0)]
    )
    assert metric_rows == [
        ("a", 0.0, 1, 0, True, "r"),
        ("b", MAX, 1, 0, False, "r"),
        ("c", -MAX, 1, 0, False, "r"),
        ("d", 2.0, 1, 0, False, "r"),
    ]


def test_duplicates_written_once_nan_included(rows):
    metric_rows, latest = rows.metric_rows(
        "r", [("a", math.nan, 1, 0), ("a", math.nan, 1, 0), ("a", 1.0, 1, 0), ("a", 1.0, 1, 0)]
    )
    assert metric_rows == [("a", 0.0, 1, 0, True, "r"), ("a", 1.0, 1, 0, False, "r")]
    assert latest == [("a", 1.0, 1, 0, False, "r")]


def test_model_metric_rows_dedup_like_mlflow_metrics(rows):
    """Equal ``Metric`` fields are written once; two NaN objects are not equal (MLflow's
    ``Metric.__eq__``), one NaN object is; metrics bound to no model are skipped."""
    nan = math.nan
    found = rows.model_metric_rows(
        "r",
        [
            ("a", 1.0, 1, 0, "m-1", None, None, None),
            ("a", 1.0, 1, 0, "m-1", None, None, None),
            ("a", 1.0, 1, 0, "m-1", "d", "x", None),
            ("a", 1.0, 1, 0, "m-1", None, None, "other"),
            ("b", nan, 1, 0, "m-1", None, None, None),
            ("b", nan, 1, 0, "m-1", None, None, None),
            ("b", float("nan"), 1, 0, "m-1", None, None, None),
            ("c", math.inf, 1, 0, "m-2", None, None, None),
            ("d", -math.inf, 1, 0, "m-2", None, None, None),
            ("e", 1.0, 1, 0, None, None, None, None),
        ],
    )
    assert found == [
        ("m-1", "a", 1, 0, 1.0, "r", None, None),
        ("m-1", "a", 1, 0, 1.0, "r", "d", "x"),
        ("m-1", "a", 1, 0, 1.0, "r", None, None),
        ("m-1", "b", 1, 0, 0.0, "r", None, None),
        ("m-1", "b", 1, 0, 0.0, "r", None, None),
        ("m-2", "c", 1, 0, MAX, "r", None, None),
        ("m-2", "d", 1, 0, -MAX, "r", None, None),
    ]


def test_latest_is_max_by_step_timestamp_value_first_of_equals(rows):
    _, latest = rows.metric_rows(
        "r",
        [
            ("b", 5.0, 9, 1),
            ("a", 1.0, 1, 2),
            ("a", 9.0, 0, 1),
            ("b", 0.0, 1, 2),
            ("b", 1.0, 0, 2),
            ("c", math.nan, 1, 1),
            ("c", 0.0, 1, 1),
        ],
    )
    assert latest == [
        ("a", 1.0, 1, 2, False, "r"),
        ("b", 0.0, 1, 2, False, "r"),
        ("c", 0.0, 1, 1, True, "r"),
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abc"),
            st.one_of(st.floats(), st.integers(-3, 3)),
            st.integers(0, 3),
            st.integers(-2, 2),
        ),
        max_size=12,
    )
)
def test_latest_matches_a_reference_model(rows, metrics):
    metric_rows, latest = rows.metric_rows("r", metrics)
    expected = {}
    for key, value, timestamp, step in metrics:
        stored = 0.0 if math.isnan(value) else max(-MAX, min(MAX, float(value)))
        best = expected.get(key)
        if best is None or (step, timestamp, stored) > (best[3], best[2], best[1]):
            expected[key] = (key, stored, timestamp, step, math.isnan(value), "r")
    assert latest == [expected[key] for key in sorted(expected)]
    identities = [(r[0], r[2], r[3], r[1], r[4]) for r in metric_rows]
    assert len(identities) == len(set(identities))


def test_tags_last_value_wins_and_run_name(rows):
    tag_rows, run_name = rows.tag_rows(
        "r", [("a", "1"), ("mlflow.runName", "x"), ("a", "2"), ("mlflow.runName", "y")]
    )
    assert tag_rows == [("a", "2", "r"), ("mlflow.runName", "y", "r")]
    assert run_name == "y"


def test_empty_run_name_after_a_name_keeps_the_name(rows):
    assert rows.tag_rows("r", [("mlflow.runName", "adam"), ("mlflow.runName", "")]) == (
        [("mlflow.runName", "adam", "r")],
        "adam",
    )


@pytest.mark.parametrize("empty", ["", None])
def test_empty_run_name_changes_nothing(rows, empty):
    assert rows.tag_rows("r", [("mlflow.runName", empty), ("a", "1")]) == ([("a", "1", "r")], None)


def test_param_rows(rows):
    assert rows.param_rows("r", [("p", "1"), ("q", None)]) == [("p", "1", "r"), ("q", None, "r")]
