"""Pure domain: the vocabulary every room shares.

Imports nothing of the other rooms and does no I/O.
"""
