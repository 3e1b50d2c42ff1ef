"""Service configuration, read from the environment (prefix ``IQT_``) or a ``.env`` file."""

import ipaddress
import json
from datetime import date
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.credential_keys import DEVELOPMENT_CREDENTIAL_KEY, CredentialKey, credential_key_entry
from app.core.quotas import parse_quota

DEVELOPMENT_SIGNING_KEY = "development-only-signing-key-change-me-0123456789"
# The key id of IQT_TOKEN_SIGNING_KEY: IQT_TOKEN_SIGNING_KEY=S is IQT_TOKEN_SIGNING_KEYS=default:S.
SINGLE_KEY_ID = "default"
XapiVersion = Literal["1.0.3", "2.0.0"]
XAPI_VERSIONS: tuple[XapiVersion, ...] = ("1.0.3", "2.0.0")


class SigningKey(BaseModel):
    """A token-signing key, named in each token's header by its ``kid``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    kid: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    secret: str = Field(repr=False)
    # After this moment tokens signed with the key are refused (a key being retired).
    verify_until: AwareDatetime | None = Field(default=None, alias="verifyUntil")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IQT_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./iqt.db"
    database_pool_size: int = Field(default=10, ge=1)
    # PostgreSQL: how long the API waits on a database that has stopped answering before it
    # answers 503 (docs/operations.md, "A database that stops answering").
    database_connect_timeout_seconds: float = Field(default=5, gt=0, le=60)
    database_statement_timeout_seconds: float = Field(default=5, gt=0, le=600)
    database_pool_timeout_seconds: float = Field(default=5, gt=0, le=60)
    database_idle_in_transaction_timeout_seconds: float = Field(default=30, gt=0, le=3600)
    # iqt serve --workers N: how long a worker may take to answer its supervisor's health check
    # (uvicorn kills and replaces one that does not); a busy host may need more.
    worker_healthcheck_timeout_seconds: int = Field(default=30, ge=1, le=600)
    # Single completions posted together share one transaction, up to this many (1: each alone).
    completion_group_max: int = Field(default=100, ge=1, le=1000)
    # Under load, how long the next group waits for the requests of the clients just answered.
    completion_group_linger_ms: float = Field(default=5.0, ge=0, le=100)

    token_signing_key: str = DEVELOPMENT_SIGNING_KEY
    # Several keys at once, for rotation: "kid:secret,kid:secret" or a JSON list of such strings
    # or of {"kid", "secret", "verifyUntil"}. The first signs; every key verifies the tokens
    # that name it (docs/operations.md, "Keys and secrets").
    token_signing_keys: Annotated[list[SigningKey], NoDecode] = Field(default_factory=list)
    token_lifetime_seconds: int = Field(default=900, ge=60, le=3600)
    token_issuer: str = "iqt-records-api"  # noqa: S105 - a name, not a secret
    token_audience: str = "iqt-records-api"  # noqa: S105
    # argon2 parameter profile for client secrets (see argon2.profiles); tests use CHEAPEST.
    secret_hash_profile: str = "RFC_9106_LOW_MEMORY"  # noqa: S105

    # What a client says has happened (completedAt, grantedAt, xAPI timestamps) may be up to
    # this many seconds in the future by the service's clock; later is refused (422).
    clock_skew_seconds: float = Field(default=300, ge=0, le=86_400)
    # The xAPI versions /xapi speaks (1.0.3 stands for 1.0.x), comma-separated; a request
    # without a version header is refused naming the latest of them.
    xapi_versions: Annotated[list[XapiVersion], NoDecode] = Field(
        default_factory=lambda: list(XAPI_VERSIONS), min_length=1
    )

    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(default=1000, ge=1, le=10_000)  # Page.data holds at most 10,000
    max_request_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # A longer request target (path and query) is refused with 414; at most 3072, so that the
    # links naming a request stay within their documented 4000 characters.
    max_url_bytes: int = Field(default=3072, ge=256, le=3072)
    # Request headers larger than this in all (names and values) are refused with 431.
    max_request_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)

    # Rate limits (the `limits` notation: "1200/minute", "50 per 10 seconds"), per fixed window,
    # shared by all processes through the database, or through Redis when redis_url is set.
    rate_limit: str = Field(
        default="1200/minute",
        description="Requests per client; a client's own rate limit (iqt clients create "
        "--rate-limit) overrides it.",
    )
    token_rate_limit: str = Field(
        default="30/minute",
        description="POST /oauth2/token requests per client id, and per address.",
    )
    public_rate_limit: str = Field(
        default="300/minute",
        description="Unauthenticated requests that make the service work (POST "
        "/credentials/verify, the credential status lists), per client address.",
    )
    rate_limit_flush_seconds: float = Field(
        default=0.2,
        ge=0,
        le=10,
        description="Database store only: each process adds its counts to the shared row at "
        "most this often, deciding meanwhile from the last shared total plus its own. So the "
        "limit may be overshot by what the processes admit in one such interval (processes x "
        "interval x rate per process); one process alone never overshoots.",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0: count rate limits in Redis instead."
    )
    # The proxies (load balancers) trusted to say who the client is: addresses or networks,
    # comma-separated, or "*". A request from one of them is taken to come from the address
    # its X-Forwarded-For names (the nearest untrusted one), so the per-address token limit
    # counts clients, not the proxy. Unset, the TCP peer is the client and the header ignored.
    forwarded_allow_ips: str | None = None

    # A full staff snapshot that would end-date more than this share of an organisation's
    # active staff is refused (409) unless the request says allowMassLeavers=true.
    snapshot_max_leaver_share: float = Field(default=0.2, ge=0, le=1)
    # Batches one full snapshot sent in several may take (each holds up to 10,000 records);
    # one more is refused with 409, so an open snapshot cannot grow without bound.
    snapshot_max_batches: int = Field(default=100, ge=1, le=10_000)

    # The Silver rubric total (out of 50) a project needs before a reviewer may approve it.
    silver_pass_mark: int = Field(default=25, ge=0, le=50)

    # Uptake figures can be asked for as of this date or later; deltas before it are folded.
    # Changing it needs `iqt uptake rebuild`.
    uptake_programme_start: date = date(2015, 1, 1)
    # Each process keeps an uptake answer this many seconds; 0 reads the summary on every
    # request (which the projection worker brings up to date in the background).
    uptake_cache_seconds: float = Field(default=2.0, ge=0, le=60)

    # Each API process runs the uptake projection, the award re-evaluation jobs (and the
    # retention sweeps) in the background (a lease makes one process work on a job at a time);
    # false leaves them to `iqt uptake catch-up`, `iqt awards reevaluate` (and
    # `iqt personal-data pseudonymise`).
    run_background_jobs: bool = True

    # The Open Badges credentials' ES256 keys (docs/open-badges.md, "Keys"): "kid:key,kid:key"
    # (each key a base64 PKCS#8 DER private key) or a JSON list of {"kid", "privateKey"} or
    # {"kid", "publicKey"} (PEM or base64 DER). The first signs; every key stays published and
    # verifies the credentials naming it, so rotation keeps earlier credentials verifiable.
    credential_signing_keys: Annotated[list[CredentialKey], NoDecode] = Field(default_factory=list)
    # The issuer Profile's name in every credential and achievement.
    credential_issuer_name: str = Field(
        default="NHS Wales Improving Quality Together (IQT)", min_length=1, max_length=200
    )
    # A credential is valid this many days from when it is fetched (validUntil); unset: no
    # expiry (an award does not expire).
    credential_validity_days: int | None = Field(default=None, ge=1, le=36_500)

    # Years after a leaver's end date until `iqt personal-data pseudonymise` pseudonymises them:
    # the Records Management Code of Practice 2021 (Wales: 2022), "Staff training records",
    # other training records: 6 years after the training (docs/data-protection.md, "Retention").
    personal_data_retention_years: int = Field(default=6, ge=1, le=100)
    # Each API process (when run_background_jobs is true) also looks for leavers past their
    # retention period every few minutes and pseudonymises them (a leased sweep, so one process
    # at a time); false leaves it to a scheduled `iqt personal-data pseudonymise`.
    run_retention_sweeps: bool = True

    log_level: str = "INFO"
    commit_sha: str | None = None

    # The Host names requests may carry, comma-separated or a JSON list ("*.example" for any
    # subdomain, "*" for any); another Host is refused with 400.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "testserver"]
    )
    # https://iqt.example.nhs.wales: links and Location headers are built from it, whatever the
    # Host header says (its host is allowed too).
    public_base_url: str | None = None

    # Browser origins allowed to call the API (CORS), comma-separated or a JSON list; none by
    # default, and then no CORS headers are sent at all.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # /docs, /redoc and /openapi.json: on in development, off in production unless true.
    docs_enabled: bool | None = None
    # GET /metrics (Prometheus text format, bearer token with the scope metrics:read).
    metrics_enabled: bool = True

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("xapi_versions", mode="before")
    @classmethod
    def _split_xapi_versions(cls, value: object) -> object:
        if isinstance(value, str):
            return sorted({v.strip() for v in value.split(",") if v.strip()})
        return value

    @field_validator("public_base_url")
    @classmethod
    def _scheme_and_host_only(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("IQT_PUBLIC_BASE_URL must be an http(s) URL with a host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("IQT_PUBLIC_BASE_URL is a scheme, host and port only")
        return value.rstrip("/")

    @field_validator("token_signing_keys", mode="before")
    @classmethod
    def _split_signing_keys(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            return [_signing_key_entry(entry) for entry in value if entry != ""]
        return value

    @field_validator("credential_signing_keys", mode="before")
    @classmethod
    def _split_credential_keys(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            return [credential_key_entry(entry) for entry in value if entry != ""]
        return value

    @field_validator("credential_signing_keys")
    @classmethod
    def _one_credential_key_ring(cls, keys: list[CredentialKey]) -> list[CredentialKey]:
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise ValueError("IQT_CREDENTIAL_SIGNING_KEYS names a kid twice")
        if keys and keys[0].private_key is None:
            raise ValueError(
                "IQT_CREDENTIAL_SIGNING_KEYS: the first key signs, so it needs its private key"
            )
        return keys

    @field_validator("rate_limit", "token_rate_limit", "public_rate_limit")
    @classmethod
    def _one_rate_limit(cls, value: str) -> str:
        parse_quota("setting", value)
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _trusted_proxies(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if entries != ["*"]:
            for entry in entries:
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(
                        f"{entry!r} is not an IP address or network (or use * alone)"
                    ) from None
        return ",".join(entries)

    @model_validator(mode="after")
    def _one_key_ring(self) -> "Settings":
        keys = self.token_signing_keys
        if not keys:
            return self
        if "token_signing_key" in self.model_fields_set:
            raise ValueError(
                "set IQT_TOKEN_SIGNING_KEY or IQT_TOKEN_SIGNING_KEYS, not both "
                f"(IQT_TOKEN_SIGNING_KEY=S is IQT_TOKEN_SIGNING_KEYS={SINGLE_KEY_ID}:S)"
            )
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise ValueError("IQT_TOKEN_SIGNING_KEYS names a kid twice")
        if keys[0].verify_until is not None:
            raise ValueError("IQT_TOKEN_SIGNING_KEYS: the first key signs, so it cannot expire")
        # What else signs with the service's secret (page tokens) uses the signing key.
        self.token_signing_key = keys[0].secret
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.environment == "production" and any(
            not key.secret or key.secret == DEVELOPMENT_SIGNING_KEY or len(key.secret) < 32
            for key in self.token_keys
        ):
            raise ValueError(
                "IQT_TOKEN_SIGNING_KEY (or each of IQT_TOKEN_SIGNING_KEYS) must be set to a "
                "secret of at least 32 characters in production"
            )
        if self.environment == "production" and (
            not self.credential_signing_keys
            or any(k.private_key == DEVELOPMENT_CREDENTIAL_KEY for k in self.credential_keys)
        ):
            raise ValueError(
                "IQT_CREDENTIAL_SIGNING_KEYS must be set to a key of your own in production "
                '(docs/open-badges.md, "Keys")'
            )
        if self.default_page_size > self.max_page_size:
            raise ValueError("IQT_DEFAULT_PAGE_SIZE must not exceed IQT_MAX_PAGE_SIZE")
        return self

    @property
    def token_keys(self) -> tuple[SigningKey, ...]:
        """The token keys: the first signs new tokens; each verifies the tokens naming it."""
        if self.token_signing_keys:
            return tuple(self.token_signing_keys)
        return (_single_key(self.token_signing_key),)

    @property
    def credential_keys(self) -> tuple[CredentialKey, ...]:
        """The credential keys: the first signs; every one is published and verifies."""
        if self.credential_signing_keys:
            return tuple(self.credential_signing_keys)
        return (_development_credential_key(),)

    @property
    def serves_docs(self) -> bool:
        """Whether /docs, /redoc and /openapi.json are served."""
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.environment == "development"

    @property
    def async_database_url(self) -> str:
        """The database URL with the async driver the service uses."""
        return to_async_url(self.database_url)


def _signing_key_entry(entry: object) -> object:
    """``kid:secret`` as a key; anything else (a JSON object) as it is."""
    if isinstance(entry, str):
        kid, colon, secret = entry.strip().partition(":")
        if not colon:
            raise ValueError("each of IQT_TOKEN_SIGNING_KEYS is kid:secret")
        return {"kid": kid, "secret": secret}
    return entry


@lru_cache(maxsize=8)
def _single_key(secret: str) -> SigningKey:
    return SigningKey(kid=SINGLE_KEY_ID, secret=secret)


@lru_cache(maxsize=1)
def _development_credential_key() -> CredentialKey:
    return CredentialKey(kid="development", private_key=DEVELOPMENT_CREDENTIAL_KEY)


def to_async_url(url: str) -> str:
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
