"""The field forms as a liaison, a leader and a unit meet them: on the real router and storage,
with photos through the real photo store."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import translator
from domain.clock import FixedClock
from domain.model import ProblemState, ReportView, SiteStatus
from handlers.context import Context
from handlers.forms import field_forms
from handlers.forms.daily_report import DailyReport
from handlers.forms.engine import Forms
from handlers.forms.spec import State, Submitted
from handlers.router import Router
from storage import models as m
from storage.photos import PhotoStore
from storage.repositories.reports import ReportInput
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.handlers.phone import Phone, draft_of, make_router, report_to_photos, row_counts
from tests.world import World


async def finish_report(phone: Phone, photos: list[Path]) -> str:
    await phone.photos(*photos)
    await phone.press("完成")
    await phone.press("跳过")  # location
    await phone.press("否")  # no problem
    return await phone.press("确认提交")


async def latest(uow: UnitOfWorkFactory, project_id: int) -> ReportView:
    async with uow() as u:
        return (await u.reports.latest([project_id]))[project_id]


async def test_daily_report_from_start_to_confirmation(
        wang: Phone, uow: UnitOfWorkFactory, people: World, photos: list[Path],
        engine: AsyncEngine) -> None:
    text = await wang.say("/report")
    assert "请选择项目" in text
    assert {b.label for b in wang.buttons} >= {"汉滨区毛绒文创总部产业园建设项目（HB-001）",
                                               "汉滨区数字经济产业园（HB-002）"}
    assert "现场状态" in await wang.press("毛绒")
    assert "形象进度" in await wang.press("施工中")
    assert "完成了哪些工作" in await wang.say("４５.５%")
    assert "施工人数" in await wang.say("钢结构吊装6榀，屋面板铺设")
    assert "累计完成投资" in await wang.say("一百三十人")
    assert "照片" in await wang.say("1.2亿")
    assert "收到 2 张照片" in await wang.photos(*photos[:2])
    assert "收到 1 张照片（共 3 张" in await wang.photos(photos[2])
    assert "位置" in await wang.press("完成")
    assert "问题" in await wang.location(32.6853, 109.0293)
    summary = await wang.press("否")
    for shown in ("45.5%", "130", "12,000 万元", "3 张", "32.68530, 109.02930"):
        assert shown in summary
    assert "日报已提交" in await wang.press("确认提交")

    report = await latest(uow, people.projects["HB-001"])
    assert (report.site_status, report.progress_pct, report.workers, report.ytd_investment,
            report.photo_count) == (SiteStatus.WORKING, Decimal("45.5"), 130, Decimal(12000), 3)
    assert await draft_of(engine, people.liaison) is None


async def test_a_restart_mid_form_continues_at_the_same_question(
        wang: Phone, uow: UnitOfWorkFactory, clock: FixedClock, tmp_path: Path, people: World,
        photos: list[Path]) -> None:
    await wang.say("/report")
    await wang.press("毛绒")
    await wang.press("施工中")
    await wang.say("50")

    restarted = Phone(make_router(uow, clock, tmp_path / "photos"), "1001")
    card = await restarted.say("/status 毛绒")  # a command in between is answered …
    assert card.index("HB-001") < card.index("完成了哪些工作")  # … then the open question
    assert "施工人数" in await restarted.say("土方开挖")
    await restarted.say("80")
    await restarted.press("跳过")
    assert await finish_report(restarted, photos[:1])
    report = await latest(uow, people.projects["HB-001"])
    assert (report.progress_pct, report.work_done, report.workers) == (Decimal(50), "土方开挖", 80)


async def test_back_goes_one_question_back_and_keeps_the_answers(wang: Phone) -> None:
    await wang.say("/report")
    await wang.press("毛绒")
    await wang.press("施工中")
    await wang.say("60")
    assert "形象进度" in await wang.say("/back")
    assert "当前：60%" in wang.text
    assert "完成了哪些工作" in await wang.press("保持不变")
    assert "现场状态" in (await wang.say("/back"), await wang.say("/back"))[1]
    assert "已经是第一项" not in wang.text
    await wang.say("/back")  # the project question was answered by a button: back to it
    assert "请选择项目" in wang.text
    assert "已经是第一项" in await wang.say("/back")


async def test_cancel_at_any_step_leaves_nothing(
        wang: Phone, engine: AsyncEngine, people: World, photos: list[Path]) -> None:
    before = await row_counts(engine)
    await report_to_photos(wang)
    await wang.photos(photos[0])
    assert "已取消日报" in await wang.say("/cancel")
    assert await draft_of(engine, people.liaison) is None
    after = await row_counts(engine)
    assert after["daily_reports"] == before["daily_reports"]
    assert after["photo_attachments"] == before["photo_attachments"]
    assert "没有正在填写的表单" in await wang.say("/cancel")


async def test_same_as_last_time_asks_only_for_the_new_photos(
        wang: Phone, uow: UnitOfWorkFactory, people: World, clock: FixedClock,
        photos: list[Path]) -> None:
    async with uow() as u:
        await u.reports.save(ReportInput(
            project_id=people.projects["HB-001"], report_date=date(2026, 11, 21),
            reporter_id=people.liaison, site_status=SiteStatus.WORKING,
            progress_pct=Decimal("45.5"), work_done="钢结构吊装", workers=130,
            ytd_investment=Decimal("8200.5")), clock.now() - timedelta(days=1))
        await u.commit()
    await wang.say("/report")
    assert "上次 11-21：进度 45.5%" in await wang.press("毛绒")
    assert "照片" in await wang.press("同上次")
    await wang.photos(photos[0])
    await wang.press("完成")
    await wang.press("跳过")
    summary = await wang.press("否")
    assert "45.5%" in summary and "钢结构吊装" in summary and "8,200.5 万元" in summary
    await wang.press("改：形象进度")
    await wang.say("47")
    assert "47%" in wang.text  # straight back to the summary
    await wang.press("确认提交")
    report = await latest(uow, people.projects["HB-001"])
    assert (report.report_date, report.progress_pct, report.work_done, report.workers,
            report.ytd_investment) == (date(2026, 11, 22), Decimal(47), "钢结构吊装", 130,
                                       Decimal("8200.5"))


async def test_lower_progress_or_investment_asks_to_confirm(
        wang: Phone, uow: UnitOfWorkFactory, people: World, clock: FixedClock) -> None:
    async with uow() as u:
        await u.reports.save(ReportInput(
            project_id=people.projects["HB-001"], report_date=date(2026, 11, 21),
            reporter_id=people.liaison, site_status=SiteStatus.WORKING,
            progress_pct=Decimal(45), work_done="吊装", workers=100,
            ytd_investment=Decimal(8000)), clock.now())
        await u.commit()
    await wang.say("/report")
    await wang.press("毛绒")
    await wang.press("施工中")
    assert "低于上次的 45%" in await wang.say("40")
    assert "形象进度" in await wang.press("重新填写")
    assert "低于上次的 45%" in await wang.say("44")
    assert "完成了哪些工作" in await wang.press("确认是 44%")
    await wang.say("整改")
    await wang.say("100")
    assert "低于上次的 8000 万元" in await wang.say("7000")
    assert "照片" in await wang.say("是")


async def test_a_second_report_the_same_day_amends_and_keeps_the_first(
        wang: Phone, uow: UnitOfWorkFactory, people: World, photos: list[Path],
        engine: AsyncEngine) -> None:
    await report_to_photos(wang, progress="45")
    await finish_report(wang, photos[:1])
    await wang.say("/report")
    assert "今天已报过第 1 版" in await wang.press("毛绒")
    await wang.press("施工中")
    await wang.say("46")
    await wang.say("下午补报：完成屋面")
    await wang.say("150")
    await wang.press("跳过")
    assert "已更新（第 2 版）" in await finish_report(wang, photos[1:2])
    async with engine.connect() as conn:
        report_id = await conn.scalar(select(m.DailyReport.id))
    assert report_id is not None
    async with uow() as u:
        rows = await u.audit.history("daily_report", report_id)
    assert [action for action, _, _ in rows] == ["create", "amend"]
    assert rows[1][1] is not None and rows[1][1]["progress_pct"] == "45"
    assert rows[1][2] is not None and rows[1][2]["progress_pct"] == "46"


async def test_a_problem_inside_the_report_gets_its_number_and_comes_back(
        wang: Phone, uow: UnitOfWorkFactory, people: World, engine: AsyncEngine,
        photos: list[Path]) -> None:
    await report_to_photos(wang)
    await wang.photos(photos[0])
    await wang.press("完成")
    await wang.press("跳过")
    assert "哪一类" in await wang.press("是")
    await wang.press("水电气讯")
    await wang.say("施工用电容量不足，需要供电公司增容")
    await wang.press("完成")  # no photos for the problem
    await wang.press("是")  # urgent
    filed = await wang.press("确认提交")
    assert "问题已登记：P-2026-0001" in filed
    assert "有需要协调解决的问题吗" in filed  # back in the report
    summary = await wang.press("否")
    assert "已登记问题 P-2026-0001" in summary
    assert "日报已提交" in await wang.press("确认提交")

    async with engine.connect() as conn:
        problem = (await conn.execute(select(m.Problem))).one()
        report_id = await conn.scalar(select(m.DailyReport.id))
        recipients = set(await conn.scalars(select(m.OutboxMessage.recipient)))
    assert (problem.number, problem.report_id, problem.urgent, problem.deadline) == (
        "P-2026-0001", report_id, True, date(2026, 11, 25))
    assert problem.assignee_unit_id == people.unit_industry
    assert recipients == {f"person:{people.leader}"}  # the industry unit has no people here


async def test_a_problem_filed_alone_notifies_the_unit_and_the_lead_leader(
        router: Router, people: World, engine: AsyncEngine) -> None:
    liu = Phone(router, "1003")  # the dispatcher files one for HB-003 (farming unit)
    await liu.say("/problem HB-003")
    await liu.press("用地")
    await liu.say("养殖场用地指标未落实")
    await liu.press("完成")
    await liu.press("否")
    assert "P-2026-0001" in await liu.press("确认提交")
    async with engine.connect() as conn:
        outbox = (await conn.execute(select(m.OutboxMessage))).all()
    assert [(o.kind, o.period, o.recipient) for o in outbox] == [
        ("problem.filed", "P-2026-0001", f"person:{people.unit_admin}")]
    assert "养殖场用地指标未落实" in outbox[0].payload["text"]
    assert "/update P-2026-0001" in outbox[0].payload["text"]


async def test_the_unit_reports_resolution_with_photo_evidence(
        router: Router, people: World, engine: AsyncEngine, photos: list[Path]) -> None:
    liu = Phone(router, "1003")
    await liu.say("/problem HB-003")
    await liu.press("用地")
    await liu.say("养殖场用地指标未落实")
    await liu.press("完成")
    await liu.press("否")
    await liu.press("确认提交")

    zhao = Phone(router, "1004")  # the farming unit
    assert "1 个待办问题" in await zhao.say("/update")
    await zhao.press("P-2026-0001")
    await zhao.press("已办结")
    await zhao.say("用地指标已调剂到位")
    assert "至少需要 1 张照片" in await zhao.press("完成")
    await zhao.photos(photos[5])
    await zhao.press("完成")
    assert "已报办结" in await zhao.press("确认提交")
    async with engine.connect() as conn:
        problem = (await conn.execute(select(m.Problem))).one()
        events = list(await conn.scalars(select(m.ProblemEvent.kind)
                                         .order_by(m.ProblemEvent.id)))
        evidence = await conn.scalar(select(m.PhotoAttachment.problem_event_id))
        told = set(await conn.scalars(select(m.OutboxMessage.recipient)
                                      .where(m.OutboxMessage.kind == "problem.resolved")))
    assert problem.state is ProblemState.RESOLVED and problem.resolved_at is not None
    assert events == ["created", "resolved"] and evidence is not None
    assert told == {f"person:{people.dispatcher}"}
    assert "不能再报送进展" in await zhao.say("/update P-2026-0001")


async def test_a_leader_files_a_visit(router: Router, people: World, engine: AsyncEngine,
                                      photos: list[Path]) -> None:
    zhang = Phone(router, "1002")
    await zhang.say("/visit")
    await zhang.press("毛绒")
    assert "日期不能晚于今天" in await zhang.say("2026-11-23")
    await zhang.press("昨天")
    await zhang.say("见了项目经理李工，了解吊装进度")
    await zhang.say("施工用电不足")
    await zhang.press("跳过")
    await zhang.photos(photos[3])
    await zhang.press("完成")
    assert "走访已记录" in await zhang.press("确认提交")
    async with engine.connect() as conn:
        visit = (await conn.execute(select(m.Visit))).one()
    assert (visit.visit_date, visit.notes, visit.problems_raised, visit.solved_on_spot) == (
        date(2026, 11, 21), "见了项目经理李工，了解吊装进度", "施工用电不足", "")


async def test_only_leaders_file_visits(wang: Phone, engine: AsyncEngine) -> None:
    before = await row_counts(engine)
    assert "牵头领导" in await wang.say("/visit")
    assert await row_counts(engine) == before


async def test_an_unfinished_form_expires_after_a_day_with_a_message(
        wang: Phone, clock: FixedClock, engine: AsyncEngine, people: World) -> None:
    await wang.say("/report")
    await wang.press("毛绒")
    clock.advance(timedelta(hours=25))
    text = await wang.say("施工中")
    assert "超过 24 小时未完成，已作废" in text
    assert await draft_of(engine, people.liaison) is None


async def test_two_quick_messages_from_one_chat_never_race(
        wang: Phone, router: Router, engine: AsyncEngine, people: World) -> None:
    await wang.say("/report")
    await wang.press("毛绒")
    await wang.press("施工中")
    second = Phone(router, "1001")
    await asyncio.gather(wang.say("55"), second.say("基础浇筑"))
    draft = await draft_of(engine, people.liaison)
    assert draft is not None
    assert (draft["answers"]["progress"], draft["answers"]["work"], draft["step"]) == (
        "55", "基础浇筑", "workers")
    assert len(router.locks) == 0


def exif_photo(path: Path, *, taken: str, lat: int, lon: int) -> Path:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (IFDRational(lat), IFDRational(0), IFDRational(0)),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (IFDRational(lon), IFDRational(0), IFDRational(0))})
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (640, 480), (10, 90, 30)).save(path, "JPEG", exif=exif)
    return path


async def test_old_far_and_reused_photos_are_flagged(
        wang: Phone, engine: AsyncEngine, people: World, tmp_path: Path,
        photos: list[Path]) -> None:
    async with engine.begin() as conn:  # the site of 毛绒 is at 32.68 N, 109.03 E
        await conn.execute(update(m.Project).where(m.Project.id == people.projects["HB-001"])
                           .values(lat=32.68, lon=109.03, radius_m=1000))
    elsewhere = exif_photo(tmp_path / "old.jpg", taken="2026:11:18 09:00:00", lat=30, lon=114)
    on_site = exif_photo(tmp_path / "new.jpg", taken="2026:11:22 09:30:00", lat=33, lon=109)
    await report_to_photos(wang)
    reply = await wang.photos(elsewhere)
    assert "拍摄时间早于一天前" in reply and "不在项目现场范围内" in reply
    assert "早于一天前" not in await wang.photos(photos[0])
    await wang.press("完成")
    await wang.press("跳过")
    assert "2 张（1 张有标注）" in await wang.press("否")
    await wang.press("确认提交")

    await wang.say("/problem 毛绒")
    await wang.press("用地")
    await wang.say("临时用地手续未批复")
    assert "以前已经用过" in await wang.photos(photos[0])
    assert "以前已经用过" not in await wang.photos(on_site)  # 35 km away, but never used
    async with engine.connect() as conn:
        flags = list(await conn.scalars(select(m.PhotoAttachment.flags)
                                        .order_by(m.PhotoAttachment.id)))
    assert flags == ["old,far", ""]


class CrashingReport(DailyReport):
    """The daily report on a bot that dies while submitting (a lost connection, a kill)."""

    async def submit(self, ctx: Context, uow: UnitOfWork, state: State) -> Submitted:
        await super().submit(ctx, uow, state)
        raise ConnectionError("the database went away mid-submit")


async def test_a_failure_at_the_confirm_step_loses_no_photo(
        wang: Phone, uow: UnitOfWorkFactory, clock: FixedClock, people: World, tmp_path: Path,
        engine: AsyncEngine, photos: list[Path]) -> None:
    forms = {**field_forms(), "report": CrashingReport()}
    store = PhotoStore(tmp_path / "photos", zone=clock.zone)
    crashing = Phone(Router(uow, clock, translator, "zh-CN", forms=Forms(forms, store)), "1001")
    await report_to_photos(crashing)
    await crashing.photos(*photos[:2])
    await crashing.press("完成")
    await crashing.press("跳过")
    await crashing.press("否")
    assert "已填写的内容都保留着" in await crashing.press("确认提交")
    assert (await row_counts(engine))["daily_reports"] == 0  # nothing half-written …
    draft = await draft_of(engine, people.liaison)
    assert draft is not None and len(draft["answers"]["photos"]) == 2  # … and nothing lost

    assert "日报已提交" in await wang.say("确认")  # the bot back up: confirm again
    assert (await latest(uow, people.projects["HB-001"])).photo_count == 2
