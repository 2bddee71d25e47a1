"""The states a service's report goes through in a batch."""

from __future__ import annotations

from enum import StrEnum


class ServiceStatus(StrEnum):
    """Where a service's report stands; the values are the manifest's words."""

    PENDING = "pending"  # planned, waiting for a worker
    RUNNING = "running"
    OK = "ok"  # built in this run
    SKIPPED = "skipped"  # up to date: inputs unchanged since its last successful run
    FAILED = "failed"
    NOT_RUN = "not run"  # the batch was stopped before it ran

    @property
    def has_report(self) -> bool:
        """Whether the service's published folder holds this run's report."""
        return self in (ServiceStatus.OK, ServiceStatus.SKIPPED)

    @property
    def words(self) -> str:
        """The status as the overview page writes it (a symbol and words)."""
        return _WORDS[self]


_WORDS = {
    ServiceStatus.PENDING: "Waiting",
    ServiceStatus.RUNNING: "Running",
    # Built now or kept from a run before: the same report, so the same words (the page is
    # the same bytes whichever run made it; the manifest and the command say which).
    ServiceStatus.OK: "✓ Up to date",
    ServiceStatus.SKIPPED: "✓ Up to date",
    ServiceStatus.FAILED: "⚠ Failed",
    ServiceStatus.NOT_RUN: "Not run",
}


class BatchEvent(StrEnum):
    """What a batch tells its progress display."""

    START = "start"  # planned: outcomes say what runs and what is skipped
    RUNNING = "running"  # services have started
    DONE = "done"  # one service finished (ok or failed)
