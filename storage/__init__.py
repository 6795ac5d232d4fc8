"""Storage: ORM models, repositories returning plain dataclasses, the unit of work, migrations."""
