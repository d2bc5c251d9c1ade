"""mmme: multimodal micro-expression research toolkit.

Synchronized face video, EEG and peripheral physiology with expression annotations,
from raw recordings to honest benchmarks.
"""

from mmme._logging import logger, set_log_level

__version__ = "0.1.0"

__all__ = ["__version__", "logger", "set_log_level"]
