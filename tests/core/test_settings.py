"""Configuration from IQT_* variables; production refuses an unsafe signing key."""

import os
import secrets

import pytest
from pydantic import ValidationError

from app.core.credential_keys import DEVELOPMENT_CREDENTIAL_KEY
from app.core.settings import DEVELOPMENT_SIGNING_KEY, Settings, to_async_url
from tests.keys import PRODUCTION_CREDENTIAL_KEYS, new_private_key, public_pem

STRONG_KEY = secrets.token_urlsafe(48)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture(autouse=True)
def _no_iqt_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in os.environ:
        if name.startswith("IQT_"):
            monkeypatch.delenv(name)


def test_production_with_the_development_signing_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="IQT_TOKEN_SIGNING_KEY"):
        _settings(environment="production", token_signing_key=DEVELOPMENT_SIGNING_KEY)


def test_production_without_a_signing_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="IQT_TOKEN_SIGNING_KEY"):
        _settings(environment="production")


@pytest.mark.parametrize("key", ["", "short", "x" * 31])
def test_production_with_a_short_signing_key_is_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="IQT_TOKEN_SIGNING_KEY"):
        _settings(environment="production", token_signing_key=key)


def test_production_with_a_strong_signing_key_is_accepted() -> None:
    settings = _settings(
        environment="production",
        token_signing_key=STRONG_KEY,
        credential_signing_keys=PRODUCTION_CREDENTIAL_KEYS,
    )
    assert settings.environment == "production"


def test_production_without_a_credential_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="IQT_CREDENTIAL_SIGNING_KEYS"):
        _settings(environment="production", token_signing_key=STRONG_KEY)


def test_production_with_the_development_credential_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="IQT_CREDENTIAL_SIGNING_KEYS"):
        _settings(
            environment="production",
            token_signing_key=STRONG_KEY,
            credential_signing_keys=f"dev:{DEVELOPMENT_CREDENTIAL_KEY}",
        )


@pytest.mark.parametrize(
    ("keys", "complaint"),
    [
        ("a:bm90IGEga2V5", "not a readable PKCS#8 key"),
        ("not-kid-and-key", "kid:key"),
        (f"a:{new_private_key()},a:{new_private_key()}", "twice"),
        (
            f'[{{"kid": "old", "publicKey": {public_pem(new_private_key())!r}}}]'.replace("'", '"'),
            "first key signs",
        ),
    ],
)
def test_credential_keys_that_cannot_serve_are_refused(keys: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        _settings(credential_signing_keys=keys)


def test_development_runs_on_the_development_key() -> None:
    assert _settings().token_signing_key == DEVELOPMENT_SIGNING_KEY


def test_production_from_the_environment_without_a_key_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IQT_ENVIRONMENT", "production")
    with pytest.raises(ValidationError):
        _settings()


def test_settings_are_read_from_iqt_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IQT_ENVIRONMENT", "production")
    monkeypatch.setenv("IQT_TOKEN_SIGNING_KEY", STRONG_KEY)
    monkeypatch.setenv("IQT_CREDENTIAL_SIGNING_KEYS", PRODUCTION_CREDENTIAL_KEYS)
    monkeypatch.setenv("IQT_DATABASE_URL", "postgresql://iqt@db.example/iqt")
    monkeypatch.setenv("IQT_TOKEN_LIFETIME_SECONDS", "600")
    settings = _settings()
    assert settings.database_url == "postgresql://iqt@db.example/iqt"
    assert settings.token_lifetime_seconds == 600


def test_default_database_is_an_sqlite_file_in_the_working_directory() -> None:
    assert _settings().database_url == "sqlite:///./iqt.db"


@pytest.mark.parametrize("seconds", [0, 59, 3601])
def test_token_lifetime_outside_one_minute_to_one_hour_is_refused(seconds: int) -> None:
    with pytest.raises(ValidationError):
        _settings(token_lifetime_seconds=seconds)


def test_default_page_size_above_the_maximum_is_refused() -> None:
    with pytest.raises(ValidationError, match="IQT_DEFAULT_PAGE_SIZE"):
        _settings(default_page_size=500, max_page_size=100)


def test_page_sizes_default_to_100_and_1000() -> None:
    settings = _settings()
    assert (settings.default_page_size, settings.max_page_size) == (100, 1000)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./iqt.db", "sqlite+aiosqlite:///./iqt.db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_get_the_async_driver(url: str, expected: str) -> None:
    assert to_async_url(url) == expected
