from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIELDBOT_CONFIG", raising=False)
    monkeypatch.delenv("FIELDBOT_DATABASE_URL", raising=False)


def test_defaults_are_sqlite_in_the_data_folder_shanghai_chinese(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path}/data/fieldbot.sqlite3"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.language == "zh-CN"


def test_toml_file_then_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "fieldbot.toml"
    config.write_text('language = "en"\ndata_dir = "/srv/fieldbot"\n'
                      '[telegram]\ntoken = "123:SECRET-TOKEN"\n', encoding="utf-8")
    monkeypatch.setenv("FIELDBOT_DATA_DIR", "/var/lib/fieldbot")
    settings = load_settings(config)
    assert settings.language == "en"
    assert settings.data_dir == Path("/var/lib/fieldbot")
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:SECRET-TOKEN"
    assert "SECRET-TOKEN" not in repr(settings) and "SECRET-TOKEN" not in str(settings)


def test_nested_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDBOT_WECOM__CORP_ID", "ww1436e0e65a779aee")
    monkeypatch.setenv("FIELDBOT_WECOM__SECRET", "s3cr3t")
    settings = load_settings()
    assert settings.wecom.corp_id == "ww1436e0e65a779aee"
    assert "s3cr3t" not in repr(settings)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("FIELDBOT_TIMEZONE", "Mars/Olympus", "unknown time zone"),
    ("FIELDBOT_LANGUAGE", "fr", "language"),
])
def test_bad_values_are_one_clear_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                        message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_config_file_named_in_the_environment(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "fieldbot.toml"
    config.write_text('timezone = "Asia/Urumqi"\n', encoding="utf-8")
    monkeypatch.setenv("FIELDBOT_CONFIG", str(config))
    assert load_settings().timezone == "Asia/Urumqi"


def test_broken_toml_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "fieldbot.toml"
    config.write_text("language = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid configuration"):
        load_settings(config)
