"""Reading access tokens: the signature is checked once per token, the validity period on every
use."""

import time

import jwt
import pytest

from app.auth import tokens
from app.auth.tokens import InvalidToken, issue_token, read_token
from app.core.settings import Settings


def test_a_token_is_checked_once_and_then_read_from_what_was_checked(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = issue_token(settings, "iqt_once", ["uptake:read"], ["7A4"])
    decoded = []
    real_decode = jwt.decode

    def counting_decode(*args: object, **kwargs: object) -> object:
        decoded.append(1)
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tokens.jwt, "decode", counting_decode)
    first, second = read_token(settings, token), read_token(settings, token)

    assert first == second
    assert first.client_id == "iqt_once" and first.organisations == {"7A4"}
    assert len(decoded) == 1


def test_a_checked_token_is_refused_once_it_has_expired(settings: Settings) -> None:
    token = issue_token(settings, "iqt_expiring", ["uptake:read"], None)
    read_token(settings, token)
    later = time.time() + settings.token_lifetime_seconds + tokens.LEEWAY_SECONDS + 1

    with pytest.raises(InvalidToken):
        read_token(settings, token, now=later)


def test_a_checked_token_is_not_accepted_under_another_signing_key(settings: Settings) -> None:
    token = issue_token(settings, "iqt_keyed", ["uptake:read"], None)
    read_token(settings, token)
    other = settings.model_copy(update={"token_signing_key": "another-key-" + "x" * 40})

    with pytest.raises(InvalidToken):
        read_token(other, token)
