from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiClient


async def get_active_client(session: AsyncSession, client_id: str) -> ApiClient | None:
    return await session.scalar(
        select(ApiClient).where(ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None))
    )


async def get_client(session: AsyncSession, client_id: str) -> ApiClient | None:
    return await session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))


async def list_clients(session: AsyncSession) -> Sequence[ApiClient]:
    return (await session.scalars(select(ApiClient).order_by(ApiClient.id))).all()
