"""Errors a user can cause while finding, fetching or sizing models.

Each one carries the cause and the fix, so the CLI and the dialog can show one clear message without a traceback.
"""

from __future__ import annotations


class ModelStoreError(Exception):
    """Base class: ``str(err)`` is ``"<cause>. Fix: <fix>"``."""

    def __init__(self, cause: str, fix: str = ""):
        self.cause = cause
        self.fix = fix
        super().__init__(f"{cause}. Fix: {fix}" if fix else cause)


class UnknownModelError(ModelStoreError):
    """A model name that is neither official nor a discovered folder."""


class LicenceNotAccepted(ModelStoreError):
    """A download of licensed weights was asked for before the licence was accepted."""


class OfflineError(ModelStoreError):
    """The server could not be reached at all (DNS failure, connection refused, timeout)."""


class DownloadError(ModelStoreError):
    """The server answered, but not with the file (HTTP error, bad range reply)."""


class DownloadInterrupted(ModelStoreError):
    """The transfer stopped part-way; the ``.part`` file is kept so the next run resumes."""

    def __init__(self, cause: str, fix: str = "", done: int = 0, total: int | None = None):
        super().__init__(cause, fix)
        self.done = done
        self.total = total


class DownloadCancelled(ModelStoreError):
    """The user cancelled; the ``.part`` file is kept so the next run resumes."""


class DiskSpaceError(ModelStoreError):
    """Not enough free disk space for what is left to download (checked before any transfer starts)."""

    def __init__(self, cause: str, fix: str = "", need: int = 0, free: int = 0):
        super().__init__(cause, fix)
        self.need = need
        self.free = free


class ChecksumError(ModelStoreError):
    """A file's sha256 differs from the one recorded in the manifest (or pinned for the upstream tables)."""


class ManifestError(ModelStoreError):
    """A manifest.json that cannot be read."""


class InsufficientMemoryError(ModelStoreError):
    """A model level cannot fit in the memory available, at any batch size and dtype asked for."""

    def __init__(self, cause: str, fix: str = "", need: int = 0, available: int = 0):
        super().__init__(cause, fix)
        self.need = need
        self.available = available


def human_bytes(n: float) -> str:
    """``1536 -> '1.5 KB'``; decimal units, as disk and download tools show them."""
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
