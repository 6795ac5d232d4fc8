"""The Telegram transport (aiogram 3). aiogram's types stay inside this package."""
