"""``invite CLIENT``: a single-use code that enrols one chat for CLIENT in the Telegram or Slack bot.

    prodouane-relay invite "Transit SA" --eori FR12345678901 --company "Transit SA" \\
        --address "1 quai de Southampton, 76600 Le Havre" --phone "+33 2 35 00 00 00"
The references go into the subscriber's profile; the bots' ``da`` command drafts the assistance
request (DA) from them. ``--list`` shows the codes and who used them.
"""

from __future__ import annotations

import argparse

from bot.commands import summary
from bot.text import printable
from relays.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("invite", help=summary("invite"))
    p.add_argument("client", nargs="?", help="the client's name")
    p.add_argument("--eori", help="the client's EORI number")
    p.add_argument("--company", help="raison sociale (default: the client's name)")
    p.add_argument("--address", help="the client's postal address")
    p.add_argument("--phone", help="the client's phone number")
    p.add_argument("--list", action="store_true", help="list the invite codes instead")
    p.add_argument("--db", help="SQLAlchemy URL of the store (default: the configured one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.list and not (args.client or "").strip():
        raise UsageError('give the client\'s name, e.g. invite "Transit SA" --eori FR123…')
    from bot.bootstrap import bootstrap
    from bot.settings import load_settings
    from relays.invites import create_invite, list_invites

    with bootstrap(load_settings(), database_url=args.db, read_only=args.list) as relay:
        if args.list:
            for invite in list_invites(relay.store):
                state = (
                    f"used {invite.used_at:%Y-%m-%d %H:%M} by {invite.used_by}"
                    if invite.used_at
                    else "unused"
                )
                print(f"{invite.code}  {printable(invite.client):<30} {printable(state)}")
            return 0
        profile = {
            "eori": args.eori,
            "company": args.company or args.client,
            "address": args.address,
            "phone": args.phone,
        }
        code = create_invite(relay.store, args.client, profile)
    print(f"invite code for {printable(args.client.strip())}: {code} (single use, valid 30 days)")
    print("in the client's chat, send:")
    print(f"/start {code}")
    print(f"(on Slack: /prodouane start {code})")
    return 0
