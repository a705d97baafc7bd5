"""The catalog: which corpus files may be used, and the ABC helpers."""

from __future__ import annotations

import pytest

from studio.data import catalog
from studio.data.build import plan_works, split_of


@pytest.fixture(scope="module")
def works():
    pytest.importorskip("music21", reason="music21 is not installed. Fix: pip install -e '.[data]'.")
    return catalog.scan()


def test_restricted_collections_and_files_are_left_out(works):
    sources = {w.source.split("#")[0] for w in works}
    collections = {w.collection for w in works}
    assert not collections & {"palestrina", "essenFolksong", "demos", "theoryExercises", "leadSheet"}
    # the CCARH Humdrum chorales, the UT Orpheus madrigals, 'All Rights Reserved' and bare-copyright files
    for path in ("bach/bwv277.krn", "bach/bwv281.krn", "bach/bwv366.krn", "monteverdi/madrigal.5.4.mxl",
                 "monteverdi/madrigal.5.5.mxl", "schubert/Lindenbaum.xml"):
        assert path not in sources
        assert path in catalog.restricted_sources()
    # works the design notes count on are in
    assert {"bach/bwv10.7.mxl", "liliuokalani/aloha_oe.mxl", "josquin/adieuMesAmours.abc"} <= sources
    assert sum(1 for w in works if w.collection == "oneills1850") > 1500  # one work per ABC tune
    assert len([w for w in works if w.collection == "bach"]) > 380


def test_reserved_reason_reads_headers(tmp_path):
    krn = tmp_path / "x.krn"
    krn.write_text("!!!COM: Bach\n!!!YEC: Copyright 1994, Center for Computer Assisted Research in the Humanities\n")
    assert "center for computer assisted research" in catalog.reserved_reason(krn)
    open_xml = tmp_path / "a.xml"
    open_xml.write_text("<score-partwise><identification><rights>(c) 2014, Creative Commons License (CC-BY)"
                        "</rights></identification></score-partwise>")
    assert catalog.reserved_reason(open_xml) == ""
    closed_xml = tmp_path / "b.xml"
    closed_xml.write_text("<score-partwise><rights>Copyright © </rights></score-partwise>")
    assert catalog.reserved_reason(closed_xml).startswith("<rights> claims copyright")


def test_share_alike_can_be_left_out(works):
    strict = catalog.scan(share_alike=False)
    assert {"josquin", "ciconia", "webern"} <= {w.collection for w in works}
    assert not {"josquin", "ciconia", "webern", "beach", "luca"} & {w.collection for w in strict}


def test_abc_helpers():
    text = ("% file comment\n%%MIDI program 40\n\n"
            "X:1\nT:Tune One\nR:Double Jig\nK:G\nGAB|\n\nX:2\nT:Boys Reel\nK:D\nd|\n")
    tunes = catalog.split_abc(text)
    assert [n for n, _ in tunes] == ["1", "2"]
    assert tunes[0][1].startswith("%%MIDI program 40\nX:1")  # directives of the file header travel along
    assert catalog.abc_field(tunes[0][1], "T") == "Tune One"
    assert catalog.abc_genre("Double Jig", "Tune One", "dance") == "jig"
    assert catalog.abc_genre("", "Boys Reel", "dance") == "reel"
    assert catalog.abc_genre("", "Untitled", "air") == "air"


def test_plan_is_seeded_and_balanced(works):
    a, b, c = plan_works(works, 0, False), plan_works(works, 0, False), plan_works(works, 1, False)
    assert [w.source for w in a] == [w.source for w in b]
    assert [w.source for w in a[:50]] != [w.source for w in c[:50]]
    assert len(a) == len(works) and len({w.source for w in a}) == len(works)
    first_hour, seconds = [], 0.0
    for w in a:
        if seconds > 3600:
            break
        first_hour.append(w.collection)
        seconds += w.info.typical_seconds
    assert first_hour.count("bach") > first_hour.count("ryansMammoth") > 0  # weights 5 and 2
    assert {split_of(w.source) for w in works} == {"train", "heldout"}
