"""xAPI documents (State, Activity Profile, Agent Profile): one row per document, found by
the hash of its owner, kind and parameters. Changes are compare-and-set on the ETag read, so
two concurrent writers never both win."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import BuiltOnce, dialect_insert
from app.models import XapiDocument


@dataclass(frozen=True)
class DocumentScope:
    """What names a set of documents of one kind for one owner: the GET of ids, or the DELETE
    of all the states of an activity, agent and registration."""

    kind: str
    client_id: str
    activity_id: str | None = None
    agent_key: str | None = None
    registration: str | None = None

    @property
    def scope_hash(self) -> str:
        return _hash(
            [self.kind, self.client_id, self.activity_id, self.agent_key, self.registration]
        )

    @property
    def family_hash(self) -> str:
        """The scope whatever the registration: a GET of state ids or a DELETE of states
        without ``registration`` takes the states of every registration (xAPI 1.0.3
        Communication 2.3: "registration, if specified")."""
        return _hash([self.kind, self.client_id, self.activity_id, self.agent_key])

    def matching(self, *, any_registration: bool) -> "ColumnElement[bool]":
        if any_registration:
            return XapiDocument.family_hash == self.family_hash
        return XapiDocument.scope_hash == self.scope_hash

    def key_hash(self, document_id: str) -> str:
        return _hash([self.scope_hash, document_id])


@dataclass(frozen=True)
class StoredDocument:
    content_type: str
    content: bytes
    etag: str
    updated_at: datetime


def _hash(parts: Sequence[str | None]) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def etag_of(content: bytes) -> str:
    """The ETag of a document: the SHA-1 of its content, hexadecimal (xAPI 1.0.3 asks SHA-1)."""
    return hashlib.sha1(content).hexdigest()  # noqa: S324 - an entity tag, not a secret


async def get_document(
    session: AsyncSession, scope: DocumentScope, document_id: str
) -> StoredDocument | None:
    row = (
        await session.execute(
            select(
                XapiDocument.content_type,
                XapiDocument.content,
                XapiDocument.etag,
                XapiDocument.updated_at,
            ).where(XapiDocument.key_hash == scope.key_hash(document_id))
        )
    ).first()
    if row is None:
        return None
    return StoredDocument(row.content_type, row.content, row.etag, row.updated_at)


async def document_ids(
    session: AsyncSession,
    scope: DocumentScope,
    since: datetime | None,
    *,
    any_registration: bool = False,
) -> list[tuple[str, datetime]]:
    """The ids of the documents in the scope (changed after ``since``), oldest change first,
    with when each changed."""
    query = select(XapiDocument.document_id, XapiDocument.updated_at).where(
        scope.matching(any_registration=any_registration)
    )
    if since is not None:
        query = query.where(XapiDocument.updated_at > since)
    rows = await session.execute(query.order_by(XapiDocument.updated_at, XapiDocument.id))
    return [(document_id, updated_at) for document_id, updated_at in rows.all()]


_INSERT_NEW = BuiltOnce(
    lambda dialect: (
        dialect_insert(dialect, XapiDocument.__table__)
        .on_conflict_do_nothing(index_elements=["key_hash"])
        .returning(XapiDocument.id)
    )
)


async def insert_document(
    session: AsyncSession,
    scope: DocumentScope,
    document_id: str,
    content_type: str,
    content: bytes,
    now: datetime,
) -> bool:
    """Stores a new document; False when one with this key exists already (a concurrent
    writer stored it first)."""
    row = {
        "key_hash": scope.key_hash(document_id),
        "scope_hash": scope.scope_hash,
        "family_hash": scope.family_hash,
        "kind": scope.kind,
        "client_id": scope.client_id,
        "activity_id": scope.activity_id,
        "agent_key": scope.agent_key,
        "registration": scope.registration,
        "document_id": document_id,
        "content_type": content_type[:255],
        "content": content,
        "etag": etag_of(content),
        "updated_at": now,
    }
    result = await session.execute(_INSERT_NEW(session), [row])
    return result.first() is not None


async def replace_document(
    session: AsyncSession,
    scope: DocumentScope,
    document_id: str,
    expected_etag: str,
    content_type: str,
    content: bytes,
    now: datetime,
) -> bool:
    """Replaces the document if it is still the one read (ETag ``expected_etag``)."""
    result = await session.execute(
        update(XapiDocument)
        .where(
            XapiDocument.key_hash == scope.key_hash(document_id),
            XapiDocument.etag == expected_etag,
        )
        .values(
            content_type=content_type[:255],
            content=content,
            etag=etag_of(content),
            updated_at=now,
        )
        .returning(XapiDocument.id)
    )
    return result.first() is not None


async def delete_document(
    session: AsyncSession, scope: DocumentScope, document_id: str, expected_etag: str | None
) -> bool:
    """Deletes the document (only if its ETag is still ``expected_etag``, when given)."""
    query = delete(XapiDocument).where(XapiDocument.key_hash == scope.key_hash(document_id))
    if expected_etag is not None:
        query = query.where(XapiDocument.etag == expected_etag)
    result = await session.execute(query.returning(XapiDocument.id))
    return result.first() is not None


async def delete_documents(
    session: AsyncSession, scope: DocumentScope, *, any_registration: bool = False
) -> None:
    """Deletes every document in the scope."""
    await session.execute(
        delete(XapiDocument).where(scope.matching(any_registration=any_registration))
    )
