import math

import pytest

from dfazoo.stats import format_mean_std, format_pair, mean_std


def test_mean_std_is_the_sample_std():
    mean, std = mean_std([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert std == pytest.approx(math.sqrt(5 / 3))  # n - 1 = 3 in the denominator, not n = 4


def test_one_value_has_no_std_and_no_values_no_mean():
    assert mean_std([7.0]) == (7.0, None)
    mean, std = mean_std([])
    assert math.isnan(mean) and std is None


def test_format_mean_std():
    assert format_mean_std([61.47, 62.04, 62.61], 2) == "62.04 ± 0.57"
    assert format_mean_std(iter([0.5]), 3) == "0.500"
    assert format_mean_std([]) == "n/a"
    assert format_pair(None) == "n/a"
