"""WeCom's settings (`FIELDBOT_WECOM__…`), shaped like the Telegram ones in `bot.config`.

Pure pydantic, so `bot.config` can import it without pulling in aiohttp or cryptography. The
corp secret, the callback Token and the EncodingAESKey are `SecretStr`: never printed.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class WeComLimits(BaseModel):
    """WeCom's send limits: per member 30 a minute and 1,000 an hour; the excess is dropped
    silently by WeCom, so the bot must never exceed them. `overall_per_minute` is the app's
    whole API rate (WeCom allows 10,000 calls a minute to one API per corp)."""

    per_member_per_minute: int = Field(default=30, gt=0)
    per_member_per_hour: int = Field(default=1000, gt=0)
    overall_per_minute: int = Field(default=6000, gt=0)


class WeComSettings(BaseModel):
    corp_id: str | None = None  # 企业ID, ww…: also the receiver id of callbacks
    agent_id: int | None = None  # the self-built app's AgentId
    secret: SecretStr | None = None  # the app's Secret (for gettoken)
    token: SecretStr | None = None  # the callback's Token (signatures)
    encoding_aes_key: SecretStr | None = None  # the callback's EncodingAESKey (43 characters)
    api_base: str = "https://qyapi.weixin.qq.com"  # another host: a proxy, or the tests' fake
    callback_path: str = "/wecom/callback"  # the URL path the reverse proxy forwards
    listen_host: str = "127.0.0.1"  # where the callback server listens, behind the proxy
    listen_port: int = Field(default=8082, gt=0, lt=65536)
    replay_window_seconds: float = Field(default=300, gt=0)  # timestamps farther off refused
    max_download_megabytes: float = Field(default=20, gt=0)  # media/get larger is refused
    request_timeout_seconds: float = Field(default=15, gt=0)
    limits: WeComLimits = WeComLimits()

    @property
    def configured(self) -> bool:
        """Every credential the channel needs is present."""
        return None not in (self.corp_id, self.agent_id, self.secret, self.token,
                            self.encoding_aes_key)

    def missing(self) -> list[str]:
        """The names of the settings still missing (for the operator's message)."""
        names = ("corp_id", "agent_id", "secret", "token", "encoding_aes_key")
        return [f"wecom.{name}" for name in names if getattr(self, name) is None]
