"""The main window's menus and keyboard shortcuts (Audacity/DAW conventions, see shared/design/UX.md).

Text fields keep their own keys: Qt gives plain keys (Space, digits, Delete) to a focused editor before any shortcut.
Keys that start or stop work are held to where they mean that: Enter continues only in the takes browser, Esc cancels
only in the job area, and none of them fires while a text field has the focus or a popup (a completion list) is open:
there the field or the popup gets the key. Space plays only where the focused widget has no use for it: a focused
button, check box or combo box gets its Space (:class:`ShortcutGuard`).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit,
                               QTextEdit, QWidget)

WORK_ACTIONS = ("generate", "continue", "upsample", "upsample_range", "regenerate", "resume",
                "cancel")  # start or stop a job (Join With... only opens its dialog: it works from anywhere)


def _action(window, menu, text: str, slot, shortcut=None, checkable: bool = False, tip: str = "",
            scope: tuple = ()) -> QAction:
    """A menu action; its shortcut works in the whole window, or only with the focus inside the ``scope`` widgets."""
    act = QAction(text, window)
    if shortcut:
        seqs = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
        act.setShortcuts([QKeySequence(s) for s in seqs])
        act.setShortcutContext(Qt.WidgetWithChildrenShortcut if scope else Qt.WindowShortcut)
    act.setCheckable(checkable)
    if tip:
        act.setStatusTip(tip)
    act.triggered.connect(slot)
    menu.addAction(act)
    for widget in scope or (window,):  # on the window: shortcuts work while the menu bar is hidden (full screen)
        widget.addAction(act)
    return act


def typing_focus() -> bool:
    """A text field (line edit, spin box, editable combo, lyrics) has the keyboard focus, or a popup is open."""
    if QApplication.activePopupWidget() is not None:
        return True
    focus = QApplication.focusWidget()
    if isinstance(focus, QComboBox):
        return focus.isEditable()
    return isinstance(focus, (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit))


def button_focus() -> bool:
    """A button, check box or combo box has the keyboard focus: Space presses, ticks or opens it."""
    return isinstance(QApplication.focusWidget(), (QAbstractButton, QComboBox))


class ShortcutGuard(QObject):
    """Gives a shortcut's key to the focused widget where that widget has its own use for it: a work shortcut's key
    (start or stop a job) to the text field or popup being typed in (Enter completes a name, Esc closes a completion
    list), Space to a focused button. Installed on the application; dies with its window."""

    def __init__(self, window: QWidget, work_actions: list, play_action: QAction):
        super().__init__(window)
        self.work_keys = _keys(work_actions)
        self.play_keys = _keys([play_action])
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.ShortcutOverride:
            return False
        combo = event.keyCombination()
        key = QKeySequence(combo.key() | (combo.keyboardModifiers() & ~Qt.KeypadModifier)).toString()
        if (key in self.work_keys and typing_focus()) or (key in self.play_keys and (typing_focus() or button_focus())):
            event.accept()  # no shortcut: the key goes to the focused widget or the popup as a key press
            return True
        return False


def _keys(actions: list) -> set:
    return {seq.toString() for act in actions for seq in act.shortcuts()}


def build_menus(w) -> dict:
    """Create every menu of MainWindow ``w``; returns the actions by name."""
    a = {}
    bar = w.menuBar()
    m = bar.addMenu("&File")
    a["new_project"] = _action(w, m, "&New Project...", w.new_project, QKeySequence.New)
    a["open_project"] = _action(w, m, "&Open Project...", w.open_project_dialog, QKeySequence.Open)
    w.recent_menu = m.addMenu("Open &Recent")
    a["save"] = _action(w, m, "&Save Project", w.save_project, QKeySequence.Save)
    m.addSeparator()
    a["export"] = _action(w, m, "&Export Audio...", w.export_dialog, "Ctrl+Shift+E")
    m.addSeparator()
    a["quit"] = _action(w, m, "&Quit", w.close, "Ctrl+Q")  # QKeySequence.Quit is empty where a desktop has no binding

    m = bar.addMenu("&Edit")
    a["undo"] = w.session.project.undo_stack.createUndoAction(w, "&Undo")
    a["undo"].setShortcuts([QKeySequence("Ctrl+Z")])
    a["redo"] = w.session.project.undo_stack.createRedoAction(w, "&Redo")
    a["redo"].setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for key in ("undo", "redo"):
        m.addAction(a[key])
        w.addAction(a[key])
    m.addSeparator()
    a["delete"] = _action(w, m, "&Delete Take", w.session.delete_current, QKeySequence.Delete,
                          tip="Move the selected take to the project's trash (undo restores it)", scope=(w.takes,))

    m = bar.addMenu("&Generate")
    a["generate"] = _action(w, m, "&Generate", w.generate, "Ctrl+Return")
    a["continue"] = _action(w, m, "&Continue Chosen", w.continue_chosen, ["Return", "Enter"], scope=(w.takes,))
    a["upsample"] = _action(w, m, "&Upsample Chosen", w.upsample_chosen, "Ctrl+U")
    a["upsample_range"] = _action(w, m, "Upsample Chosen in &Selected Range", lambda: w.upsample_chosen(True),
                                  "Ctrl+Shift+U")
    a["resume"] = _action(w, m, "&Resume Take", lambda: w.session.resume(w.session.project.current), "Ctrl+R")
    a["cancel"] = _action(w, m, "&Cancel Job", w.session.cancel, "Esc", scope=(w.progress, w.queue),
                          tip="Esc cancels while the job area (progress, queue) has the focus")
    m.addSeparator()
    a["run_target"] = _action(w, m, "Run Jobs &On...", w.open_run_target_dialog,
                              tip="Run jobs on this computer or on a Ray cluster (the render farm)")

    m = bar.addMenu("&Take")
    a["wide"] = _action(w, m, "Make &Wide Stereo Version", w.session.make_wide_selected,
                        tip="Upsample the chosen candidate twice with different seeds: one left, one right")
    w.takes.tree.addAction(a["wide"])  # the takes browser's context menu too
    a["regenerate"] = _action(w, m, "&Regenerate From Playhead", w.regenerate_from_playhead, "Ctrl+Shift+R",
                              tip="A new take: the chosen candidate kept up to the playhead (or the selected "
                                  "region's start), the rest sampled anew")
    a["join"] = _action(w, m, "&Join With...", w.join_with, "Ctrl+J",
                        tip="A new take: the chosen candidate up to a seam, then another take from a chosen time")
    w.takes.tree.addActions([a["regenerate"], a["join"]])

    m = bar.addMenu("&Transport")
    a["play"] = _action(w, m, "&Play / Pause", w.session.playback.toggle, "Space")
    a["stop"] = _action(w, m, "&Stop", w.session.playback.stop, "Ctrl+.")
    a["home"] = _action(w, m, "To &Start", w.session.playback.home, "Home")
    a["end"] = _action(w, m, "To &End", w.session.playback.end, "End")
    a["loop"] = _action(w, m, "&Loop Selection", w.transport.loop_button.toggle, "L")
    m.addSeparator()
    for i in range(9):
        a[f"candidate_{i + 1}"] = _action(w, m, f"Candidate {i + 1}", lambda _=False, i=i: w.session.pick_candidate(i),
                                          str(i + 1))

    m = bar.addMenu("&View")
    a["zoom_in"] = _action(w, m, "Zoom &In", lambda: w.zoom(0.5), ["Ctrl+1", "Ctrl+="])
    a["zoom_out"] = _action(w, m, "Zoom &Out", lambda: w.zoom(2.0), ["Ctrl+3", "Ctrl+-"])
    a["zoom_fit"] = _action(w, m, "Zoom to &Fit", w.zoom_fit, "Ctrl+F")
    a["zoom_sel"] = _action(w, m, "Zoom to &Selection", w.zoom_selection, "Ctrl+E")
    a["spectrogram"] = _action(w, m, "&Spectrogram", w.waveform.set_spectrogram, "Ctrl+T", checkable=True)
    a["presenter"] = _action(w, m, "&Presenter Mode", w.open_presenter, "F5",
                             tip="Play the project's takes as a playlist with synced lyrics and spectrogram")
    m.addSeparator()
    for dock in w.docks:
        m.addAction(dock.toggleViewAction())

    m = bar.addMenu("&Models")
    a["choose_model"] = _action(w, m, "&Choose Model Folder...", w.choose_model_folder)
    a["models_dialog"] = _action(w, m, "&Manage Models...", w.open_model_dialog)
    a["label_map"] = _action(w, m, "Artist and Genre &Map...", lambda: w.open_label_map(),
                             tip="The model's artists and genres laid out so similar ones lie close; click to use one")
    m.addSeparator()
    a["compile"] = _action(w, m, "Compile the Sampler's &Step", w.session.set_compile_step, checkable=True,
                           tip="Compile the decode step where a job is long enough to gain from it (the first "
                               "compile of a model takes a minute or so; later ones load from the cache). A "
                               "shorter job's steps are compiled in the background after it, for the next job")
    a["compile"].setChecked(w.session.compile_step)
    w.shortcut_guard = ShortcutGuard(w, [a[name] for name in WORK_ACTIONS], a["play"])
    return a
