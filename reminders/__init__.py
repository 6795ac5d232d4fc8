"""The rhythms, digests, letters and the outbox sender (issue 5)."""
