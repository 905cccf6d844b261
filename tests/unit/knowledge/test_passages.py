"""Trimming a section to the passage that answers."""

from __future__ import annotations

from knowledge.passages import ELLIPSIS, blocks, sentences, trim


def _score_words(*words: str):  # type: ignore[no-untyped-def]
    return lambda block: float(sum(w in block for w in words))


BODY = "\n\n".join(
    [
        "Intro paragraph that says nothing in particular about the matter at hand. " * 3,
        "En case 44 du DAU E/S :",
        "- la mention spéciale « 50000 » (procédure de secours).",
        "Another paragraph about something else entirely, long enough to matter. " * 3,
    ]
)


def test_a_short_list_stays_with_its_lead_in() -> None:
    items = blocks(BODY)
    assert "En case 44 du DAU E/S :\n- la mention spéciale « 50000 » (procédure de secours)." in items


def test_a_section_that_fits_is_returned_whole() -> None:
    assert trim("Un.\n\nDeux.", _score_words("Un"), 1000) == "Un.\nDeux."


def test_only_the_matching_blocks_are_kept_within_the_budget() -> None:
    out = trim(BODY, _score_words("case 44"), 200)
    assert "50000" in out
    assert "Intro paragraph" not in out
    assert len(out) <= 200


def test_gaps_between_kept_blocks_are_marked() -> None:
    body = "\n\n".join(["alpha " * 30, "beta " * 30, "gamma " * 30])
    out = trim(body, _score_words("alpha", "gamma"), 400)
    assert out.count(ELLIPSIS) == 1 and "beta" not in out


def test_an_oversized_best_block_is_cut_at_a_sentence() -> None:
    body = " ".join(f"Phrase numéro {i} sur le délai." for i in range(100))
    out = trim(body, _score_words("délai"), 300)
    assert len(out) <= 300 and out.endswith(ELLIPSIS)


def test_a_long_block_that_does_not_fit_gives_its_relevant_sentence_rather_than_nothing() -> None:
    body = "\n\n".join(
        [
            "Rappel utile sur la reprise des déclarations. " * 6,
            "- Les colis sont suivis par vous-même. " * 5 + "Aucun message de scan ne doit être transmis.",
        ]
    )
    out = trim(body, _score_words("Rappel", "scan"), 360)
    assert "Aucun message de scan ne doit être transmis." in out
    assert out.count("Les colis sont suivis") == 0 and ELLIPSIS in out
    assert len(out) <= 360


def test_a_line_ending_with_a_comma_goes_on_at_the_next_line() -> None:
    """A signature is one sentence: the title and the name quoted together."""
    body = "Réf.: 20000171\n\nLe chef de bureau,\nMichel BARON"
    assert [text for text, _ in sentences(body)] == ["Réf.: 20000171", "Le chef de bureau, Michel BARON"]


def test_list_items_ending_with_a_comma_stay_items() -> None:
    body = "Mentions :\n- le nombre de colis,\n- le TARIC10,\nFin."
    assert sentences(body) == [
        ("Mentions :", False),
        ("le nombre de colis,", True),
        ("le TARIC10,", True),
        ("Fin.", False),
    ]
