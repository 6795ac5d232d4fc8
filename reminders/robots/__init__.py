"""Push-only robots for digests: the WeCom group robot, DingTalk and Feishu custom robots.

A group chat added with a webhook (`GroupsRepository.add_robot`) is bound at once; the outbox
delivers its `group:ID` messages through the `RobotPort` of its kind. `robot_ports` builds the
three ports, `check_webhook` says whether an operator's URL and secret can work.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reminders.robots.base import Robot, RobotKind, RobotTarget
from reminders.robots.dingtalk import DingTalkRobot
from reminders.robots.feishu import FeishuRobot
from reminders.robots.port import RobotPort, TargetLookup, stored_targets
from reminders.robots.wecom import WeComRobot

__all__ = [
    "ROBOTS",
    "BadWebhook",
    "Robot",
    "RobotKind",
    "RobotPort",
    "RobotTarget",
    "TargetLookup",
    "WebhookProblem",
    "check_webhook",
    "robot_ports",
    "stored_targets",
]

ROBOTS: Mapping[RobotKind, Robot] = {
    RobotKind.WECOM: WeComRobot(),
    RobotKind.DINGTALK: DingTalkRobot(),
    RobotKind.FEISHU: FeishuRobot(),
}


def robot_ports(targets: TargetLookup, *, chart_note: str = "",
                **options: Any) -> list[RobotPort]:
    """A port per robot kind; `options` go to each `RobotPort` (session, clocks, timeout)."""
    return [RobotPort(robot, targets, chart_note=chart_note, **options)
            for robot in ROBOTS.values()]


class WebhookProblem(enum.StrEnum):
    KIND = "kind"  # not one of wecom_robot, dingtalk, feishu
    URL = "url"  # not the webhook address of that kind
    INSECURE = "insecure"  # http:// to anywhere but this machine: the key would travel in clear
    UNSIGNED = "unsigned"  # a signing secret for a WeCom robot, which signs nothing


class BadWebhook(ValueError):
    def __init__(self, problem: WebhookProblem) -> None:
        super().__init__(problem.value)  # never the URL: it holds the key
        self.problem = problem


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook(kind: str, url: str, secret: str | None) -> RobotKind:
    """The robot kind of a webhook an operator gives, or `BadWebhook` saying what is wrong.

    Hosts are not checked (a proxy or the tests' fake may serve them); the path and the
    credential in the URL are.
    """
    try:
        robot = RobotKind(kind)
    except ValueError:
        raise BadWebhook(WebhookProblem.KIND) from None
    parts = urlsplit(url.strip())
    query = parse_qs(parts.query)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
        raise BadWebhook(WebhookProblem.URL)
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise BadWebhook(WebhookProblem.INSECURE)
    good = {
        RobotKind.WECOM: parts.path.endswith("/cgi-bin/webhook/send") and bool(query.get("key")),
        RobotKind.DINGTALK: parts.path.endswith("/robot/send")
        and bool(query.get("access_token")),
        RobotKind.FEISHU: "/open-apis/bot/v2/hook/" in parts.path
        and bool(parts.path.rsplit("/hook/", 1)[-1].strip("/")),
    }[robot]
    if not good:
        raise BadWebhook(WebhookProblem.URL)
    if robot is RobotKind.WECOM and secret:
        raise BadWebhook(WebhookProblem.UNSIGNED)
    return robot
