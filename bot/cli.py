"""The `fieldbot` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.bootstrap import App, SchemaOutdated, build_app
from bot.config import ConfigError, Settings, load_settings
from bot.console import CHANNEL, ConsoleChat
from bot.demo.county import DEMO_PERSON
from bot.demo.seed import seed_demo
from bot.i18n import translator
from domain.model import Person
from storage import migrate
from storage.db import DatabaseUnavailable, check_reachable, create_engine, safe_url

logger = logging.getLogger("fieldbot")


class Failure(Exception):
    """Stops the command with this one line and exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fieldbot", description="Supervision of key construction projects by chat.")
    parser.add_argument("--config", type=Path, help="a TOML configuration file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every event")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="create the demo county (if needed) and chat in it as a liaison",
        description="Creates the demo county in the configured database when it is empty, "
                    "then opens the console chat as the demo liaison.")
    demo.add_argument("--reset", action="store_true",
                      help="delete the SQLite database in the data folder and start afresh")
    demo.add_argument("--as", dest="who", help="chat as this person instead of the demo liaison")
    demo.add_argument("--no-chat", action="store_true", help="only create the demo county")
    chat = commands.add_parser("chat", help="open the console chat as a person of the database")
    chat.add_argument("--as", dest="who", required=True, help="the person's key or name")
    people = commands.add_parser("people", help="list the people of the database and their roles")
    people.add_argument("filter", nargs="?", default="", help="part of a name or key")
    db = commands.add_parser("db", help="database schema: upgrade, downgrade, current")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="migrate to the newest schema (or REVISION)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="migrate down to REVISION (base: empty)")
    downgrade.add_argument("revision")
    db_commands.add_parser("current", help="show the schema revision of the database")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        settings = load_settings(args.config)
        return asyncio.run(run(args, settings))
    except (ConfigError, DatabaseUnavailable) as exc:
        print(f"fieldbot: {exc}", file=sys.stderr)
        return 2
    except SchemaOutdated as exc:
        print("fieldbot: " + translator(None)("cli.not_migrated", current=exc.current or "base",
                                              head=exc.head), file=sys.stderr)
        return 2
    except Failure as exc:
        print(f"fieldbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "db":
        return await run_db(args, settings)
    if args.command == "demo" and args.reset:
        reset_sqlite(settings)
    app = await build_app(settings, migrate_schema=args.command == "demo")
    try:
        if args.command == "demo":
            await ensure_demo(app)
            if args.no_chat:
                return 0
            return await chat(app, args.who or DEMO_PERSON)
        if args.command == "chat":
            return await chat(app, args.who)
        if args.command == "people":
            return await list_people(app, args.filter)
    finally:
        await app.aclose()
    raise AssertionError(args.command)


async def run_db(args: argparse.Namespace, settings: Settings) -> int:
    t = translator(settings.language)
    engine = create_engine(settings.database_url)
    try:
        await check_reachable(engine)
        where = safe_url(settings.database_url)
        if args.db_command == "upgrade":
            await migrate.upgrade(engine, args.revision)
            print(t("cli.migrated", revision=await migrate.current(engine), database=where))
        elif args.db_command == "downgrade":
            await migrate.downgrade(engine, args.revision)
            print(t("cli.downgraded", revision=await migrate.current(engine) or "base",
                    database=where))
        else:
            print(t("cli.current", current=await migrate.current(engine) or "base",
                    head=migrate.head()))
    finally:
        await engine.dispose()
    return 0


def reset_sqlite(settings: Settings) -> None:
    url = make_url(settings.database_url)
    path = Path(url.database or "")
    data_dir = settings.data_dir.resolve()
    if url.get_backend_name() != "sqlite" or data_dir not in path.resolve().parents:
        raise Failure(translator(settings.language)("cli.reset_not_sqlite"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def ensure_demo(app: App) -> None:
    t = app.texts()
    where = safe_url(app.settings.database_url)
    async with app.uow() as uow:
        existing = await uow.projects.count()
        if existing:
            print(t("cli.demo_existing", database=where, projects=existing))
            return
        counts = await seed_demo(uow, app.clock)
        await uow.commit()
    print(t("cli.demo_seeded", projects=counts.projects, people=counts.people,
            reports=counts.reports, database=where))


async def find_person(app: App, who: str) -> Person:
    t = app.texts()
    async with app.uow() as uow:
        found = await uow.people.find(who)
    exact = [p for p in found if who in (p.key, p.name)]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    if not found:
        raise Failure(t("cli.no_person", who=who))
    lines = [t("cli.ambiguous_person", who=who)]
    lines += [f"  {p.key}  {p.name}  {p.title}" for p in found[:20]]
    raise Failure("\n".join(lines))


async def chat(app: App, who: str) -> int:
    person = await find_person(app, who)
    async with app.uow() as uow:
        if await uow.people.by_identity(CHANNEL, person.key) is None:
            await uow.people.bind_identity(person.id, CHANNEL, person.key, app.clock.now(),
                                           display_name=person.name)
            await uow.commit()
    t = app.texts(person.language)
    print(t("console.welcome", name=person.name, title=person.title), flush=True)
    console = ConsoleChat(app.router.handle, person.key, t, app.settings.data_dir / "console")
    await console.run()
    return 0


async def list_people(app: App, text: str) -> int:
    t = app.texts()
    async with app.uow() as uow:
        people = await uow.people.find(text) if text else await uow.people.all()
    for person in people:
        names = dict.fromkeys(t(f"role.{r.kind.value}") for r in person.roles)
        roles = t("format.list_separator").join(names)
        print(t("cli.person_line", key=person.key, name=person.name, title=person.title,
                roles=roles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
