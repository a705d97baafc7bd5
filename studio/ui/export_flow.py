"""Export from the window: the dialog, then export_take off nothing slow (one file write), then one message."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from studio.audio.export import ExportError, ExportResult
from studio.state.export_job import export_take
from studio.ui.export_dialog import ExportDialog


def export_current(window, candidate: int, level: Optional[int], path: str, fmt: Optional[str]) -> Optional[ExportResult]:
    """Export the selected take's candidate; errors become one message, and nothing is written on failure."""
    take = window.session.take
    if take is None:
        window.show_error("Select a take to export (the takes browser, right).")
        return None
    try:
        result = export_take(take.summary.path, candidate, level, path, fmt)
    except (ExportError, ValueError) as exc:
        window.show_error(str(exc))
        return None
    note = f" {result.note}" if result.note else ""
    window.statusBar().showMessage(f"Exported {result.path.name} with its recipe ({result.sidecar.name}).{note}", 10000)
    window.settings.setValue("export/folder", str(Path(result.path).parent))
    return result


def run_export_dialog(window) -> Optional[ExportResult]:
    take = window.session.take
    if take is None:
        window.show_error("Select a take to export (the takes browser, right).")
        return None
    if not take.audio:
        window.show_error(f"Take {take.summary.name} has no audio yet: let it finish (or Resume it), then export.")
        return None
    folder = window.settings.value("export/folder") or str(Path.home())
    dlg = ExportDialog(take.summary.name, take.summary.n_candidates, list(take.audio), window.session.candidate,
                       folder, window)
    if not dlg.exec():
        return None
    return export_current(window, *dlg.choice())
