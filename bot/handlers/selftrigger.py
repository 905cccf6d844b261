"""``selftrigger`` / ``autodeclenchement``: a guided check that walks fiche 1 step by step.

Étape 1: is an alert published for the téléservice and mode? The bot knows from the store and says
so. Étape 2: an EDI user first asks the provider; is the declaration « BAE » in Aubette; is it
« sous contrôle », « crédit en attente » or « paiement comptant »? Then the verdict, quoting fiche 1
(étapes 3, 4, 5), with a button that drafts the DA. GAMMA is different: the customs service decides
(gamma, IV.1); ICS goes through the provider's OLGA request (fiche 9).

The dialogue state lives entirely in the buttons' callback data —
``st:<service>.<mode>.<differs>.<provider>.<aubette>.<control>`` — so a press works after a restart
and two people can run the check side by side in one group.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from knowledge.documents import Document, load_documents
from knowledge.procedures import fallback_for
from knowledge.services import CANONICAL, find_services
from relays import queries
from relays.queries import Alert
from relays.render import paris
from relays.snapshot import MODES

from .common import small_int
from .replies import Button, Context, Reply, Span, b, i, reply

FICHE_1 = ("DELTA G", "DELTA X Import", "DELTA X Export")
ICS = ("ICS", "ICS2")
CHOICES = ("DELTA G", "DELTA X Import", "DELTA X Export", "GAMMA", "ICS", "ICS2")
OTHER = "o"


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


def _quote(ctx: Context, doc_id: str, section_id: str, *, body: bool = False) -> list[str | Span]:
    doc = _doc(doc_id)
    section = doc.section(section_id)
    text = section.body if body else (section.summary or section.body)
    return ["« ", i(text), " »\n", "— ", doc.cite(section).ref, "\n"]


def start(ctx: Context, text: str = "") -> Reply:
    """The check, with what the question or the subscription already says (service, mode)."""
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
    return step(ctx, State(service=service, mode=mode), edit=False)


def on_button(ctx: Context, payload: str) -> Reply:
    return step(ctx, State.parse(payload), edit=True)


def _title(ctx: Context, state: State) -> list[str | Span]:
    what = state.service_name or ctx.t("autre téléservice", "another téléservice")
    mode = f" ({state.mode_name})" if state.mode_name else ""
    return ["🧭 ", b(ctx.t(f"Auto-déclenchement — {what}{mode}", f"Self-triggering — {what}{mode}")), "\n"]


def _alerts_for(ctx: Context, service: str, mode: str | None) -> list[Alert]:
    return [
        a
        for a in queries.open_alerts(ctx.relay.store)
        if service in a.services and (mode is None or not a.modes or mode in a.modes)
    ]


def step(ctx: Context, state: State, *, edit: bool) -> Reply:
    if not state.service:
        rows = [
            [Button(n, state.data(service=str(CANONICAL.index(n)))) for n in CHOICES[k : k + 3]]
            for k in (0, 3)
        ]
        rows.append([Button(ctx.t("Autre téléservice", "Another téléservice"), state.data(service=OTHER))])
        return reply(
            "🧭 ",
            b(
                ctx.t(
                    "Puis-je auto-déclencher la procédure de secours ?",
                    "May I self-trigger the fallback procedure?",
                )
            ),
            "\n",
            ctx.t("Quel téléservice vous pose problème ?", "Which téléservice fails you?"),
            buttons=rows,
            edit=edit,
        )
    service = state.service_name
    if service == "GAMMA":
        return _gamma(ctx, state, edit)
    if service in ICS:
        return _ics(ctx, state, edit)
    if service not in FICHE_1:
        return _other(ctx, state, edit)
    if not state.mode:
        return reply(
            *_title(ctx, state),
            ctx.t("Quel mode de transmission utilisez-vous ?", "Which transmission mode do you use?"),
            buttons=[
                [
                    Button("EDI", state.data(mode="E")),
                    Button(ctx.t("DTI (formulaires web)", "DTI (web forms)"), state.data(mode="D")),
                ]
            ],
            edit=edit,
        )
    # Étape 1: the relay knows whether an alert is published.
    alerts = _alerts_for(ctx, service, state.mode_name)
    if alerts and not state.differs:
        return _alert_published(ctx, state, alerts, edit)
    known: list[str | Span] = [*_title(ctx, state), ctx.t("Étape 1 : ", "Step 1: ")]
    if alerts:
        known.append(
            ctx.t(
                "une alerte est publiée, mais vos dysfonctionnements sont différents : étape 2.",
                "an alert is published, but what you see is different: step 2.",
            )
        )
    else:
        known.append(
            ctx.t(
                f"aucune alerte n'est publiée pour {service} ({state.mode_name}) sur la météo des "
                "téléservices, d'après le relais.",
                f"no alert is published for {service} ({state.mode_name}) on the météo des "
                "téléservices, according to the relay.",
            )
        )
    known.append("\n")
    if state.mode == "E" and state.provider in ("", "?"):
        return _ask_provider(ctx, state, known, edit)
    if state.provider == "f":
        return reply(
            *known,
            "⛔ ",
            b(
                ctx.t(
                    "Pas d'auto-déclenchement : la panne vient de votre prestataire.",
                    "Do not self-trigger: the failure is your provider's.",
                )
            ),
            "\n",
            ctx.t(
                "Attendez qu'il la signale au CID, puis suivez le message d'alerte publié par le SAU et "
                "relayé par votre prestataire, et les bulletins d'information (fiche 1, étape 2) :",
                "Wait for it to report to the CID, then follow the alert the SAU publishes and your "
                "provider relays, and the bulletins (fiche 1, step 2):",
            ),
            "\n",
            *_quote(ctx, "fiche-1", "etape-2-edi", body=True),
            buttons=_again(ctx),
            edit=edit,
        )
    if not state.aubette:
        return reply(
            *known,
            ctx.t(
                "Dans Aubette (Prodouane, « services accessibles »), quel est l'état de votre déclaration ?",
                "In Aubette (Prodouane, « services accessibles »), what state is your declaration in?",
            ),
            buttons=[
                [
                    Button("BAE", state.data(aubette="b")),
                    Button(ctx.t("Pas BAE", "Not BAE"), state.data(aubette="n")),
                ],
                [Button(ctx.t("Aubette inaccessible", "Aubette unreachable"), state.data(aubette="x"))],
                [
                    Button(
                        ctx.t("Impossible de valider la déclaration", "Cannot validate it at all"),
                        state.data(aubette="v"),
                    )
                ],
            ],
            edit=edit,
        )
    if state.aubette == "b":
        return reply(
            *known,
            "✅ ",
            b(
                ctx.t(
                    "Pas de procédure de secours : votre déclaration est « BAE ».",
                    "No fallback procedure: your declaration is « BAE » (released).",
                )
            ),
            "\n",
            *_quote(ctx, "fiche-1", "etape-2-blocage", body=True),
            buttons=_again(ctx),
            edit=edit,
        )
    if state.aubette in ("n", "x") and not state.control:
        return reply(
            *known,
            ctx.t(
                "Votre déclaration est-elle « sous contrôle », « crédit en attente » ou « paiement "
                "comptant » ? (Renseignez-vous auprès du service pendant ses heures d'ouverture.)",
                "Is your declaration « sous contrôle » (under control), « crédit en attente » "
                "(awaiting credit) or « paiement comptant » (cash payment)? (Ask the customs "
                "office during its opening hours.)",
            ),
            buttons=[
                [
                    Button(ctx.t("Oui", "Yes"), state.data(control="y")),
                    Button(ctx.t("Non, aucun de ces états", "No, none of these"), state.data(control="n")),
                ],
                [
                    Button(
                        ctx.t("Je ne sais pas (bureau fermé)", "I don't know (office closed)"),
                        state.data(control="?"),
                    )
                ],
            ],
            edit=edit,
        )
    if state.control == "y":
        return reply(
            *known,
            "⛔ ",
            b(
                ctx.t(
                    "Pas d'auto-déclenchement : le blocage n'est pas technique.",
                    "Do not self-trigger: the blockage is not technical.",
                )
            ),
            "\n",
            ctx.t(
                "Une déclaration « sous contrôle », « crédit en attente » ou « paiement comptant » "
                "relève du bureau de douane, pas de la procédure de secours (fiche 1, étapes 2 et 3) :",
                "A declaration under control, awaiting credit or cash payment is a matter for the "
                "customs office, not for the fallback procedure (fiche 1, steps 2 and 3):",
            ),
            "\n",
            *_quote(ctx, "fiche-1", "etape-3", body=True),
            buttons=_again(ctx),
            edit=edit,
        )
    return _allowed(ctx, state, known, edit)


def _again(ctx: Context) -> list[list[Button]]:
    return [[Button(ctx.t("Recommencer", "Start again"), "st:")]]


def _ask_provider(ctx: Context, state: State, known: list[str | Span], edit: bool) -> Reply:
    lead = (
        ctx.t(
            "Commencez par là (fiche 1, étape 2, cas EDI) : contactez votre prestataire de connexion pour "
            "vérifier si le dysfonctionnement vient de sa plateforme. Puis :",
            "Start there (fiche 1, step 2, EDI case): contact your connection provider to check whether the "
            "failure comes from its platform. Then:",
        )
        if state.provider == "?"
        else ctx.t(
            "Utilisateur EDI : avez-vous demandé à votre prestataire de connexion si le dysfonctionnement "
            "vient "
            "de sa plateforme ?",
            "EDI user: have you asked your connection provider whether the failure comes from its platform?",
        )
    )
    rows = [
        [Button(ctx.t("Oui : c'est sa plateforme", "Yes: it's the provider's"), state.data(provider="f"))],
        [
            Button(
                ctx.t("Oui : ce n'est pas sa plateforme", "Yes: not the provider's"), state.data(provider="n")
            )
        ],
    ]
    if state.provider != "?":
        rows.append([Button(ctx.t("Pas encore", "Not yet"), state.data(provider="?"))])
    return reply(*known, lead, buttons=rows, edit=edit)


def _alert_published(ctx: Context, state: State, alerts: list[Alert], edit: bool) -> Reply:
    service = state.service_name or ""
    alert = alerts[0]
    when = paris(alert.published_at) if alert.published_at else "?"
    guidance = fallback_for([service], ctx.lang)
    return reply(
        *_title(ctx, state),
        "📢 ",
        b(
            ctx.t(
                f"Une alerte est publiée par le CID pour {service} ({'/'.join(alert.modes) or 'EDI/DTI'}) "
                f"depuis le {when}.",
                f"The CID has published an alert for {service} ({'/'.join(alert.modes) or 'EDI/DTI'}) "
                f"since {when}.",
            )
        ),
        "\n",
        ctx.t(
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
        *_quote(ctx, "fiche-1", "etape-1"),
        buttons=[
            [
                Button(
                    ctx.t("Mes dysfonctionnements sont différents", "What I see is different"),
                    state.data(differs="1"),
                )
            ],
            *_again(ctx),
        ],
        edit=edit,
    )


def _allowed(ctx: Context, state: State, known: list[str | Span], edit: bool) -> Reply:
    case = (
        ctx.t("vous n'arrivez pas à valider vos déclarations", "you cannot validate your declarations")
        if state.aubette == "v"
        else ctx.t(
            "vos déclarations validées n'ont pas le statut « BAE » sans être « sous contrôle », « crédit "
            "en attente » "
            "ou « paiement au comptant »",
            "your validated declarations are not « BAE » without being under control, awaiting credit or "
            "cash "
            "payment",
        )
    )
    caveat: list[str | Span] = []
    if state.control == "?":
        caveat = [
            ctx.t(
                "Si vous le pouvez, vérifiez d'abord auprès du service que la déclaration n'est dans aucun "
                "de "
                "ces états (étape 2). ",
                "If you can, first check with the office that the declaration is in "
                "none of these states (step 2). ",
            )
        ]
    service = state.service_name or ""
    return reply(
        *known,
        "✅ ",
        b(
            ctx.t(
                "Vous pouvez auto-déclencher la procédure de secours.",
                "You may self-trigger the fallback procedure.",
            )
        ),
        "\n",
        ctx.t(
            f"Le blocage est technique : {case}. C'est de droit, sans autorisation du bureau, 24 h/24 et 7 "
            "j/7.",
            f"The blockage is technical: {case}. It is your right, without the office's authorisation, 24/7.",
        ),
        "\n",
        *caveat,
        "\n",
        *_quote(ctx, "fiche-1", "etape-3"),
        *_quote(ctx, "fiche-1", "etape-4"),
        "\n",
        b(ctx.t("Que faire maintenant", "What to do now")),
        "\n",
        *_quote(ctx, "fiche-1", "etape-5"),
        ctx.t(
            "Hors des heures d'ouverture du bureau, après la DA, appelez le SAU du CID au 09 702 80 100.",
            "Outside the office's opening hours, after filing the DA, call the CID's SAU on +33 9 702 80 "
            "100.",
        ),
        buttons=[
            [
                Button(
                    ctx.t(f"Rédiger la DA ({service})", f"Draft the DA ({service})"),
                    f"da:{state.service}:{state.mode}:{'v' if state.aubette == 'v' else 'n'}",
                )
            ],
            *_again(ctx),
        ],
        edit=edit,
    )


def _gamma(ctx: Context, state: State, edit: bool) -> Reply:
    alerts = [a for a in _alerts_for(ctx, "GAMMA", None) if a.level in ("red", "black")]
    parts: list[str | Span] = [*_title(ctx, state)]
    if alerts:
        level = ctx.t("rouge", "red") if alerts[0].level == "red" else ctx.t("noire", "black")
        parts += [
            "✅ ",
            b(
                ctx.t(
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
                ctx.t(
                    "Pour GAMMA, pas d'auto-déclenchement : c'est le service des douanes qui décide.",
                    "For GAMMA there is no self-triggering: the customs service decides.",
                )
            ),
            "\n",
            ctx.t(
                "Aucune alerte rouge ou noire n'est publiée pour GAMMA d'après le relais. Contactez le SAU "
                "du "
                "CID (09 702 80 100) pour établir un diagnostic ; si le problème n'est pas résolu, votre "
                "service douanier décide de l'autorisation d'utiliser la procédure de secours.",
                "No red or black alert is published for GAMMA according to the relay. Contact the CID's SAU "
                "(+33 9 702 80 100) for a diagnosis; if the problem is not solved, your customs service "
                "decides whether you may use the fallback procedure.",
            ),
            "\n",
        ]
    return reply(*parts, "\n", *_quote(ctx, "gamma", "iv-1", body=True), buttons=_again(ctx), edit=edit)


def _ics(ctx: Context, state: State, edit: bool) -> Reply:
    service = state.service_name or "ICS"
    alerts = _alerts_for(ctx, service, None)
    known = (
        ctx.t(
            f"Une alerte est publiée pour {service} : suivez-la et les messages de votre prestataire.",
            f"An alert is published for {service}: follow it and your provider's messages.",
        )
        if alerts
        else ctx.t(
            f"Aucune alerte n'est publiée pour {service} d'après le relais.",
            f"No alert is published for {service} according to the relay.",
        )
    )
    return reply(
        *_title(ctx, state),
        known,
        "\n",
        "ℹ️ ",
        b(
            ctx.t(
                "Pour ICS, c'est votre prestataire certifié qui signale la panne à la douane (demande "
                "d'assistance OLGA).",
                "For ICS, your certified provider reports the failure to customs (OLGA assistance request).",
            )
        ),
        "\n",
        *_quote(ctx, "fiche-9", "principes"),
        *_quote(ctx, "fiche-9", "scenario-1"),
        buttons=_again(ctx),
        edit=edit,
    )


def _other(ctx: Context, state: State, edit: bool) -> Reply:
    return reply(
        *_title(ctx, state),
        ctx.t(
            "Les fiches de cette base ne décrivent l'auto-déclenchement que pour Delta G et Delta X (fiche "
            "1). Pour un "
            "autre téléservice, vérifiez la météo des téléservices et contactez le SAU du CID (09 702 80 "
            "100, "
            "cid-sau@douane.finances.gouv.fr).",
            "The fiches in this knowledge base describe self-triggering for Delta G and Delta X only "
            "(fiche 1). For "
            "another téléservice, check the météo des téléservices and contact the CID's SAU (+33 9 702 80 "
            "100, "
            "cid-sau@douane.finances.gouv.fr).",
        ),
        "\n\n",
        *_quote(ctx, "fiche-1", "rappels"),
        buttons=_again(ctx),
        edit=edit,
    )
