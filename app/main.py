"""The application factory: settings in, a configured FastAPI app out."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from app import __version__
from app.audit.router import router as audit_router
from app.audit.service import write_noted_audit_records
from app.auth.active_clients import ActiveClients
from app.auth.router import router as auth_router
from app.awards.router import router as awards_router
from app.bootstrap import bootstrap
from app.completions import service as completions
from app.completions.router import router as completions_router
from app.completions.xapi_alternate import XapiAlternateSyntaxMiddleware
from app.completions.xapi_document_router import router as xapi_document_router
from app.completions.xapi_router import router as xapi_router
from app.completions.xapi_versions import XapiVersionMiddleware
from app.core.clock import set_clock_skew
from app.core.collector import settle_after_startup
from app.core.database import SessionRoute, create_engine, create_sessionmaker
from app.core.docs import install_docs
from app.core.group_commit import GroupCommit
from app.core.hosts import TrustedHostMiddleware
from app.core.logging import configure_logging, get_logger
from app.core.metrics import RequestMetricsMiddleware, forget_this_worker
from app.core.middleware import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    RequestHeadLimitsMiddleware,
)
from app.core.openapi import build_openapi, operation_id
from app.core.problem_handlers import install_problem_handlers
from app.core.security_headers import SecurityHeadersMiddleware
from app.core.settings import Settings, get_settings
from app.courses.router import router as courses_router
from app.credentials.router import router as credentials_router
from app.events.router import router as events_router
from app.health.router import router as health_router
from app.metrics.router import router as metrics_router
from app.organisations.router import router as organisations_router
from app.personal_data.router import router as personal_data_router
from app.projects.router import router as projects_router
from app.ratelimits.middleware import RateLimitMiddleware
from app.ratelimits.service import create_rate_limiter
from app.staff.router import router as staff_router
from app.uptake import figure_cache
from app.uptake.router import router as uptake_router

DESCRIPTION = """\
The service of record for NHS Wales' **Improving Quality Together** (IQT) programme: staff,
their QI training, improvement projects and IQT awards (Bronze, Silver, Gold).

* Authentication: OAuth2 client credentials at `POST /oauth2/token`; send the token as
  `Authorization: Bearer <token>`. Each operation lists the scopes it needs.
* Errors: RFC 9457 `application/problem+json` with a stable `type`; validation failures list
  `invalidParams` (`name`, `reason`).
* Collections: `{"data", "links", "meta"}`; follow the `next` link (opaque `pageToken`);
  `pageSize` defaults to 100, at most 1000.
* `X-Request-ID` and `X-Correlation-ID` are accepted (or generated) and echoed.
"""

TAGS = [
    {"name": "Authentication", "description": "OAuth2 client credentials."},
    {"name": "Organisations", "description": "NHS bodies, by ODS code."},
    {"name": "Staff", "description": "Staff records pushed by HR systems (personal data)."},
    {"name": "Courses", "description": "The catalogue of courses whose completions count."},
    {"name": "Completions", "description": "Course completions from e-learning platforms."},
    {"name": "xAPI", "description": "xAPI statements from e-learning platforms."},
    {
        "name": "Improvement projects",
        "description": "QI projects, their lifecycle and their review on the Silver rubric.",
    },
    {"name": "Awards", "description": "IQT awards and the versioned rules that grant them."},
    {
        "name": "Uptake",
        "description": "Aggregates for dashboards (no personal data), with disclosure control.",
    },
    {"name": "Events", "description": "The change feed other systems follow."},
    {"name": "Audit", "description": "Who did what, when."},
    {"name": "Health", "description": "Liveness and readiness."},
    {"name": "Metrics", "description": "Prometheus metrics for operators (no personal data)."},
]

OPENAPI_URL = "/openapi.json"
# What a browser page on an allowed origin may send and read (IQT_CORS_ORIGINS).
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    "X-Request-ID",
    "X-Correlation-ID",
]
CORS_RESPONSE_HEADERS = [
    "ETag",
    "Location",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "X-Request-ID",
    "X-Correlation-ID",
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    bootstrap()
    set_clock_skew(settings.clock_skew_seconds)
    engine = create_engine(settings)
    rate_limiter = create_rate_limiter(settings, engine)
    clients = ActiveClients()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        clients.start(settings.async_database_url)
        settle_after_startup()
        yield
        await clients.stop()
        await rate_limiter.store.close()
        await engine.dispose()
        forget_this_worker()

    app = FastAPI(
        title="IQT Records API",
        version=__version__,
        summary="Staff, QI training, improvement projects and IQT awards for NHS Wales.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
        openapi_url=OPENAPI_URL if settings.serves_docs else None,
        docs_url=None,
        redoc_url=None,
    )
    # Routes added to the application itself (rather than to a domain's router) end their
    # request sessions as every other route does.
    app.router.route_class = SessionRoute
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.noted_writers = (write_noted_audit_records,)
    app.state.clients = clients
    app.state.logger = get_logger("iqt")
    app.state.rate_limiter = rate_limiter
    app.state.completion_groups = GroupCommit(
        app.state.sessionmaker,
        completions.record_group,
        key=completions.same_completion,
        kind=completions.same_client,
        max_items=settings.completion_group_max,
        linger=settings.completion_group_linger_ms / 1000,
    )
    figure_cache.install(app.state, settings.uptake_cache_seconds)

    install_problem_handlers(app)
    # Innermost: the xAPI version of a request to an /xapi resource not served (400 without);
    # outside it, the request an alternate-syntax request stands for is what the rest sees.
    app.add_middleware(XapiVersionMiddleware)
    app.add_middleware(XapiAlternateSyntaxMiddleware)
    app.add_middleware(RateLimitMiddleware, limiter=rate_limiter)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(
        TrustedHostMiddleware,
        allowed_hosts=settings.allowed_hosts,
        public_base_url=settings.public_base_url,
    )
    app.add_middleware(
        RequestHeadLimitsMiddleware,
        max_url_bytes=settings.max_url_bytes,
        max_header_bytes=settings.max_request_header_bytes,
    )
    app.add_middleware(RequestContextMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_RESPONSE_HEADERS,
            max_age=600,
        )
    if settings.metrics_enabled:
        app.add_middleware(RequestMetricsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)

    # Matched in this order, each request trying the routes before its own (about 2 µs each
    # since FastAPI 0.137 wraps every included router; fastapi/fastapi#16159): completions and
    # xAPI statements (the busiest writes, from every e-learning platform) first, then the
    # busiest reads (uptake for the dashboards, the feed integrators poll). The OpenAPI
    # document lists paths in the order of TAGS whatever this order is.
    for router in (
        completions_router,
        xapi_router,
        uptake_router,
        events_router,
        xapi_document_router,
        courses_router,
        auth_router,
        organisations_router,
        staff_router,
        personal_data_router,
        projects_router,
        awards_router,
        credentials_router,
        audit_router,
        health_router,
    ):
        app.include_router(router)
    if settings.metrics_enabled:
        app.include_router(metrics_router)
    if settings.serves_docs:
        install_docs(app, OPENAPI_URL)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app
