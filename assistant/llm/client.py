"""The model client: instructor over the openai SDK, against any OpenAI-compatible endpoint.

``ChatModel.draft`` sends the drafting prompt and gets back a validated reply envelope;
the rules core's validator runs inside the envelope's validation, so its findings travel
back to the model in instructor's re-ask and the model repairs its reply (at most
``settings.repairs`` times). ``ChatModel.complete`` is a plain chat call for narratives.

How each mode asks for structured output:

| mode                 | request                                                     | servers             |
|----------------------|-------------------------------------------------------------|---------------------|
| tools                | the envelope as a forced function tool                      | OpenAI, Azure, vLLM |
| json_schema          | response_format {"type": "json_schema", ...}                | OpenAI, Ollama      |
| json                 | response_format {"type": "json_object"}; the compact schema | most servers        |
|                      | at the end of the system prompt                             |                     |
| md_json              | instructor's schema in the prompt, reply in a ```json block | anything that chats |
| json_object_schema   | response_format {"type": "json_object", "schema": ...}:     | llama.cpp server    |
|                      | grammar-constrained decoding, schema not in the prompt      |                     |

Every failure becomes an ``LLMError`` with one redacted line; nothing here saves anything.
"""

from __future__ import annotations

import json
import time
from typing import Any, Iterator, cast

from pydantic import BaseModel, Field

from assistant.llm.envelope import AssistantReply, ClarifyReply, DraftReply, RefuseReply, reply_schema
from assistant.llm.errors import EndpointError, LLMError, ReplyError
from assistant.llm.prompt import draft_messages
from assistant.llm.redact import guard_logs, redact
from assistant.llm.settings import LLMSettings
from rules_core.catalog import Catalog
from rules_core.findings import Finding
from rules_core.models import Rule

# A key the openai SDK accepts for servers that need none (Ollama, llama.cpp, vLLM).
NO_KEY = "no-key"
SUGGESTED_MODE = {
    "tools": "json_object_schema (llama.cpp) or json_schema (Ollama)",
    "json_schema": "json_object_schema (llama.cpp) or json",
    "json_object_schema": "json or md_json",
    "json": "md_json",
    "md_json": "tools",
}


class Usage(BaseModel):
    """What drafting cost: model calls, tokens and wall-clock latency."""

    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    model: str | None = None
    mode: str | None = None
    repairs: int = 0
    note: str | None = Field(default=None, description="how the request was answered when no model was asked")

    def add(self, other: "Usage") -> None:
        self.model_calls += other.model_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.latency_ms += other.latency_ms
        self.repairs += other.repairs
        self.model = other.model or self.model
        self.mode = other.mode or self.mode


class ModelDraft(BaseModel):
    """The model's validated reply, the findings of its last draft and what it cost."""

    reply: DraftReply | ClarifyReply | RefuseReply
    findings: list[Finding] = Field(default_factory=list)
    usage: Usage


class _Meter:
    """Counts calls and tokens through instructor's hooks (every attempt, repairs included)."""

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self.last_response: Any = None

    def on_kwargs(self, *args: Any, **kwargs: Any) -> None:
        self.usage.model_calls += 1

    def on_response(self, response: Any) -> None:
        self.last_response = response
        self.add_tokens(response)

    def add_tokens(self, response: Any) -> None:
        u = getattr(response, "usage", None)
        self.usage.prompt_tokens += int(getattr(u, "prompt_tokens", 0) or 0)
        self.usage.completion_tokens += int(getattr(u, "completion_tokens", 0) or 0)


class ChatModel:
    """One configured endpoint and model."""

    def __init__(self, settings: LLMSettings, *, http_client: Any = None) -> None:
        import instructor  # noqa: F401 - its loggers must exist before guard_logs filters them

        self.settings = settings.require()
        self.secrets = settings.secrets()
        self._openai = make_openai(settings, http_client)
        guard_logs(self.secrets)

    # --- drafting -----------------------------------------------------------------------------

    def draft(self, text: str, catalog: Catalog, *, client: str | None = None,
              current: list[Rule] | None = None, earlier: Any = None) -> ModelDraft:
        """The model's reply to a rule request; LLMError when no usable reply came back."""
        import instructor

        s = self.settings
        ctx: dict[str, Any] = {"catalog": catalog, "client": client, "existing": current or None,
                               "findings": [], "attempts": 0}
        usage = Usage(model=s.model, mode=s.mode)
        meter = _Meter(usage)
        ic = instructor.from_openai(self._openai, mode=instructor_mode(s.mode))
        ic.on("completion:kwargs", meter.on_kwargs)
        ic.on("completion:response", meter.on_response)
        started = time.perf_counter()
        messages = with_schema(s.mode, draft_messages(text, catalog, client=client, current=current,
                                                      earlier=earlier))
        try:
            result = ic.chat.completions.create(
                model=s.model, messages=messages,
                response_model=AssistantReply, context=ctx, max_retries=s.repairs,
                temperature=s.temperature, max_tokens=s.max_tokens, **mode_extras(s.mode))
        except Exception as exc:
            usage.repairs = max(usage.model_calls - 1, 0)
            raise self.failure(exc, ctx, usage, meter.last_response) from None
        finally:
            usage.latency_ms = round((time.perf_counter() - started) * 1000)
        usage.repairs = max(usage.model_calls - 1, 0)
        findings = ctx["findings"] if isinstance(result.reply, DraftReply) else []
        return ModelDraft(reply=result.reply, findings=findings, usage=usage)

    # --- plain text ---------------------------------------------------------------------------

    def complete(self, messages: list[dict[str, str]]) -> tuple[str, Usage]:
        """A plain chat completion (for narratives): the text and its usage."""
        s = self.settings
        usage = Usage(model=s.model, mode="text", model_calls=1)
        meter = _Meter(usage)
        started = time.perf_counter()
        try:
            response = self._openai.chat.completions.create(
                model=s.model, messages=messages, temperature=s.temperature, max_tokens=s.max_tokens)  # type: ignore[arg-type]
        except Exception as exc:
            raise self.failure(exc, {}, usage, None) from None
        finally:
            usage.latency_ms = round((time.perf_counter() - started) * 1000)
        meter.add_tokens(response)
        text = (response.choices[0].message.content or "").strip() if response.choices else ""
        if not text:
            raise ReplyError("the model returned an empty reply", usage=usage)
        return text, usage

    # --- failures -----------------------------------------------------------------------------

    def failure(self, exc: Exception, ctx: dict[str, Any], usage: Usage, last: Any) -> LLMError:
        """One redacted, actionable LLMError for whatever went wrong."""
        err = describe_failure(exc, self.settings, ctx, last)
        err.args = (redact(str(err), self.secrets),)
        err.usage = usage
        return err


# --- construction ---------------------------------------------------------------------------------


def make_openai(settings: LLMSettings, http_client: Any = None) -> Any:
    import openai

    key = settings.api_key.get_secret_value() if settings.api_key else NO_KEY
    common: dict[str, Any] = {"api_key": key, "timeout": settings.timeout, "max_retries": settings.http_retries}
    if http_client is not None:
        common["http_client"] = http_client
    if settings.api_version:  # Azure deployment URLs: /openai/deployments/{model}/...?api-version=
        # base_url is set: ChatModel passes settings.require()
        return openai.AzureOpenAI(azure_endpoint=cast(str, settings.base_url), api_version=settings.api_version,
                                  **common)
    return openai.OpenAI(base_url=settings.base_url, **common)


def instructor_mode(mode: str) -> Any:
    from instructor import Mode

    return {
        "tools": Mode.TOOLS,
        "json_schema": Mode.JSON_SCHEMA,
        "md_json": Mode.MD_JSON,
        # For these two, instructor's JSON_SCHEMA handler parses the reply text and re-asks with
        # the errors, and mode_extras swaps its response_format: plain json_object (with the
        # compact schema in the prompt rather than instructor's indented copy, which costs
        # ~2,000 tokens more) or llama.cpp's json_object + schema (a grammar, no prompt cost).
        "json": Mode.JSON_SCHEMA,
        "json_object_schema": Mode.JSON_SCHEMA,
    }[mode]


def mode_extras(mode: str) -> dict[str, Any]:
    """Request fields a mode adds on top of instructor's (extra_body wins over the SDK's body)."""
    if mode == "json_object_schema":
        return {"extra_body": {"response_format": {"type": "json_object", "schema": reply_schema()}}}
    if mode == "json":
        return {"extra_body": {"response_format": {"type": "json_object"}}}
    return {}


def with_schema(mode: str, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """json mode: the compact reply schema appended to the system prompt (nothing else enforces it)."""
    if mode != "json":
        return messages
    schema = json.dumps(reply_schema(), separators=(",", ":"))
    system = {**messages[0], "content": messages[0]["content"] + f"\n\nREPLY JSON SCHEMA:\n{schema}"}
    return [system, *messages[1:]]


# --- turning exceptions into one line ---------------------------------------------------------------


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    msg = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else inner
    text = str(msg or getattr(exc, "message", "") or exc).replace("\n", " ").strip()
    return text[:200] + ("..." if len(text) > 200 else "")


def describe_failure(exc: Exception, s: LLMSettings, ctx: dict[str, Any], last: Any) -> LLMError:
    import openai

    for e in _chain(exc):
        if isinstance(e, LLMError):
            return e
        if isinstance(e, openai.APITimeoutError):
            return EndpointError(f"the model endpoint did not answer within {s.timeout:g} s "
                                 "(raise RULEWRIGHT_LLM_TIMEOUT, or use --offline)")
        if isinstance(e, openai.APIConnectionError):
            return EndpointError(f"cannot reach the model endpoint at {s.base_url} (is it running? "
                                 "check RULEWRIGHT_LLM_BASE_URL, or use --offline)")
        if isinstance(e, openai.APIStatusError):
            return status_error(e, s)
    kind = type(exc).__name__
    if kind == "IncompleteOutputException":
        return ReplyError(f"the model's reply was cut off at {s.max_tokens} tokens (raise RULEWRIGHT_LLM_MAX_TOKENS)")
    refusal = _refusal(last)
    if refusal:
        return ReplyError(f"the model refused: {refusal}")
    findings = [f for f in ctx.get("findings", []) if isinstance(f, Finding)]
    attempts = s.repairs + 1
    if any(f.severity == "error" for f in findings) and ctx.get("attempts"):
        n = sum(f.severity == "error" for f in findings)
        return ReplyError(f"the model's draft still had {n} validation error{'s' * (n != 1)} after "
                          f"{s.repairs} repair{'s' * (s.repairs != 1)}", findings=findings)
    reason = _first_line(exc)
    return ReplyError(f"the model did not return a usable reply in {attempts} attempt{'s' * (attempts != 1)} "
                      f"({reason}); with mode {s.mode}, try RULEWRIGHT_LLM_MODE={SUGGESTED_MODE[s.mode]}",
                      findings=findings)


def status_error(e: Any, s: LLMSettings) -> EndpointError:
    code = e.status_code
    detail = _detail(e)
    if code in (401, 403):
        return EndpointError(f"the model endpoint refused the credentials (HTTP {code}: {detail}); "
                             "check RULEWRIGHT_LLM_API_KEY")
    if code == 404:
        return EndpointError(f"the model endpoint has no model {s.model!r} or no chat API there (HTTP 404: "
                             f"{detail}); check RULEWRIGHT_LLM_MODEL and RULEWRIGHT_LLM_BASE_URL")
    if code == 429:
        return EndpointError(f"the model endpoint is rate limiting (HTTP 429: {detail}); try again later")
    if 400 <= code < 500:
        return EndpointError(f"the model endpoint rejected the request (HTTP {code}: {detail}); if it does not "
                             f"support mode {s.mode}, try RULEWRIGHT_LLM_MODE={SUGGESTED_MODE[s.mode]}")
    return EndpointError(f"the model endpoint failed (HTTP {code}: {detail})")


def _refusal(response: Any) -> str | None:
    try:
        return response.choices[0].message.refusal or None
    except (AttributeError, IndexError, TypeError):
        return None


def _first_line(exc: BaseException) -> str:
    """The first problem of the last reply, in one short line."""
    from pydantic import ValidationError

    for e in _chain(exc):
        if isinstance(e, ValidationError) and e.errors():
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return f"{where + ': ' if where else ''}{first['msg']}"[:200]
        if isinstance(e, json.JSONDecodeError):
            return f"not JSON: {e.msg}"
        if type(e).__name__ == "ResponseParsingError":
            return str(e).splitlines()[0][:200]
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"
