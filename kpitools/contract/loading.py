"""Loading a data folder into a validated :class:`~kpitools.core.dataset.Dataset`.

One way in, for every command, the batch and the notebook: ``load(path, config=config)``.
The council configuration decides how the data is read (the financial year) and rated (the
default tolerance), so the same folder and configuration give the same dataset everywhere.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path

import pandas as pd

from kpitools.contract import validation
from kpitools.contract.config_file import check_names
from kpitools.contract.tables import (
    ALL_FILES,
    REQUIRED_FILES,
    RawTable,
    find_input,
    input_files,
    read_table,
    stem_of,
)
from kpitools.contract.validation import SPECS, Context, check_table
from kpitools.core.config import CouncilConfig
from kpitools.core.dataset import Dataset
from kpitools.core.errors import Problem, ValidationError
from kpitools.core.periods import FiscalCalendar

# A batch worker's kernel runs one notebook per service on the same folder: each folder is
# parsed once. The key is the input files' bytes and the configuration, and every caller gets
# its own deep copy, so neither an edit to a returned dataset nor a changed file can make a
# later load differ from a fresh one.
_PARSED: OrderedDict[str, Dataset] = OrderedDict()
_PARSED_SIZE = 2


def load(path: str | Path, *, config: CouncilConfig | None = None) -> Dataset:
    """Read and validate a council's data folder.

    Args:
        path: folder holding ``measures`` and ``values`` (and optional ``targets``,
            ``comments``, ``actions``, ``benchmarks``) as ``.csv`` or ``.xlsx``.
        config: the council configuration (see :func:`kpitools.load_config`); its
            financial-year start and default tolerance apply. Defaults when None.

    Returns:
        The dataset, every frame typed and checked, carrying ``config``.

    Raises:
        ValidationError: listing every problem of every file; nothing is returned then.
    """
    config = config or CouncilConfig.defaults()
    folder = Path(path)
    if not folder.is_dir():
        raise ValidationError([Problem(str(folder), None, "", "is not a folder of data files")])
    key = _input_key(folder.resolve(), config)
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = _parse(folder, config)
        _PARSED[key] = parsed
        while len(_PARSED) > _PARSED_SIZE:
            _PARSED.popitem(last=False)
    return parsed.view()


def clear_parsed() -> None:
    """Forget the folders parsed so far (the next load parses again; for benchmarks)."""
    _PARSED.clear()


def _input_key(folder: Path, config: CouncilConfig) -> str:
    """A hash of the folder, its input files (names and bytes) and the configuration."""
    digest = hashlib.sha256(f"{folder}\0{config.model_dump_json()}".encode())
    for path in input_files(folder):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _parse(folder: Path, config: CouncilConfig) -> Dataset:
    problems: list[Problem] = []
    tables: dict[str, RawTable | None] = {}
    for name in ALL_FILES:
        found, find_problems = find_input(folder, name)
        problems += find_problems
        if found is None:
            if name in REQUIRED_FILES and not find_problems:
                problems.append(Problem(f"{name}.csv", None, "", "is missing: it is required"))
            tables[name] = None
            continue
        table, read_problems = read_table(found, SPECS[name].required)
        problems += read_problems
        tables[name] = table

    context = Context(FiscalCalendar(config.year_start_month), config=config)
    warnings: list[Problem] = []
    measures, checked = _check(tables["measures"], "measures", context, warnings)
    problems += checked
    measures = measures.set_index("measure_id")
    if tables["measures"] is None or (measures.empty and problems):
        # Without a data dictionary nothing else can be checked: report what was found so far.
        raise ValidationError(_in_file_order(problems))
    problems += check_names(config, measures)
    context = Context(context.calendar, measures, config=config)
    frames: dict[str, pd.DataFrame] = {}
    for name in ALL_FILES[1:]:
        frames[name], checked = _check(tables[name], name, context, warnings)
        problems += checked
        if name == "targets":
            problems += validation.check_threshold_levels(
                measures, frames["targets"], tables["measures"].file
            )
    if problems:
        raise ValidationError(_in_file_order(problems))
    return Dataset(
        measures=measures,
        config=config,
        source=folder,
        year_start_month=config.year_start_month,
        warnings=tuple(_in_file_order(warnings)),
        **frames,
    )


def _check(
    table: RawTable | None, name: str, context: Context, warnings: list[Problem]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check a table, or give an empty frame when the file is absent or unreadable; its
    warnings are added to ``warnings``."""
    spec = SPECS[name]
    if table is None:
        return spec.empty(), []
    frame, problems, found = check_table(table, spec, context)
    warnings += found
    return frame, problems


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems file by file in the order of the contract (measures first), rows in order."""
    rank = {name: i for i, name in enumerate(ALL_FILES)}
    return sorted(problems, key=lambda p: rank.get(stem_of(p.file), len(ALL_FILES)))
