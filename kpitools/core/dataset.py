"""The loaded dataset: a council's validated data and the configuration it was read with."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype
from pandas.core.dtypes.cast import maybe_box_native  # type: ignore[attr-defined]  # to_dict's own

from kpitools.core.config import CouncilConfig
from kpitools.core.errors import Problem
from kpitools.core.periods import FiscalCalendar, Granularity, calendar_for

_T = TypeVar("_T")

RATED_FROM = ("measures", "values", "targets")
"""The frames ratings and SPC are worked out from (with the configuration, which cannot
change)."""
_EVERY_REPORT = ("every report",)  # in a memo: every service's report is coming

FRAMES = (
    "measures", "values", "targets", "comments", "actions", "benchmarks", "signoff", "decisions",
    "restatements",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Dataset:
    """A council's validated performance data, as the loader hands it on.

    Every frame holds clean, typed columns (enums as their words, periods as pandas
    ``Period``). What is worked out from the frames once for the whole council (the ratings
    every service's report starts from) is remembered with the frames it came from and used
    again only while they are unchanged: change a frame (``dataset.values.loc[...] = ...``)
    and the next :func:`kpitools.rate` or :func:`kpitools.build_cpr` rates the data as
    changed.

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
    _memo: dict[Any, tuple[_Stamp, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

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
        return calendar_for(self.year_start_month)

    def copy(self) -> Dataset:
        """A copy whose frames can be changed without touching this one."""
        return replace(self, **{name: getattr(self, name).copy() for name in FRAMES})

    def view(self) -> Dataset:
        """A copy that shares this one's memory and what it has worked out.

        pandas copies a column on write (copy-on-write), so changing the view's frames leaves
        this dataset's alone, and what was worked out from the old frames is not used for
        the new ones.
        """
        shared = replace(self, **{name: getattr(self, name).copy(deep=False) for name in FRAMES})
        object.__setattr__(shared, "_memo", self._memo)
        return shared

    def remembered(self, key: Any, work: Callable[[], _T], frames: tuple[str, ...]) -> _T:
        """``work()``, done once while ``frames`` (names of this dataset's frames) hold the
        data they held when it was done. Callers must not change what it returns."""
        if not copy_on_write():
            return work()  # an edit in place could not be told: nothing is remembered
        now, where = _places(self, frames)
        kept = self._memo.get(key)
        if kept is not None and kept[0].matches(where):
            return kept[1]  # type: ignore[no-any-return]
        stamp = _Stamp.of(now, where)  # (before the work: the frames as it found them)
        result = work()
        self._memo[key] = (stamp, result)
        return result

    def asked_before(self, key: Any, frames: tuple[str, ...]) -> bool:
        """Whether the work ``key`` names was asked for before while ``frames`` held the data
        they hold now (or was done); notes that it now has been. Work for the whole council
        pays only when a second report asks for it: the first (a run of one service) does
        only its own part - unless every service's report is coming
        (:meth:`expect_every_report`)."""
        if _EVERY_REPORT in self._memo:
            return True
        now, where = _places(self, frames)
        for seen in (self._memo.get(key), self._memo.get(("asked", key))):
            if seen is not None and seen[0].matches(where):
                return True
        self._memo[("asked", key)] = (_Stamp.of(now, where), True)
        return False

    def expect_every_report(self) -> None:
        """Say that every service's report is coming (a batch's kernels): work for the whole
        council is then done at its first ask, not its second. Shared with this dataset's
        views."""
        self._memo[_EVERY_REPORT] = (None, True)  # type: ignore[assignment]

    @property
    def services(self) -> list[str]:
        """Service names in the order they first appear in the data dictionary."""
        found = self.remembered(
            ("services",),
            lambda: tuple(dict.fromkeys(values_of(self.measures["service"]))),
            ("measures",),
        )
        return list(found)

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
        return self.remembered("first_month", self._first_month, ("values",))

    def _first_month(self) -> pd.Period | None:
        if self.values.empty:
            return None
        calendar = self.calendar
        return min(calendar.first_month(p) for p in self.values["period"].unique())

    @property
    def latest_month(self) -> pd.Period | None:
        """The last month the data reaches, or ``None`` for an empty dataset.

        Annual results are left out where monthly or quarterly data exists: a year's label
        runs to its last month, which may lie beyond the data that has come in. Where there
        are annual results only, a part-year one reaches the last month it covers. Worked
        out once while the values are unchanged (every report asks it several times).
        """
        return self.remembered("latest_month", self._latest_month, ("values",))

    def _latest_month(self) -> pd.Period | None:
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
    """Each row of a checked frame as a named tuple (``row.measure_id``): what
    ``frame.itertuples(index=False)`` gives, a column at a time rather than a cell at a time.

    The loader has typed every column already; pandas' type information cannot say which
    column holds which type, so rows are handed on loosely typed.
    """
    if frame.shape[1] == 0:
        return iter(frame.itertuples(index=False))
    row = _row_type(tuple(str(c) for c in frame.columns))
    return map(row._make, zip(*_columns(frame), strict=True))


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row of a checked frame as a dict keyed by column name: what
    ``frame.to_dict("records")`` gives (Python scalars), a column at a time."""
    if frame.shape[1] == 0:
        return [{} for _ in range(len(frame))]
    names = [str(c) for c in frame.columns]
    # pandas makes Python scalars of an object or extension column's values (as it does);
    # text with NaN for missing is text and floats already, left as it is.
    boxed = [
        (dtype == np.dtype(object) or isinstance(dtype, ExtensionDtype))
        and not (isinstance(dtype, pd.StringDtype) and dtype.na_value is not pd.NA)
        for dtype in frame.dtypes
    ]
    columns = [
        [maybe_box_native(v) for v in values] if box else values
        for box, values in zip(boxed, _columns(frame), strict=True)
    ]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Each column's values as a list (:func:`values_of`)."""
    return [values_of(column) for _, column in frame.items()]


def groups_of(ids: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Rows grouped by their id, the groups in order of first appearance and each group's
    rows in their order: each row's group number (-1 for a missing id), the ids, the rows'
    positions group after group, and where each group's positions start and end among
    them (group ``k``: ``bounds[k]`` to ``bounds[k + 1]``; rows without an id come before
    ``bounds[0]``)."""
    codes, uniques = pd.factorize(ids, sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1)).tolist()
    return codes, uniques, order, bounds


def values_of(column: pd.Series | pd.Index) -> list[Any]:
    """A column's values as a list, as iterating the column gives them (numbers and booleans
    as Python's, text as its strings and missing marks), a column at a time."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return column.to_numpy().tolist()
    if isinstance(dtype, pd.StringDtype):
        return column.to_numpy(dtype=object).tolist()
    return list(column)


@lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Pandas", names, rename=True)  # itertuples' own type


_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


def copy_on_write() -> bool:
    """Whether pandas copies a column before writing to it, which is how a remembered result
    tells a frame edited in place (:class:`_Stamp`): always from pandas 3, which kpitools
    requires; with an older pandas installed regardless, only when its option is on."""
    return _PANDAS_3 or pd.get_option("mode.copy_on_write") is True


def _places(dataset: Dataset, names: tuple[str, ...]) -> tuple[tuple[pd.DataFrame, ...], Any]:
    """A dataset's frames of these names, and where each lives (:func:`_where`)."""
    frames = tuple(getattr(dataset, name) for name in names)
    return frames, tuple(_where(f) for f in frames)


@dataclass(frozen=True, eq=False)
class _Stamp:
    """Where each column of some frames lives in memory, and shallow copies of the frames.

    The copies keep the memory alive (no other array can take its address) and make pandas
    copy a column before writing to it (copy-on-write, always on from pandas 3, which
    kpitools requires), so a frame that has changed in any
    way - a value written, a row or column added or dropped, the frame replaced - no longer
    matches its stamp. A column whose memory cannot be located never matches.
    """

    frames: tuple[pd.DataFrame, ...]
    where: tuple[Any, ...]

    @classmethod
    def of(cls, frames: tuple[pd.DataFrame, ...], where: tuple[Any, ...]) -> _Stamp:
        """The stamp of ``frames``, whose places (:func:`_where`) are ``where``."""
        return cls(tuple(f.copy(deep=False) for f in frames), where)

    def matches(self, where: tuple[Any, ...]) -> bool:
        """Whether frames in these places are the frames stamped, unchanged."""
        return self.where == where and None not in where


def _where(frame: pd.DataFrame) -> Any:
    """A frame's shape, labels and the addresses of its columns' memory (None if unknown)."""
    index = frame.index
    places: list[Any] = [
        frame.shape,
        tuple(values_of(frame.columns)),
        (index.start, index.stop, index.step)
        if isinstance(index, pd.RangeIndex)
        else _address(index.array),
    ]
    blocks = getattr(getattr(frame, "_mgr", None), "blocks", None)
    if blocks is not None:  # pandas' blocks: each one's memory and the columns it holds
        for block in blocks:
            memory = _address(block.values)
            held = block.mgr_locs.indexer
            columns = (
                (held.start, held.stop, held.step)
                if isinstance(held, slice)
                else tuple(np.asarray(held).tolist())
            )
            places.append(None if memory is None else (memory, columns))
    else:  # column by column (a Series each: slower)
        places += [_address(frame[name].array) for name in frame.columns]
    return None if None in places else tuple(places)


def _address(array: Any) -> tuple[Any, ...] | None:
    data = getattr(array, "_ndarray", None)  # numpy-backed pandas arrays (periods, text)
    if data is None and isinstance(array, np.ndarray):
        data = array
    if data is None:
        for part in ("_data", "_codes"):  # masked and categorical arrays
            data = getattr(array, part, None)
            if isinstance(data, np.ndarray):
                break
        else:
            return None
    interface = data.__array_interface__
    return (interface["data"][0], interface["shape"], interface["strides"])
