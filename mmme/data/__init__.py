"""The data model: annotations, streams, clocks, the on-disk store and the samples.

Examples
--------
>>> import mmme
>>> store = mmme.read_store("store")                                # doctest: +SKIP
>>> ses = store.session("S01")
>>> ep = ses.epochs("physio", store.annotations["onset_s"], -1.0, 3.0)
>>> samples = mmme.data.Samples.from_store(store, types=("ME",), label="emotion3")
"""

from mmme.data.annotations import ANNOTATION_COLUMNS
from mmme.data.samples import Samples
from mmme.data.store import Session, Store, Trial
from mmme.data.streams import FrameTable, SignalStream
from mmme.data.sync import ClockMap

__all__ = [
    "ANNOTATION_COLUMNS",
    "ClockMap",
    "FrameTable",
    "Samples",
    "Session",
    "SignalStream",
    "Store",
    "Trial",
]
