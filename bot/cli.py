"""The `fieldbot` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.bootstrap import App, SchemaOutdated, build_app
from bot.config import ConfigError, Settings, load_settings
from bot.console import CHANNEL, ConsoleChat
from bot.demo.county import DEMO_PERSON
from bot.demo.seed import seed_demo
from bot.i18n import LANGUAGES, Translator, translator
from bot.rhythm_cli import RhythmRefused, add_rhythm_commands, list_rhythms, run_rhythm
from domain.clock import local_today
from domain.model import Person
from domain.scope import descendants
from handlers import onboarding
from storage import migrate
from storage.db import DatabaseUnavailable, check_reachable, create_engine, safe_url

logger = logging.getLogger("fieldbot")

CHANNELS = {"telegram": ("telegram",), "wecom": ("wecom",), "both": ("telegram", "wecom")}
SUBSCRIPTIONS = ("daily_summary", "weekly_digest", "ten_day_report", "monthly_ranking",
                 "quarterly_review", "problem_alerts", "problem_l2", "problem_l3", "problem_l4",
                 "problem_l5")


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
    run = commands.add_parser(
        "run", help="run the bot on Telegram and/or WeCom, deliver the outbox, keep the rhythms",
        description="Serves the chosen channels and delivers the outbox until SIGTERM.")
    run.add_argument("--channel", choices=sorted(CHANNELS), default="telegram",
                     help="telegram (default), wecom (the callback server), or both")
    run.add_argument("--webhook", action="store_true",
                     help="serve Telegram's webhook (telegram.webhook_url and webhook_secret)")
    invite = commands.add_parser("invite", help="a single-use invite that binds a chat account")
    invite.add_argument("who", help="the person's key or name")
    invite.add_argument("--days", type=int, default=7, help="valid for this many days (7)")
    group = commands.add_parser("group", help="group chats: add (get a bind code), list")
    group_commands = group.add_subparsers(dest="group_command", required=True, metavar="ACTION")
    group_add = group_commands.add_parser("add", help="a group chat with its scope and feeds")
    group_add.add_argument("title")
    group_add.add_argument("--place", required=True,
                           help="the region or unit whose projects the group follows")
    group_add.add_argument("--subscribe", default="daily_summary",
                           help="comma-separated: " + ",".join(SUBSCRIPTIONS))
    group_add.add_argument("--webhook-kind", choices=["wecom_robot", "dingtalk", "feishu"],
                           help="a push-only robot instead of a chat to bind")
    group_add.add_argument("--webhook-url", help="the robot's webhook address (or "
                           "FIELDBOT_WEBHOOK_URL, which keeps it out of the shell history)")
    group_add.add_argument("--secret", help="DingTalk/Feishu signing secret (or "
                           "FIELDBOT_WEBHOOK_SECRET)")
    group_commands.add_parser("list", help="the group chats and whether they are bound")
    db = commands.add_parser("db", help="database schema: upgrade, downgrade, current")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="migrate to the newest schema (or REVISION)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="migrate down to REVISION (base: empty)")
    downgrade.add_argument("revision")
    db_commands.add_parser("current", help="show the schema revision of the database")
    sim = commands.add_parser(
        "simulate", help="N days of the demo county on a fast clock, messages to files",
        description="Builds the demo county in a fresh SQLite database inside the output folder "
                    "(never the configured database), runs every rhythm at its times with "
                    "liaisons, leaders and units acting in between, and writes every message "
                    "that would be sent to OUT/<day>/<HHMM>-<kind>-<recipient>.txt (and .png). "
                    "The output folder is DELETED and made afresh at each run; a folder that "
                    "is not empty and not an earlier simulation's is refused.")
    sim.add_argument("--from", dest="start", type=date.fromisoformat, default=date(2026, 3, 1),
                     metavar="YYYY-MM-DD", help="the first simulated day (2026-03-01)")
    sim.add_argument("--days", type=int, default=40, metavar="N",
                     help="how many days, 1 to 366 (40)")
    sim.add_argument("--out", type=Path, default=Path("simulation"), metavar="FOLDER",
                     help="the output folder, deleted first (./simulation)")
    sim.add_argument("--seed", type=int, default=2026, metavar="N",
                     help="the random seed: the same seed gives the same month (2026)")
    add_excel_commands(commands)
    add_rhythm_commands(commands)
    return parser


def add_excel_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    template = commands.add_parser(
        "template", help="write the Excel import workbook (项目, 人员, 分工, 说明)")
    template.add_argument("out", nargs="?", type=Path, default=Path("fieldbot-template.xlsx"),
                          help="the file to write (fieldbot-template.xlsx)")
    template.add_argument("--language", choices=LANGUAGES,
                          help="headers in this language (the configured one)")
    imports = commands.add_parser(
        "import", help="import projects, people and assignments from an .xlsx",
        description="All or nothing: any wrong cell refuses the file and every wrong cell is "
                    "listed (项目!F12). Importing again updates by project code and person "
                    "key. Exit status 1 when anything was refused.")
    imports.add_argument("file", type=Path, help="the filled-in workbook")
    imports.add_argument("--partial", action="store_true",
                         help="import the good rows and list the refused ones")
    imports.add_argument("--year", type=int, metavar="YYYY",
                         help="the year of the annual plan column (this year)")
    imports.add_argument("--max-megabytes", type=float, default=20, metavar="MB",
                         help="refuse a larger file before reading it (20)")
    export = commands.add_parser(
        "export", help="reports, problems, letters and ranking of a date range, to .xlsx")
    export.add_argument("out", type=Path, help="the file to write")
    export.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="the first day (the 1st of this month)")
    export.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="the last day (today)")
    export.add_argument("--region", help="a region's name or code, with everything below it "
                                         "(all regions)")


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
    if args.command == "simulate":  # its own database: the configured one is never opened
        return await run_simulation(args, settings)
    if args.command == "template":  # needs no database
        return write_template(args.out, args.language or settings.language)
    if args.command == "demo" and args.reset:
        reset_sqlite(settings)
    app = await build_app(settings, migrate_schema=args.command == "demo")
    try:
        return await COMMANDS[args.command](app, args)
    finally:
        await app.aclose()


async def demo(app: App, args: argparse.Namespace) -> int:
    await ensure_demo(app)
    if args.no_chat:
        return 0
    return await chat(app, args.who or DEMO_PERSON)


async def group(app: App, args: argparse.Namespace) -> int:
    if args.group_command == "add" and (args.webhook_kind or args.webhook_url):
        return await add_robot(app, args)
    if args.group_command == "add":
        return await add_group(app, args.title, args.place, args.subscribe)
    return await list_groups(app)


async def rhythm(app: App, args: argparse.Namespace) -> int:
    t = app.texts()
    if args.rhythm_command == "list":
        print("\n".join(await list_rhythms(app, t)))
        return 0
    try:
        print(await run_rhythm(app, t, args.name, args.at))
    except RhythmRefused as exc:
        raise Failure(str(exc)) from None
    return 0


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


async def run_simulation(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the rhythms bring matplotlib (0.5 s), which other commands never need.
    from bot.simulate import FolderRefused, simulate, summary_text  # noqa: PLC0415

    if not 1 <= args.days <= 366:
        raise Failure(translator(settings.language)("simulate.bad_days", days=args.days))
    try:
        summary = await simulate(settings, start=args.start, days=args.days, out=args.out,
                                 seed=args.seed, progress=lambda line: print(line, flush=True))
    except FolderRefused as exc:
        raise Failure(str(exc)) from exc
    print()
    print(summary_text(translator(settings.language), summary))
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


async def run_service(app: App, *, webhook: bool, channel: str = "telegram") -> int:
    # Imported here: aiogram and the rhythms' matplotlib take seconds to import, and the
    # console commands (demo, chat, invite…) need neither.
    from bot import service  # noqa: PLC0415
    from bot.wecom.api import BadSecret, NotTrusted  # noqa: PLC0415 — the same
    from bot.wecom.channel import WeComNotConfigured  # noqa: PLC0415 — the same
    from bot.wecom.crypto import BadKey  # noqa: PLC0415 — the same

    stop = asyncio.Event()
    service.stop_on_signals(stop)
    t = app.texts()
    try:
        await service.serve(app, webhook=webhook, stop=stop, channels=CHANNELS[channel])
    except service.NotConfigured as exc:
        key = "cli.webhook_needs_url" if "webhook" in str(exc) else "cli.telegram_not_configured"
        raise Failure(t(key)) from exc
    except WeComNotConfigured as exc:
        raise Failure(t("cli.wecom_not_configured", missing=str(exc))) from exc
    except BadSecret as exc:
        raise Failure(t("cli.wecom_bad_secret")) from exc
    except NotTrusted as exc:
        raise Failure(t("cli.wecom_not_trusted")) from exc
    except BadKey as exc:
        raise Failure(t("cli.wecom_bad_key")) from exc
    return 0


async def make_invite(app: App, who: str, days: int) -> int:
    person = await find_person(app, who)
    t = app.texts()
    async with app.uow() as uow:
        invite = await onboarding.issue(uow, person, by=None, now=app.clock.now(), days=days)
        await uow.commit()
    link = await telegram_link(app, invite.code)
    print(onboarding.invite_text(t, person, invite, link, app.clock))
    if link is None:
        print(t("cli.invite_no_link"))
    return 0


async def telegram_link(app: App, code: str) -> str | None:
    """The t.me deep link, with the bot's username from the configuration or from getMe."""
    settings = app.settings.telegram
    username = settings.bot_username
    if username is None and settings.token is not None:
        from bot import service  # noqa: PLC0415 - aiogram only when Telegram is asked

        bot = service.telegram_api(app.settings)
        try:
            username = (await bot.get_me()).username
        except Exception as exc:  # an invite is still useful by its code alone
            logger.warning("could not ask Telegram for the bot's name: %s", exc)
        finally:
            await bot.session.close()
    return f"https://t.me/{username}?start={code}" if username else None


def _subscriptions(t: Translator, subscribe: str) -> list[str]:
    kinds = [k.strip() for k in subscribe.split(",") if k.strip()]
    for kind in kinds:
        if kind not in SUBSCRIPTIONS:
            raise Failure(t("cli.bad_subscription", name=kind, known=", ".join(SUBSCRIPTIONS)))
    return kinds


async def _place(app: App, place: str) -> tuple[int | None, int | None]:
    """The region (or else the unit) named or coded `place`."""
    async with app.uow() as uow:
        regions = [r for r in await uow.places.regions() if place in (r.name, r.code)]
        units = [u for u in await uow.places.units() if place in (u.name, u.code)]
    if not regions and not units:
        raise Failure(app.texts()("cli.no_place", name=place))
    return (regions[0].id, None) if regions else (None, units[0].id)


async def add_group(app: App, title: str, place: str, subscribe: str) -> int:
    t = app.texts()
    kinds = _subscriptions(t, subscribe)
    region_id, unit_id = await _place(app, place)
    async with app.uow() as uow:
        group = await uow.groups.prepare(title, region_id=region_id, unit_id=unit_id,
                                         subscriptions=kinds, now=app.clock.now())
        await uow.commit()
    names = t("format.list_separator").join(t(f"subscription.{k}") for k in kinds)
    print(t("cli.group_added", title=title, place=place, subscriptions=names,
            code=group.bind_code))
    return 0


async def add_robot(app: App, args: argparse.Namespace) -> int:
    """A group fed by a WeCom, DingTalk or Feishu robot: bound at once, nothing to type."""
    from reminders.robots import BadWebhook, RobotKind, check_webhook  # noqa: PLC0415 — aiohttp
    from storage.repositories.groups import RobotInUse  # noqa: PLC0415 — with it

    t = app.texts()
    kinds = _subscriptions(t, args.subscribe)
    url = (args.webhook_url or os.environ.get("FIELDBOT_WEBHOOK_URL") or "").strip()
    secret = args.secret or os.environ.get("FIELDBOT_WEBHOOK_SECRET") or None
    kind = args.webhook_kind or ""
    try:
        robot = check_webhook(kind, url, secret)
    except BadWebhook as exc:  # never the URL in a message: it holds the robot's key
        problem = exc.problem.value
        raise Failure(t(f"cli.robot_{'bad_' if problem in ('kind', 'url') else ''}{problem}",
                        name=kind, known=", ".join(k.value for k in RobotKind),
                        kind=kind)) from None
    region_id, unit_id = await _place(app, args.place)
    try:
        async with app.uow() as uow:
            await uow.groups.add_robot(args.title, region_id=region_id, unit_id=unit_id,
                                       subscriptions=kinds, kind=robot.value, url=url,
                                       secret=secret, now=app.clock.now())
            await uow.commit()
    except RobotInUse as exc:
        raise Failure(t("cli.robot_in_use", group=exc.group_id)) from None
    names = t("format.list_separator").join(t(f"subscription.{k}") for k in kinds)
    print(t("cli.robot_added", title=args.title, place=args.place, kind=robot.value,
            subscriptions=names))
    return 0


async def list_groups(app: App) -> int:
    async with app.uow() as uow:
        groups = await uow.groups.all()
    for group in groups:
        where = f"{group.channel}:{group.chat_id}" if group.chat_id else f"code {group.bind_code}"
        print(f"{group.id}  {group.title}  {where}  {','.join(group.subscriptions)}")
    return 0


def write_template(out: Path, language: str) -> int:
    from spreadsheets.template import template_workbook  # noqa: PLC0415 - openpyxl when asked

    try:
        out.write_bytes(template_workbook(language))
    except OSError as exc:
        raise Failure(f"{out}: {exc.strerror or exc}") from exc
    print(translator(language)("excel.cli.template_written", path=out))
    return 0


async def import_excel(app: App, args: argparse.Namespace) -> int:
    from spreadsheets.importer import import_workbook, result_lines  # noqa: PLC0415 - as above
    from spreadsheets.package import MB, Limits  # noqa: PLC0415 - as above

    t = app.texts()
    if args.year is not None and not 2000 <= args.year <= 2100:
        raise Failure(t("excel.cli.bad_year", year=args.year))
    limits = Limits(max_bytes=int(args.max_megabytes * MB))
    result = await import_workbook(app.uow, args.file, clock=app.clock, language=t.language,
                                   partial=args.partial, year=args.year, limits=limits)
    print("\n".join(result_lines(t, result)))
    return 1 if result.refused else 0


async def export_excel(app: App, args: argparse.Namespace) -> int:
    # Imported here: the exporter brings the monthly ranking and, with it, matplotlib.
    from spreadsheets.exporter import export_data, render_export  # noqa: PLC0415

    t = app.texts()
    today = local_today(app.clock)
    start, end = args.start or today.replace(day=1), args.end or today
    if end < start:
        raise Failure(t("excel.cli.bad_range", start=start, end=end))
    region_ids = None
    if args.region:
        async with app.uow() as uow:
            regions = await uow.places.regions()
        roots = [r.id for r in regions if args.region in (r.name, r.code)]
        if not roots:
            raise Failure(t("cli.no_place", name=args.region))
        region_ids = descendants(roots, regions)
    data = await export_data(app.uow, start=start, end=end, region_ids=region_ids,
                             language=t.language, clock=app.clock)
    try:
        args.out.write_bytes(await asyncio.to_thread(render_export, data, t.language))
    except OSError as exc:
        raise Failure(f"{args.out}: {exc.strerror or exc}") from exc
    print(t("excel.cli.exported", path=args.out, reports=len(data.reports),
            problems=len(data.problems), letters=len(data.letters)))
    return 0


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Awaitable[int]]] = {
    "demo": demo,
    "chat": lambda app, args: chat(app, args.who),
    "people": lambda app, args: list_people(app, args.filter),
    "run": lambda app, args: run_service(app, webhook=args.webhook, channel=args.channel),
    "invite": lambda app, args: make_invite(app, args.who, args.days),
    "group": group,
    "import": import_excel,
    "export": export_excel,
    "rhythm": rhythm,
}


if __name__ == "__main__":
    sys.exit(main())
