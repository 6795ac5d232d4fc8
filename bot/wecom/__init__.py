"""The WeCom (企业微信) self-built app channel: callback crypto, the message API, the transport.

Nothing here is imported by the rest of the bot except through `bot.wecom.settings` (pure
pydantic) and the channel's entry in the service, so WeCom costs nothing when it is not used.
"""
