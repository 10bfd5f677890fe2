"""People who use the service and their API tokens: table access only.

A token is shown once, when it is created; only its SHA-256 is stored, so a copy of the
database holds nothing anyone could sign in with.  A revoked token stays in the table (with
the time it was revoked) and never works again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from compengine.core.errors import CompengineError
from compengine.store.database import Database
from compengine.store.schema import api_tokens, users

#: What each role may do (docs/api.md has the endpoint-by-endpoint table).
ROLES = ("admin", "finance", "arbitrator", "payee", "manager")
#: Roles that are a payee of the company, and so need a payee id.
PAYEE_ROLES = ("payee", "manager")
TOKEN_PREFIX = "ce_"


class UserError(CompengineError):
    """A user or token that cannot be created, found or revoked as asked."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    payee_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Token:
    id: int
    user_id: int
    created_at: datetime
    revoked_at: datetime | None


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(db: Database, name: str, role: str, payee_id: str | None = None) -> User:
    name = name.strip()
    payee_id = (payee_id or "").strip() or None
    if not name:
        raise UserError("a user needs a name")
    if role not in ROLES:
        raise UserError(f"a role is one of {', '.join(ROLES)}, not {role!r}")
    if role in PAYEE_ROLES and payee_id is None:
        raise UserError(f"a {role} user is one of the company's payees: give their payee id (--payee P001)")
    if role not in PAYEE_ROLES and payee_id is not None:
        raise UserError(f"only payee and manager users have a payee id; a {role} user does not")
    try:
        with db.transaction() as connection:
            created_at = db.now()
            user_id: int = connection.execute(
                insert(users).returning(users.c.id).values(name=name, role=role, payee_id=payee_id, created_at=created_at)
            ).scalar_one()
    except IntegrityError:
        raise UserError(f"there is already a user named {name!r}") from None
    return User(user_id, name, role, payee_id, created_at)


def find_user(connection: Connection, name_or_id: str | int) -> User | None:
    column = users.c.id if isinstance(name_or_id, int) else users.c.name
    row = connection.execute(select(users).where(column == name_or_id)).first()
    return None if row is None else User(row.id, row.name, row.role, row.payee_id, row.created_at)


def list_users(db: Database) -> list[User]:
    with db.reading() as connection:
        rows = connection.execute(select(users).order_by(users.c.id)).all()
    return [User(row.id, row.name, row.role, row.payee_id, row.created_at) for row in rows]


def create_token(db: Database, user_name: str) -> tuple[Token, str]:
    """A new token for the user: (its record, the token itself, to be shown once)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as connection:
        user = find_user(connection, user_name)
        if user is None:
            raise UserError(f"there is no user named {user_name!r}; add one first (compengine user add NAME --role ROLE)")
        created_at = db.now()
        token_id: int = connection.execute(
            insert(api_tokens)
            .returning(api_tokens.c.id)
            .values(user_id=user.id, token_sha256=token_sha256(token), created_at=created_at, revoked_at=None)
        ).scalar_one()
    return Token(token_id, user.id, created_at, None), token


def revoke_token(db: Database, token_id: int) -> Token:
    with db.transaction() as connection:
        row = connection.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise UserError(f"there is no token {token_id}")
        revoked_at = row.revoked_at or db.now()
        if row.revoked_at is None:
            connection.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=revoked_at))
    return Token(row.id, row.user_id, row.created_at, revoked_at)


def user_for_token(connection: Connection, token: str) -> User | None:
    """The user a token belongs to, or None for an unknown or revoked token."""
    row = connection.execute(
        select(users)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_sha256 == token_sha256(token), api_tokens.c.revoked_at.is_(None))
    ).first()
    return None if row is None else User(row.id, row.name, row.role, row.payee_id, row.created_at)
