"""What every tab of the review app shares: the store, the catalog, the settings, and who is acting.

The acting user is Gradio's login name when the app runs with authentication; without it
(loopback only, by default) it is the name typed in the "Acting as" field. Permissions are
never checked here: the store checks roles and four eyes and the views show its one-line reason.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, TypeVar

import gradio as gr

from rules_core.catalog import Catalog
from rules_core.errors import RulewrightError
from rules_core.store import Store

F = TypeVar("F", bound=Callable[..., Any])
DraftMode = Literal["auto", "offline", "llm"]


@dataclass
class UISettings:
    """How the app runs. ``llm`` is an ``assistant.llm.settings.LLMSettings`` (None: read the environment)."""

    auth: bool = False
    draft_mode: DraftMode = "auto"
    llm: Any = None
    default_user: str = ""
    sample_size: int = 40  # sample orders offered in the Decisions tab
    llm_http_client: Any = None  # an httpx.Client for the model's endpoint (tests fake the model with it)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class AppContext:
    store: Store
    catalog: Catalog
    settings: UISettings

    @functools.cached_property
    def llm(self) -> Any:
        if self.settings.llm is not None:
            return self.settings.llm
        from assistant.llm.settings import load_llm_settings

        return load_llm_settings()

    @functools.cached_property
    def sample_orders(self) -> list[Any]:
        from rules_core.samples import sample_orders

        return sample_orders(self.catalog)

    @property
    def model_configured(self) -> bool:
        return bool(getattr(self.llm, "configured", False))

    def user(self, typed: str | None, request: gr.Request | None) -> str:
        """The acting user: the login name with authentication, the typed name without."""
        login = getattr(request, "username", None) if request is not None else None
        if login:
            return str(login)
        if self.settings.auth:
            raise RulewrightError("not signed in: log in again")
        name = (typed or "").strip()
        if not name:
            raise RulewrightError("type your name in the “Acting as” field first")
        return name


def ok(text: str) -> str:
    return f"✔ {text}"


def refused(exc: Exception) -> str:
    return f"✖ {exc}"


def one_line(fn: F) -> F:
    """For action handlers that return one status line: a refusal becomes that line, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RulewrightError as exc:
            return refused(exc)

    return wrapper  # type: ignore[return-value]


def shown_as_error(fn: F) -> F:
    """For views that fill several outputs: a refusal becomes a Gradio error toast with the one-line reason."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RulewrightError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return wrapper  # type: ignore[return-value]


def picked_id(frame: Any, evt: gr.SelectData) -> Any:
    """The ``id`` column of the table row a user clicked."""
    return frame.iloc[evt.index[0]]["id"]
