import httpx
import pytest

from tests.conftest import ClientFactory
from tests.projects.factories import seed_people


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    """A client with every scope and no organisation restriction, over seeded staff."""
    creds = await make_client()
    await seed_people(client, creds)
    return creds
