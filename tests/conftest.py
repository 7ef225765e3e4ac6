import os

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="session")
def catalog():
    from rules_core.catalog import demo_catalog

    return demo_catalog()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own RULEWRIGHT_HOME so no test touches a real store."""
    monkeypatch.setenv("RULEWRIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RULEWRIGHT_DATABASE_URL", raising=False)
    for var in ("RULEWRIGHT_LLM_BASE_URL", "RULEWRIGHT_LLM_MODEL", "RULEWRIGHT_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    try:
        from ui import common

        common.settings.cache_clear()
    except ImportError:
        pass
