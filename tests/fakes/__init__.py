"""Fakes of outside services the bot talks to, for tests and benchmarks."""
