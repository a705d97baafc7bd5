"""Export from the window: the dialog (with the project's remembered choices), export_take (file writes only), then
one status message naming the file, or one error message."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt

from studio.audio.export import ExportError
from studio.audio.mastering import ExportOptions
from studio.state.export_job import TakeExport, export_take, lyric_alignment
from studio.state.export_settings import DEFAULT_SUBFOLDER, load_export_settings, save_export_settings, with_folder
from studio.ui.export_dialog import ExportChoice, ExportDialog


def export_message(result: TakeExport) -> str:
    """The status line after an export: the full path of the file, then what went beside it and any notes."""
    extras = [f"recipe in {result.audio.sidecar.name}"] + ([f"lyrics in {result.lrc.name}"] if result.lrc else [])
    return f"Exported {result.path} ({', '.join(extras)})." + (f" {result.note}" if result.note else "")


def export_current(window, candidate: int, level: Optional[int], path: str, fmt: Optional[str],
                   options: Optional[ExportOptions] = None, lyrics: bool = False) -> Optional[TakeExport]:
    """Export the selected take's candidate (0-based); errors become one message, and nothing is written on failure.

    ``options`` None writes the take's audio as recorded (see export_take).
    """
    take = window.session.take
    if take is None:
        window.show_error("Select a take to export (the takes browser, right).")
        return None
    try:
        result = export_take(take.summary.path, candidate, level, path, fmt, options, lyrics)
    except (ExportError, ValueError) as exc:
        window.show_error(str(exc))
        return None
    window.statusBar().showMessage(export_message(result), 15000)
    return result


def export_dialog_for(window) -> Optional[ExportDialog]:
    """The export dialog for the selected take, filled with the project's remembered choices (None: one message)."""
    take, project = window.session.take, window.session.project.project
    if take is None or project is None:
        window.show_error("Select a take to export (the takes browser, right).")
        return None
    if not take.audio:
        window.show_error(f"Take {take.summary.name} has no audio yet: let it finish (or Resume it), then export.")
        return None
    settings = load_export_settings(project.folder)
    candidate = window.session.candidate
    return ExportDialog(take.summary.name, take.summary.n_candidates, list(take.audio), candidate, settings,
                        settings.folder_in(project.folder), take.sr,
                        lyric_alignment(take.summary.path, candidate) is not None, window, take.summary.kind)


def export_chosen(window, choice: ExportChoice) -> Optional[TakeExport]:
    """Export what the dialog chose and remember the choices (folder included) in the project."""
    project = window.session.project.project
    if project is not None and choice.path.parent == Path(project.folder) / DEFAULT_SUBFOLDER:
        try:
            choice.path.parent.mkdir(exist_ok=True)  # the project's own exports folder; others must exist
        except OSError as err:
            window.show_error(f"Cannot create '{choice.path.parent}': {err.strerror or err}. Choose another folder.")
            return None
    result = export_current(window, choice.candidate, choice.level, str(choice.path), choice.settings.fmt,
                            choice.settings.options, choice.lyrics)
    if result is not None and project is not None:
        problem = save_export_settings(project.folder, with_folder(choice.settings, choice.path.parent,
                                                                   project.folder))
        if problem:
            window.show_error(problem)
    return result


def run_export_dialog(window) -> Optional[ExportDialog]:
    """Open the export dialog (window-modal, not blocking); Export writes the file and remembers the choices."""
    dlg = export_dialog_for(window)
    if dlg is None:
        return None
    dlg.setAttribute(Qt.WA_DeleteOnClose)
    dlg.accepted.connect(lambda: export_chosen(window, dlg.choice()))
    dlg.open()
    return dlg
