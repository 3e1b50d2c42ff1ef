"""The ``iqt`` command: serve, migrate, manage clients, load reference data."""

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.awards.jobs import new_owner, run_pending_jobs
from app.core.database import create_engine, create_sessionmaker
from app.core.metrics import MULTIPROCESS_DIRECTORY
from app.core.migrations import upgrade_to_head
from app.core.problems import ProblemError
from app.core.settings import get_settings
from app.courses.service import load_reference_courses
from app.organisations.service import load_reference_organisations

cli = typer.Typer(help="IQT Records API", no_args_is_help=True)
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

T = TypeVar("T")


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs ``work`` in one committed transaction against the configured database."""

    async def run() -> T:
        engine = create_engine(get_settings())
        try:
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
    upgrade_to_head(get_settings().database_url)
    typer.echo("database is at the latest migration")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    log_level: Annotated[
        str, typer.Option(help="uvicorn's own log level ('info' logs each worker's startup).")
    ] = "warning",
) -> None:
    """Migrate, then serve the API with uvicorn."""
    upgrade_to_head(get_settings().database_url)
    metrics_directory = _shared_metrics_directory(workers)
    try:
        uvicorn.run(
            "app.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=False,
            server_header=False,
            proxy_headers=False,
        )
    finally:
        if metrics_directory is not None:
            shutil.rmtree(metrics_directory, ignore_errors=True)
            del os.environ[MULTIPROCESS_DIRECTORY]


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

    async def rows(session: AsyncSession) -> list[dict[str, object]]:
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
    _in_transaction(lambda session: auth_service.revoke_client(session, client_id))
    typer.echo(f"revoked {client_id}")


@cli.command("demo-data")
def demo_data(
    staff: Annotated[int, typer.Option(help="How many staff to create.")] = 10_000,
) -> None:
    """Fill an empty database with demo data through the service layer."""
    from app.uptake.demo_data import fill_demo_data

    activity = _in_transaction(lambda session: fill_demo_data(session, staff))
    typer.echo(
        f"created {staff} staff, {activity.completions} completions and "
        f"{activity.approved_projects} approved improvement projects"
    )


@uptake_cli.command("rebuild")
def rebuild_uptake() -> None:
    """Rebuild the uptake summary from staff, history and awards."""
    from app.uptake.summary import rebuild_uptake as rebuild

    count = _in_transaction(rebuild)
    typer.echo(f"uptake summary rebuilt for {count} staff")


@organisations_cli.command("load-reference")
def load_reference() -> None:
    """Create or update the NHS Wales health boards and trusts."""
    count = _in_transaction(load_reference_organisations)
    typer.echo(f"loaded {count} organisations")


@courses_cli.command("load-reference")
def load_reference_course_catalogue() -> None:
    """Create or update the IQT Bronze e-learning course (IQT-BRONZE)."""
    count = _in_transaction(load_reference_courses)
    typer.echo(f"loaded {count} course")


@awards_cli.command("reevaluate")
def reevaluate(
    chunk: Annotated[int, typer.Option(min=1, max=50_000, help="People per transaction.")] = 2000,
) -> None:
    """Run waiting award re-evaluation jobs (queued by POST /awardRules) to completion."""

    async def run() -> tuple[int, int, set[int]]:
        engine = create_engine(get_settings())
        try:
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


def main() -> None:
    cli()
