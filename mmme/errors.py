"""Exceptions that name the file, row, channel, device or marker at fault."""

from __future__ import annotations

from typing import Any


def _rebuild(cls: type[MMMEError], args: tuple[Any, ...], state: dict[str, Any]) -> MMMEError:
    """Unpickle an mmme error without calling its keyword-only ``__init__``."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class MMMEError(Exception):
    """Base class of every error mmme raises on bad input.

    Every subclass survives pickling (a worker process hands it back to the parent intact,
    message and fields), and :meth:`add_context` prefixes where it happened (the session, say)
    without changing its type.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))

    def add_context(self, where: str) -> MMMEError:
        """Prefix the message with ``where`` (e.g. ``"subject S01, session 1"``), once; returns
        ``self`` so that ``raise exc.add_context(...)`` keeps the traceback."""
        msg = str(self.args[0]) if self.args else ""
        if not msg.startswith(f"{where}: "):
            self.args = (f"{where}: {msg}", *self.args[1:])
        return self


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


class StoreFileError(StoreError):
    """One file of a store is missing or damaged; names the file and what is wrong with it."""

    def __init__(self, file: str, what: str) -> None:
        self.file, self.what = str(file), what
        super().__init__(f"{file}: {what}")


class StoreLockedError(StoreError):
    """Another process is writing the same store (its lock file names the PID)."""


class DiskFullError(StoreError):
    """Not enough free space to write a store; the partial store was removed."""
