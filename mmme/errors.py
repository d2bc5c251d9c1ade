"""Exceptions that name the file, row, channel, device or marker at fault."""

from __future__ import annotations


class MMMEError(Exception):
    """Base class of every error mmme raises on bad input."""


class InputError(MMMEError, ValueError):
    """Unreadable or inconsistent input; the message names file, sheet, row or channel.

    A :class:`ValueError` too, as scikit-learn and Python expect of bad input.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        sheet: str | None = None,
        channel: str | None = None,
    ) -> None:
        where = []
        if file is not None:
            where.append(f"file {file}")
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if channel is not None:
            where.append(f"channel {channel!r}")
        self.file, self.row, self.sheet, self.channel = file, row, sheet, channel
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class SyncError(MMMEError):
    """Markers of a device cannot be matched to the reference device."""

    def __init__(self, message: str, *, device: str, marker: int | None = None) -> None:
        self.device, self.marker = device, marker
        super().__init__(f"device {device!r}: {message}")


class StoreError(MMMEError):
    """A store is missing, of an unknown version, or damaged."""
