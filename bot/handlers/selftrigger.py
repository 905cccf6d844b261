"""``selftrigger`` / ``autodeclenchement``: a guided check that walks fiche 1 step by step.

The rule is :func:`knowledge.selftrigger.decide`: this module asks its questions and renders its
verdicts, nothing more. Étape 1: is an alert published for the téléservice and mode? The bot knows
from the store and says so. Étape 2: an EDI user first asks the provider; is the declaration
« BAE » in Aubette; is it « sous contrôle », « crédit en attente » or « paiement comptant »? Then
the verdict, quoting the fiche steps it rests on (fiche 1, étapes 3, 4, 5), with a button that
drafts the DA. GAMMA is different: the customs service decides (gamma, IV.1); ICS goes through
the provider's OLGA request (fiche 9).

The dialogue state lives entirely in the buttons' callback data —
``st:<service>.<mode>.<differs>.<provider>.<aubette>.<control>`` — so a press works after a restart
and two people can run the check side by side in one group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from knowledge.documents import Document, load_documents
from knowledge.procedures import fallback_for
from knowledge.selftrigger import (
    Answers,
    Aubette,
    Cite,
    Control,
    Outcome,
    Provider,
    Published,
    Verdict,
    decide,
)
from knowledge.services import CANONICAL, find_services
from relays import queries
from relays.queries import Alert
from relays.render import paris
from relays.snapshot import MODES

from .common import small_int
from .replies import Button, Context, Reply, Span, b, i, reply

CHOICES = ("DELTA G", "DELTA X Import", "DELTA X Export", "GAMMA", "ICS", "ICS2")
OTHER = "o"
ANOTHER = "another"  # the answer "another téléservice", for the rule
#: The callback letters, as the rule's answers.
PROVIDER = {"f": Provider.AT_FAULT, "n": Provider.NOT_AT_FAULT, "?": Provider.NOT_YET}
AUBETTE = {"b": Aubette.BAE, "n": Aubette.NOT_BAE, "x": Aubette.UNREACHABLE, "v": Aubette.CANNOT_VALIDATE}
CONTROL = {"y": Control.YES, "n": Control.NO, "?": Control.UNKNOWN}


@dataclass(frozen=True, slots=True)
class State:
    service: str = ""  # index in CANONICAL, "o" for another téléservice, "" not asked yet
    mode: str = ""  # "E" (EDI), "D" (DTI)
    differs: str = ""  # "1": an alert is published but my problem is different
    provider: str = ""  # EDI: "f" the provider's platform is at fault, "n" it is not, "?" not asked yet
    aubette: str = ""  # "b" BAE, "n" not BAE, "x" Aubette unreachable, "v" cannot validate at all
    control: str = ""  # "y" under control / awaiting credit / cash payment, "n" none of these, "?" unknown

    def data(self, **change: str) -> str:
        s = replace(self, **change)
        return "st:" + ".".join((s.service, s.mode, s.differs, s.provider, s.aubette, s.control))

    @classmethod
    def parse(cls, payload: str) -> State:
        fields = (payload.split(".") + [""] * 6)[:6]
        state = cls(*fields)
        valid = (
            (state.service in ("", OTHER) or small_int(state.service, len(CANONICAL)) is not None)
            and state.mode in ("", "E", "D")
            and state.differs in ("", "1")
            and state.provider in ("", "f", "n", "?")
            and state.aubette in ("", "b", "n", "x", "v")
            and state.control in ("", "y", "n", "?")
        )
        return state if valid else cls()

    @property
    def service_name(self) -> str | None:
        index = small_int(self.service, len(CANONICAL))
        return CANONICAL[index] if index is not None else None

    @property
    def mode_name(self) -> str | None:
        return {"E": "EDI", "D": "DTI"}.get(self.mode)


def _doc(doc_id: str) -> Document:
    return next(d for d in load_documents() if d.id == doc_id)


def _quote(cite: Cite) -> list[str | Span]:
    doc = _doc(cite.doc)
    section = doc.section(cite.section)
    text = section.body if cite.whole else (section.summary or section.body)
    return ["« ", i(text), " »\n", "— ", doc.cite(section).ref, "\n"]


def _quotes(verdict: Verdict) -> list[str | Span]:
    return [part for cite in verdict.cites for part in _quote(cite)]


def _first(ctx: Context, text: str) -> State:
    """What the question or the subscription already says (service, mode)."""
    named = [s for s in find_services(text) if s in CANONICAL]
    subscribed = list(ctx.subscriber.services) if ctx.subscriber else []
    service = ""
    if len(named) == 1:
        service = str(CANONICAL.index(named[0]))
    elif not named and len(subscribed) == 1:
        service = str(CANONICAL.index(subscribed[0]))
    words = {w.strip("?!.,;:()").upper() for w in text.split()}
    modes = [m for m in MODES if m in words] or list(ctx.subscriber.modes if ctx.subscriber else [])
    mode = modes[0][0] if len(modes) == 1 else ""
    return State(service=service, mode=mode)


def start(ctx: Context, text: str = "") -> Reply:
    """The check, with what the question or the subscription already says (service, mode)."""
    return step(ctx, _first(ctx, text), edit=False)


def offer(ctx: Context, text: str, lang: str) -> Button:
    """A button under an answer that starts the check in a message of its own (the answer stays),
    with what ``text`` already says."""
    label = "Self-trigger check" if lang == "en" else "Vérifier si je peux auto-déclencher"
    return Button(label, "stn:" + _first(ctx, text).data().removeprefix("st:"))


def on_button(ctx: Context, payload: str) -> Reply:
    return step(ctx, State.parse(payload), edit=True)


def on_offer(ctx: Context, payload: str) -> Reply:
    """The button :func:`offer` made: the check's first step, below the answer."""
    return step(ctx, State.parse(payload), edit=False)


def step(ctx: Context, state: State, *, edit: bool) -> Reply:
    """What the rule needs to know next, or its verdict, with the alerts the relay knows of."""
    service = state.service_name or (ANOTHER if state.service == OTHER else None)
    alerts = [a for a in queries.open_alerts(ctx.relay.store) if service in a.services] if service else []
    published = [(Published(a.modes, a.level), a) for a in alerts]
    verdict = decide(
        Answers(
            service=service,
            mode=state.mode_name,
            alerts=tuple(p for p, _ in published),
            differs=state.differs == "1",
            provider=PROVIDER.get(state.provider),
            aubette=AUBETTE.get(state.aubette),
            control=CONTROL.get(state.control),
        )
    )
    alert = next((a for p, a in published if p is verdict.alert), None)
    return RENDER[verdict.outcome](Shown(ctx, state, verdict, alert, edit))


@dataclass(frozen=True, slots=True)
class Shown:
    """One verdict to render: who asked, the dialogue so far, and the alert it rests on."""

    ctx: Context
    state: State
    verdict: Verdict
    alert: Alert | None
    edit: bool

    def t(self, fr: str, en: str) -> str:
        return self.ctx.t(fr, en)


def _title(s: Shown) -> list[str | Span]:
    what = s.state.service_name or s.t("autre téléservice", "another téléservice")
    mode = f" ({s.state.mode_name})" if s.state.mode_name else ""
    return ["🧭 ", b(s.t(f"Auto-déclenchement — {what}{mode}", f"Self-triggering — {what}{mode}")), "\n"]


def _known(s: Shown) -> list[str | Span]:
    """The title, then what étape 1 found: no alert, or one the operator says is about something else."""
    service = s.state.service_name or ""
    found = (
        s.t(
            "une alerte est publiée, mais vos dysfonctionnements sont différents : étape 2.",
            "an alert is published, but what you see is different: step 2.",
        )
        if s.alert is not None
        else s.t(
            f"aucune alerte n'est publiée pour {service} ({s.state.mode_name}) sur la météo des "
            "téléservices, d'après le relais.",
            f"no alert is published for {service} ({s.state.mode_name}) on the météo des "
            "téléservices, according to the relay.",
        )
    )
    return [*_title(s), s.t("Étape 1 : ", "Step 1: "), found, "\n"]


def _again(s: Shown) -> list[list[Button]]:
    return [[Button(s.t("Recommencer", "Start again"), "st:")]]


# --- the questions -------------------------------------------------------------------------------
def _ask_service(s: Shown) -> Reply:
    state = s.state
    rows = [
        [Button(n, state.data(service=str(CANONICAL.index(n)))) for n in CHOICES[k : k + 3]] for k in (0, 3)
    ]
    rows.append([Button(s.t("Autre téléservice", "Another téléservice"), state.data(service=OTHER))])
    return reply(
        "🧭 ",
        b(
            s.t(
                "Puis-je auto-déclencher la procédure de secours ?",
                "May I self-trigger the fallback procedure?",
            )
        ),
        "\n",
        s.t("Quel téléservice vous pose problème ?", "Which téléservice fails you?"),
        buttons=rows,
        edit=s.edit,
    )


def _ask_mode(s: Shown) -> Reply:
    return reply(
        *_title(s),
        s.t("Quel mode de transmission utilisez-vous ?", "Which transmission mode do you use?"),
        buttons=[
            [
                Button("EDI", s.state.data(mode="E")),
                Button(s.t("DTI (formulaires web)", "DTI (web forms)"), s.state.data(mode="D")),
            ]
        ],
        edit=s.edit,
    )


def _ask_provider(s: Shown) -> Reply:
    asked = s.state.provider == "?"  # the operator has not asked the provider yet: say to start there
    lead = (
        s.t(
            "Commencez par là (fiche 1, étape 2, cas EDI) : contactez votre prestataire de connexion pour "
            "vérifier si le dysfonctionnement vient de sa plateforme. Puis :",
            "Start there (fiche 1, step 2, EDI case): contact your connection provider to check whether the "
            "failure comes from its platform. Then:",
        )
        if asked
        else s.t(
            "Utilisateur EDI : avez-vous demandé à votre prestataire de connexion si le dysfonctionnement "
            "vient de sa plateforme ?",
            "EDI user: have you asked your connection provider whether the failure comes from its platform?",
        )
    )
    rows = [
        [Button(s.t("Oui : c'est sa plateforme", "Yes: it's the provider's"), s.state.data(provider="f"))],
        [
            Button(
                s.t("Oui : ce n'est pas sa plateforme", "Yes: not the provider's"), s.state.data(provider="n")
            )
        ],
    ]
    if not asked:
        rows.append([Button(s.t("Pas encore", "Not yet"), s.state.data(provider="?"))])
    return reply(*_known(s), lead, buttons=rows, edit=s.edit)


def _ask_aubette(s: Shown) -> Reply:
    return reply(
        *_known(s),
        s.t(
            "Dans Aubette (Prodouane, « services accessibles »), quel est l'état de votre déclaration ?",
            "In Aubette (Prodouane, « services accessibles »), what state is your declaration in?",
        ),
        buttons=[
            [
                Button("BAE", s.state.data(aubette="b")),
                Button(s.t("Pas BAE", "Not BAE"), s.state.data(aubette="n")),
            ],
            [Button(s.t("Aubette inaccessible", "Aubette unreachable"), s.state.data(aubette="x"))],
            [
                Button(
                    s.t("Impossible de valider la déclaration", "Cannot validate it at all"),
                    s.state.data(aubette="v"),
                )
            ],
        ],
        edit=s.edit,
    )


def _ask_control(s: Shown) -> Reply:
    return reply(
        *_known(s),
        s.t(
            "Votre déclaration est-elle « sous contrôle », « crédit en attente » ou « paiement "
            "comptant » ? (Renseignez-vous auprès du service pendant ses heures d'ouverture.)",
            "Is your declaration « sous contrôle » (under control), « crédit en attente » "
            "(awaiting credit) or « paiement comptant » (cash payment)? (Ask the customs "
            "office during its opening hours.)",
        ),
        buttons=[
            [
                Button(s.t("Oui", "Yes"), s.state.data(control="y")),
                Button(s.t("Non, aucun de ces états", "No, none of these"), s.state.data(control="n")),
            ],
            [
                Button(
                    s.t("Je ne sais pas (bureau fermé)", "I don't know (office closed)"),
                    s.state.data(control="?"),
                )
            ],
        ],
        edit=s.edit,
    )


# --- the verdicts --------------------------------------------------------------------------------
def _alert_published(s: Shown) -> Reply:
    service = s.state.service_name or ""
    alert = s.alert
    assert alert is not None
    when = paris(alert.published_at) if alert.published_at else "?"
    guidance = fallback_for([service], s.ctx.lang)
    modes = "/".join(alert.modes) or "EDI/DTI"
    return reply(
        *_title(s),
        "📢 ",
        b(
            s.t(
                f"Une alerte est publiée par le CID pour {service} ({modes}) depuis le {when}.",
                f"The CID has published an alert for {service} ({modes}) since {when}.",
            )
        ),
        "\n",
        s.t(
            "Inutile d'auto-déclencher : si les dysfonctionnements décrits sont les vôtres, appliquez la "
            "procédure de secours qui vous concerne et suivez les BIP (fiche 1, étape 1).",
            "No need to self-trigger: if the failures described are yours, apply the fallback procedure "
            "that concerns you and follow the bulletins (fiche 1, step 1).",
        ),
        "\n",
        *([f"« {alert.title} »\n"] if alert.title else []),
        "\n",
        guidance.summary,
        "\n\n",
        *_quotes(s.verdict),
        buttons=[
            [
                Button(
                    s.t("Mes dysfonctionnements sont différents", "What I see is different"),
                    s.state.data(differs="1"),
                )
            ],
            *_again(s),
        ],
        edit=s.edit,
    )


def _provider_at_fault(s: Shown) -> Reply:
    return reply(
        *_known(s),
        "⛔ ",
        b(
            s.t(
                "Pas d'auto-déclenchement : la panne vient de votre prestataire.",
                "Do not self-trigger: the failure is your provider's.",
            )
        ),
        "\n",
        s.t(
            "Attendez qu'il la signale au CID, puis suivez le message d'alerte publié par le SAU et "
            "relayé par votre prestataire, et les bulletins d'information (fiche 1, étape 2) :",
            "Wait for it to report to the CID, then follow the alert the SAU publishes and your "
            "provider relays, and the bulletins (fiche 1, step 2):",
        ),
        "\n",
        *_quotes(s.verdict),
        buttons=_again(s),
        edit=s.edit,
    )


def _bae(s: Shown) -> Reply:
    return reply(
        *_known(s),
        "✅ ",
        b(
            s.t(
                "Pas de procédure de secours : votre déclaration est « BAE ».",
                "No fallback procedure: your declaration is « BAE » (released).",
            )
        ),
        "\n",
        *_quotes(s.verdict),
        buttons=_again(s),
        edit=s.edit,
    )


def _not_technical(s: Shown) -> Reply:
    return reply(
        *_known(s),
        "⛔ ",
        b(
            s.t(
                "Pas d'auto-déclenchement : le blocage n'est pas technique.",
                "Do not self-trigger: the blockage is not technical.",
            )
        ),
        "\n",
        s.t(
            "Une déclaration « sous contrôle », « crédit en attente » ou « paiement comptant » "
            "relève du bureau de douane, pas de la procédure de secours (fiche 1, étapes 2 et 3) :",
            "A declaration under control, awaiting credit or cash payment is a matter for the "
            "customs office, not for the fallback procedure (fiche 1, steps 2 and 3):",
        ),
        "\n",
        *_quotes(s.verdict),
        buttons=_again(s),
        edit=s.edit,
    )


def _allowed(s: Shown) -> Reply:
    cannot_validate = s.state.aubette == "v"
    case = (
        s.t("vous n'arrivez pas à valider vos déclarations", "you cannot validate your declarations")
        if cannot_validate
        else s.t(
            "vos déclarations validées n'ont pas le statut « BAE » sans être « sous contrôle », « crédit "
            "en attente » ou « paiement au comptant »",
            "your validated declarations are not « BAE » without being under control, awaiting credit or "
            "cash payment",
        )
    )
    caveat: list[str | Span] = []
    if s.verdict.unconfirmed:
        caveat = [
            s.t(
                "Si vous le pouvez, vérifiez d'abord auprès du service que la déclaration n'est dans aucun "
                "de ces états (étape 2). ",
                "If you can, first check with the office that the declaration is in "
                "none of these states (step 2). ",
            )
        ]
    *why, how = s.verdict.cites  # when and why it is allowed; then how to do it (étape 5)
    service = s.state.service_name or ""
    return reply(
        *_known(s),
        "✅ ",
        b(
            s.t(
                "Vous pouvez auto-déclencher la procédure de secours.",
                "You may self-trigger the fallback procedure.",
            )
        ),
        "\n",
        s.t(
            f"Le blocage est technique : {case}. C'est de droit, sans autorisation du bureau, 24 h/24 et 7 "
            "j/7.",
            f"The blockage is technical: {case}. It is your right, without the office's authorisation, 24/7.",
        ),
        "\n",
        *caveat,
        "\n",
        *[part for cite in why for part in _quote(cite)],
        "\n",
        b(s.t("Que faire maintenant", "What to do now")),
        "\n",
        *_quote(how),
        s.t(
            "Hors des heures d'ouverture du bureau, après la DA, appelez le SAU du CID au 09 702 80 100.",
            "Outside the office's opening hours, after filing the DA, call the CID's SAU on +33 9 702 80 "
            "100.",
        ),
        buttons=[
            [
                Button(
                    s.t(f"Rédiger la DA ({service})", f"Draft the DA ({service})"),
                    f"da:{s.state.service}:{s.state.mode}:{'v' if cannot_validate else 'n'}",
                )
            ],
            *_again(s),
        ],
        edit=s.edit,
    )


def _gamma(s: Shown) -> Reply:
    parts: list[str | Span] = [*_title(s)]
    if s.verdict.outcome is Outcome.GAMMA_ALERT:
        level = (
            s.t("rouge", "red")
            if s.verdict.alert and s.verdict.alert.level == "red"
            else s.t("noire", "black")
        )
        parts += [
            "✅ ",
            b(
                s.t(
                    f"Une alerte {level} est signalée par le CID pour GAMMA : vous êtes autorisé à "
                    "utiliser la procédure de secours.",
                    f"The CID signals a {level} alert for GAMMA: you are authorised to use the "
                    "fallback procedure.",
                )
            ),
            "\n",
        ]
    else:
        parts += [
            "⚖️ ",
            b(
                s.t(
                    "Pour GAMMA, pas d'auto-déclenchement : c'est le service des douanes qui décide.",
                    "For GAMMA there is no self-triggering: the customs service decides.",
                )
            ),
            "\n",
            s.t(
                "Aucune alerte rouge ou noire n'est publiée pour GAMMA d'après le relais. Contactez le SAU "
                "du CID (09 702 80 100) pour établir un diagnostic ; si le problème n'est pas résolu, votre "
                "service douanier décide de l'autorisation d'utiliser la procédure de secours.",
                "No red or black alert is published for GAMMA according to the relay. Contact the CID's SAU "
                "(+33 9 702 80 100) for a diagnosis; if the problem is not solved, your customs service "
                "decides whether you may use the fallback procedure.",
            ),
            "\n",
        ]
    return reply(*parts, "\n", *_quotes(s.verdict), buttons=_again(s), edit=s.edit)


def _ics(s: Shown) -> Reply:
    service = s.state.service_name or "ICS"
    known = (
        s.t(
            f"Une alerte est publiée pour {service} : suivez-la et les messages de votre prestataire.",
            f"An alert is published for {service}: follow it and your provider's messages.",
        )
        if s.alert is not None
        else s.t(
            f"Aucune alerte n'est publiée pour {service} d'après le relais.",
            f"No alert is published for {service} according to the relay.",
        )
    )
    return reply(
        *_title(s),
        known,
        "\n",
        "ℹ️ ",
        b(
            s.t(
                "Pour ICS, c'est votre prestataire certifié qui signale la panne à la douane (demande "
                "d'assistance OLGA).",
                "For ICS, your certified provider reports the failure to customs (OLGA assistance request).",
            )
        ),
        "\n",
        *_quotes(s.verdict),
        buttons=_again(s),
        edit=s.edit,
    )


def _not_covered(s: Shown) -> Reply:
    return reply(
        *_title(s),
        s.t(
            "Les fiches de cette base ne décrivent l'auto-déclenchement que pour Delta G et Delta X (fiche "
            "1). Pour un autre téléservice, vérifiez la météo des téléservices et contactez le SAU du CID "
            "(09 702 80 100, cid-sau@douane.finances.gouv.fr).",
            "The fiches in this knowledge base describe self-triggering for Delta G and Delta X only "
            "(fiche 1). For another téléservice, check the météo des téléservices and contact the CID's "
            "SAU (+33 9 702 80 100, cid-sau@douane.finances.gouv.fr).",
        ),
        "\n\n",
        *_quotes(s.verdict),
        buttons=_again(s),
        edit=s.edit,
    )


#: How each outcome of the rule is asked or told.
RENDER: dict[Outcome, Callable[[Shown], Reply]] = {
    Outcome.ASK_SERVICE: _ask_service,
    Outcome.ASK_MODE: _ask_mode,
    Outcome.ASK_PROVIDER: _ask_provider,
    Outcome.ASK_AUBETTE: _ask_aubette,
    Outcome.ASK_CONTROL: _ask_control,
    Outcome.ALERT_PUBLISHED: _alert_published,
    Outcome.PROVIDER_AT_FAULT: _provider_at_fault,
    Outcome.BAE: _bae,
    Outcome.NOT_TECHNICAL: _not_technical,
    Outcome.ALLOWED: _allowed,
    Outcome.GAMMA_ALERT: _gamma,
    Outcome.GAMMA_OFFICE: _gamma,
    Outcome.ICS_PROVIDER: _ics,
    Outcome.NOT_COVERED: _not_covered,
}
