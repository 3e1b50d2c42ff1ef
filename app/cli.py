"""The ``iqt`` command: serve, migrate, manage clients, load reference data.

Each command imports what it needs when it runs. ``iqt serve --workers N`` starts each worker
as a fresh interpreter that imports this module again before it can answer its supervisor's
health check: the import must stay light, or a worker on a busy host is killed before it is
ready (tests/test_cli.py checks what it imports).
"""

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import uvicorn

from app.cli_errors import DEBUG_OPTION, OneLineErrors
from app.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

# prometheus_client's name for the directory several processes keep their metrics in; as in
# app.core.metrics, which this module does not import (it brings in SQLAlchemy).
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

cli = typer.Typer(
    help="IQT Records API",
    no_args_is_help=True,
    cls=OneLineErrors,
    pretty_exceptions_enable=False,
)
clients_cli = typer.Typer(help="API clients (OAuth2 client credentials)", no_args_is_help=True)
organisations_cli = typer.Typer(help="Organisations", no_args_is_help=True)
courses_cli = typer.Typer(help="The course catalogue", no_args_is_help=True)
cli.add_typer(clients_cli, name="clients")
cli.add_typer(organisations_cli, name="organisations")
uptake_cli = typer.Typer(help="Uptake summary", no_args_is_help=True)
cli.add_typer(uptake_cli, name="uptake")
awards_cli = typer.Typer(help="IQT awards", no_args_is_help=True)
cli.add_typer(courses_cli, name="courses")
cli.add_typer(awards_cli, name="awards")
personal_data_cli = typer.Typer(help="Personal data: retention", no_args_is_help=True)
cli.add_typer(personal_data_cli, name="personal-data")

T = TypeVar("T")


@cli.callback()
def options(
    debug: Annotated[
        bool, typer.Option(DEBUG_OPTION, help="Show the traceback of an unexpected error.")
    ] = False,
) -> None:
    """IQT Records API"""


class NotMigrated(typer.TyperException):
    """The database is behind the code: the command would fail on a missing table or column."""


async def _require_migrated(engine: "AsyncEngine") -> None:
    from app.health.service import current_revision, head_revision

    head, current = head_revision(), await current_revision(engine)
    if current == head:
        return
    from alembic.script import ScriptDirectory

    from app.core.migrations import alembic_config

    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if current is None or current in known:
        raise NotMigrated(
            f"the database {database_location(get_settings().database_url)} is at migration "
            f"{current or 'none'}, this version needs {head}: run `iqt migrate` first"
        )


def _in_transaction(work: Callable[["AsyncSession"], Awaitable[T]]) -> T:
    """Runs ``work`` in one committed transaction against the configured database, which must
    be at the latest migration."""
    from app.bootstrap import bootstrap
    from app.core.database import create_engine, create_sessionmaker
    from app.core.problems import ProblemError

    bootstrap()

    async def run() -> T:
        engine = create_engine(get_settings(), bounded=False)
        try:
            await _require_migrated(engine)
            async with create_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except ProblemError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from exc


@cli.command()
def migrate() -> None:
    """Upgrade the database to the latest migration."""
    from app.core.migrations import upgrade_to_head

    upgrade_to_head(get_settings().database_url)
    typer.echo("database is at the latest migration")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    timeout_worker_healthcheck: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Seconds a worker may take to answer its supervisor's health check "
            "(else IQT_WORKER_HEALTHCHECK_TIMEOUT_SECONDS, 30).",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="uvicorn's own log level ('info' logs each worker's startup).")
    ] = "warning",
) -> None:
    """Migrate, then serve the API with uvicorn."""
    from app.core.migrations import upgrade_to_head

    settings = get_settings()
    if timeout_worker_healthcheck is not None:
        settings = settings.model_copy(
            update={"worker_healthcheck_timeout_seconds": timeout_worker_healthcheck}
        )
    upgrade_to_head(settings.database_url)
    typer.echo(
        f"serving http://{_url_host(host)}:{port} "
        f"(docs at /docs{'' if settings.serves_docs else ', switched off'}), "
        f"database {database_location(settings.database_url)}"
    )
    metrics_directory = _shared_metrics_directory(workers)
    try:
        uvicorn.run(
            "app.asgi:app",
            host=host,
            port=port,
            workers=workers,
            **{**server_options(settings), "log_level": log_level},
        )
    finally:
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)
            del os.environ[MULTIPROCESS_DIRECTORY]


def database_location(url: str) -> str:
    """Where the database is, for an operator: a SQLite file by its absolute path, any other
    database by its URL without the password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return "SQLite in memory"
        return f"SQLite file {Path(parsed.database).resolve()}"
    return parsed.render_as_string(hide_password=True)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options besides where to listen. Proxy headers (X-Forwarded-For, -Proto) are
    believed only from the proxies IQT_FORWARDED_ALLOW_IPS names; unset, from nobody."""
    from app.core.http_protocol import BoundedHeadProtocol

    trusted = settings.forwarded_allow_ips
    return {
        # Stops reading a request head over IQT_MAX_REQUEST_HEADER_BYTES and answers 431.
        "http": BoundedHeadProtocol,
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "timeout_worker_healthcheck": settings.worker_healthcheck_timeout_seconds,
        "proxy_headers": trusted is not None,
        # None would make uvicorn read FORWARDED_ALLOW_IPS, or trust 127.0.0.1.
        "forwarded_allow_ips": trusted if trusted is not None else [],
    }


def _shared_metrics_directory(workers: int) -> str | None:
    """Several workers write their metrics to files in a fresh directory that /metrics adds up
    (set before they start; they inherit it). One worker keeps them in memory. A directory the
    operator set is used as it is, and kept."""
    if workers < 2 or os.environ.get(MULTIPROCESS_DIRECTORY):
        return None
    directory = tempfile.mkdtemp(prefix="iqt-metrics-")
    os.environ[MULTIPROCESS_DIRECTORY] = directory
    return directory


@cli.command()
def openapi() -> None:
    """Print the OpenAPI document (JSON)."""
    from app.main import create_app

    typer.echo(json.dumps(create_app().openapi(), indent=2, ensure_ascii=False))


@clients_cli.command("create")
def create_client(
    name: Annotated[str, typer.Option(help="Who the client is, e.g. 'ESR Cardiff and Vale'.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated scopes.")],
    organisations: Annotated[
        str | None, typer.Option(help="Comma-separated ODS codes the client is limited to.")
    ] = None,
    xapi_home_page: Annotated[
        str | None,
        typer.Option(
            "--xapi-home-page",
            help="xAPI: the account homePage whose account names are employee numbers.",
        ),
    ] = None,
    rate_limit: Annotated[
        str | None,
        typer.Option(
            help="Requests allowed to this client, e.g. 5000/minute (else IQT_RATE_LIMIT)."
        ),
    ] = None,
) -> None:
    """Create a client; prints its id and secret once, as JSON."""
    from app.auth import service as auth_service

    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    orgs = [o.strip() for o in organisations.split(",") if o.strip()] if organisations else None
    settings = get_settings()
    new = _in_transaction(
        lambda session: auth_service.create_client(
            session,
            settings,
            name,
            scope_list,
            orgs,
            xapi_account_home_page=xapi_home_page,
            rate_limit=rate_limit,
        )
    )
    typer.echo(json.dumps({"clientId": new.client_id, "clientSecret": new.client_secret}))


@clients_cli.command("list")
def list_clients() -> None:
    """List clients (never their secrets), as JSON lines."""
    from app.auth import service as auth_service

    async def rows(session: "AsyncSession") -> list[dict[str, object]]:
        return [
            {
                "clientId": c.client_id,
                "name": c.name,
                "scopes": c.scopes,
                "organisations": c.organisations,
                "xapiAccountHomePage": c.xapi_account_home_page,
                "rateLimit": c.rate_limit,
                "createdAt": c.created_at.isoformat(),
                "revokedAt": c.revoked_at.isoformat() if c.revoked_at else None,
            }
            for c in await auth_service.list_clients(session)
        ]

    for row in _in_transaction(rows):
        typer.echo(json.dumps(row))


@clients_cli.command("revoke")
def revoke_client(client_id: str) -> None:
    """Revoke a client: its tokens stop working at once."""
    from app.auth import service as auth_service

    _in_transaction(lambda session: auth_service.revoke_client(session, client_id))
    typer.echo(f"revoked {client_id}")


@clients_cli.command("rotate-secret")
def rotate_client_secret(
    client_id: str,
    overlap_hours: Annotated[
        float,
        typer.Option(
            min=0,
            max=24 * 30,
            help="Hours the old secret keeps working, while the client's system is updated.",
        ),
    ] = 24,
) -> None:
    """Give a client a new secret; prints it once, as JSON, with when the old one stops."""
    from datetime import timedelta

    from app.auth import service as auth_service

    settings = get_settings()
    rotated = _in_transaction(
        lambda session: auth_service.rotate_client_secret(
            session, settings, client_id, timedelta(hours=overlap_hours)
        )
    )
    expires = rotated.previous_secret_expires_at
    typer.echo(
        json.dumps(
            {
                "clientId": rotated.client_id,
                "clientSecret": rotated.client_secret,
                "previousSecretExpiresAt": expires.isoformat() if expires else None,
            }
        )
    )


@cli.command("demo-data")
def demo_data(
    staff: Annotated[int, typer.Option(min=1, help="How many staff to create.")] = 10_000,
) -> None:
    """Fill an empty database with demo data through the service layer."""
    from app.demo.data import fill_demo_data

    activity = _in_transaction(lambda session: fill_demo_data(session, staff))
    _catch_up_uptake()
    typer.echo(activity.report())


@uptake_cli.command("rebuild")
def rebuild_uptake() -> None:
    """Rebuild the uptake summary from staff, history and awards."""
    from app.uptake.summary import rebuild_uptake as rebuild

    count = _in_transaction(rebuild)
    typer.echo(f"uptake summary rebuilt for {count} staff")


@uptake_cli.command("catch-up")
def catch_up_uptake() -> None:
    """Refresh the uptake of every person whose change is still pending (what the API
    processes do in the background), without waiting out the debounce."""
    batches, people = _catch_up_uptake()
    typer.echo(f"uptake caught up: {people} people refreshed in {batches} batches")


def _catch_up_uptake() -> tuple[int, int]:
    from app.core.database import create_engine, create_sessionmaker
    from app.uptake.projection_jobs import catch_up

    async def run() -> tuple[int, int]:
        engine = create_engine(get_settings(), bounded=False)
        try:
            await _require_migrated(engine)
            steps = await catch_up(create_sessionmaker(engine))
        finally:
            await engine.dispose()
        return len(steps), sum(s.people for s in steps)

    return asyncio.run(run())


@organisations_cli.command("load-reference")
def load_reference() -> None:
    """Create or update the NHS Wales health boards and trusts."""
    from app.organisations.service import load_reference_organisations

    count = _in_transaction(load_reference_organisations)
    typer.echo(f"loaded {count} organisations")


@courses_cli.command("load-reference")
def load_reference_course_catalogue() -> None:
    """Create or update the IQT Bronze e-learning course (IQT-BRONZE)."""
    from app.courses.service import load_reference_courses

    count = _in_transaction(load_reference_courses)
    typer.echo(f"loaded {count} course")


@awards_cli.command("reevaluate")
def reevaluate(
    chunk: Annotated[int, typer.Option(min=1, max=50_000, help="People per transaction.")] = 2000,
) -> None:
    """Run waiting award re-evaluation jobs (queued by POST /awardRules) to completion."""
    from app.awards.jobs import new_owner, run_pending_jobs
    from app.bootstrap import bootstrap
    from app.core.database import create_engine, create_sessionmaker

    bootstrap()

    async def run() -> tuple[int, int, set[int]]:
        engine = create_engine(get_settings(), bounded=False)
        try:
            await _require_migrated(engine)
            steps = await run_pending_jobs(create_sessionmaker(engine), new_owner(), chunk=chunk)
        finally:
            await engine.dispose()
        return (
            sum(s.evaluated for s in steps),
            sum(s.granted for s in steps),
            {s.rules_version for s in steps if s.finished},
        )

    evaluated, granted, finished = asyncio.run(run())
    versions = ", ".join(str(v) for v in sorted(finished)) or "none"
    typer.echo(
        f"evaluated {evaluated} people, granted {granted} awards; rules versions done: {versions}"
    )


@personal_data_cli.command("pseudonymise")
def pseudonymise_leavers(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say how many would be, by organisation.")
    ] = False,
    chunk: Annotated[int, typer.Option(min=1, max=10_000, help="People per transaction.")] = 200,
) -> None:
    """Pseudonymise leavers whose retention period has passed (IQT_PERSONAL_DATA_RETENTION_YEARS
    after their end date). Resumes a sweep another run left unfinished; safe to run from several
    places at once."""
    from app.bootstrap import bootstrap
    from app.core.clock import today
    from app.core.database import create_engine, create_sessionmaker
    from app.personal_data import jobs

    bootstrap()
    settings = get_settings()
    cutoff = jobs.retention_cutoff(today(), settings.personal_data_retention_years)

    async def run() -> tuple[jobs.Due, int]:
        engine = create_engine(settings, bounded=False)
        try:
            sessionmaker = create_sessionmaker(engine)
            async with sessionmaker() as session:
                due = await jobs.due_for_pseudonymisation(session, cutoff)
                if dry_run:
                    return due, 0
                await jobs.queue_sweep(session, cutoff)
                await session.commit()
            steps = await jobs.run_pending_sweeps(sessionmaker, jobs.new_owner(), chunk=chunk)
            return due, sum(s.pseudonymised for s in steps)
        finally:
            await engine.dispose()

    due, done = asyncio.run(run())
    by_organisation = ", ".join(f"{o}: {n}" for o, n in due.by_organisation.items()) or "none"
    typer.echo(
        f"leavers who ended on or before {cutoff.isoformat()} and are not yet pseudonymised: "
        f"{due.total} ({by_organisation})"
    )
    if dry_run:
        typer.echo("dry run: nothing changed")
    else:
        typer.echo(f"pseudonymised {done}")


def main() -> None:
    cli()
