"""The one error type the data builder raises for problems a user can fix."""

from __future__ import annotations


class DataBuildError(RuntimeError):
    """A missing tool, soundfont or bad argument; the message names the cause and the fix."""
