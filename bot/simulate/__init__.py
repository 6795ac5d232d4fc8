"""`fieldbot simulate`: the demo county through N days on an accelerated clock.

A newcomer sees a month of the product in one command. The demo county is built in a fresh
SQLite database inside the output folder (never the configured one); a `FixedClock` then jumps
from one rhythm fire time to the next. Between two fire times the county's people act through
the repositories, the way `bot/demo/seed.py` writes its history: liaisons report (most before
the 16:00 reminder, some only after it, some miss days, two go silent for a while), leaders
visit, problems are raised and resolved, projects start, and a few projects' investment is
corrected down until they lag badly. At each fire time `RhythmScheduler.run_due()` runs what is
due and the real `OutboxSender` delivers the outbox through `FolderPort`, which writes every
message to `OUT/<day>/<HHMM>-<kind>-<recipient>.txt` (and `.png`).

The demo is dated around its reference day (2026-11-22). At the start, each project is put in
the stage its dates give on `--from` (a construction project that only starts later becomes
preliminary again and starts during the simulation; one completed later is still under
construction), and the demo's preliminary projects keep their distance to the reference day, so
the overdue starts and the starts coming up produce their letters (交办函, 提醒函).
"""

from bot.simulate.command import simulate
from bot.simulate.folder import FolderRefused
from bot.simulate.summary import Summary, render_table, summary_text

__all__ = ["FolderRefused", "Summary", "render_table", "simulate", "summary_text"]
