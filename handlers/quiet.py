"""`/quiet`: a person's own quiet hours, when reminders wait (or, for today-only ones, drop).

`/quiet` shows them; `/quiet 22:30-07:00` (or "22点到7点半") sets them; `/quiet 关闭` turns
them off; `/quiet 默认` goes back to the configured default.
"""

from __future__ import annotations

from domain.events import Outgoing
from domain.quiet import NotQuietHours, Quiet, parse_quiet
from handlers.context import Context, Texts

DEFAULT_WORDS = frozenset({"默认", "恢复默认", "default", "reset"})


def describe(t: Texts, quiet: Quiet | None, default: Quiet) -> str:
    if quiet is None:
        return t("quiet.default", hours=default.label())
    if quiet.never:
        return t("quiet.never")
    return t("quiet.own", hours=quiet.label())


async def quiet_hours(ctx: Context) -> list[Outgoing]:
    typed = ctx.event.args.strip()
    if not typed:
        return [Outgoing(text="\n".join([describe(ctx.t, ctx.person.quiet, ctx.quiet),
                                         ctx.t("quiet.usage")]))]
    wanted: Quiet | None
    if typed.lower() in DEFAULT_WORDS:
        wanted = None
    else:
        try:
            wanted = parse_quiet(typed)
        except NotQuietHours:
            return [Outgoing(text=ctx.t("quiet.not_understood", text=typed[:40]),
                             refusal=True)]
    async with ctx.uow() as uow:
        await uow.people.set_quiet(ctx.person.id, wanted)
        await uow.audit.record(ctx.clock.now(), ctx.person.id, "person", ctx.person.id,
                               action="quiet", before={"quiet": _label(ctx.person.quiet)},
                               after={"quiet": _label(wanted)})
        await uow.commit()
    return [Outgoing(text=ctx.t("quiet.saved", now=describe(ctx.t, wanted, ctx.quiet)))]


def _label(quiet: Quiet | None) -> str | None:
    return None if quiet is None else quiet.label()
