"""Pure domain: the vocabulary every room shares. Imports nothing of the other rooms, does no I/O."""
