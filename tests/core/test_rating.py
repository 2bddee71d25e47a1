import math

import pandas as pd
import pytest

from kpitools.core.model import RAG, Direction
from kpitools.core.rating import direction_of_travel, exception_reasons, rate_rows, rate_value

NAN = math.nan

# A committee dashboard: "amber within 5% of target" (relative, not percentage points).
TOLERANCE_CASES = [
    # polarity, target, tolerance, value, expected
    ("up", 80, 0.05, 80, "green"),  # on target counts as met
    ("up", 80, 0.05, 84, "green"),
    ("up", 80, 0.05, 77, "amber"),
    ("up", 80, 0.05, 76, "amber"),  # exactly 5% short: still amber
    ("up", 80, 0.05, 75.9, "red"),
    ("up", 95, 0.05, 90.25, "amber"),  # 5% of 95 = 4.75, on the edge despite float rounding
    ("up", 95, 0.05, 90.24, "red"),
    ("down", 20, 0.05, 20, "green"),
    ("down", 20, 0.05, 21, "amber"),  # 5% over a smaller-is-better target
    ("down", 20, 0.05, 21.01, "red"),
    ("down", 20, 0.05, 3, "green"),
    ("up", 95, 0.10, 85.5, "amber"),  # a measure's own tolerance
    ("up", 95, 0.10, 85.4, "red"),
    ("up", 100, 0.0, 99.99, "red"),  # no tolerance: no amber band
    ("down", 0, 0.05, 0, "green"),  # zero target: no band either side
    ("down", 0, 0.05, 1, "red"),
    ("up", -10, 0.05, -10.5, "amber"),  # a negative target: band is 5% of its size
    ("up", -10, 0.05, -10.6, "red"),
]


@pytest.mark.parametrize(("polarity", "target", "tolerance", "value", "expected"), TOLERANCE_CASES)
def test_tolerance_method(polarity, target, tolerance, value, expected):
    rag = rate_value(value, polarity=polarity, target=target, tolerance=tolerance)
    assert rag == RAG(expected)


# Outsourced contract levels: TSL met is green (equal counts), MSL met amber, below MSL red.
THRESHOLD_CASES = [
    ("up", 95, 90, 95, "green"),
    ("up", 95, 90, 94.99, "amber"),
    ("up", 95, 90, 90, "amber"),
    ("up", 95, 90, 89.99, "red"),
    ("down", 7, 10, 6.9, "green"),  # abandoned calls: TSL 7%, MSL 10%
    ("down", 7, 10, 7, "green"),
    ("down", 7, 10, 8.5, "amber"),
    ("down", 7, 10, 10, "amber"),
    ("down", 7, 10, 10.01, "red"),
    ("down", 7, 10, 229 / 2996 * 100, "amber"),  # "229 / 2996" = 7.64%
    ("up", 99.5, 99.0, 99.5, "green"),
    ("up", 99.5, 99.0, 0.3 + 99.2, "green"),  # 99.50000000000001 in floats
]


@pytest.mark.parametrize(("polarity", "tsl", "msl", "value", "expected"), THRESHOLD_CASES)
def test_thresholds_method(polarity, tsl, msl, value, expected):
    assert rate_value(value, polarity=polarity, tsl=tsl, msl=msl) == RAG(expected)


@pytest.mark.parametrize(
    ("status", "value", "expected"),
    [
        ("mitigated", 50, "blue"),  # target not applied, value may be recorded
        ("mitigated", NAN, "blue"),
        ("not_available", NAN, "red"),  # due but not supplied: a failure
        ("pending", NAN, "white"),  # expected later
        ("pending", 99, "white"),  # provisional value: not rated yet
        ("not_expected", NAN, "grey"),
        ("reported", NAN, "grey"),
    ],
)
def test_statuses(status, value, expected):
    rag = rate_value(value, polarity="up", tsl=95, msl=90, status=status)
    assert rag == RAG(expected)


def test_neutral_and_untargeted_measures_are_grey():
    assert rate_value(5, polarity="neutral", target=3) is RAG.GREY
    assert rate_value(5, polarity="up") is RAG.GREY
    assert rate_value(5, polarity="up", method="thresholds", tsl=4) is RAG.GREY


def test_vectorised_rating_matches_each_case():
    rows = pd.DataFrame(
        [
            {"value": v, "status": "reported", "polarity": p, "rag_method": "tolerance",
             "target": t, "tolerance": tol, "tsl": NAN, "msl": NAN}
            for p, t, tol, v, _ in TOLERANCE_CASES
        ]
        + [
            {"value": v, "status": "reported", "polarity": p, "rag_method": "thresholds",
             "target": NAN, "tolerance": 0.05, "tsl": tsl, "msl": msl}
            for p, tsl, msl, v, _ in THRESHOLD_CASES
        ]
    )  # fmt: skip
    expected = [c[-1] for c in TOLERANCE_CASES] + [c[-1] for c in THRESHOLD_CASES]
    assert rate_rows(rows).tolist() == expected


@pytest.mark.parametrize(
    ("value", "previous", "polarity", "expected"),
    [
        (10, 8, "up", "improving"),
        (8, 10, "up", "worsening"),
        (10, 8, "down", "worsening"),
        (8, 10, "down", "improving"),
        (10, 10, "up", "stable"),
        (0.1 + 0.2, 0.3, "down", "stable"),
        (10, NAN, "up", "no_earlier_figure"),
        (NAN, 10, "up", "not_comparable"),
        (NAN, NAN, "up", "not_comparable"),
        (10, 8, "neutral", "monitored"),
        (10, NAN, "neutral", "no_earlier_figure"),
    ],
)
def test_direction_of_travel(value, previous, polarity, expected):
    result = direction_of_travel(
        pd.Series([value], dtype=float), pd.Series([previous], dtype=float), pd.Series([polarity])
    )
    assert result.iloc[0] == Direction(expected)


@pytest.mark.parametrize(
    ("value", "previous", "polarity", "band", "expected"),
    [
        (102, 100, "up", 0.0, "improving"),
        (102, 100, "up", 0.02, "stable"),  # a 2% change is within a 2% band
        (102.1, 100, "up", 0.02, "improving"),
        (97.9, 100, "up", 0.02, "worsening"),
        (98, 100, "down", 0.02, "stable"),
        (97, 100, "down", 0.02, "improving"),
        (-5.1, -5, "down", 0.05, "stable"),  # relative to the size of the previous value
    ],
)
def test_a_stable_band_counts_small_changes_as_stable(value, previous, polarity, band, expected):
    result = direction_of_travel(
        pd.Series([value], dtype=float),
        pd.Series([previous], dtype=float),
        pd.Series([polarity]),
        stable_band=band,
    )
    assert result.iloc[0] == Direction(expected)


def _series(values, rags, directions, statuses=None, flags=None, target=100.0):
    n = len(values)
    return pd.DataFrame(
        {
            "measure_id": ["M1"] * n,
            "value": values,
            "rag": rags,
            "direction": directions,
            "status": statuses or ["reported"] * n,
            "flags": flags or [""] * n,
            "polarity": ["up"] * n,
            "rag_method": ["tolerance"] * n,
            "target": [target] * n,
            "tsl": [NAN] * n,
            "msl": [NAN] * n,
        }
    )


def test_exception_runs_of_three():
    series = _series(
        values=[99, 98, 97, 96, 101],
        rags=["amber", "amber", "amber", "amber", "green"],
        directions=["no_earlier_figure", "worsening", "worsening", "worsening", "improving"],
    )
    assert exception_reasons(series).tolist() == [
        "",
        "",
        "amber_3_periods",
        "worsening_3_periods amber_3_periods",
        "",
    ]


def test_runs_do_not_cross_measures():
    first = _series([99, 98], ["amber", "amber"], ["no_earlier_figure", "worsening"])
    second = _series([97], ["amber"], ["worsening"]).assign(measure_id="M2")
    combined = pd.concat([first, second], ignore_index=True)
    assert exception_reasons(combined).tolist() == ["", "", ""]


def test_variance_of_five_percent_makes_an_amber_an_exception():
    # Amber with a 10% tolerance but 6% short: an exception for its variance alone.
    series = _series([94], ["amber"], ["no_earlier_figure"])
    assert exception_reasons(series).tolist() == ["adverse_variance"]
    exactly = _series([95], ["amber"], ["no_earlier_figure"])  # exactly 5% worse
    assert exception_reasons(exactly).tolist() == ["adverse_variance"]
    within = _series([95.5], ["amber"], ["no_earlier_figure"])
    assert exception_reasons(within).tolist() == [""]


def test_red_missing_data_and_flags():
    series = _series(
        values=[NAN, 80, 99],
        rags=["red", "red", "blue"],
        directions=["no_earlier_figure", "stable", "stable"],
        statuses=["not_available", "reported", "mitigated"],
        flags=["", "budget", "corporate_risk budget"],
    )
    assert exception_reasons(series).tolist() == [
        "data_not_available",
        "off_target adverse_variance flag_budget",
        "flag_budget flag_corporate_risk",
    ]
