from pydantic import BaseModel, ConfigDict, Field


class TokenResponse(BaseModel):
    """RFC 6749 §5.1 access token response (its field names are fixed by the RFC)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.sig",
                "token_type": "Bearer",
                "expires_in": 900,
                "scope": "organisations:read staff:read",
            }
        }
    )

    access_token: str = Field(max_length=4000)
    token_type: str = Field(default="Bearer", examples=["Bearer"], max_length=20)
    expires_in: int = Field(description="Seconds until the token expires.", ge=1, le=86_400)
    scope: str = Field(description="Space-separated scopes granted.", max_length=1000)
