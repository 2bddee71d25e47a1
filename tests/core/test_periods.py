import pandas as pd
import pytest

from kpitools.core.periods import FiscalCalendar, Granularity

APRIL = FiscalCalendar(4)


@pytest.mark.parametrize(
    ("text", "label", "granularity", "first", "last"),
    [
        ("2017-08", "2017-08", Granularity.MONTH, "2017-08", "2017-08"),
        ("2017-8", "2017-08", Granularity.MONTH, "2017-08", "2017-08"),
        ("2017-08-01", "2017-08", Granularity.MONTH, "2017-08", "2017-08"),
        ("Aug 2017", "2017-08", Granularity.MONTH, "2017-08", "2017-08"),
        ("September 2017", "2017-09", Granularity.MONTH, "2017-09", "2017-09"),
        ("2023/24 Q1", "2023/24 Q1", Granularity.QUARTER, "2023-04", "2023-06"),
        ("2023-24 Q1", "2023/24 Q1", Granularity.QUARTER, "2023-04", "2023-06"),
        ("2023/2024 q3", "2023/24 Q3", Granularity.QUARTER, "2023-10", "2023-12"),
        ("2023/24 Q4", "2023/24 Q4", Granularity.QUARTER, "2024-01", "2024-03"),
        ("2023/24", "2023/24", Granularity.YEAR, "2023-04", "2024-03"),
        (" 1999/00 ", "1999/00", Granularity.YEAR, "1999-04", "2000-03"),
    ],
)
def test_parse_april_year(text, label, granularity, first, last):
    period = APRIL.parse(text)
    assert APRIL.label(period) == label
    assert APRIL.granularity(period) is granularity
    assert str(APRIL.first_month(period)) == first
    assert str(APRIL.last_month(period)) == last


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2017-13", "there is no month 13"),
        ("2023/25 Q1", "25 does not follow 2023"),
        ("2023 Q1", "is not a period"),
        ("2023", "is not a period"),
        ("2023/24 Q5", "is not a period"),
        ("Q1", "is not a period"),
        ("abc", "is not a period"),
        ("", "is not a period"),
    ],
)
def test_parse_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        APRIL.parse(text)


def test_months_fall_in_financial_quarters():
    quarters = {
        month: APRIL.label(APRIL.containing(APRIL.parse(month), Granularity.QUARTER))
        for month in ("2023-03", "2023-04", "2023-06", "2023-07", "2023-12", "2024-01")
    }
    assert quarters == {
        "2023-03": "2022/23 Q4",
        "2023-04": "2023/24 Q1",
        "2023-06": "2023/24 Q1",
        "2023-07": "2023/24 Q2",
        "2023-12": "2023/24 Q3",
        "2024-01": "2023/24 Q4",
    }
    year = APRIL.containing(APRIL.parse("2024-03"), Granularity.YEAR)
    assert APRIL.label(year) == "2023/24"


def test_uses_pandas_fiscal_periods():
    quarter = APRIL.parse("2023/24 Q1")
    assert isinstance(quarter, pd.Period)
    assert quarter.freqstr == "Q-MAR"
    assert APRIL.quarter(2023, 1) == quarter


@pytest.mark.parametrize(
    ("start", "quarter", "first", "year_label"),
    [
        (1, "2023 Q1", "2023-01", "2023"),
        (7, "2023/24 Q1", "2023-07", "2023/24"),
        (9, "2023/24 Q2", "2023-12", "2023/24"),
    ],
)
def test_configurable_year_start(start, quarter, first, year_label):
    calendar = FiscalCalendar(start)
    period = calendar.parse(quarter)
    assert str(calendar.first_month(period)) == first
    assert calendar.label(period) == quarter
    year = calendar.containing(period, Granularity.YEAR)
    assert calendar.label(year) == year_label


def test_year_start_must_be_a_month():
    with pytest.raises(ValueError, match="1-12"):
        FiscalCalendar(13)


def test_distinct_periods_and_a_period_column_by_value_not_by_object():
    """Equal periods that are different objects are one period; a column of one frequency
    is typed as pandas types it (NaT for a missing one), of several it stays objects."""
    import numpy as np
    import pandas as pd

    from kpitools.core.periods import distinct_periods, period_column

    a, b = pd.Period("2024-01", "M"), pd.Period("2024-01", "M")  # equal, not the same object
    q = pd.Period("2024Q1", "Q-MAR")
    codes, distinct = distinct_periods([a, q, b, None, a])
    assert codes.tolist() == [0, 1, 0, 2, 0]
    assert distinct == [a, q, None]
    one = np.array([a, pd.Period("2024-02", "M"), None], dtype=object)
    typed = pd.DataFrame({"p": period_column(one)})["p"]
    assert typed.dtype == pd.DataFrame({"p": one})["p"].dtype == pd.PeriodDtype("M")
    assert typed.tolist()[:2] == [a, pd.Period("2024-02", "M")] and pd.isna(typed.iloc[2])
    mixed = np.array([a, q], dtype=object)
    assert period_column(mixed) is mixed


def test_a_calendar_is_hashed_by_its_start_month_whatever_its_number_type():
    import numpy as np

    from kpitools.core.periods import calendar_for

    assert hash(FiscalCalendar(np.int64(4))) == hash(FiscalCalendar(4)) == hash(4)
    assert FiscalCalendar(np.int64(4)) == FiscalCalendar(4)
    assert calendar_for(4) is calendar_for(4)
    assert FiscalCalendar(np.int64(1)).label(pd.Period("2024-03", "M")) == "2024-03"
