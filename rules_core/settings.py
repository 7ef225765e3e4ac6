"""Core settings, read from the environment in one place and passed down.

| variable                 | meaning                                        | default              |
|--------------------------|------------------------------------------------|----------------------|
| RULEWRIGHT_HOME          | folder for the embedded store and settings     | ~/.rulewright        |
| RULEWRIGHT_DATABASE_URL  | SQLAlchemy URL of the store                    | SQLite in the home   |
| RULEWRIGHT_USER          | acting user for the command line               | the login name       |
| RULEWRIGHT_CATALOG       | catalog folder                                 | the demo catalog     |
"""

from __future__ import annotations

import getpass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


class CoreSettings(BaseSettings):
    # An empty variable (RULEWRIGHT_HOME= ...) means "not set", not the current folder.
    model_config = SettingsConfigDict(env_prefix="RULEWRIGHT_", extra="ignore", env_ignore_empty=True)

    home: Path = Field(default_factory=lambda: Path.home() / ".rulewright")
    database_url: str | None = None
    user: str = Field(default_factory=_login)
    catalog: Path | None = None

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'rulewright.sqlite'}"
