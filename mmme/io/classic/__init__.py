"""Readers of the classic micro-expression data sets (clip and long-video forms).

Each module describes its data set as a :class:`~mmme.io.classic._base.ClassicFormat`;
:func:`import_classic` imports any of them, and each module's ``import_*`` function is that call
bound to its format by :func:`~mmme.io.classic._base.classic_importer` (documented by the module
docstring). :data:`FORMATS` maps the ``mmme import`` format names to the formats.
"""

from __future__ import annotations

from mmme.io.classic._base import ClassicFormat, classic_importer, import_classic
from mmme.io.classic.casme2 import CASME2, import_casme2
from mmme.io.classic.casme_2 import CASME_SQ, import_casme_sq
from mmme.io.classic.casme_3 import CASME_3, import_casme3
from mmme.io.classic.casme_3c import CASME_3C, import_casme3_c
from mmme.io.classic.fourdme import FOURDME, import_4dme
from mmme.io.classic.megc import MEGC2019_CLASSES, megc2019_summary, megc2019_table
from mmme.io.classic.mmew import MMEW, import_mmew
from mmme.io.classic.samm import SAMM, SAMM_LV, import_samm, import_samm_lv
from mmme.io.classic.smic import SMIC_E, import_smic_e

#: ``mmme import`` format name -> data set.
FORMATS: dict[str, ClassicFormat] = {
    "casme-ii": CASME2,
    "samm": SAMM,
    "samm-lv": SAMM_LV,
    "smic-e": SMIC_E,
    "cas-me-2": CASME_SQ,
    "cas-me-3": CASME_3,
    "cas-me-3-c": CASME_3C,
    "mmew": MMEW,
    "4dme": FOURDME,
}

__all__ = [
    "FORMATS",
    "MEGC2019_CLASSES",
    "ClassicFormat",
    "classic_importer",
    "import_4dme",
    "import_casme2",
    "import_casme3",
    "import_casme3_c",
    "import_casme_sq",
    "import_classic",
    "import_mmew",
    "import_samm",
    "import_samm_lv",
    "import_smic_e",
    "megc2019_summary",
    "megc2019_table",
]
