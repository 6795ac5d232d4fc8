"""B0: start-up time and resident memory of `fieldbot demo`, against a plain-Python baseline.

Run: `.venv/bin/python bench/startup.py` (after the README's first command).

fieldbot: the real `fieldbot demo` process on an already seeded SQLite database, timed from
spawn until it has answered `/my`; its resident memory (VmRSS) is read from /proc right then.
Baseline, measured in the same run: a bare Python process that opens the same SQLite file with
the standard library and prints the same liaison's projects with one plain SQL query.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
FIELDBOT = str(Path(sys.executable).with_name("fieldbot"))
BASELINE = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute(
    "SELECT p.code, p.name, p.stage, max(r.report_date) FROM projects p"
    " JOIN project_liaisons l ON l.project_id = p.id JOIN people pe ON pe.id = l.person_id"
    " LEFT JOIN daily_reports r ON r.project_id = p.id WHERE pe.key = 'liaison_wang'"
    " GROUP BY p.id ORDER BY p.code").fetchall()
print(rows, flush=True)
rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]
print('RSS', rss, flush=True)
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fieldbot_once(env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen([FIELDBOT, "demo"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env)
    if proc.stdin is None or proc.stdout is None:
        raise RuntimeError("no pipes to fieldbot")
    proc.stdin.write("/my\n")
    proc.stdin.flush()
    for line in proc.stdout:
        if "最近日报" in line:
            break
    elapsed = time.perf_counter() - start
    memory = rss_kib(proc.pid)
    proc.stdin.write("/quit\n")
    proc.stdin.flush()
    proc.communicate(timeout=30)
    return elapsed, memory


def baseline_once(database: str) -> tuple[float, int]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", BASELINE, database], capture_output=True,
                         text=True, check=True).stdout
    elapsed = time.perf_counter() - start
    return elapsed, int(out.split("RSS")[1].split()[0])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDBOT_")}
        env["FIELDBOT_DATA_DIR"] = tmp
        start = time.perf_counter()
        subprocess.run([FIELDBOT, "demo", "--no-chat"], env=env, check=True,
                       capture_output=True)
        seed = time.perf_counter() - start
        database = str(Path(tmp) / "fieldbot.sqlite3")
        ours = [fieldbot_once(env) for _ in range(RUNS)]
        base = [baseline_once(database) for _ in range(RUNS)]
    t_ours = statistics.median(t for t, _ in ours)
    t_base = statistics.median(t for t, _ in base)
    m_ours = statistics.median(m for _, m in ours) / 1024
    m_base = statistics.median(m for _, m in base) / 1024
    print(f"first `fieldbot demo` (migrate + seed 44 projects): {seed:.2f} s")
    print(f"{'median of ' + str(RUNS):<24}{'start → /my answered':>22}{'resident memory':>18}")
    print(f"{'fieldbot demo':<24}{t_ours * 1000:>19.0f} ms{m_ours:>15.1f} MB")
    print(f"{'plain python + sqlite3':<24}{t_base * 1000:>19.0f} ms{m_base:>15.1f} MB")
    print(f"{'ratio':<24}{t_ours / t_base:>20.1f}x{m_ours / m_base:>16.1f}x")


if __name__ == "__main__":
    main()
