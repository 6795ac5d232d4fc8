"""The bot room: configuration, the composition root, transports and the command line."""
