"""Where a signal stops a batch: the jobs and the board pack break off at once; a service's
folder being put in place and the manifest and overview are finished first."""

import os
import signal
import time

import pytest

from kpitools.batch.run import Interrupted, _signals_noted, _Stop


def signalled(name: signal.Signals = signal.SIGTERM) -> None:
    os.kill(os.getpid(), name)
    time.sleep(0.05)  # the handler runs in this (the main) thread between two steps


def test_a_signal_while_jobs_run_breaks_them_off_at_once():
    stop = _Stop()
    reached = []
    with _signals_noted(stop), pytest.raises(Interrupted), stop.breaks_off():
        signalled()
        reached.append("after")  # pragma: no cover - never reached
    assert stop.name == "SIGTERM" and reached == []


def test_a_signal_while_a_record_is_written_waits_for_it_then_stops():
    stop = _Stop()
    steps = []
    with _signals_noted(stop), pytest.raises(Interrupted), stop.breaks_off():
        with stop.held_off():
            signalled()
            steps.append("folder placed")
            signalled(signal.SIGINT)  # a second signal while stopping is ignored
            steps.append("outcome recorded")
        steps.append("next job")  # pragma: no cover - never reached
    assert steps == ["folder placed", "outcome recorded"]
    assert stop.name == "SIGTERM"


def test_a_signal_between_the_phases_is_noted_and_stops_the_next_one_before_it_starts():
    stop = _Stop()
    with _signals_noted(stop):
        signalled()  # while the manifest and overview are written: noted only
        assert stop.name == "SIGTERM"
        with pytest.raises(Interrupted), stop.breaks_off():
            pytest.fail("the board pack must not start after a stop")  # pragma: no cover


def test_the_handlers_before_the_batch_are_back_after_it():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with _signals_noted(_Stop()):
        assert signal.getsignal(signal.SIGTERM) not in before
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
