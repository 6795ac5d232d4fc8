"""A fake Telegram Bot API server for tests and benchmarks.

It listens on 127.0.0.1 and a free port and answers the real aiogram client, pointed at it with
``AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))``. Users act through methods of
:class:`FakeTelegram` (their messages and button presses become updates for ``getUpdates``);
what the bot did is recorded (:attr:`FakeTelegram.calls`, :attr:`FakeTelegram.delivered`, …).
Faults (errors, blocked users, groups upgraded to supergroups or the bot kicked from, latency)
and Telegram's flood limits can be played too.

Everything runs on the caller's event loop; waiting is done on an event that is set whenever a
call is handled or an update queued, never by polling.
"""

from __future__ import annotations

import asyncio
import io
import json
import mimetypes
import os
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from PIL import Image

from tests.fakes.server import LoopbackServer

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"})

# Fields aiogram sends as JSON strings in form bodies.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "media",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "allowed_updates",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "from_chat_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "show_caption_above_media",
    }
)

_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_MAX_CALLBACK_DATA = 64
_MAX_ALBUM = 10
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})

_BLOCKED = "Forbidden: bot was blocked by the user"
_KICKED = "Forbidden: bot was kicked from the group chat"
_UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass
class FloodLimits:
    """Telegram's limits on sending, checked on the fake clock."""

    overall_per_second: int = 30
    per_chat_per_second: int = 1
    per_group_per_minute: int = 20
    tolerance: float = 0.05  # seconds of jitter forgiven when checking windows


@dataclass
class Call:
    """One API call the bot made, in the order received."""

    method: str
    params: dict[str, Any]  # decoded: JSON-string fields parsed, files as bytes
    at: float  # fake-clock seconds


@dataclass
class SentMessage:
    """A message the bot sent; edits update it in place."""

    message_id: int
    chat_id: int
    text: str  # text or caption
    reply_markup: dict[str, Any] | None
    kind: str  # "text" | "photo" | "document"
    media_group_id: str | None
    file_bytes: bytes | None
    edits: int


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        *,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id


@dataclass
class _Upload:
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class _Request:
    params: dict[str, Any]  # decoded, ``attach://`` references replaced by the bytes
    raw: dict[str, Any]  # decoded, references left as they came
    uploads: dict[str, _Upload]


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes | None


@dataclass
class _Pending:
    update_id: int
    forced: bool = False  # redelivered: handed out once even below the confirmed offset
    handed_out: bool = False


@dataclass
class _Fault:
    method: str | None
    status: int
    retry_after: int | None
    remaining: int
    chat_id: int | None
    description: str


@dataclass
class _Media:
    kind: str  # "photo" | "document"
    file: _StoredFile
    content: dict[str, Any]  # the "photo" or "document" field of the Message
    data: bytes | None


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:  # anything Pillow cannot read is a 1×1 "image"
        return 1, 1
    return int(width), int(height)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_field(key: str, value: Any) -> Any:
    """A form field as Telegram reads it: JSON objects parsed, numbers and flags typed."""
    decoded: Any = value
    if not isinstance(value, str):
        return decoded
    try:
        if key in _JSON_FIELDS:
            decoded = json.loads(value)
        elif key in _INT_FIELDS:
            decoded = int(value)
        elif key in _BOOL_FIELDS and value.lower() in {"true", "false"}:
            decoded = value.lower() == "true"
    except ValueError:
        decoded = value
    return decoded


def _short(value: Any) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _default_description(status: int) -> str:
    known = {
        400: "Bad Request",
        401: "Unauthorized",
        403: _BLOCKED,
        404: "Not Found",
        409: "Conflict",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    if status in known:
        return known[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


class FakeTelegram(LoopbackServer):
    """The Telegram Bot API as aiogram sees it, with users to drive and faults to inject."""

    client_max_size = 64 * 1024 * 1024
    # A long poll whose client went away (a stopped Dispatcher) ends at once instead of
    # blocking the next poll with 409 until its timeout.
    handler_cancellation = True

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",  # noqa: S107 - a fake bot's token, not a secret
        username: str = "fieldbot_test_bot",
        limits: FloodLimits | None = None,
        enforce_limits: bool = True,
        time_scale: float = 1.0,
    ) -> None:
        self.token = token
        self.username = username
        self.limits = limits if limits is not None else FloodLimits()
        self.enforce_limits = enforce_limits
        self.time_scale = time_scale
        self.latency = 0.0
        self.bot_id = int(token.split(":", 1)[0])

        self.calls: list[Call] = []
        self.delivered: list[SentMessage] = []
        self.violations: list[str] = []
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] | None = None  # what setWebhook was given

        self._t0 = time.monotonic()
        self._closing = False
        self._changed = asyncio.Event()
        self._poll_waiting = False

        self._next_update_id = 1
        self._next_message_id = 1
        self._next_file = 1
        self._next_callback = 1
        self._next_media_group = 1
        self._updates: dict[int, dict[str, Any]] = {}
        self._pending: list[_Pending] = []
        self._allowed_updates: frozenset[str] | None = None

        self._users: dict[int, dict[str, Any]] = {}
        self._groups: dict[int, str] = {}
        self._blocked: set[int] = set()
        self._upgraded: dict[int, int] = {}  # an old group's id: its supergroup's
        self._kicked: set[int] = set()  # groups the bot was removed from
        self._sent: dict[int, SentMessage] = {}
        self._sent_base: dict[int, dict[str, Any]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._callbacks: set[str] = set()
        self._faults: list[_Fault] = []

        self._overall_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}

        handlers: dict[str, Callable[[_Request, float], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
        }
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ------------------------------------------------------------------ lifecycle

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)

    async def start(self) -> None:
        await super().start()
        self._closing = False
        self._t0 = time.monotonic()

    async def close(self) -> None:
        self._closing = True
        self._bump()  # long polls still waiting answer at once
        await super().close()

    def now(self) -> float:
        """The fake clock: real seconds since start × time_scale."""
        return (time.monotonic() - self._t0) * self.time_scale

    # ------------------------------------------------------------------ users act

    def add_group(self, chat_id: int, title: str) -> None:
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        self._groups[chat_id] = title
        self._kicked.discard(chat_id)  # the bot is (back) in it

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str = "用户",
        language_code: str = "zh-hans",
    ) -> int:
        self._users[user_id] = {"first_name": first_name, "language_code": language_code}
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return self._user_message(user_id, chat_id, content)

    def send_photos(
        self,
        user_id: int,
        images: list[bytes],
        *,
        chat_id: int | None = None,
        caption: str = "",
        as_document: bool = False,
        filename: str = "photo.jpg",
        mime_type: str = "image/jpeg",
    ) -> list[int]:
        if not images:
            raise ValueError("send_photos needs at least one image")
        update_ids: list[int] = []
        first = True
        # Telegram clients send at most 10 items per album.
        for start in range(0, len(images), _MAX_ALBUM):
            chunk = images[start : start + _MAX_ALBUM]
            group_id = self._new_media_group_id() if len(chunk) > 1 else None
            for data in chunk:
                content: dict[str, Any]
                if as_document:
                    ext = mimetypes.guess_extension(mime_type) or ""
                    stored = self._store_file(data, "documents", ext)
                    content = {
                        "document": {
                            "file_id": stored.file_id,
                            "file_unique_id": stored.file_unique_id,
                            "file_name": filename,
                            "mime_type": mime_type,
                            "file_size": len(data),
                        }
                    }
                else:
                    stored = self._store_file(data, "photos", ".jpg")
                    content = {"photo": [self._photo_size(stored, data)]}
                if group_id is not None:
                    content["media_group_id"] = group_id
                if first and caption:
                    content["caption"] = caption
                first = False
                update_ids.append(self._user_message(user_id, chat_id, content))
        return update_ids

    def send_location(
        self, user_id: int, lat: float, lon: float, *, chat_id: int | None = None
    ) -> int:
        return self._user_message(
            user_id, chat_id, {"location": {"latitude": lat, "longitude": lon}}
        )

    def press(self, user_id: int, message: SentMessage, data: str) -> int:
        if message.message_id not in self._sent:
            raise ValueError(f"message {message.message_id} was not sent by the bot")
        if message.chat_id > 0 and message.chat_id != user_id:
            raise ValueError(
                f"user {user_id} cannot see message {message.message_id} "
                f"in the private chat {message.chat_id}"
            )
        buttons = [
            button.get("callback_data")
            for row in (message.reply_markup or {}).get("inline_keyboard", [])
            for button in row
        ]
        if data not in buttons:
            raise ValueError(
                f"message {message.message_id} has no button with callback_data {data!r} "
                f"(its buttons: {buttons!r})"
            )
        callback_id = f"{self.bot_id}{self._next_callback:08d}"
        self._next_callback += 1
        self._callbacks.add(callback_id)
        query = {
            "id": callback_id,
            "from": self._user_json(user_id),
            "message": self._message_json(message),
            "chat_instance": f"-{abs(message.chat_id) * 7919 + self.bot_id}",
            "data": data,
        }
        return self._queue_update({"callback_query": query})

    def redeliver(self, update_id: int) -> None:
        if update_id not in self._updates:
            raise ValueError(f"no update {update_id} was ever queued")
        if any(p.update_id == update_id for p in self._pending):
            return  # still waiting to be confirmed: it will come anyway
        self._pending.append(_Pending(update_id, forced=True))
        self._pending.sort(key=lambda p: p.update_id)
        self._bump()

    def block(self, user_id: int, *, tell_bot: bool = False) -> int | None:
        """The user blocks the bot: sends to them are answered 403. With `tell_bot`, the
        ``my_chat_member`` update Telegram sends then is queued; returns its update id."""
        self._blocked.add(user_id)
        return self._bot_kicked(user_id, by=user_id) if tell_bot else None

    def upgrade_group(self, chat_id: int, new_chat_id: int, *, announce: bool = True) -> list[int]:
        """The group becomes a supergroup with a new id: sends to the old id are answered 400
        with ``parameters.migrate_to_chat_id``. With `announce`, the two service messages
        Telegram sends (``migrate_to_chat_id`` in the old chat, ``migrate_from_chat_id`` in the
        new) are queued as updates; returns their update ids."""
        if new_chat_id >= 0 or chat_id >= 0:
            raise ValueError("group chat ids are negative")
        title = self._groups.pop(chat_id, f"Group {chat_id}")
        self._groups[new_chat_id] = title
        self._upgraded[chat_id] = new_chat_id
        if not announce:
            return []
        return [
            self._service_message(chat_id, {"migrate_to_chat_id": new_chat_id}),
            self._service_message(new_chat_id, {"migrate_from_chat_id": chat_id}),
        ]

    def remove_from_group(self, chat_id: int, *, by: int | None = None) -> int | None:
        """The bot is kicked from the group: sends to it are answered 403. With `by` (the
        member who removed it), the ``my_chat_member`` update Telegram sends then is queued;
        returns its update id."""
        self._kicked.add(chat_id)
        return self._bot_kicked(chat_id, by=by) if by is not None else None

    def _bot_kicked(self, chat_id: int, *, by: int) -> int:
        """Queue the ``my_chat_member`` update Telegram sends when `by` kicks the bot out of
        the chat (or, in a private chat, blocks it); returns its update id."""
        return self._queue_update({"my_chat_member": {
            "chat": self._chat_json(chat_id), "from": self._user_json(by),
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": self._bot_user()},
            "new_chat_member": {"status": "kicked", "user": self._bot_user(),
                                "until_date": 0}}})

    # ------------------------------------------------------------------ what the bot did

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [message for message in self.delivered if message.chat_id == chat_id]

    def last_message_to(self, chat_id: int) -> SentMessage | None:
        messages = self.messages_to(chat_id)
        return messages[-1] if messages else None

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the natural interface for a test helper
    ) -> None:
        """Return as soon as predicate() is true; it is re-checked after every call and update."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(
                f"condition still false after {timeout} s; last calls:\n{self.describe_calls()}"
            ) from None

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the natural interface for a test helper
    ) -> list[SentMessage]:
        """Wait until at least `count` messages went to chat_id; return them all."""
        try:
            await self.wait_for(lambda: len(self.messages_to(chat_id)) >= count, timeout=timeout)
        except TimeoutError as error:
            got = [m.text for m in self.messages_to(chat_id)]
            raise TimeoutError(
                f"expected {count} messages to chat {chat_id}, got {len(got)}: {got!r}\n{error}"
            ) from None
        return self.messages_to(chat_id)

    def describe_calls(self, last: int = 10) -> str:
        """The last calls, one a line, for failure messages."""
        lines = [
            f"  {call.at:9.3f} {call.method} {_short(call.params)}" for call in self.calls[-last:]
        ]
        return "\n".join(lines) if lines else "  (no calls)"

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str | None = None,
        *,
        status: int,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        if method is not None:
            method = self._methods.get(method.lower(), (method, None))[0]
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            default = f"Too Many Requests: retry after {retry_after}"
        else:
            retry_after = None
            default = _default_description(status)
        self._faults.append(
            _Fault(
                method=method,
                status=status,
                retry_after=retry_after,
                remaining=count,
                chat_id=chat_id,
                description=description if description is not None else default,
            )
        )

    # ------------------------------------------------------------------ HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error_response(_ApiError(401, "Unauthorized"))
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        try:
            parsed = await self._read_request(request)
        except ValueError as error:
            return self._error_response(
                _ApiError(400, f"Bad Request: can't parse request: {error}")
            )
        raw_method = request.match_info["method"]
        name, handler = self._methods.get(raw_method.lower(), (raw_method, None))
        call = Call(method=name, params=parsed.params, at=self.now())
        self.calls.append(call)
        self._bump()
        try:
            if handler is None:
                raise _ApiError(404, "Not Found")
            self._inject_fault(name, parsed.params)
            result = await handler(parsed, call.at)
        except _ApiError as error:
            return self._error_response(error)
        finally:
            self._bump()
        return web.json_response({"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error_response(_ApiError(401, "Unauthorized"))
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return self._error_response(_ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    @staticmethod
    def _error_response(error: _ApiError) -> web.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": error.status,
            "description": error.description,
        }
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        if error.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
        return web.json_response(body, status=error.status)

    async def _read_request(self, request: web.Request) -> _Request:
        fields: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    fields.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = _Upload(
                            value.file.read(), value.filename, value.content_type
                        )
                    elif isinstance(value, str):
                        fields[key] = value
                    else:
                        fields[key] = bytes(value)
        raw = {key: _decode_field(key, value) for key, value in fields.items()}
        used: set[str] = set()

        def resolve(value: Any) -> Any:
            if isinstance(value, str) and value.startswith("attach://"):
                key = value.removeprefix("attach://")
                if key in uploads:
                    used.add(key)
                    return uploads[key].data
            if isinstance(value, dict):
                return {k: resolve(v) for k, v in value.items()}
            if isinstance(value, list):
                return [resolve(v) for v in value]
            return value

        params = {key: resolve(value) for key, value in raw.items()}
        for key, upload in uploads.items():
            if key not in used:
                params[key] = upload.data
        return _Request(params=params, raw=raw, uploads=uploads)

    def _bump(self) -> None:
        """Wake everything waiting for a change (wait_for, long polls)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _inject_fault(self, method: str, params: dict[str, Any]) -> None:
        for fault in self._faults:
            if fault.method is None and method not in SEND_METHODS:
                continue
            if fault.method is not None and fault.method != method:
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            raise _ApiError(fault.status, fault.description, fault.retry_after)

    # ------------------------------------------------------------------ updates

    def _queue_update(self, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates[update_id] = {"update_id": update_id, **payload}
        self._pending.append(_Pending(update_id))
        self._bump()
        return update_id

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._pending = self._pending[offset:]
            return
        self._pending = [
            p for p in self._pending if p.update_id >= offset or (p.forced and not p.handed_out)
        ]

    def _take(self, limit: int) -> list[dict[str, Any]]:
        if self._allowed_updates is not None:
            allowed = self._allowed_updates
            self._pending = [
                p
                for p in self._pending
                if next(k for k in self._updates[p.update_id] if k != "update_id") in allowed
            ]
        taken = self._pending[:limit]
        for pending in taken:
            pending.handed_out = True
        return [self._updates[p.update_id] for p in taken]

    async def _get_updates(self, request: _Request, at: float) -> list[dict[str, Any]]:
        params = request.params
        if self._poll_waiting:
            raise _ApiError(409, _CONFLICT)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0, int(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
        offset = params.get("offset")
        if isinstance(offset, int) and offset != 0:
            self._confirm(offset)
        ready = self._take(limit)
        if ready or timeout == 0 or self._closing:
            return ready
        self._poll_waiting = True
        try:
            async with asyncio.timeout(timeout):
                while not (ready := self._take(limit)) and not self._closing:
                    await self._changed.wait()
        except TimeoutError:
            ready = []
        finally:
            self._poll_waiting = False
        return ready

    # ------------------------------------------------------------------ objects

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Fieldbot",
            "username": self.username,
        }

    def _user_json(self, user_id: int) -> dict[str, Any]:
        user = self._users.get(user_id, {"first_name": "用户", "language_code": "zh-hans"})
        return {"id": user_id, "is_bot": False, **user}

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            title = self._groups.get(chat_id, f"Group {chat_id}")
            if chat_id in self._upgraded:  # only an old group is of type "group"
                title = self._groups.get(self._upgraded[chat_id], title)
                return {"id": chat_id, "type": "group", "title": title}
            return {"id": chat_id, "type": "supergroup", "title": title}
        user = self._users.get(chat_id, {"first_name": "用户"})
        return {"id": chat_id, "type": "private", "first_name": user["first_name"]}

    def _user_message(self, user_id: int, chat_id: int | None, content: dict[str, Any]) -> int:
        if user_id <= 0:
            raise ValueError(f"user ids are positive, got {user_id}")
        if chat_id is None:
            chat_id = user_id
        if chat_id > 0 and chat_id != user_id:
            raise ValueError(f"user {user_id} cannot write in the private chat {chat_id}")
        message = {
            "message_id": self._new_message_id(),
            "date": int(time.time()),
            "chat": self._chat_json(chat_id),
            "from": self._user_json(user_id),
            **content,
        }
        return self._queue_update({"message": message})

    def _service_message(self, chat_id: int, content: dict[str, Any]) -> int:
        message = {
            "message_id": self._new_message_id(),
            "date": int(time.time()),
            "chat": self._chat_json(chat_id),
            **content,
        }
        return self._queue_update({"message": message})

    def _new_message_id(self) -> int:
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def _new_media_group_id(self) -> str:
        group_id = f"{13_000_000_000_000_000 + self._next_media_group}"
        self._next_media_group += 1
        return group_id

    def _store_file(self, data: bytes | None, folder: str, ext: str) -> _StoredFile:
        number = self._next_file
        self._next_file += 1
        stored = _StoredFile(
            file_id=f"FAKE-{folder[:3].upper()}-{number:06d}",
            file_unique_id=f"uniq{number:06d}",
            file_path=f"{folder}/file_{number}{ext}",
            data=data,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _photo_size(stored: _StoredFile, data: bytes | None) -> dict[str, Any]:
        width, height = _image_size(data) if data is not None else (1, 1)
        size: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
        }
        if data is not None:
            size["file_size"] = len(data)
        return size

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        result = dict(self._sent_base[message.message_id])
        if message.kind == "text":
            result["text"] = message.text
        elif message.text:
            result["caption"] = message.text
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    # ------------------------------------------------------------------ sending

    def _target_chat(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        if chat_id > 0 and chat_id in self._blocked:
            raise _ApiError(403, _BLOCKED)
        if chat_id in self._upgraded:
            raise _ApiError(400, _UPGRADED, migrate_to_chat_id=self._upgraded[chat_id])
        if chat_id in self._kicked:
            raise _ApiError(403, _KICKED)
        return chat_id

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and len(str(data).encode()) > _MAX_CALLBACK_DATA:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _check_caption(caption: str) -> None:
        if len(caption) > _MAX_CAPTION:
            raise _ApiError(400, "Bad Request: message caption is too long")

    def _admit(self, method: str, chat_id: int, count: int, at: float) -> None:
        """Check the flood limits for `count` messages; 429 when exceeded and enforced.

        An album counts as its number of items, but a send into an empty window always fits
        (a single album of 10 photos to one private chat is fine on Telegram).
        """
        limits = self.limits
        problems: list[str] = []
        second = 1.0 - limits.tolerance
        overall = self._overall_window
        while overall and overall[0] <= at - 1.0:
            overall.popleft()
        in_second = sum(1 for t in overall if t > at - second) + count
        if count < in_second > limits.overall_per_second:
            problems.append(
                f"{in_second} messages within 1 s across all chats "
                f"(limit {limits.overall_per_second}/s)"
            )
        window = self._chat_windows.setdefault(chat_id, deque())
        span, limit, unit = (
            (60.0, limits.per_group_per_minute, "min in this group")
            if chat_id < 0
            else (1.0, limits.per_chat_per_second, "s in this chat")
        )
        while window and window[0] <= at - span:
            window.popleft()
        in_chat = sum(1 for t in window if t > at - (span - limits.tolerance)) + count
        if count < in_chat > limit:
            problems.append(f"{in_chat} messages within {span:g} s (limit {limit}/{unit})")
        if problems:
            self.violations.append(
                f"t={at:.3f}s {method} to chat {chat_id}: " + "; ".join(problems)
            )
            if self.enforce_limits:
                raise _ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        for _ in range(count):
            overall.append(at)
            window.append(at)

    def _deliver(
        self,
        chat_id: int,
        *,
        kind: str,
        text: str,
        reply_markup: dict[str, Any] | None,
        media: _Media | None = None,
        media_group_id: str | None = None,
    ) -> SentMessage:
        message = SentMessage(
            message_id=self._new_message_id(),
            chat_id=chat_id,
            text=text,
            reply_markup=reply_markup,
            kind=kind,
            media_group_id=media_group_id,
            file_bytes=media.data if media is not None else None,
            edits=0,
        )
        base: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self._chat_json(chat_id),
            "from": self._bot_user(),
        }
        if media is not None:
            base[media.kind] = media.content
        if media_group_id is not None:
            base["media_group_id"] = media_group_id
        self._sent[message.message_id] = message
        self._sent_base[message.message_id] = base
        self.delivered.append(message)
        return message

    @staticmethod
    def _upload(raw: Any, request: _Request, field_name: str) -> _Upload | None:
        """The uploaded file a field refers to (``attach://…`` or the field itself), if any."""
        if isinstance(raw, str) and raw.startswith("attach://"):
            upload = request.uploads.get(raw.removeprefix("attach://"))
            if upload is None:
                raise _ApiError(400, f"Bad Request: file {raw} not found in the request")
            return upload
        if raw is None and field_name in request.uploads:
            return request.uploads[field_name]
        if isinstance(raw, bytes):
            return _Upload(raw, None, None)
        return None

    def _media(self, kind: str, raw: Any, request: _Request, field_name: str) -> _Media:
        """The file of a photo or document the bot sends: uploaded, a known file_id or a URL."""
        upload = self._upload(raw, request, field_name)
        data: bytes | None
        filename: str
        content_type: str | None = None
        if upload is not None:
            data = upload.data
            filename = upload.filename or ("photo.jpg" if kind == "photo" else "document")
            content_type = upload.content_type
            if kind == "photo":
                stored = self._store_file(data, "photos", ".jpg")
            else:
                stored = self._store_file(data, "documents", os.path.splitext(filename)[1])
        elif isinstance(raw, str) and raw in self._files:
            stored = self._files[raw]
            data = stored.data
            filename = stored.file_path.rpartition("/")[2]
        elif isinstance(raw, str) and raw.startswith(("http://", "https://")):
            data = None
            filename = raw.rstrip("/").rpartition("/")[2] or "file"
            stored = self._store_file(None, "photos" if kind == "photo" else "documents", "")
        else:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if kind == "photo":
            content: Any = [self._photo_size(stored, data)]
        else:
            guessed = mimetypes.guess_type(filename)[0]
            if content_type in {None, "", "application/octet-stream"} and guessed:
                content_type = guessed
            content = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": filename,
                "mime_type": content_type or "application/octet-stream",
            }
            if data is not None:
                content["file_size"] = len(data)
        return _Media(kind=kind, file=stored, content=content, data=data)

    async def _send_message(self, request: _Request, at: float) -> dict[str, Any]:
        params = request.params
        chat_id = self._target_chat(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > _MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = self._check_markup(params.get("reply_markup"))
        self._admit("sendMessage", chat_id, 1, at)
        message = self._deliver(chat_id, kind="text", text=text, reply_markup=markup)
        return self._message_json(message)

    async def _send_file(self, request: _Request, at: float, kind: str) -> dict[str, Any]:
        params = request.params
        method = "sendPhoto" if kind == "photo" else "sendDocument"
        chat_id = self._target_chat(params)
        caption = str(params.get("caption") or "")
        self._check_caption(caption)
        markup = self._check_markup(params.get("reply_markup"))
        media = self._media(kind, request.raw.get(kind), request, kind)
        self._admit(method, chat_id, 1, at)
        message = self._deliver(chat_id, kind=kind, text=caption, reply_markup=markup, media=media)
        return self._message_json(message)

    async def _send_photo(self, request: _Request, at: float) -> dict[str, Any]:
        return await self._send_file(request, at, "photo")

    async def _send_document(self, request: _Request, at: float) -> dict[str, Any]:
        return await self._send_file(request, at, "document")

    async def _send_media_group(self, request: _Request, at: float) -> list[dict[str, Any]]:
        chat_id = self._target_chat(request.params)
        items = request.raw.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= _MAX_ALBUM:
            raise _ApiError(400, "Bad Request: wrong number of media")
        prepared: list[tuple[_Media, str]] = []
        for item in items:
            if not isinstance(item, dict) or "media" not in item:
                raise _ApiError(400, "Bad Request: can't parse InputMedia JSON object")
            kind = "photo" if item.get("type") == "photo" else "document"
            caption = str(item.get("caption") or "")
            self._check_caption(caption)
            prepared.append((self._media(kind, item["media"], request, ""), caption))
        self._admit("sendMediaGroup", chat_id, len(prepared), at)
        group_id = self._new_media_group_id()
        messages = [
            self._deliver(
                chat_id,
                kind=media.kind,
                text=caption,
                reply_markup=None,
                media=media,
                media_group_id=group_id,
            )
            for media, caption in prepared
        ]
        return [self._message_json(message) for message in messages]

    # ------------------------------------------------------------------ editing

    def _message_to_edit(self, params: dict[str, Any]) -> SentMessage:
        if params.get("inline_message_id"):
            raise _ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat_id = self._target_chat(params)
        message = self._sent.get(params.get("message_id") or 0)
        if message is None or message.chat_id != chat_id:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    def _edited(self, message: SentMessage) -> dict[str, Any]:
        message.edits += 1
        self._sent_base[message.message_id]["edit_date"] = int(time.time())
        return self._message_json(message)

    async def _edit_message_text(self, request: _Request, at: float) -> dict[str, Any]:
        params = request.params
        message = self._message_to_edit(params)
        if message.kind != "text":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text = str(params.get("text") or "")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > _MAX_TEXT:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = self._check_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        message.text = text
        message.reply_markup = markup
        return self._edited(message)

    async def _edit_message_reply_markup(self, request: _Request, at: float) -> dict[str, Any]:
        params = request.params
        message = self._message_to_edit(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise _ApiError(400, _NOT_MODIFIED)
        message.reply_markup = markup
        return self._edited(message)

    # ------------------------------------------------------------------ the rest

    async def _get_me(self, request: _Request, at: float) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _delete_webhook(self, request: _Request, at: float) -> bool:
        if request.params.get("drop_pending_updates") is True:
            self._pending = []
        self.webhook = None
        return True

    async def _set_webhook(self, request: _Request, at: float) -> bool:
        url = request.params.get("url")
        if not isinstance(url, str) or not url:
            raise _ApiError(400, "Bad Request: bad webhook: An HTTP URL must be provided")
        self.webhook = {"url": url, "secret_token": request.params.get("secret_token"),
                        "allowed_updates": request.params.get("allowed_updates")}
        return True

    def update_json(self, update_id: int) -> dict[str, Any]:
        """An update as Telegram would POST it to a webhook."""
        return dict(self._updates[update_id])

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        scope_key = "default"
        if isinstance(scope, dict):
            scope_key = str(scope.get("type") or "default")
            if scope_key in _CHAT_SCOPES:
                scope_key += f":{scope.get('chat_id')}"
                if "user_id" in scope:
                    scope_key += f":{scope['user_id']}"
        return scope_key, str(params.get("language_code") or "")

    async def _set_my_commands(self, request: _Request, at: float) -> bool:
        commands = request.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        stored: list[dict[str, str]] = []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not _COMMAND_RE.match(name.removeprefix("/")):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": name.removeprefix("/"), "description": description})
        self.commands[self._commands_key(request.params)] = stored
        return True

    async def _get_my_commands(self, request: _Request, at: float) -> list[dict[str, str]]:
        return self.commands.get(self._commands_key(request.params), [])

    async def _delete_my_commands(self, request: _Request, at: float) -> bool:
        self.commands.pop(self._commands_key(request.params), None)
        return True

    async def _answer_callback_query(self, request: _Request, at: float) -> bool:
        callback_id = str(request.params.get("callback_query_id") or "")
        if callback_id not in self._callbacks or callback_id in self.answered_callbacks:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.answered_callbacks[callback_id] = dict(request.params)
        return True

    async def _get_file(self, request: _Request, at: float) -> dict[str, Any]:
        stored = self._files.get(str(request.params.get("file_id") or ""))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        result: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_path": stored.file_path,
        }
        if stored.data is not None:
            result["file_size"] = len(stored.data)
        return result
