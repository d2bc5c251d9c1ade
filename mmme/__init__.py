"""mmme: multimodal micro-expression research toolkit.

Synchronized face video, EEG and peripheral physiology with expression annotations,
from raw recordings to honest benchmarks.

Examples
--------
>>> import mmme
>>> store = mmme.read_store("store")                                # doctest: +SKIP
>>> samples = mmme.data.Samples.from_store(store)
>>> epochs = samples.epochs("eeg", -0.5, 1.5)
"""

from __future__ import annotations

import os

from mmme._logging import logger, set_log_level

__version__ = "0.1.0"

from mmme import data  # noqa: E402  (after __version__: the caches key on it)
from mmme.data import Store  # noqa: E402


def read_store(path: str | os.PathLike[str], verbose: bool | str | int | None = None) -> Store:
    """Open an mmme store, read-only and lazily (nothing but its index is read).

    Parameters
    ----------
    path : str | Path
        The store directory (made by ``mmme import`` or ``mmme synth``).
    verbose : bool | str | int | None
        mmme's log level for this call (as :func:`set_log_level`); ``None`` leaves it.

    Returns
    -------
    Store

    Raises
    ------
    mmme.errors.StoreError
        The directory is not a store or has an unknown format version.

    Examples
    --------
    >>> store = mmme.read_store("store")                            # doctest: +SKIP
    >>> store.sessions
    [('S01', '1'), ('S02', '1')]
    """
    from mmme._logging import verbose_level

    with verbose_level(verbose):
        st = Store(path)
        logger.info("opened %r", st)
    return st


__all__ = ["Store", "__version__", "data", "logger", "read_store", "set_log_level"]
