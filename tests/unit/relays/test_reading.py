"""How the page and its words are read: regressions found in review (parser and téléservice names)."""

from __future__ import annotations

import pytest

from knowledge.services import find_services
from relays.meteo import classify, parse_page
from relays.snapshot import ItemKind
from tests.support.pages import page


@pytest.mark.parametrize(
    "text", ["DELTA X Import/Export", "Delta X import-export", "Delta X Imp./Exp.", "DELTA X Export/Import"]
)
def test_import_slash_export_names_both_services(text: str) -> None:
    assert find_services(text) == ["DELTA X Import", "DELTA X Export"]


def test_a_bulletin_announcing_the_recovery_is_still_a_bulletin() -> None:
    assert classify("BIP n°3 – Rétablissement du service en cours") is ItemKind.BULLETIN
    assert classify("Rétablissement du service en cours") is not ItemKind.END


def test_a_yearless_date_is_read() -> None:
    (item,) = parse_page(page("<h3>ALERTE - DELTA G - EDI</h3><p>Publié le 3 décembre à 10h32</p>")).items
    assert item.published_at is not None and (item.published_at.month, item.published_at.hour) == (12, 9)
