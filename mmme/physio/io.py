"""Read one's own recording for ``mmme signals``.

The readers live in :mod:`mmme.io.signals`, shared with ``mmme import generic`` so that both read
a CSV, EDF or XDF file by the same rules; this module keeps the names physiology code uses.
"""

from __future__ import annotations

from mmme.io.signals import Recording, read_recording

__all__ = ["Recording", "read_recording"]
