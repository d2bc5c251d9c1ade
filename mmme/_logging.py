"""One package logger with an MNE-style ``verbose`` switch."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

logger = logging.getLogger("mmme")
if not logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(levelname)s [mmme] %(message)s"))
    logger.addHandler(_handler)
    logger.setLevel(logging.WARNING)


def set_log_level(verbose: bool | str | int | None = None) -> None:
    """Set the package log level.

    Parameters
    ----------
    verbose : bool | str | int | None
        ``True`` means INFO, ``False``/``None`` means WARNING, a string or int is passed to
        :meth:`logging.Logger.setLevel` (e.g. ``"DEBUG"``).
    """
    if verbose is True:
        level: str | int = logging.INFO
    elif verbose is None or verbose is False:
        level = logging.WARNING
    else:
        level = verbose.upper() if isinstance(verbose, str) else verbose
    logger.setLevel(level)


@contextlib.contextmanager
def verbose_level(verbose: bool | str | int | None) -> Iterator[None]:
    """Within the block, log at ``verbose`` (as :func:`set_log_level`); ``None`` keeps the level.

    This is how a function's ``verbose`` argument reaches the logger (MNE's convention).
    """
    if verbose is None:
        yield
        return
    old = logger.level
    set_log_level(verbose)
    try:
        yield
    finally:
        logger.setLevel(old)


def mne_verbose(verbose: bool | str | int | None) -> bool | str | int:
    """MNE's log level for a call with mmme's ``verbose`` (MNE stays quiet unless asked)."""
    return "error" if verbose is None or verbose is False else verbose
