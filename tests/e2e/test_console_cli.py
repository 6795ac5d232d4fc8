"""The real `fieldbot` process, driven through stdin/stdout as a newcomer would use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

FIELDBOT = str(Path(sys.executable).with_name("fieldbot"))


def run(args: list[str], env: dict[str, str], stdin: str = "",
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FIELDBOT, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)


def sqlite_only(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "FIELDBOT_DATABASE_URL"}


def test_help_lists_every_command_with_one_line() -> None:
    result = run(["--help"], dict(os.environ))
    assert result.returncode == 0
    for command in ("demo", "chat", "people", "db"):
        lines = [line for line in result.stdout.splitlines() if line.strip().startswith(command)]
        assert len(lines) == 1, (command, result.stdout)
        assert len(lines[0].split(None, 1)) == 2  # the name and its one-line description


def test_demo_opens_a_chat_in_the_sample_county(env: dict[str, str]) -> None:
    session = "\n".join(["/help", "/my", "/status 毛绒", "/status 汉滨区", "9", "1",
                         "/status 数字经济产业区", "/nonsense", "/quit"]) + "\n"
    result = run(["demo"], env, session)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "已创建示例县：44 个项目" in out
    assert "您现在的身份是 王磊" in out
    assert "您的项目（共 3 个）" in out
    assert out.count("最近日报：") >= 3
    assert "【汉滨区毛绒文创总部产业园建设项目】HB-001" in out
    assert "阶段：在建" in out and "年度计划：" in out and "最近走访：" in out
    # several matches: numbered choices; a number out of range is refused, a good one answers
    assert "  [1] 汉滨区数字经济产业园（HB-002）" in out
    assert "没有编号 9 的选项" in out
    assert "【汉滨区数字经济产业园】HB-002" in out
    assert "没有找到与“数字经济产业区”相符的项目" in out and "您是不是要找" in out
    assert "没有 /nonsense 这个命令" in out
    assert out.rstrip().endswith("再见！")
    assert "Traceback" not in result.stderr

    again = run(["demo"], env, "/quit\n")
    assert again.returncode == 0
    assert "使用已有数据库" in again.stdout and "44 个项目" in again.stdout


def test_chat_as_any_person_of_the_database(env: dict[str, str]) -> None:
    assert run(["demo", "--no-chat"], env).returncode == 0
    people = run(["people", "张建华"], env)
    assert people.returncode == 0 and "leader_hb_zhang" in people.stdout
    result = run(["chat", "--as", "leader_hb_zhang"], env, "/my\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "您现在的身份是 张建华" in result.stdout
    assert "汉滨区毛绒文创总部产业园建设项目" in result.stdout
    nobody = run(["chat", "--as", "不存在的人"], env)
    assert nobody.returncode == 1
    assert "没有“不存在的人”这个人" in nobody.stderr


def test_unreachable_database_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
    env["FIELDBOT_DATABASE_URL"] = "postgresql+asyncpg://fieldbot:hunter2@127.0.0.1:1/fieldbot"
    for args in (["demo"], ["chat", "--as", "x"], ["db", "upgrade"]):
        result = run(args, env)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("fieldbot: cannot reach the database at postgresql+asyncpg://")
        assert "hunter2" not in result.stderr


def test_schema_must_be_migrated_before_chat(tmp_path: Path, env: dict[str, str]) -> None:
    env = sqlite_only(env)
    stale = run(["chat", "--as", "anyone"], env)
    assert stale.returncode == 2 and "fieldbot db upgrade" in stale.stderr
    assert "Traceback" not in stale.stderr
    upgraded = run(["db", "upgrade"], env)
    assert upgraded.returncode == 0 and "数据库已升级到" in upgraded.stdout
    current = run(["db", "current"], env)
    assert current.returncode == 0
    head = current.stdout.split("当前版本：")[1].split("（")[0]
    assert f"最新：{head}" in current.stdout
    down = run(["db", "downgrade", "base"], env)
    assert down.returncode == 0 and "base" in down.stdout


def test_reset_is_only_for_sqlite_in_the_data_folder(env: dict[str, str]) -> None:
    if "FIELDBOT_DATABASE_URL" in env:
        result = run(["demo", "--reset", "--no-chat"], env)
        assert result.returncode == 1 and "--reset" in result.stderr
        return
    assert run(["demo", "--no-chat"], env).returncode == 0
    result = run(["demo", "--reset", "--no-chat"], env)
    assert result.returncode == 0 and "已创建示例县" in result.stdout


def test_a_daily_report_survives_a_restart_of_the_bot(env: dict[str, str],
                                                      tmp_path: Path) -> None:
    photo = tmp_path / "site.jpg"
    Image.new("RGB", (640, 480), (90, 120, 60)).save(photo, "JPEG")
    first = run(["demo"], env, "/report\n1\n2\n/quit\n")
    assert first.returncode == 0, first.stderr
    assert "请选择项目" in first.stdout and "形象进度" in first.stdout

    # the bot stopped mid-form; started again, the form goes on at the same question
    session = "\n".join(["/help", "100", "今日浇筑二层楼板", "80", "跳过", str(photo), "完成",
                         "跳过", "否", "确认", "/quit"]) + "\n"
    second = run(["chat", "--as", "liaison_wang"], env, session)
    out = second.stdout
    assert second.returncode == 0, second.stderr
    assert out.index("/report —— 填报今日日报") < out.index("形象进度")
    assert "收到 1 张照片" in out
    assert "· 形象进度：100%" in out and "· 施工人数：80" in out
    assert "日报已提交" in out
    assert "Traceback" not in second.stderr


def test_a_robot_group_is_added_without_its_key_ever_printed(env: dict[str, str]) -> None:
    assert run(["demo", "--no-chat"], env).returncode == 0
    key = "access_token=c0ffee5ecret"
    robot = {**env, "FIELDBOT_WEBHOOK_URL": f"https://oapi.dingtalk.com/robot/send?{key}",
             "FIELDBOT_WEBHOOK_SECRET": "SECabc"}
    added = run(["group", "add", "县领导群", "--place", "汉滨区", "--subscribe",
                 "weekly_digest,problem_l2", "--webhook-kind", "dingtalk"], robot)
    assert added.returncode == 0, added.stderr
    assert "已接入机器人群：县领导群" in added.stdout and "问题升级至县区周例会" in added.stdout
    again = run(["group", "add", "另一个群", "--place", "汉滨区", "--webhook-kind",
                 "dingtalk"], robot)
    assert again.returncode == 1 and "该机器人已用于群" in again.stderr
    plain = run(["group", "add", "明文群", "--place", "汉滨区", "--webhook-kind", "dingtalk",
                 "--webhook-url", f"http://oapi.dingtalk.com/robot/send?{key}"], env)
    assert plain.returncode == 1 and "https://" in plain.stderr
    listed = run(["group", "list"], env)
    assert "县领导群" in listed.stdout
    for result in (added, again, plain, listed):
        assert "c0ffee5ecret" not in result.stdout + result.stderr
        assert "SECabc" not in result.stdout + result.stderr


def test_run_on_wecom_without_its_settings_names_what_is_missing(env: dict[str, str]) -> None:
    assert run(["db", "upgrade"], env).returncode == 0
    result = run(["run", "--channel", "wecom"], env | {"FIELDBOT_WECOM__SECRET": "s3cret-value"})
    assert result.returncode != 0
    assert "没有配置企业微信" in result.stderr and "wecom.corp_id" in result.stderr
    assert "wecom.secret" not in result.stderr.split("缺少")[1].split("（")[0]
    assert "s3cret-value" not in result.stderr and "Traceback" not in result.stderr
