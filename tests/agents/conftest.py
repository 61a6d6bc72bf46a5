from __future__ import annotations

import pytest

# Variables that make a framework try the network even with a fake model: an API key
# (OpenAI trace upload) or LangSmith tracing. The adapter tests must run offline.
_NETWORK_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LANGSMITH_TRACING", "LANGSMITH_API_KEY",
                "LANGSMITH_ENDPOINT", "LANGCHAIN_TRACING_V2", "LANGCHAIN_API_KEY",
                "LANGCHAIN_ENDPOINT")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _NETWORK_ENV:
        monkeypatch.delenv(name, raising=False)
