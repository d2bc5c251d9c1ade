"""Pseudonym codes as known answers: a fixed salt and identifier give this literal code.

The literals are HMAC-SHA256(salt, lower-cased identifier), first 10 hex digits upper-cased,
after ``P`` (computed once with the standard library and written down here). A change of the
hash, the key, the case folding or the digit count changes them: a re-import with the same salt
would then no longer give the codes published with a data set.
"""

from __future__ import annotations

import pytest

from mmme.errors import InputError
from mmme.executor import Executor
from mmme.io.mmme import import_mmme
from mmme.io.pseudonym import Pseudonymizer, pseudonymize_store

INLINE = Executor(n_jobs=1, progress=False)


@pytest.mark.parametrize(
    ("salt", "identifier", "code"),
    [
        ("s3cret", "S01", "P54A0035B2D"),
        ("s3cret", "s01", "P54A0035B2D"),  # case-insensitive
        ("s3cret", " S01 ", "P54A0035B2D"),  # stripped
        ("s3cret", "S02", "PB85025920D"),
        ("s3cret", "Zhang San", "PBDDD45F587"),
        ("another salt", "S01", "P5E4BB1F023"),
    ],
)
def test_codes_are_known_answers(salt, identifier, code):
    assert Pseudonymizer(salt).code(identifier) == code


def test_prefix_and_text_replacement_by_hand():
    p = Pseudonymizer("s3cret", ["S01", "Zhang San", "S0"])
    assert Pseudonymizer("s3cret", prefix="X").code("S01") == "X54A0035B2D"
    assert p.text("S01/video/s01_happy.avi") == "P54A0035B2D/video/P54A0035B2D_happy.avi"
    # identifiers inside longer alphanumeric words are left alone; the longest match wins
    assert p.text("S010 xS01 S01") == "S010 xS01 P54A0035B2D"
    assert p.text("zhang san, 2023") == "PBDDD45F587, 2023"
    assert p.obj({"S01": ["S01.mat", 3]}) == {"P54A0035B2D": ["P54A0035B2D.mat", 3]}
    assert p.text(5) == 5
    with pytest.raises(InputError):
        Pseudonymizer("")


def test_pseudonymized_store_has_the_known_code_and_no_identifier(make_raw, tmp_path):
    raw = make_raw()
    src = import_mmme(raw["root"], tmp_path / "raw_store", executor=INLINE)
    st = pseudonymize_store(src.path, tmp_path / "store", salt="s3cret")
    assert st.sessions == [("P54A0035B2D", "1")]
    assert set(st.trials["subject"]) == {"P54A0035B2D"}
    assert set(st.annotations["subject"]) == {"P54A0035B2D"}
    for f in (tmp_path / "store").rglob("*"):
        if f.is_file() and f.suffix in (".json", ".parquet", ".csv", ".txt"):
            assert b"S01" not in f.read_bytes(), f
        assert "S01" not in f.name
