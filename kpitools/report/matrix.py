"""A row of the SPC summary matrix: one measure's variation and assurance beside its RAG and
latest value. The service's report builds it; its summary (read by batch workers, which load
no data library) and the council's overview page carry it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpitools.report.content import MeasureLine


@dataclass(frozen=True)
class MatrixRow:
    """One measure on the SPC summary matrix: its variation and assurance beside its RAG
    and latest value (the service's report and the council's overview share it)."""

    service: str
    measure_id: str
    title: str
    value: str  # the latest value as the report shows it
    period: str  # the period of that value
    rag: str
    variation: str
    side: str
    assurance: str

    @classmethod
    def of(cls, line: MeasureLine, service: str) -> MatrixRow:
        return cls(
            service=service,
            measure_id=line.measure_id,
            title=line.title,
            value=line.value_text,
            period=line.value_period,
            rag=line.rag,
            variation=line.variation,
            side=line.spc_side,
            assurance=line.assurance,
        )
