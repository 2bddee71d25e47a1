"""Reporting periods: months, financial quarters and financial years.

Periods are pandas ``Period`` objects; the financial calendar is pandas' own fiscal frequency
(``Q-MAR``/``Y-MAR`` for a year starting in April), so no calendar arithmetic is written here,
only the parsing and the labels councils use ("2023/24 Q1", "2023/24", "2017-08").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

_MONTH_ABBR = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_NAMES = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}

_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2})(?:[ T]00:00(?::00)?)?)?$")
_NAMED_MONTH = re.compile(r"^([A-Za-z]{3,9})[\s\-]+(\d{4}|\d{2})$")
_QUARTER = re.compile(r"^(\d{4})(?:\s*[/\-]\s*(\d{4}|\d{2}))?\s*Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})(?:\s*/\s*(\d{4}|\d{2}))?$")
_RANGE_FREQ = re.compile(r"^(\d+)M$")
RANGE_SEPARATOR = ".."


class Granularity(IntEnum):
    """How long a period is: a month, a quarter or a year, ordered from finest to coarsest,
    or a run of months a report names (a contract's June to August).

    Figures are kept by months, quarters and years only; a run of months is a reporting
    period, a pandas ``Period`` of several months (frequency ``3M``) that monthly figures are
    summarised to.
    """

    MONTH = 1
    QUARTER = 2
    YEAR = 3
    RANGE = 4

    @property
    def word(self) -> str:
        return "run of months" if self is Granularity.RANGE else self.name.lower()


@dataclass(frozen=True)
class FiscalCalendar:
    """The council's financial year: which month it starts in (April unless configured).

    Args:
        start_month: first month of the financial year, 1-12.
    """

    start_month: int = 4
    quarter_freq: str = field(init=False)
    year_freq: str = field(init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError(f"financial year start month must be 1-12, not {self.start_month}")
        end = _MONTH_ABBR[(self.start_month - 2) % 12]
        object.__setattr__(self, "quarter_freq", f"Q-{end}")
        object.__setattr__(self, "year_freq", f"Y-{end}")

    def __hash__(self) -> int:
        # The start month is the calendar (the rest follows from it); hashed at every cached
        # call of the methods below, so it is kept cheap.
        return hash(self.start_month)

    # -- parsing -------------------------------------------------------------------------
    def parse(self, text: str) -> pd.Period:
        """Parse a period as councils write it.

        Accepts a month (``2017-08``, ``2017-08-01``, ``Aug 2017``), a financial quarter
        (``2023/24 Q1``, ``2023-24 Q1``), a financial year (``2023/24``) or a run of months
        (``2017-06..2017-08``: a ``Period`` of frequency ``3M``; a run of one month is that
        month).

        Raises:
            ValueError: with a sentence saying what was expected.
        """
        return _parse(self.start_month, self.quarter_freq, self.year_freq, text.strip())

    # -- describing ----------------------------------------------------------------------
    @lru_cache(maxsize=8192)  # noqa: B019 - calendars are few and immutable
    def granularity(self, period: pd.Period) -> Granularity:
        """Whether a period is a month, a quarter or a year."""
        return _granularity(period.freqstr)

    @lru_cache(maxsize=8192)  # noqa: B019 - calendars are few and immutable
    def label(self, period: pd.Period) -> str:
        """The period as councils write it: ``2017-08``, ``2023/24 Q1`` or ``2023/24``."""
        kind = self.granularity(period)
        if kind is Granularity.MONTH:
            return f"{period.year:04d}-{period.month:02d}"
        if kind is Granularity.RANGE:
            first, last = self.first_month(period), self.last_month(period)
            return f"{self.label(first)}{RANGE_SEPARATOR}{self.label(last)}"
        start_year = self.fiscal_start_year(period)
        year = self.year_label(start_year)
        return f"{year} Q{period.quarter}" if kind is Granularity.QUARTER else year

    def year_label(self, start_year: int) -> str:
        """``2023/24`` for the year starting in 2023 (``2023`` when years start in January)."""
        if self.start_month == 1:
            return f"{start_year:04d}"
        return f"{start_year:04d}/{(start_year + 1) % 100:02d}"

    @lru_cache(maxsize=8192)  # noqa: B019 - calendars are few and immutable
    def fiscal_start_year(self, period: pd.Period) -> int:
        """Calendar year in which the financial year holding ``period`` starts."""
        first = period.asfreq("M", how="start")
        return first.year if first.month >= self.start_month else first.year - 1

    # -- converting ----------------------------------------------------------------------
    def freq(self, granularity: Granularity) -> str:
        """The pandas frequency of a granularity in this calendar (a run of months has none
        of its own: its length is the run's)."""
        if granularity is Granularity.RANGE:
            raise ValueError("a run of months has no fixed length")
        return {
            Granularity.MONTH: "M",
            Granularity.QUARTER: self.quarter_freq,
            Granularity.YEAR: self.year_freq,
        }[granularity]

    @lru_cache(maxsize=8192)  # noqa: B019 - calendars are few and immutable
    def containing(self, period: pd.Period, granularity: Granularity) -> pd.Period:
        """The quarter or year (or the month itself) that holds ``period``."""
        if granularity is Granularity.RANGE or self.granularity(period) is Granularity.RANGE:
            raise ValueError("runs of months are not fixed periods: nothing contains them")
        if self.granularity(period) > granularity:
            raise ValueError(f"{self.label(period)} is longer than a {granularity.word}")
        return period.asfreq(self.freq(granularity), how="end")

    @lru_cache(maxsize=8192)  # noqa: B019 - calendars are few and immutable
    def first_month(self, period: pd.Period) -> pd.Period:
        return period.asfreq("M", how="start")

    @lru_cache(maxsize=8192)  # noqa: B019 - calendars are few and immutable
    def last_month(self, period: pd.Period) -> pd.Period:
        return period.asfreq("M", how="end")

    # -- whole columns of periods ---------------------------------------------------------
    def last_ordinals(self, periods: Iterable[pd.Period] | pd.Series) -> np.ndarray:
        """Each period's last month, as a month ordinal."""
        return each_period(periods, lambda p: self.last_month(p).ordinal, np.int64)

    def first_ordinals(self, periods: Iterable[pd.Period] | pd.Series) -> np.ndarray:
        """Each period's first month, as a month ordinal."""
        return each_period(periods, lambda p: self.first_month(p).ordinal, np.int64)

    def labels(self, periods: Iterable[pd.Period] | pd.Series) -> list[str]:
        """Each period as councils write it (:meth:`label`)."""
        return list(each_period(periods, self.label, object))

    def months(self, period: pd.Period) -> int:
        """How many months a period spans."""
        return (self.last_month(period) - self.first_month(period)).n + 1

    def run(self, first: pd.Period, last: pd.Period) -> pd.Period:
        """The run of months from ``first`` to ``last`` (months).

        A run that is a month, a financial quarter or a financial year is that period (April
        to June is Q1 where the year starts in April), so it is rated and reported as one.
        """
        length = (last - first).n + 1
        if length < 1:
            raise ValueError(
                f"'{self.label(first)}{RANGE_SEPARATOR}{self.label(last)}' is not a run of "
                "months: it ends before it starts"
            )
        if length == 1:
            return first
        for granularity, months in ((Granularity.QUARTER, 3), (Granularity.YEAR, 12)):
            fixed = self.containing(first, granularity)
            if length == months and self.first_month(fixed) == first:
                return fixed
        return pd.Period(first.start_time, freq=f"{length}M")

    def quarter(self, start_year: int, number: int) -> pd.Period:
        """Quarter ``number`` (1-4) of the financial year that starts in ``start_year``."""
        first = pd.Period(year=start_year, month=self.start_month, freq="M")
        return (first + 3 * (number - 1)).asfreq(self.quarter_freq)


def _granularity(freqstr: str) -> Granularity:
    if freqstr == "M":
        return Granularity.MONTH
    if _RANGE_FREQ.match(freqstr):
        return Granularity.RANGE
    if freqstr.startswith("Q"):
        return Granularity.QUARTER
    if freqstr.startswith(("Y", "A")):
        return Granularity.YEAR
    raise ValueError(f"unsupported period frequency {freqstr}")


def _two_years(first: str, second: str | None, text: str) -> int:
    start = int(first)
    if second is not None:
        expected = start + 1
        if int(second) not in (expected, expected % 100):
            raise ValueError(f"'{text}' is not a financial year: {second} does not follow {first}")
    return start


@lru_cache(maxsize=16)
def calendar_for(start_month: int) -> FiscalCalendar:
    """The calendar of a financial year starting in ``start_month``: one shared object, so
    its remembered answers are shared too."""
    return FiscalCalendar(start_month)


@lru_cache(maxsize=4096)
def _parse(start_month: int, quarter_freq: str, year_freq: str, text: str) -> pd.Period:
    calendar_years = start_month == 1
    if RANGE_SEPARATOR in text:
        return _parse_run(start_month, quarter_freq, year_freq, text)
    match = _ISO_MONTH.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"'{text}' is not a month: there is no month {month}")
        if match.group(3) is not None and not 1 <= int(match.group(3)) <= 31:
            raise ValueError(f"'{text}' is not a date")
        return pd.Period(year=year, month=month, freq="M")
    match = _NAMED_MONTH.match(text)
    if match and match.group(1).lower() in _MONTH_NAMES:
        year = int(match.group(2))
        year = year + 2000 if year < 100 else year
        return pd.Period(year=year, month=_MONTH_NAMES[match.group(1).lower()], freq="M")
    match = _QUARTER.match(text)
    if match and (match.group(2) is not None or calendar_years):
        start_year = _two_years(match.group(1), match.group(2), text)
        first = pd.Period(year=start_year, month=start_month, freq="M")
        return (first + 3 * (int(match.group(3)) - 1)).asfreq(quarter_freq)
    match = _YEAR.match(text)
    if match and (match.group(2) is not None or calendar_years):
        start_year = _two_years(match.group(1), match.group(2), text)
        return pd.Period(year=start_year, month=start_month, freq="M").asfreq(year_freq)
    example = "2023 Q1" if calendar_years else "2023/24 Q1"
    year_example = "2023" if calendar_years else "2023/24"
    raise ValueError(
        f"'{text}' is not a period: write a month (2017-08), a quarter ({example}), "
        f"a financial year ({year_example}) or a run of months (2017-06..2017-08)"
    )


def _parse_run(start_month: int, quarter_freq: str, year_freq: str, text: str) -> pd.Period:
    """``2017-06..2017-08``: the months from the first to the last, both included."""
    first_text, _, last_text = (part.strip() for part in text.partition(RANGE_SEPARATOR))
    ends = []
    for part in (first_text, last_text):
        try:
            end = _parse(start_month, quarter_freq, year_freq, part)
        except ValueError:
            end = None
        if end is None or end.freqstr != "M":
            raise ValueError(
                f"'{text}' is not a run of months: write its first and last months, "
                "2017-06..2017-08"
            )
        ends.append(end)
    return FiscalCalendar(start_month).run(ends[0], ends[1])


def distinct_periods(periods: Iterable[pd.Period] | pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes of a column of periods and its distinct periods (``None`` for a missing one),
    found from each period's frequency and ordinal: hashing a million ``Period`` objects
    one by one would take seconds."""
    if isinstance(periods, pd.Series) and isinstance(periods.dtype, pd.PeriodDtype):
        index = pd.PeriodIndex(periods)
        codes, ordinals = pd.factorize(index.asi8)
        freq = index.freqstr
        return codes, [pd.Period(ordinal=int(o), freq=freq) for o in ordinals]
    items = periods.tolist() if isinstance(periods, pd.Series) else list(periods)
    # A column's periods are mostly a few objects shared by many rows: each object once.
    same, objects = pd.factorize(np.fromiter(map(id, items), dtype=np.uint64, count=len(items)))
    first = np.empty(len(objects), dtype=np.int64)
    first[same] = np.arange(len(items))  # a row of each object (any: it is the same object)
    shown = [items[i] for i in first.tolist()]
    codes, distinct = _distinct_values(shown)
    return np.take(codes, same) if len(items) else same, distinct


def _distinct_values(items: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """:func:`distinct_periods` of a few periods, by value."""
    present = [p for p in items if isinstance(p, pd.Period)]
    if len(present) < len(items):  # missing periods: few tables have them, read one by one
        codes, uniques = pd.factorize(np.asarray(items, dtype=object), use_na_sentinel=False)
        return codes, [p if isinstance(p, pd.Period) else None for p in uniques.tolist()]
    freqs, names = pd.factorize(np.asarray([p.freqstr for p in items], dtype=object))
    ordinals = np.fromiter((p.ordinal for p in items), dtype=np.int64, count=len(items))
    codes, keys = pd.factorize(freqs.astype(np.int64) * (1 << 40) + ordinals + (1 << 39))
    kinds = names.tolist()
    return codes, [
        pd.Period(ordinal=int(key % (1 << 40) - (1 << 39)), freq=kinds[int(key >> 40)])
        for key in keys.tolist()
    ]


def period_column(items: np.ndarray) -> Any:
    """A column of periods (an object array) as pandas would type it, found from its
    distinct periods rather than period by period: of one frequency, a ``PeriodArray``
    (NaT for a missing period); of several, the object array itself."""
    codes, distinct = distinct_periods(items)
    freqs = {p.freqstr for p in distinct if p is not None}
    if len(freqs) != 1:
        return items
    missing = np.iinfo(np.int64).min  # pandas' NaT
    ordinals = np.array([missing if p is None else p.ordinal for p in distinct], dtype=np.int64)
    return pd.arrays.PeriodArray(np.take(ordinals, codes), dtype=pd.PeriodDtype(freqs.pop()))


def each_period(
    periods: Iterable[pd.Period] | pd.Series, work: Callable[[pd.Period], Any], dtype: Any
) -> np.ndarray:
    """``work`` of each period of a column, done once per distinct period."""
    codes, distinct = distinct_periods(periods)
    done = np.empty(len(distinct), dtype=dtype)
    done[:] = [work(p) for p in distinct]
    return np.take(done, codes)
