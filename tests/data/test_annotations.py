"""AU parsing, emotion labels and the ME rule."""

from __future__ import annotations

import pytest

from mmme.data.annotations import (
    emotion_to_3class,
    format_aus,
    make_annotations,
    me_rule,
    normalize_emotion,
    normalize_type,
    parse_aus,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("AU4, AU7", "AU4+AU7"),
        ("AU4+7", "AU4+AU7"),
        ("L10 + R12B", "L-AU10+R-AU12B"),
        ("AU12B", "AU12B"),
        ("12", "AU12"),
        ("AU L10", "L-AU10"),
        ("AU4(L)", "L-AU4"),
        ("AU1+2+L14", "AU1+AU2+L-AU14"),
        ("/", ""),
        ("AU4, AU4", "AU4"),
    ],
)
def test_parse_aus_keeps_laterality_and_intensity(text, canonical):
    aus = parse_aus(text)
    assert format_aus(aus) == canonical
    assert parse_aus(format_aus(aus)) == aus  # canonical text round-trips


def test_parse_aus_rejects_garbage():
    with pytest.raises(ValueError, match="blink"):
        parse_aus("AU4, blink")


@pytest.mark.parametrize(
    ("on", "ap", "off", "typ"),
    [
        (0.0, 0.3, 0.5, "ME"),  # exactly 500 ms
        (0.0, 0.3, 0.501, "MaE"),
        (0.0, 0.25, 0.9, "ME"),  # onset->apex exactly 250 ms
        (0.0, 0.251, 0.9, "MaE"),
        (24.33, 24.59, 25.33, "MaE"),
        (12.09, 12.68, 12.68, "MaE"),
        (0.0, 0.1, None, "ME"),
    ],
)
def test_me_rule_in_whole_milliseconds(on, ap, off, typ):
    assert me_rule(on, ap, off) == typ


def test_labels():
    assert normalize_emotion("Angry") == "anger"
    assert normalize_emotion("happy") == "happiness"
    assert emotion_to_3class("tense") == "negative"
    assert emotion_to_3class("surprise") == "surprise"
    assert emotion_to_3class("others") is None
    assert normalize_type("Micro - 1/2") == "ME" and normalize_type("Macro") == "MaE"
    with pytest.raises(ValueError):
        normalize_type("maybe")


def test_make_annotations_coder_wins_and_flags():
    df = make_annotations(
        [
            {
                "subject": "S1",
                "trial": "1",
                "onset_rel_s": 0,
                "apex_rel_s": 0.1,
                "offset_rel_s": 0.3,
                "emotion": "angry",
                "type_coder": "MaE",
            },
            {
                "subject": "S1",
                "trial": "2",
                "onset_frame": 0,
                "apex_frame": 60,
                "offset_frame": 150,
                "emotion": "happy",
            },
        ],
        fps=200.0,
    )
    assert df["type"].tolist() == ["MaE", "MaE"]
    assert df["type_rule"].tolist() == ["ME", "MaE"]
    assert df["flags"].tolist() == ["type_disagrees_with_rule", ""]
    assert df["offset_rel_s"].iloc[1] == pytest.approx(0.75)
    assert df["emotion3"].tolist() == ["negative", "positive"]
