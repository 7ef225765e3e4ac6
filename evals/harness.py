"""The drafting eval: every case through ``assistant.draft.draft``, scored by behaviour.

``run_eval`` drafts each case's request exactly as ``rulewright draft`` would (same pipeline,
same validator, the case's client and existing rules as context), scores the draft with
``evals.scoring`` and collects what drafting cost (model calls, tokens, latency). The result
knows whether its accuracy may be reported: never for a mocked model endpoint
(``evals.endpoint``).
"""

from __future__ import annotations

import hashlib
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from assistant.draft import DraftMode, DraftResult, draft
from assistant.llm.settings import LLMSettings
from evals.cases import CATEGORIES, DATASET_DIR, Case, Dataset, load_dataset
from evals.endpoint import endpoint_host, mock_reason
from evals.scoring import VERDICTS, Score, score_draft
from rules_core.catalog import Catalog
from rules_core.equivalence import sample_orders as fixed_sample_orders
from rules_core.findings import has_errors
from rules_core.models import Order, rule_json

Progress = Callable[[int, int, "CaseResult"], None]

# The dry run inside each draft is not scored; 15 fixed orders keep it cheap.
IMPACT_ORDERS = [Order.model_validate(o) for o in fixed_sample_orders()]


@dataclass(frozen=True)
class Prices:
    """USD per million tokens, for the estimated cost per case (None: not estimated)."""

    prompt: float | None = None
    completion: float | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if self.prompt is None and self.completion is None:
            return None
        return ((self.prompt or 0.0) * prompt_tokens + (self.completion or 0.0) * completion_tokens) / 1e6


@dataclass
class CaseResult:
    case: Case
    score: Score
    status: str
    source: str
    rules: list[dict[str, Any]]
    question: str | None
    error: str | None
    usage: dict[str, Any]
    latency_ms: float
    drafted: bool  # the drafter produced rules (valid or not)
    valid: bool  # ... and they passed validation
    crashed: bool = False

    @property
    def verdict(self) -> str:
        return self.score.verdict

    @property
    def first_try_valid(self) -> bool:
        return self.valid and self.usage.get("repairs", 0) == 0


@dataclass
class EvalRun:
    mode: str
    results: list[CaseResult]
    started: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    mock: str | None = None  # why the endpoint is a mock; accuracy is then withheld
    prices: Prices = field(default_factory=Prices)
    dataset_sha256: str = ""

    @property
    def accuracy_reported(self) -> bool:
        return self.mock is None

    @property
    def used_model(self) -> bool:
        return any(r.usage.get("model_calls", 0) for r in self.results)

    def counts(self, category: str | None = None) -> dict[str, int]:
        rows = [r for r in self.results if category is None or r.case.category == category]
        out = {"cases": len(rows)}
        out.update({v: sum(r.verdict == v for r in rows) for v in VERDICTS})
        return out


# --- running ---------------------------------------------------------------------------------------


def run_eval(catalog: Catalog, *, mode: DraftMode = "offline", settings: LLMSettings | None = None,
             http_client: Any = None, dataset: Dataset | None = None, progress: Progress | None = None,
             prices: Prices | None = None) -> EvalRun:
    """Draft and score every case. mode="llm" raises NotConfigured without a model."""
    settings = settings or LLMSettings()
    if mode == "llm":
        settings.require()
    dataset = dataset or load_dataset()
    asks_model = mode != "offline" and settings.configured
    mock = mock_reason(settings.base_url, http_client) if asks_model else None
    run = EvalRun(mode=mode, results=[], started=datetime.now(timezone.utc),
                  settings=settings_record(settings, asks_model), prices=prices or Prices(),
                  dataset_sha256=dataset_hash())
    for i, case in enumerate(dataset.cases):
        result = run_case(case, catalog, mode=mode, settings=settings, http_client=http_client)
        run.results.append(result)
        if progress:
            progress(i + 1, len(dataset.cases), result)
    if asks_model:  # checked again: a mock may have been switched on while the cases ran
        run.mock = mock or mock_reason(settings.base_url, http_client)
    return run


def run_case(case: Case, catalog: Catalog, *, mode: DraftMode, settings: LLMSettings,
             http_client: Any = None) -> CaseResult:
    started = time.perf_counter()
    try:
        result = draft(case.request, catalog, client=case.client, mode=mode, settings=settings,
                       current_rules=list(case.existing), orders=IMPACT_ORDERS, http_client=http_client)
        for answer in case.answers:  # the conversation goes on while the drafter asks
            if result.status != "clarify" or result.pending is None:
                break
            result = draft(answer, catalog, client=case.client, mode=mode, settings=settings,
                           current_rules=list(case.existing), orders=IMPACT_ORDERS, http_client=http_client,
                           answering=result.pending)
    except Exception as exc:  # a bug in the drafter must not stop the eval: it is reported
        elapsed = (time.perf_counter() - started) * 1000
        crash = DraftResult(status="error", error=f"crashed: {type(exc).__name__}: {exc}")
        # Never `correct`, even where the case must be declined: a crash is a bug, not an answer.
        return _result(case, crash, Score("refused", crash.error or "crashed"), elapsed, crashed=True)
    elapsed = (time.perf_counter() - started) * 1000
    return _result(case, result, score_draft(case, result.status, result.rules, catalog), elapsed)


def _result(case: Case, d: DraftResult, score: Score, elapsed: float, crashed: bool = False) -> CaseResult:
    drafted = bool(d.rules) or any(f.severity == "error" for f in d.findings)
    return CaseResult(
        case=case, score=score, status=d.status, source=d.source, rules=[rule_json(r) for r in d.rules],
        question=d.question, error=d.error, usage=d.usage.model_dump(mode="json"), latency_ms=elapsed,
        drafted=drafted, valid=d.status == "ok" and bool(d.rules) and not has_errors(d.findings),
        crashed=crashed)


def settings_record(settings: LLMSettings, asks_model: bool) -> dict[str, Any]:
    """What the report says about the model side: never the key."""
    if not asks_model:
        return {"model": None, "endpoint": None, "llm_mode": None}
    return {"model": settings.model, "endpoint": endpoint_host(settings.base_url), "llm_mode": settings.mode,
            "repairs": settings.repairs, "temperature": settings.temperature}


def dataset_hash(directory: Path = DATASET_DIR) -> str:
    """sha256 over the case files, so runs on different datasets are not compared by mistake."""
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return "sha256:" + h.hexdigest()


def git_commit(root: Path = Path(__file__).resolve().parent.parent) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


# --- the summary ------------------------------------------------------------------------------------


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def accuracy_block(run: EvalRun) -> dict[str, Any]:
    totals = run.counts()
    by_cat = {}
    for cat in [c for c in CATEGORIES if any(r.case.category == c for r in run.results)]:
        c = run.counts(cat)
        by_cat[cat] = {**c, "accuracy": _rate(c["correct"], c["cases"])}
    return {"totals": {**totals, "accuracy": _rate(totals["correct"], totals["cases"]),
                       "wrong_rate": _rate(totals["wrong"], totals["cases"])},
            "by_category": by_cat}


def drafting_block(run: EvalRun) -> dict[str, Any]:
    rs = run.results
    drafts = [r for r in rs if r.drafted]
    usage = [r.usage for r in rs]
    calls = sum(u.get("model_calls", 0) for u in usage)
    prompt = sum(u.get("prompt_tokens", 0) for u in usage)
    completion = sum(u.get("completion_tokens", 0) for u in usage)
    lat = sorted(r.latency_ms for r in rs)
    n = len(rs)
    total_cost = run.prices.cost(prompt, completion)
    return {
        "drafts": len(drafts),
        "schema_valid_rate": _rate(sum(r.valid for r in drafts), len(drafts)),
        "first_try_valid_rate": _rate(sum(r.first_try_valid for r in drafts), len(drafts)),
        "repairs_per_draft": _rate(sum(r.usage.get("repairs", 0) for r in drafts), len(drafts)),
        "answered_by_model": sum(r.source == "model" for r in rs),
        "model_calls": calls,
        "model_calls_per_case": _rate(calls, n),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "tokens_per_case": _rate(prompt + completion, n),
        "latency_ms_mean": round(statistics.fmean(lat), 1) if lat else None,
        "latency_ms_p50": round(lat[n // 2], 1) if lat else None,
        "latency_ms_p95": round(lat[min(n - 1, int(n * 0.95))], 1) if lat else None,
        "cost_per_case_usd": round(total_cost / n, 6) if total_cost is not None and n else None,
        "prices_usd_per_million_tokens": {"prompt": run.prices.prompt, "completion": run.prices.completion},
        "crashes": sum(r.crashed for r in rs),
    }


def case_record(r: CaseResult, with_verdict: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r.case.id, "category": r.case.category, "request": r.case.request,
                           "status": r.status, "source": r.source}
    if with_verdict:
        out.update(verdict=r.verdict, reason=r.score.reason)
        if r.score.counterexample:
            out["counterexample"] = r.score.counterexample
    out.update(rules=r.rules, question=r.question, error=r.error, latency_ms=round(r.latency_ms, 1),
               usage={k: v for k, v in r.usage.items() if v not in (None, 0)})
    return out


def summary(run: EvalRun, *, with_cases: bool = True) -> dict[str, Any]:
    """The JSON summary of a run; accuracy figures only when the endpoint is not a mock."""
    out: dict[str, Any] = {
        "run": {"date": run.started.isoformat(timespec="seconds").replace("+00:00", "Z"), "mode": run.mode,
                "used_model": run.used_model, **run.settings, "commit": git_commit(),
                "dataset": {"cases": len(run.results), "sha256": run.dataset_sha256}},
        "accuracy_reported": run.accuracy_reported,
    }
    if run.accuracy_reported:
        out.update(accuracy_block(run))
    else:
        out["withheld"] = f"accuracy withheld: the model endpoint is a mock ({run.mock})"
    out["drafting"] = drafting_block(run)
    if with_cases:
        out["cases"] = [case_record(r, run.accuracy_reported) for r in run.results]
    return out


def evaluate(catalog: Catalog, *, mode: DraftMode, settings: LLMSettings, dataset: Dataset | None = None,
             prices: Prices | None = None, progress: Progress | None = None,
             http_client: Any = None) -> tuple[EvalRun, EvalRun | None]:
    """The run in ``mode`` and, when it asks a model, the offline run beside it for comparison."""
    run = run_eval(catalog, mode=mode, settings=settings, dataset=dataset, prices=prices,
                   progress=progress, http_client=http_client)
    if mode == "offline" or not settings.configured:
        return run, None
    return run, run_eval(catalog, mode="offline", settings=settings, dataset=dataset)
