"""The Qt binding must not lose references to None/True/False: PySide6 6.12.0 did, and a long session then aborted
with "deallocating None" (each processEvents() and Signal.emit() dropped one reference)."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(bool)
    payload = Signal(object)


def test_process_events_and_emit_keep_reference_counts(qapp):
    received = []
    emitter = _Emitter()
    emitter.changed.connect(received.append)
    emitter.payload.connect(received.append)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(300):
        qapp.processEvents()
        emitter.changed.emit(True)
        emitter.payload.emit(None)
    received.clear()
    # A correct binding leaves both counts where they were, give or take a few references held elsewhere.
    assert abs(sys.getrefcount(None) - none_before) < 100, "this PySide6 leaks None references: use <6.12"
    assert abs(sys.getrefcount(True) - true_before) < 100, "this PySide6 leaks True references: use <6.12"
