"""tests/support: the arithmetic and /proc parsing tests and benchmarks rely on (fast, no processes started)."""

from __future__ import annotations

import math

import pytest

from tests.support.procfs import parse_stat_cpu, parse_status_kb
from tests.support.stats import bucket_delta, histogram_quantile, markdown_table, percentile, slope_per_hour

STAT = "4242 (python3 -m monitor run) S 1 4242 4242 0 -1 4194560 9000 0 0 0 250 75 0 0 20 0 3 0 100 0 0"


def test_stat_cpu_is_utime_plus_stime_even_with_spaces_and_parens_in_the_name() -> None:
    assert parse_stat_cpu(STAT, clk_tck=100) == pytest.approx(3.25)
    odd = STAT.replace("(python3 -m monitor run)", "(a) b (c)")
    assert parse_stat_cpu(odd, clk_tck=100) == pytest.approx(3.25)


def test_status_fields_in_kb() -> None:
    status = "Name:\tpython3\nVmHWM:\t  123456 kB\nVmRSS:\t   98765 kB\nThreads:\t3\n"
    assert parse_status_kb(status, "VmRSS") == 98765
    assert parse_status_kb(status, "VmHWM") == 123456
    with pytest.raises(KeyError):
        parse_status_kb(status, "VmSwap")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.5, 0.075),  # rank 50 of 100 lies halfway into the (0.05, 0.1] bucket (40 -> 60)
        (0.99, 0.9),  # rank 99: (0.5, 1] holds 95 -> 100
        (0.1, 0.005),  # rank 10 halfway into the first bucket (0, 0.01] (0 -> 20)
    ],
)
def test_histogram_quantile_interpolates_like_promql(q: float, expected: float) -> None:
    buckets = [(0.05, 40.0), (0.1, 60.0), (0.5, 95.0), (1.0, 100.0), (math.inf, 100.0), (0.01, 20.0)]
    assert histogram_quantile(buckets, q) == pytest.approx(expected)


def test_histogram_quantile_in_the_inf_bucket_answers_the_largest_finite_bound() -> None:
    assert histogram_quantile([(1.0, 50.0), (math.inf, 100.0)], 0.99) == 1.0


def test_histogram_quantile_without_observations_is_nan() -> None:
    assert math.isnan(histogram_quantile([(1.0, 0.0), (math.inf, 0.0)], 0.5))
    assert math.isnan(histogram_quantile([], 0.5))


def test_bucket_delta_keeps_only_the_window() -> None:
    before = [(0.1, 5.0), (math.inf, 10.0)]
    after = [(0.1, 7.0), (math.inf, 20.0)]
    assert bucket_delta(before, after) == [(0.1, 2.0), (math.inf, 10.0)]


def test_percentile_interpolates_between_order_statistics() -> None:
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == pytest.approx(2.5)
    assert percentile([5.0], 0.99) == 5.0
    assert math.isnan(percentile([], 0.5))


def test_slope_per_hour() -> None:
    points = [(t, 100.0 + t / 60.0) for t in range(0, 600, 10)]  # +1 per minute
    assert slope_per_hour(points) == pytest.approx(60.0)
    assert slope_per_hour([(0.0, 1.0)]) == 0.0
    assert slope_per_hour([(5.0, 1.0), (5.0, 2.0)]) == 0.0


def test_markdown_table() -> None:
    assert markdown_table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"
