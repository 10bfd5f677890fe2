"""Who is calling, and what they may see.

Every request but the documentation carries `Authorization: Bearer <token>`; the token's
SHA-256 is looked up (a revoked or unknown token is a 401).  Each endpoint names the roles
allowed to call it (a 403 for any other role).  Within an endpoint, records are filtered by
who the caller is: a payee sees only their own statements, ledger and disputes, a manager
also their team's statements, an arbitrator the statements of disputed runs.  A record the
caller may not see is answered exactly like one that does not exist (404), so guessing ids
tells nobody what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from compengine.api.problems import ApiProblem
from compengine.service.disputes import Dispute, list_disputes
from compengine.service.views import team_of
from compengine.store.database import Database
from compengine.store.users import User, user_for_token

ADMIN, FINANCE, ARBITRATOR, PAYEE, MANAGER = "admin", "finance", "arbitrator", "payee", "manager"
EVERYONE = (ADMIN, FINANCE, ARBITRATOR, PAYEE, MANAGER)
#: Roles that read every payee's records.
READ_ALL = (ADMIN, FINANCE)

bearer = HTTPBearer(auto_error=False, description="An API token: `compengine token create USER` prints one.")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


Db = Annotated[Database, Depends(database)]


def authenticate(db: Database, token: str) -> User | None:
    with db.reading() as connection:
        return user_for_token(connection, token)


def current_user(request: Request, db: Db, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiProblem(
            401, "unauthenticated", "sign in with an API token: Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
        )
    user = authenticate(db, credentials.credentials)
    if user is None:
        raise ApiProblem(401, "unauthenticated", "the API token is not valid (unknown or revoked)", headers={"WWW-Authenticate": "Bearer"})
    request.state.user = user
    return user


def allow(*roles: str) -> Callable[..., Caller]:
    """A dependency: the caller, if their role is one of `roles` (else a 403)."""

    def check(request: Request, db: Db, user: Annotated[User, Depends(current_user)]) -> Caller:
        if user.role not in roles:
            raise ApiProblem(403, "forbidden", f"a {user.role} user cannot do this; it needs the role {' or '.join(roles)}")
        return Caller(user, db)

    check.roles = roles  # type: ignore[attr-defined]  # read by the endpoint table test and the docs
    return check


@dataclass
class Caller:
    """The signed-in user, with the questions handlers ask about what they may see."""

    user: User
    db: Database
    _team: set[str] | None = field(default=None, repr=False)

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def reads_all(self) -> bool:
        return self.user.role in READ_ALL

    def team(self) -> set[str]:
        """A manager's reports, directly or below (empty for anyone else)."""
        if self._team is None:
            self._team = team_of(self.db, self.user.payee_id) if self.role == MANAGER and self.user.payee_id else set()
        return self._team

    def payees_visible(self) -> set[str] | None:
        """The payees whose statements the caller may read; None: everyone's."""
        if self.reads_all:
            return None
        if self.role in (PAYEE, MANAGER) and self.user.payee_id:
            return {self.user.payee_id} | (self.team() if self.role == MANAGER else set())
        return set()

    def sees_statements_of(self, payee_id: str) -> bool:
        visible = self.payees_visible()
        return visible is None or payee_id in visible

    def sees_run(self, run_id: int) -> bool | None:
        """True: every line of the run; None: only the lines of `payees_visible`; False: none
        (an arbitrator and a run nobody disputes)."""
        if self.reads_all:
            return True
        if self.role == ARBITRATOR:
            return bool(list_disputes(self.db, run_id=run_id))
        return None

    def sees_dispute(self, dispute: Dispute) -> bool:
        if self.reads_all or self.role == ARBITRATOR:
            return True
        return self.sees_statements_of(dispute.payee_id)

    def sees_ledger_of(self, payee_id: str) -> bool:
        """A ledger is personal: a payee or manager sees only their own."""
        return self.reads_all or (self.role in (PAYEE, MANAGER) and payee_id == self.user.payee_id)
