"""The one entry for every event from every channel: who is it, and which handler answers.

Events from one chat are handled one at a time, in order, so two quick messages never race
for the same draft; different chats run concurrently. An event carrying the platform's update
ids is handled once: its receipt is committed with the first change it makes, and an update
seen again (redelivered after a crash) is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace

from domain.clock import Clock, local_today
from domain.events import ChatKind, EventKind, Incoming, Outgoing
from domain.model import Person
from domain.problems import Deadlines
from domain.quiet import DEFAULT as DEFAULT_QUIET
from domain.quiet import Quiet
from domain.workdays import WorkCalendar
from handlers import help as help_
from handlers import onboarding, spreadsheets
from handlers.context import Context, Handler, PhotoFiles, Texts
from handlers.digest import digest
from handlers.forms.engine import Forms
from handlers.groups import bind_group, bot_removed, follow_move
from handlers.intents import match_intent
from handlers.letters import acknowledge, letters
from handlers.lookup import ProjectIndex
from handlers.my_projects import my_projects
from handlers.notify import unreachable
from handlers.overdue import overdue
from handlers.problems import close, problems
from handlers.quiet import quiet_hours
from handlers.ranking import ranking
from handlers.status import status
from reminders.chart_types import ChartPort
from storage.repositories.groups import Group
from storage.repositories.receipts import Receipt
from storage.uow import CarriedFactory, UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

COMMANDS: Mapping[str, Handler] = {
    "start": help_.show_help,
    "help": help_.show_help,
    "my": my_projects,
    "status": status,
    "invite": onboarding.invite,
    "letters": letters,
    "ack": acknowledge,
    "problems": problems,
    "close": close,
    "overdue": overdue,
    "ranking": ranking,
    "digest": digest,
    "export": spreadsheets.export,
    "template": spreadsheets.template,
    "quiet": quiet_hours,
}
GROUP_COMMANDS = frozenset({"start", "help", "my", "status", "letters", "problems", "overdue",
                            "ranking", "digest"})


class ChatLocks:
    """One lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: tuple[str, str]) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class Router:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 texts: Callable[[str | None], Texts], default_language: str, *,
                 forms: Forms | None = None,
                 invite_links: Mapping[str, Callable[[str], str | None]] | None = None,
                 deadlines: Deadlines | None = None, calendar: WorkCalendar | None = None,
                 photo_files: PhotoFiles | None = None, charts: ChartPort | None = None,
                 quiet: Quiet = DEFAULT_QUIET) -> None:
        self._uow = uow
        self._clock = clock
        self._texts = texts
        self._default_language = default_language
        self._forms = forms or Forms({})
        self._invite_links = dict(invite_links or {})
        self._deadlines = deadlines or Deadlines()
        self._calendar = calendar or WorkCalendar()
        self._photo_files = photo_files
        self._charts = charts
        self._quiet = quiet
        self._tries = onboarding.Tries()
        self._projects = ProjectIndex()
        self.locks = ChatLocks()

    def set_invite_link(self, channel: str, link: Callable[[str], str | None]) -> None:
        """How invites are redeemed in one tap on `channel` (known once its bot is up)."""
        self._invite_links[channel] = link

    def invite_link(self, code: str) -> str | None:
        for link in self._invite_links.values():
            if (found := link(code)) is not None:
                return found
        return None

    async def handle(self, event: Incoming) -> list[Outgoing]:
        async with self.locks.hold((event.channel, event.chat_id)):
            try:
                return await self._handle(event)
            except Exception:
                # Every change is one transaction, rolled back here: nothing half-written, the
                # draft as it was before this message. The person may simply try again.
                logger.exception("event from %s user %s failed", event.channel, event.user_id)
                return [Outgoing(text=self._stranger_texts(event)("error.internal"))]

    def _stranger_texts(self, event: Incoming) -> Texts:
        return self._texts(event.language_hint or self._default_language)

    async def _handle(self, event: Incoming) -> list[Outgoing]:
        receipt = (Receipt(event.channel, event.receipts, self._clock.now())
                   if event.receipts else None)
        factory = self._uow.receipted(receipt) if receipt is not None else self._uow
        group: Group | None = None
        async with factory() as first:
            if receipt is not None and await first.receipts.seen(event.channel, receipt.keys):
                logger.info("skipped %s update %s: handled before", event.channel,
                            ",".join(receipt.keys))
                return []
            person = await first.people.by_identity(event.channel, event.user_id)
            if event.chat_kind is ChatKind.GROUP:
                group = await first.groups.by_chat(event.channel, event.chat_id)
            elif person is not None and event.kind is EventKind.BOT_REMOVED:
                await self._blocked(first, person, event.channel)
                return []
            elif person is not None:
                # A person in private: this transaction goes on as the first the handlers open
                # (the form engine's, which reads and writes the draft): one a form step.
                uow = CarriedFactory(first, factory)
                if not person.reachable:
                    async with uow() as again:
                        await again.people.set_reachable(person.id, True)
                        await again.commit()
                    logger.info("person %s is reachable again on %s", person.id,
                                event.channel)
                return await self._as_person(self._context(person, event, uow))
        if event.chat_kind is ChatKind.GROUP:
            return await self._in_group(event, person, group, factory)
        if event.kind is EventKind.BOT_REMOVED:
            return []  # a stranger blocked the bot: nothing to keep
        return await onboarding.stranger(event, uow=factory, clock=self._clock,
                                         t=self._stranger_texts(event), tries=self._tries)

    async def _blocked(self, uow: UnitOfWork, person: Person, channel: str) -> None:
        """The person blocked the bot (Telegram says so at once): the dispatchers hear of it
        now rather than at the next message that fails."""
        await unreachable(uow, person, texts_for=self._texts, now=self._clock.now(),
                          today=local_today(self._clock))
        await uow.commit()
        logger.info("person %s blocked the bot on %s; marked unreachable", person.id, channel)

    def _context(self, person: Person, event: Incoming,
                 uow: Callable[[], UnitOfWork]) -> Context:
        return Context(person, _button_as_command(event), uow, self._clock,
                       self._texts(person.language or self._default_language), self._texts,
                       self.invite_link, deadlines=self._deadlines, calendar=self._calendar,
                       projects=self._projects, photo_files=self._photo_files,
                       charts=self._charts, quiet=self._quiet)

    async def _as_person(self, ctx: Context) -> list[Outgoing]:
        event = ctx.event
        if (imported := await spreadsheets.import_upload(ctx)) is not None:
            return imported  # a spreadsheet sent in private: imported, whatever form is open
        forms = await self._forms.handle(ctx)
        if forms.messages is None and (intended := _sentence_as_command(
                event, lambda command: command in COMMANDS or self._forms.opens(command))):
            return await self._as_person(replace(ctx, event=intended))
        if forms.messages is not None and (event.kind is not EventKind.COMMAND
                                           or event.command not in COMMANDS):
            return forms.messages
        replies = await self._handler_for(event)(ctx)
        return [*(forms.messages or []), *replies, *forms.after]

    async def _in_group(self, event: Incoming, person: Person | None, group: Group | None,
                        uow: Callable[[], UnitOfWork]) -> list[Outgoing]:
        """Bound groups only; commands (and command buttons) from people with a role only."""
        t = (self._texts(person.language or self._default_language) if person
             else self._stranger_texts(event))
        event = _button_as_command(event)
        if event.kind in (EventKind.CHAT_MOVED, EventKind.BOT_REMOVED):
            return await self._membership(event, group, uow)
        if event.kind is not EventKind.COMMAND:
            return []
        if event.command == "bindgroup":
            return await bind_group(event, person, uow=uow, clock=self._clock, t=t)
        if group is None:
            logger.info("ignored /%s in unbound %s group %s", event.command, event.channel,
                        event.chat_id)
            return []
        if person is not None and person.roles and event.command in GROUP_COMMANDS:
            return await COMMANDS[event.command](self._context(person, event, uow))
        return [Outgoing(text=self._group_refusal(t, person, event.command))]

    async def _membership(self, event: Incoming, group: Group | None,
                          uow: Callable[[], UnitOfWork]) -> list[Outgoing]:
        """The group's chat moved, or the bot is out of it: the binding follows."""
        if event.kind is EventKind.CHAT_MOVED:
            return await follow_move(event, group, uow=uow, clock=self._clock)
        return await bot_removed(event, group, uow=uow, clock=self._clock,
                                 texts_for=self._texts)

    def _group_refusal(self, t: Texts, person: Person | None, command: str) -> str:
        if person is None or not person.roles:
            return t("group.no_role")
        if self._forms.opens(command) or command in ("back", "cancel"):
            return t("group.forms_in_private")
        return t("group.command_private", command=command)

    def _handler_for(self, event: Incoming) -> Handler:
        if event.kind is EventKind.COMMAND:
            return COMMANDS.get(event.command, help_.unknown_command)
        return help_.not_understood


def _button_as_command(event: Incoming) -> Incoming:
    """A pressed button whose data is a command line acts as that command typed."""
    if event.kind is EventKind.BUTTON and event.button_data.startswith("/"):
        typed = Incoming.from_text(event.channel, event.chat_id, event.user_id, event.button_data)
        return replace(event, kind=typed.kind, text=typed.text, command=typed.command,
                       args=typed.args)
    return event


def _sentence_as_command(event: Incoming, runs: Callable[[str], bool]) -> Incoming | None:
    """Plain text no form took that asks for a command this bot `runs` ("今天谁没报"), as that
    command typed; None leaves it to the "not understood" answer."""
    intent = match_intent(event.text) if event.kind is EventKind.TEXT else None
    if intent is None or not runs(intent.command):
        return None
    line = f"/{intent.command} {intent.args}".rstrip()
    return replace(event, kind=EventKind.COMMAND, text=line, command=intent.command,
                   args=intent.args)
