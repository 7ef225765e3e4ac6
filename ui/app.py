"""The review app: a Gradio Blocks UI over the assistant and the rule store.

    app = build_app(store, catalog, UISettings())     # gr.Blocks, tabs in ui/views/
    launch(app, host="127.0.0.1", port=7860)          # rulewright ui [--host] [--port] [--auth]

Tabs: Assistant (draft in a chat, submit), Review (queue, diff, impact, approve or reject),
Rules (active set, history, rollback), Decisions (an order's decision and why), Export
(bundle, JDM graph, versions). Every event has an ``api_name`` so ``gradio_client`` can
drive the app exactly as the page does.

Authentication: on by default when the app binds to anything other than loopback. Users log
in with the passwords listed under ``passwords:`` in ``RULEWRIGHT_HOME/users.yaml`` (the file
that gives users their roles), stored as hashes made by ``rulewright ui --hash-password``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import yaml

from rules_core.catalog import Catalog
from rules_core.errors import StoreError
from rules_core.store import Store
from ui.views import assistant, decisions, export, review, rules
from ui.views.context import AppContext, UISettings

TITLE = "rulewright review"
PBKDF2_ROUNDS = 200_000
CSS = """
.rw-diff td { border-bottom: 1px solid #eee; }
#rw-header { align-items: center; }
"""


def build_app(store: Store, catalog: Catalog, settings: UISettings | None = None) -> gr.Blocks:
    ctx = AppContext(store=store, catalog=catalog, settings=settings or UISettings())
    with gr.Blocks(title=TITLE) as app:
        with gr.Row(elem_id="rw-header"):
            gr.Markdown("## rulewright · rules for fulfilment, reviewed", elem_id="rw-title")
            who = gr.Textbox(value=ctx.settings.default_user, label="Acting as", elem_id="rw-who", scale=0,
                             min_width=220, visible=not ctx.settings.auth,
                             placeholder="your name (users.yaml gives roles)")
            signed_in = gr.Markdown(elem_id="rw-signed-in", visible=ctx.settings.auth)
        with gr.Tabs():
            assistant.build(ctx, who)
            queue = review.build(ctx, who)
            rule_view = rules.build(ctx, who)
            decisions.build(ctx)
            versions = export.build(ctx)

        def on_load(request: gr.Request) -> tuple[Any, ...]:
            login = getattr(request, "username", None)
            return (signed_in_text(ctx, login), queue["refresh"]("open"),
                    *rule_view["refresh"](rules.ALL, rules.ALL, ""), versions["refresh"]())

        app.load(on_load, None, [signed_in, queue["queue"], *rule_view["outputs"], *versions["outputs"]],
                 api_name=False)
    return app


def signed_in_text(ctx: AppContext, login: str | None) -> str:
    if not login:
        return ""
    roles = ", ".join(sorted(ctx.store.roles.of(login))) or "no roles"
    return f"Signed in as **{login}** ({roles}) · [log out](/logout)"


# --- authentication ----------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def wants_auth(host: str, auth: bool | None) -> bool:
    """``--auth``/``--no-auth`` when given; otherwise on for every address but loopback."""
    return (not is_loopback(host)) if auth is None else auth


def hash_password(password: str, *, salt: bytes | None = None, rounds: int = PBKDF2_ROUNDS) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"pbkdf2_sha256${rounds}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, rounds, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        mine = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(rounds))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(mine, base64.b64decode(digest))


def load_passwords(home: Path) -> dict[str, str]:
    """``passwords:`` of ``users.yaml``: user name to ``hash_password`` hash."""
    path = home / "users.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, yaml.YAMLError) as exc:
        raise StoreError(f"{path}: cannot read users ({exc.__class__.__name__})") from None
    table = (data or {}).get("passwords") or {}
    if not isinstance(table, dict):
        raise StoreError(f"{path}: `passwords:` must map each user to a hash from `rulewright ui --hash-password`")
    return {str(user): str(h) for user, h in table.items()}


def password_check(passwords: dict[str, str]) -> Callable[[str, str], bool]:
    if not passwords:
        raise StoreError("authentication needs users with passwords: add `passwords:` to users.yaml in "
                         "RULEWRIGHT_HOME (hashes from `rulewright ui --hash-password`), or bind to 127.0.0.1")

    def check(user: str, password: str) -> bool:
        stored = passwords.get(user)
        return stored is not None and check_password(stored, password)

    return check


# --- launching ---------------------------------------------------------------------------------


def launch(app: gr.Blocks, *, host: str = "127.0.0.1", port: int | None = None,
           auth: Callable[[str, str], bool] | None = None, block: bool = True, quiet: bool = False) -> str:
    """Serve ``app``; returns its local URL (at once when ``block`` is False)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app.queue(default_concurrency_limit=4)
    _, url, _ = app.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=not block,
                           auth_message="Sign in with your rulewright user name.", show_error=True, quiet=quiet,
                           ssr_mode=False, footer_links=["api"], css=CSS, theme=gr.themes.Soft())
    return url
