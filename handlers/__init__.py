"""Conversations and commands. Platform-free: they see `Incoming`, return `Outgoing`."""
