"""Known answers for the annotation table: the ME rule at its boundaries, AU spellings, ms().

The boundary times are chosen where binary floating point bites: ``2.011 - 1.511`` is
``0.5000000000000002`` (a float comparison with 0.5 calls an exact 500 ms MaE) and
``1.501 - 1.0`` is ``0.5009999999999999`` (truncating to whole ms calls 501 ms an ME).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mmme.data.annotations import (
    ActionUnit,
    base_aus,
    format_aus,
    has_flag,
    make_annotations,
    me_rule,
    ms,
    parse_au,
    parse_aus,
)

# (onset, apex, offset, expected): coded seconds with 3 decimals, as in the coding files
ME_BOUNDARY_CASES = [
    # onset -> offset exactly 500 ms at non-zero onsets (apex late, so only the total decides)
    (10.123, 10.5, 10.623, "ME"),
    (1.511, 1.9, 2.011, "ME"),  # 0.5000000000000002 s in floats
    (4321.511, 4321.9, 4322.011, "ME"),  # late in a 73-min session
    # 501 ms: one ms over
    (10.123, 10.5, 10.624, "MaE"),
    (1.0, 1.4, 1.501, "MaE"),  # 0.5009999999999999 s in floats
    (3600.001, 3600.4, 3600.502, "MaE"),  # 0.500999999999749 s in floats
    (4321.0, 4321.4, 4321.501, "MaE"),
    # onset -> apex exactly 250 ms with a long offset
    (3600.123, 3600.373, 3601.9, "ME"),
    (1.777, 2.027, 2.9, "ME"),  # 0.2500000000000002 s in floats
    (3600.777, 3601.027, 3602.0, "ME"),
    # 251 ms rise
    (1.777, 2.028, 2.9, "MaE"),
    (1.0, 1.251, 2.0, "MaE"),  # 0.2509999999999999 s in floats
    # both criteria fail / hold
    (12.09, 12.68, 12.68, "MaE"),  # real sample row: 590 ms, apex = offset
    (7.25, 7.3, 7.6, "ME"),
]


@pytest.mark.parametrize(("on", "ap", "off", "typ"), ME_BOUNDARY_CASES)
def test_me_rule_boundaries_at_nonzero_onsets(on, ap, off, typ):
    assert me_rule(on, ap, off) == typ


@pytest.mark.parametrize(("on", "ap", "off", "typ"), ME_BOUNDARY_CASES)
def test_make_annotations_applies_the_rule_on_relative_and_common_times(on, ap, off, typ):
    rel = make_annotations([{"onset_rel_s": on, "apex_rel_s": ap, "offset_rel_s": off}])
    common = make_annotations([{"onset_s": on, "apex_s": ap, "offset_s": off}])
    assert rel["type_rule"].iloc[0] == typ and rel["type"].iloc[0] == typ
    assert common["type_rule"].iloc[0] == typ


def test_me_rule_missing_offset_or_apex_leaves_that_criterion_out():
    assert me_rule(5.0, 5.25, None) == "ME"
    assert me_rule(5.0, 5.251, None) == "MaE"
    assert me_rule(5.0, None, 5.5) == "ME"
    assert me_rule(5.0, None, 5.501) == "MaE"
    assert me_rule(5.0, float("nan"), 5.501) == "MaE"
    assert me_rule(5.0, 5.3, float("nan")) == "MaE"
    assert me_rule(5.0, None, None) == "MaE"


@pytest.mark.parametrize(
    ("seconds", "whole_ms"),
    [
        (0.0625, 63),  # 62.5 ms exactly in binary: half rounds away from zero
        (-0.0625, -63),
        (0.1875, 188),
        (-0.1875, -188),
        (0.0624, 62),
        (0.5, 500),
        (0.4999999999999998, 500),
        (0.5009999999999999, 501),
        (0.0, 0),
        (-0.001, -1),
        (73 * 60.0 + 0.0625, 4380063),
    ],
)
def test_ms_rounds_half_away_from_zero(seconds, whole_ms):
    assert ms(seconds) == whole_ms
    assert isinstance(ms(seconds), int)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("L10+R10", (ActionUnit(10, "L"), ActionUnit(10, "R"))),  # bilateral: two sides kept
        ("L10 + R10", (ActionUnit(10, "L"), ActionUnit(10, "R"))),
        ("R10+L10", (ActionUnit(10, "R"), ActionUnit(10, "L"))),  # order kept
        ("L10+L10", (ActionUnit(10, "L"),)),  # a repeat is dropped
        ("AU10+L10", (ActionUnit(10), ActionUnit(10, "L"))),
        ("L12A+R12C", (ActionUnit(12, "L", "A"), ActionUnit(12, "R", "C"))),
        ("12b", (ActionUnit(12, None, "B"),)),  # lower-case intensity
        ("AU4(R)", (ActionUnit(4, "R"),)),
        ("au 4 ( l )", (ActionUnit(4, "L"),)),
        ("R-AU14", (ActionUnit(14, "R"),)),
        ("AU L10", (ActionUnit(10, "L"),)),  # side after "AU"
        ("AU R12B+AU L12B", (ActionUnit(12, "R", "B"), ActionUnit(12, "L", "B"))),
        ("r 12 e", (ActionUnit(12, "R", "E"),)),
        ("AU1+2+4", (ActionUnit(1), ActionUnit(2), ActionUnit(4))),
        ("AU1; AU2/AU4 & AU5", (ActionUnit(1), ActionUnit(2), ActionUnit(4), ActionUnit(5))),
        ("AU6\u3001AU12", (ActionUnit(6), ActionUnit(12))),  # CJK comma of the CAS(ME) sheets
        ("AU43E", (ActionUnit(43, None, "E"),)),
        ("100", (ActionUnit(100),)),
        (float("nan"), ()),
        (None, ()),
        ("?", ()),
        ("  ", ()),
    ],
)
def test_parse_aus_known_forms(text, expected):
    assert parse_aus(text) == expected


@pytest.mark.parametrize(
    ("text", "canonical", "bases"),
    [
        ("L10+R10", "L-AU10+R-AU10", ["AU10", "AU10"]),
        ("AU4, L12B", "AU4+L-AU12B", ["AU4", "AU12"]),
        ("1+2+R4C", "AU1+AU2+R-AU4C", ["AU1", "AU2", "AU4"]),
    ],
)
def test_canonical_text_and_base_names(text, canonical, bases):
    aus = parse_aus(text)
    assert format_aus(aus) == canonical
    assert parse_aus(canonical) == aus
    assert base_aus(canonical) == bases


def test_parse_au_single_token_and_its_errors():
    assert parse_au("L-AU10") == ActionUnit(10, "L")
    assert parse_au("AU12B") == ActionUnit(12, None, "B")
    assert str(ActionUnit(10, "R", "D")) == "R-AU10D"
    assert ActionUnit(12, "L", "B").base == "AU12"
    # laterality as a suffix is a real spelling (SAMM/MMEW "12L"), not an error
    assert parse_au("AU10L") == ActionUnit(10, "L")
    for bad in ("AU", "L", "AU12BB", "AU1234", "12+"):
        with pytest.raises(ValueError):
            parse_au(bad)
    for bad in ("AU4 blink", "AU4,, x", "AU10X"):
        with pytest.raises(ValueError, match="not an action unit"):
            parse_aus(bad)


def test_make_annotations_from_frames_at_200_fps():
    df = make_annotations(
        [
            # 61 / 200 = 0.305 s; 161 / 200 = 0.805 s: 500 ms total, 150 ms rise
            {"onset_frame": 61, "apex_frame": 91, "offset_frame": 161, "emotion": "Happy"},
            # 201 -> 302: 505 ms total, 55 / 200 = 275 ms rise
            {"onset_frame": 201, "apex_frame": 256, "offset_frame": 302, "emotion": "angery"},
            # coder says Micro, the rule says MaE (onset->offset 1000 ms, rise 300 ms)
            {"onset_frame": 0, "apex_frame": 60, "offset_frame": 200, "type_coder": "ME",
             "emotion": "others", "flags": "apex_estimated"},
        ],
        fps=200.0,
    )
    assert df["onset_rel_s"].tolist() == pytest.approx([0.305, 1.005, 0.0], abs=1e-12)
    assert df["apex_rel_s"].tolist() == pytest.approx([0.455, 1.28, 0.3], abs=1e-12)
    assert df["offset_rel_s"].tolist() == pytest.approx([0.805, 1.51, 1.0], abs=1e-12)
    assert df["type_rule"].tolist() == ["ME", "MaE", "MaE"]
    assert df["type"].tolist() == ["ME", "MaE", "ME"]  # the coders' type wins
    assert df["emotion"].tolist() == ["happiness", "anger", "others"]
    assert df["emotion3"].iloc[0] == "positive" and df["emotion3"].iloc[1] == "negative"
    assert pd.isna(df["emotion3"].iloc[2])
    assert df["flags"].tolist() == ["", "", "apex_estimated;type_disagrees_with_rule"]
    assert has_flag(df, "type_disagrees_with_rule").tolist() == [False, False, True]
    assert df["event"].tolist() == [0, 1, 2]
    assert str(df["event"].dtype) == "Int64" and str(df["onset_frame"].dtype) == "Int64"


def test_make_annotations_keeps_given_times_and_flags_once():
    df = make_annotations(
        [
            # rel times given: the frames do not overwrite them
            {"onset_frame": 0, "offset_frame": 10, "onset_rel_s": 2.0, "apex_rel_s": 2.1,
             "offset_rel_s": 2.4, "type_coder": "MaE", "flags": "type_disagrees_with_rule",
             "event": 7},
        ],
        fps=100.0,
    )
    assert df["onset_rel_s"].iloc[0] == 2.0 and df["offset_rel_s"].iloc[0] == 2.4
    assert df["type_rule"].iloc[0] == "ME" and df["type"].iloc[0] == "MaE"
    assert df["flags"].iloc[0] == "type_disagrees_with_rule"  # not repeated
    assert df["event"].iloc[0] == 7
    assert math.isnan(df["onset_s"].iloc[0])
