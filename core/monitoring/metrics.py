"""The product's metric definitions (names and labels are a contract with deploy/alerts.yml and the pages)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

# Request latency buckets in seconds: fine below a second, coarse up to the 5 s SLO and beyond.
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0)

HTTP_REQUEST_DURATION = "http_request_duration_seconds"
AGENT_EXECUTIONS = "agent_executions_total"
ERRORS = "errors_total"
LLM_COST = "llm_cost_usd_total"


@dataclass(frozen=True)
class ProductMetrics:
    http_request_duration: Histogram   # labels: method, route, status_code
    agent_executions: Counter          # labels: agent_id, status
    errors: Counter                    # labels: type, severity
    llm_cost_usd: Counter              # labels: provider


def product_metrics(registry: CollectorRegistry | None = REGISTRY) -> ProductMetrics:
    """Create the product's metrics on registry (each registry may hold them once)."""
    return ProductMetrics(
        http_request_duration=Histogram(HTTP_REQUEST_DURATION, "HTTP request duration in seconds",
                                        ["method", "route", "status_code"], buckets=LATENCY_BUCKETS,
                                        registry=registry),
        # prometheus_client appends _total to counters itself.
        agent_executions=Counter(AGENT_EXECUTIONS.removesuffix("_total"), "Agent executions by outcome",
                                 ["agent_id", "status"], registry=registry),
        errors=Counter(ERRORS.removesuffix("_total"), "Errors by type and severity", ["type", "severity"],
                       registry=registry),
        llm_cost_usd=Counter(LLM_COST.removesuffix("_total"), "LLM spend in US dollars", ["provider"],
                             registry=registry),
    )
