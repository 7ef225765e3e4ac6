"""Replies of an OpenAI-compatible endpoint, as JSON, for tests and offline demos.

Tests mock the HTTP seam (respx) and answer with these bodies; nothing here opens a socket.
"""

from __future__ import annotations

import json
from typing import Any

BASE_URL = "http://llm.test/v1"
TOOL_NAME = "AssistantReply"


def completion(message: dict[str, Any], *, prompt_tokens: int = 1000, completion_tokens: int = 80,
               finish_reason: str = "stop") -> dict[str, Any]:
    """A chat.completion body carrying ``message``."""
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1764806400, "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def message_for(mode: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The assistant message a server in ``mode`` returns for ``payload``."""
    text = json.dumps(payload)
    if mode == "tools":
        return {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_fake", "type": "function", "function": {"name": TOOL_NAME, "arguments": text}}]}
    if mode == "md_json":
        return {"role": "assistant", "content": f"Here is the reply:\n```json\n{text}\n```"}
    return {"role": "assistant", "content": text}


def draft_payload(*rules: dict[str, Any], rationale: str = "One rule for the request.") -> dict[str, Any]:
    return {"reply": {"kind": "draft", "rationale": rationale, "rules": list(rules)}}


def clarify_payload(question: str) -> dict[str, Any]:
    return {"reply": {"kind": "clarify", "question": question}}


def refuse_payload(reason: str) -> dict[str, Any]:
    return {"reply": {"kind": "refuse", "reason": reason}}


def reply(mode: str, payload: dict[str, Any], **usage: Any) -> dict[str, Any]:
    """The whole completion body for ``payload`` in ``mode``."""
    return completion(message_for(mode, payload), **usage)


def text_reply(text: str, **usage: Any) -> dict[str, Any]:
    return completion({"role": "assistant", "content": text}, **usage)
