"""Guidance by role for the relay and the bots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from knowledge.procedures import Guidance, fallback_for, reintegration_deadline, resumption_for


def _docs(guidance: Guidance) -> set[str]:
    return {s.doc for s in guidance.sources}


def test_ics_fallback_comes_from_fiche_9() -> None:
    for service in ("ICS", "ICS2"):
        guidance = fallback_for([service], "fr")
        assert _docs(guidance) == {"fiche-9"}
        assert "OLGA" in guidance.summary


def test_gamma_fallback_comes_from_the_gamma_presentation() -> None:
    guidance = fallback_for(["GAMMA"], "fr")
    assert _docs(guidance) == {"gamma"}
    assert "GPS" in guidance.summary and "alerte rouge ou noire" in guidance.summary


def test_delta_fallback_comes_from_fiches_1_and_4() -> None:
    for service in ("DELTA G", "DELTA X Import", "DELTA X Export"):
        guidance = fallback_for([service], "fr")
        assert _docs(guidance) == {"fiche-1", "fiche-4"}, service
        assert "demande d'assistance" in guidance.summary
        assert "50000" in guidance.summary


def test_resumption_gives_the_reintegration_delay_for_delta_x() -> None:
    guidance = resumption_for(["DELTA X Import"], "fr")
    assert "sous 24 heures" in guidance.summary
    assert any(s.section == "etape-4-delai" for s in guidance.sources)
    assert any(s.section == "etape-6" for s in guidance.sources)


def test_english_guidance_has_an_english_lead_and_the_french_wording() -> None:
    guidance = resumption_for(["ICS2"], "en")
    lead, *rest = guidance.summary.splitlines()
    assert lead.startswith("End of alert and resumption for ICS2")
    assert "reprise du système" in "\n".join(rest)


def test_a_service_without_its_own_fiche_gets_the_general_rule_said_as_such() -> None:
    guidance = resumption_for(["GAMMA"], "fr")
    assert "ne décrivent pas de consigne propre à GAMMA" in guidance.summary
    assert [(s.doc, s.section) for s in guidance.sources] == [("fiche-1", "etape-6")]
    assert _docs(fallback_for(["DELTA T"], "fr")) == {"fiche-1"}


def test_guidance_stays_short() -> None:
    for services in (["DELTA G", "ICS2", "GAMMA"], ["DELTA X Import"]):
        assert len(fallback_for(services, "fr").summary.splitlines()) <= 12


def test_reintegration_deadline_is_24_hours_after_the_end_of_alert() -> None:
    end = datetime(2024, 3, 9, 17, 30, tzinfo=UTC)
    assert reintegration_deadline(end) == end + timedelta(hours=24)
    assert reintegration_deadline(end).tzinfo is UTC


def test_an_end_of_alert_never_quotes_the_2023_planned_interruption() -> None:
    # the note's "à l'issue de l'interruption" is about its own maintenance day: the ranking reads
    # it as an after-phase section, the relay must not send it at a Delta G fin d'alerte
    for service in ("DELTA G", "DELTA X Import", "ICS"):
        assert "note-2023-08" not in _docs(resumption_for([service], "fr")), service
