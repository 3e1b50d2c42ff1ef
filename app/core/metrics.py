"""Prometheus metrics: HTTP requests by route template, and business counters counted on commit.

Labels never hold ids or personal data: routes are templates (``/staff/{employeeNumber}``,
never the path itself), methods and statuses are bounded sets, and business labels are
enumerations (level, match status, batch kind).

With several uvicorn workers, ``iqt serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh
directory before the workers start; each worker then writes its values to files there and
``/metrics`` adds up every worker's (prometheus-client's multiprocess mode). One process keeps
them in memory (tests, ``--workers 1``).
"""

import os
import time
from collections import Counter as Tally
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
METRICS_MEDIA_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "iqt_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "iqt_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
COMPLETIONS_RECORDED = Counter(
    "iqt_completions_recorded",
    "New course completions stored, by channel (api, batch, xapi) and match status.",
    ["channel", "match_status"],
)
COMPLETIONS_MATCHED = Counter(
    "iqt_completions_matched",
    "Unmatched completions matched later, when HR sent the person.",
)
COMPLETIONS_RETRACTED = Counter(
    "iqt_completions_retracted", "Completions retracted by the platform that sent them."
)
AWARDS_GRANTED = Counter(
    "iqt_awards_granted",
    "Awards granted, by level and source (rules: by evaluation; legacy: recorded by hand).",
    ["level", "source"],
)
AWARDS_REVOKED = Counter(
    "iqt_awards_revoked",
    "Awards revoked, by level and cause (administrator, evidenceRetracted, levelBelowRevoked).",
    ["level", "cause"],
)
BATCH_RECORDS_RECEIVED = Counter(
    "iqt_batch_records_received", "Records received in batches, by batch kind.", ["batch"]
)
BATCH_RECORDS_REJECTED = Counter(
    "iqt_batch_records_rejected", "Batch records rejected, by batch kind.", ["batch"]
)
STAFF_RECORDS_WRITTEN = Counter(
    "iqt_staff_records_written",
    "Staff records created or updated (one PUT, PATCH or batch record each).",
    ["change"],
)

_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"


def multiprocess_mode() -> bool:
    """Whether this process's metric values live in files shared by the workers."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def exposition() -> bytes:
    """Every metric in the Prometheus text format: all workers' in multiprocess mode."""
    if not multiprocess_mode():
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


EVENT_FEED_HOLDBACK = (
    "iqt_event_feed_holdback_seconds",
    "Age of the oldest transaction running on the PostgreSQL cluster (any database), which "
    "holds back the event feed: events committed since it began are not shown until it ends.",
)


class _Gauges(Collector):
    def __init__(self, gauges: Iterable[tuple[tuple[str, str], float]]) -> None:
        self.gauges = list(gauges)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for (name, documentation), value in self.gauges:
            yield GaugeMetricFamily(name, documentation, value=value)


def gauges_read_now(gauges: Iterable[tuple[tuple[str, str], float]]) -> bytes:
    """Gauges this scrape has just read (from the database), in the text format: values of the
    moment, the same whichever worker answers, so kept out of the workers' shared files."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Gauges(gauges))
    return generate_latest(registry)


def forget_this_worker() -> None:
    """At a worker's exit: drop its live-gauge files (counters and histograms stay summed)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


# ---- business counters: counted when the transaction that did the work commits -------------

_PENDING = "iqt.metrics.pending"


def count_on_commit(session: AsyncSession | Session, counter: Any, amount: float = 1) -> None:
    """Adds ``amount`` to ``counter`` (a labelled child) when this session's transaction
    commits; nothing when it rolls back."""
    if amount <= 0:
        return
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_PENDING, []).append((counter, amount))


def count_each_on_commit(
    session: AsyncSession | Session, counter: Any, label_values: Iterable[tuple[str, ...]]
) -> None:
    """Counts one for each label tuple (e.g. one per record stored), on commit."""
    for labels, amount in Tally(label_values).items():
        count_on_commit(session, counter.labels(*labels), amount)


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter, amount in session.info.pop(_PENDING, ()):
        counter.inc(amount)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: rolled back or closed
        session.info.pop(_PENDING, None)


# ---- HTTP requests -----------------------------------------------------------------------


class RequestMetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "other"
        route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = (
                HTTP_REQUESTS.labels(method, route, str(status)),
                HTTP_REQUEST_DURATION.labels(method, route),
            )
            self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)
