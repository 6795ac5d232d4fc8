"""Repositories: one per aggregate, each taking the unit of work's session, returning dataclasses."""
