"""Tell the user a run of jobs ended while they were elsewhere: the taskbar entry asks for attention and, where the
desktop has a notification area, a notification says which takes are done."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSystemTrayIcon


class Notifier:
    def __init__(self, window):
        self.window = window
        self.tray = None
        self.shown: list[str] = []  # every notification text, newest last (the status bar shows it too)

    def notify(self, title: str, text: str) -> None:
        self.shown.append(text)
        self.window.statusBar().showMessage(f"{title}: {text}", 15000)
        if self.window.isActiveWindow():
            return
        QApplication.alert(self.window, 0)  # flashes the taskbar entry until the window is activated
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self.tray is None:
                self.tray = QSystemTrayIcon(self.window.windowIcon(), self.window)
                self.tray.setToolTip("Jukebox Studio")
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.Information, 10000)
