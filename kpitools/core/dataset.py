"""The loaded dataset: a council's validated data and the configuration it was read with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from kpitools.core.config import CouncilConfig
from kpitools.core.errors import Problem
from kpitools.core.periods import FiscalCalendar, Granularity

FRAMES = (
    "measures", "values", "targets", "comments", "actions", "benchmarks", "signoff", "decisions",
    "restatements",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Dataset:
    """A council's validated performance data, as the loader hands it on.

    Every frame holds clean, typed columns (enums as their words, periods as pandas
    ``Period``). Nothing is cached on a dataset or elsewhere from its frames: change a frame
    (``dataset.values.loc[...] = ...``) and the next :func:`kpitools.rate` or
    :func:`kpitools.build_cpr` rates the data as changed.

    Attributes:
        measures: the data dictionary, indexed by ``measure_id``.
        values: one row per measure per period (``period`` is a month, quarter or year).
        targets: time-varying targets as month ranges (``start``/``end`` are monthly periods).
        comments: commentary per service, quarter and (optionally) measure.
        actions: improvement-plan actions.
        benchmarks: peer values per measure and period.
        signoff: each service's sign-off steps per report period, in the order recorded.
        decisions: committees' follow-up decisions on exceptions.
        restatements: figures that changed since a report was published, by service and
            report period (the history store works them out; empty otherwise).
        config: the council configuration the data is rated with (its default tolerance
            applies to measures without their own).
        source: the data folder, where the data came from a folder.
        year_start_month: the financial year the periods were read with; a configuration
            with another year cannot be given to this dataset (load the data again).
        warnings: what the loader found worth a look that did not stop it (a value that
            disagrees with its numerator and denominator), by file and row.
    """

    measures: pd.DataFrame
    values: pd.DataFrame
    targets: pd.DataFrame
    comments: pd.DataFrame
    actions: pd.DataFrame
    benchmarks: pd.DataFrame
    config: CouncilConfig
    signoff: pd.DataFrame = field(default_factory=pd.DataFrame)
    decisions: pd.DataFrame = field(default_factory=pd.DataFrame)
    restatements: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: Path | None = None
    year_start_month: int = 4
    warnings: tuple[Problem, ...] = ()

    def __post_init__(self) -> None:
        if self.config.year_start_month != self.year_start_month:
            raise ValueError(
                f"the periods were read with a financial year starting in month "
                f"{self.year_start_month}, the configuration's starts in month "
                f"{self.config.year_start_month}: load the data with this configuration"
            )

    @property
    def calendar(self) -> FiscalCalendar:
        """The financial calendar the periods were read with."""
        return FiscalCalendar(self.year_start_month)

    def copy(self) -> Dataset:
        """A copy whose frames can be changed without touching this one."""
        return replace(self, **{name: getattr(self, name).copy() for name in FRAMES})

    @property
    def services(self) -> list[str]:
        """Service names in the order they first appear in the data dictionary."""
        return list(dict.fromkeys(self.measures["service"]))

    def latest_period(self, granularity: Granularity) -> pd.Period | None:
        """The latest month, quarter or year that is finished: the data reaches its last
        month (an unfinished period is reported only when it is asked for by name)."""
        latest = self.latest_month
        if latest is None:
            return None
        calendar = self.calendar
        period = calendar.containing(latest, granularity)
        if calendar.last_month(period) > latest:
            period = period - 1
        first = self.first_month
        if first is not None and calendar.last_month(period) < first:
            return None
        return period

    def months_reached(self, period: pd.Period) -> int:
        """How many of a period's months the data reaches (all of them once it is finished)."""
        latest = self.latest_month
        calendar = self.calendar
        first, last = calendar.first_month(period), calendar.last_month(period)
        if latest is None or latest < first:
            return 0
        return (min(latest, last) - first).n + 1

    def covers(self, period: pd.Period) -> bool:
        """Whether any month of ``period`` lies within the months the data covers."""
        first, latest = self.first_month, self.latest_month
        if first is None or latest is None:
            return False
        calendar = self.calendar
        return calendar.first_month(period) <= latest and calendar.last_month(period) >= first

    @property
    def first_month(self) -> pd.Period | None:
        """The first month the data covers, or ``None`` for an empty dataset."""
        if self.values.empty:
            return None
        calendar = self.calendar
        return min(calendar.first_month(p) for p in self.values["period"].unique())

    @property
    def latest_month(self) -> pd.Period | None:
        """The last month the data reaches, or ``None`` for an empty dataset.

        Annual results are left out where monthly or quarterly data exists: a year's label
        runs to its last month, which may lie beyond the data that has come in. Where there
        are annual results only, a part-year one reaches the last month it covers.
        """
        if self.values.empty:
            return None
        values = self.values
        # Placeholders for later months (pending or not expected, with no figure) do not
        # move how far the data reaches.
        placeholder = values["value"].isna() & values["status"].isin(["pending", "not_expected"])
        if not placeholder.all():
            values = values[~placeholder]
        finer = values.loc[values["granularity"] < int(Granularity.YEAR), "period"]
        calendar = self.calendar
        if not finer.empty:
            return max(calendar.last_month(p) for p in finer.unique())
        # Annual results only: a part-year figure ("1,918 (Q3)") reaches the end of what it
        # covers, not the end of its year.
        return max(
            calendar.first_month(p) + (int(c) if c == c else calendar.months(p)) - 1
            for p, c in zip(values["period"], values["coverage"].astype(float), strict=True)
        )


def rows_of(frame: pd.DataFrame) -> Iterator[Any]:
    """Each row of a checked frame as a named tuple (``row.measure_id``).

    The loader has typed every column already; pandas' type information cannot say which
    column holds which type, so rows are handed on loosely typed.
    """
    return iter(frame.itertuples(index=False))


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row of a checked frame as a dict keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
