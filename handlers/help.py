from __future__ import annotations

from domain.events import Outgoing
from handlers.context import Context


async def show_help(ctx: Context) -> list[Outgoing]:
    return [Outgoing(text=ctx.t("help.text", name=ctx.person.name))]


async def unknown_command(ctx: Context) -> list[Outgoing]:
    return [Outgoing(text=ctx.t("command.unknown", command=ctx.event.command)
                     + "\n\n" + ctx.t("help.text", name=ctx.person.name))]


async def not_understood(ctx: Context) -> list[Outgoing]:
    return [Outgoing(text=ctx.t("text.not_understood", text=ctx.event.text[:40]))]
