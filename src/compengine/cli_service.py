"""The `compengine` commands of the HTTP service: users, their API tokens, and `serve`.

Users and tokens are made by whoever runs the command on the server (an admin); the API
itself never creates a token.  A token is printed once and only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Annotated

import typer

from compengine.cli_records import DbOption, _with_db
from compengine.cli_support import EXIT_USAGE, err, guard, out
from compengine.store import users
from compengine.store.database import Database, database_url

user_app = typer.Typer(help="Manage the people who use the API.", no_args_is_help=True)
token_app = typer.Typer(help="Create and revoke API tokens.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The user's name (unique).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(users.ROLES)}.")],
    payee: Annotated[str | None, typer.Option("--payee", help="The payee id of a payee or manager user.")] = None,
    db: DbOption = None,
) -> None:
    """Add a user with a role (payee and manager users are tied to their payee id)."""

    def action(database: Database) -> None:
        added = users.add_user(database, name, role, payee)
        tied = f" (payee {added.payee_id})" if added.payee_id else ""
        out.print(f"user {added.id} {added.name}: {added.role}{tied}", markup=False)

    _with_db(db, action)


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """List the users and their roles."""

    def action(database: Database) -> None:
        for user in users.list_users(database):
            out.print(f"{user.id}\t{user.name}\t{user.role}\t{user.payee_id or ''}", markup=False)

    _with_db(db, action)


@token_app.command("create")
def token_create(user: Annotated[str, typer.Argument(help="The user's name.")], db: DbOption = None) -> None:
    """Create an API token for USER and print it, once: it cannot be shown again."""

    def action(database: Database) -> None:
        record, token = users.create_token(database, user)
        out.print(token, markup=False)
        err.print(
            f"token {record.id} for {user}; store it now, it is not shown again (revoke: compengine token revoke {record.id})", markup=False
        )

    _with_db(db, action)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (printed when it was created).")], db: DbOption = None
) -> None:
    """Revoke a token for good."""

    def action(database: Database) -> None:
        record = users.revoke_token(database, token_id)
        out.print(f"token {record.id} revoked", markup=False)

    _with_db(db, action)


def serve(
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port to listen on.")] = 8000,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, documentation at /docs)."""
    if not 0 < port < 65536:
        err.print(f"error: --port {port} is not a port number", markup=False)
        raise typer.Exit(EXIT_USAGE)

    def run() -> None:
        import uvicorn

        from compengine.api.app import create_app

        database = Database(database_url(db))
        try:
            err.print(f"serving the compengine API on http://{host}:{port} (documentation at /docs)", markup=False)
            uvicorn.run(create_app(database), host=host, port=port)
        finally:
            database.dispose()

    guard(run)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.command()(serve)
