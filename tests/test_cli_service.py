"""The service commands an administrator runs on the server: `user add`, `user list`,
`token create` (the token printed once, only its hash kept) and `token revoke`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from compengine.cli import app
from compengine.store.database import Database
from compengine.store.schema import api_tokens
from compengine.store.users import user_for_token


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--db", url])


def test_a_user_is_added_with_a_role_and_listed(url: str) -> None:
    assert run(url, "user", "add", "luis", "--role", "payee", "--payee", "P004").exit_code == 0
    listed = run(url, "user", "list")
    assert listed.stdout.split() == ["1", "luis", "payee", "P004"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["user", "add", "x", "--role", "owner"], "a role is one of admin, finance, arbitrator, payee, manager"),
        (["user", "add", "x", "--role", "manager"], "give their payee id"),
        (["user", "add", "x", "--role", "finance", "--payee", "P1"], "only payee and manager users have a payee id"),
    ],
)
def test_a_user_that_cannot_be_added_is_explained(url: str, args: list[str], message: str) -> None:
    result = run(url, *args)
    assert result.exit_code == 1
    assert message in result.stderr


def test_a_token_is_printed_once_and_only_its_hash_is_stored(url: str) -> None:
    run(url, "user", "add", "dana", "--role", "admin")
    result = run(url, "token", "create", "dana")
    assert result.exit_code == 0
    token = result.stdout.strip()
    db = Database(url)
    with db.reading() as connection:
        stored = connection.execute(select(api_tokens.c.token_sha256)).scalars().all()
        assert stored == [hashlib.sha256(token.encode()).hexdigest()]
        user = user_for_token(connection, token)
    db.dispose()
    assert user is not None and user.name == "dana"


def test_a_revoked_token_no_longer_signs_in(url: str) -> None:
    run(url, "user", "add", "dana", "--role", "admin")
    token = run(url, "token", "create", "dana").stdout.strip()
    assert run(url, "token", "revoke", "1").exit_code == 0
    db = Database(url)
    with db.reading() as connection:
        assert user_for_token(connection, token) is None
    db.dispose()
    assert run(url, "token", "revoke", "99").exit_code == 1


def test_serve_refuses_a_port_that_is_not_one(url: str) -> None:
    result = run(url, "serve", "--port", "70000")
    assert result.exit_code == 2
