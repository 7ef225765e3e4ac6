"""``rulewright ui``: serve the review app (Gradio) over the configured store and catalog."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Optional

import typer

from ui.common import CATALOG_OPT, fail, friendly, get_catalog, settings


@friendly
def ui_cmd(host: str = typer.Option("127.0.0.1", "--host", help="address to bind (anything but loopback turns on login)"),
           port: int = typer.Option(7860, "--port", min=0, max=65535, help="port to listen on"),
           auth: Optional[bool] = typer.Option(None, "--auth/--no-auth",
                                               help="require login (default: on unless bound to loopback)"),
           offline: bool = typer.Option(False, "--offline", help="draft with the offline parser only; never a model"),
           hash_password: bool = typer.Option(False, "--hash-password",
                                              help="print a password hash for users.yaml `passwords:` and exit"),
           catalog: Optional[Path] = CATALOG_OPT) -> None:
    """The review app: draft in a chat, review proposals, browse rules and decisions, export."""
    from ui import app as review_app

    if hash_password:
        typer.echo(review_app.hash_password(_new_password()))
        return
    from rules_core.store import Store
    from ui.views.context import UISettings

    use_auth = review_app.wants_auth(host, auth)
    if not use_auth and not review_app.is_loopback(host):
        print(f"rulewright: warning: serving {host} without login (--no-auth): anyone who can reach it can "
              "approve as any user", file=sys.stderr)
    check = review_app.password_check(review_app.load_passwords(settings().home)) if use_auth else None
    store = Store.open(settings=settings())
    ui_settings = UISettings(auth=use_auth, draft_mode="offline" if offline else "auto",
                             default_user="" if use_auth else settings().user)
    app = review_app.build_app(store, get_catalog(catalog), ui_settings)
    try:
        review_app.launch(app, host=host, port=port, auth=check)
    finally:
        store.close()


def _new_password() -> str:
    first = getpass.getpass("password: ")
    if not first or first != getpass.getpass("again: "):
        fail("the passwords are empty or differ")
    return first


def register(app: typer.Typer) -> None:
    app.command("ui")(ui_cmd)
