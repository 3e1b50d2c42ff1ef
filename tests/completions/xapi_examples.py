"""xAPI statements shaped like the specification's own examples, and how to send them."""

import hashlib
from typing import Any

import httpx

from tests.completions.factories import BRONZE_ACTIVITY
from tests.conftest import auth

HOME_PAGE = "http://www.example.com"
V = {"X-Experience-API-Version": "1.0.3"}


def statement(who: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Shaped like the specification's "Completion" example (Appendix A), on our activity."""
    body: dict[str, Any] = {
        "id": "7ccd3322-e1a5-411a-a67d-6a735c76f119",
        "timestamp": "2015-12-18T12:17:00+00:00",
        "actor": {"objectType": "Agent", "name": "Example Learner", **who},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/completed",
            "display": {"en-US": "completed"},
        },
        "object": {
            "id": BRONZE_ACTIVITY,
            "definition": {
                "name": {"en-US": "simple CBT course"},
                "description": {"en-US": "A fictitious example CBT course."},
            },
        },
        "result": {
            "score": {"scaled": 0.95},
            "success": True,
            "completion": True,
            "duration": "PT1234S",
        },
    }
    body.update(overrides)
    return body


ACCOUNT = {"account": {"homePage": HOME_PAGE, "name": "13936749"}}
MBOX = {"mbox": "mailto:example.learner@adlnet.gov"}
SHA1 = {"mbox_sha1sum": hashlib.sha1(b"mailto:example.learner@adlnet.gov").hexdigest()}  # noqa: S324


async def send(
    client: httpx.AsyncClient, creds: dict[str, str], body: Any, **headers: str
) -> httpx.Response:
    return await client.post("/xapi/statements", json=body, headers={**auth(creds), **V, **headers})


async def only_completion(client: httpx.AsyncClient, creds: dict[str, str]) -> dict[str, Any]:
    [found] = (await client.get("/completions", headers=auth(creds))).json()["data"]
    return dict(found)
