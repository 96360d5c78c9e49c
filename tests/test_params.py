import pytest

from apps.core.params import int_param


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2025", 2025), (" 7 ", 7), ("0", 0), (3, 3), ("²", None), ("abc", None), ("-1", None), ("1.5", None),
     ("", None), (None, None), ("99999999999999999999", None), ("2147483648", None), ("2147483647", 2147483647)],
)  # fmt: skip
def test_int_param_reads_only_plain_digits_in_range(raw, expected):
    assert int_param(raw) == expected


def test_int_param_bounds():
    assert int_param("1999", low=2000, high=2100) is None
    assert int_param("2101", low=2000, high=2100) is None
    assert int_param("2050", low=2000, high=2100) == 2050
