"""AU cells and emotion labels as the classic data sets write them, and bad physiology cells."""

from __future__ import annotations

import pytest

from mmme.data.annotations import base_aus, format_au_groups, parse_au_groups, parse_aus


@pytest.mark.parametrize(
    ("cell", "canonical", "bases"),
    [
        ("R12 or R15", "R-AU12|R-AU15", ["AU12", "AU15"]),  # SAMM
        ("4+R12 or R15", "AU4+R-AU12|R-AU15", ["AU4", "AU12", "AU15"]),
        ("R12 OR R15", "R-AU12|R-AU15", ["AU12", "AU15"]),
        ("T28+14", "T-AU28+AU14", ["AU28", "AU14"]),  # CAS(ME)^3
        ("B28", "B-AU28", ["AU28"]),
        ("AU4(k)+L7", "AU4(k)+L-AU7", ["AU4", "AU7"]),  # 4DME
        ("AUR2+12(k)+45", "R-AU2+AU12(k)+AU45", ["AU2", "AU12", "AU45"]),
        ("L10 + R12B", "L-AU10+R-AU12B", ["AU10", "AU12"]),  # lateral and intensity
        ("AU4(L)", "L-AU4", ["AU4"]),
        ("12L+14R", "L-AU12+R-AU14", ["AU12", "AU14"]),
        ("AU12 R15", "AU12+R-AU15", ["AU12", "AU15"]),
        ("12B+B28", "AU12B+B-AU28", ["AU12", "AU28"]),  # intensity B, then prefix B
        ("1+2+4+L10", "AU1+AU2+AU4+L-AU10", ["AU1", "AU2", "AU4", "AU10"]),
        ("AU4, AU7", "AU4+AU7", ["AU4", "AU7"]),
        ("/", "", []),
    ],
)
def test_au_cells_as_written(cell, canonical, bases):
    text = format_au_groups(parse_au_groups(cell))
    assert text == canonical
    assert base_aus(text) == bases  # the canonical text reads back
    assert format_au_groups(parse_au_groups(text)) == canonical


def test_alternatives_flatten_for_the_old_parser_and_junk_is_named():
    assert [str(a) for a in parse_aus("R12 or R15")] == ["R-AU12", "R-AU15"]
    with pytest.raises(ValueError, match="'X9'"):
        parse_au_groups("X9")
    with pytest.raises(ValueError, match="'or ' in 'or R15'"):
        parse_au_groups("or R15")  # an alternative needs something before it


def test_bad_physiology_value_leaves_the_subject_without_physiology_named(tmp_path):
    from test_io_classic import frames, write_rows

    from mmme.errors import InputError
    from mmme.executor import Executor
    from mmme.io.classic import import_casme3_c

    root = tmp_path / "part_C"
    frames(root / "sub01" / "color", [f"{i}.jpg" for i in range(30)])
    lines = [f"{i / 200:.3f}\t1\t2\t3\t4\t{5 if i == 10 else 0}" for i in range(400)]
    lines[123] = "0.615\t1\t2\tNaN?\t4\t0"
    (root / "sub01" / "sub01.txt").write_text("\n".join(lines) + "\n")
    write_rows(root / "CAS(ME)3_part_C_ME.xlsx",
               [["sub", "count", "onset", "offset", "au", "emotion"], ["sub01", 1, 2, 9, "4", "x"]],
               sheet="mockCrimeME")  # fmt: skip
    inline = Executor(n_jobs=1, progress=False)
    st = import_casme3_c(root, tmp_path / "s", executor=inline)
    (sk,) = st.report["skipped"]
    assert sk["subject"] == "sub01" and sk["file"] == "sub01/sub01.txt"
    assert "row 124, channel 'ECG': not a number: 'NaN?'" in sk["reason"]
    assert st.session("sub01").streams == {} and len(st.annotations) == 1
    assert not list((st.path / "sessions" / "sub01" / "1").rglob("*.npy"))
    with pytest.raises(InputError, match="--strict: 0 repaired row.*1 skipped"):
        import_casme3_c(root, tmp_path / "s2", executor=inline, strict=True)
