"""One package logger with an MNE-style ``verbose`` switch."""

from __future__ import annotations

import logging

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
