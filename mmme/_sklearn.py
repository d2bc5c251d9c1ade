"""scikit-learn tags for mmme's estimators whose input is not a 2-D table.

scikit-learn's :class:`~sklearn.utils.InputTags` knows 2-D and 3-D arrays; the face features
take *ragged* input (clips of different lengths), declared by :class:`RaggedInputTags`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sklearn.utils import InputTags


@dataclasses.dataclass
class RaggedInputTags(InputTags):
    """:class:`~sklearn.utils.InputTags` plus ``ragged``: samples may differ in shape."""

    ragged: bool = False


def non_tabular_tags(tags: Any, *, ragged: bool, allow_nan: bool = True) -> Any:
    """Declare 3-D (or ragged) input only: not a 2-D table, no target needed."""
    fields = {f.name: getattr(tags.input_tags, f.name)
              for f in dataclasses.fields(InputTags)}
    tags.input_tags = RaggedInputTags(**fields, ragged=ragged)
    tags.input_tags.two_d_array = False
    tags.input_tags.three_d_array = True
    tags.input_tags.allow_nan = allow_nan
    tags.target_tags.required = False
    tags.requires_fit = True
    return tags
