"""Timer triggers on six-field NCRONTAB schedules (seconds first), as the Functions host runs them."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from datetime import datetime, timezone

from azure.functions.timer import TimerRequest
from croniter import croniter

from tools.localhost.app_settings import resolve
from tools.localhost.functions import FunctionDef, invoke

logger = logging.getLogger("serve.timer")


def next_occurrence(schedule: str, after: datetime) -> datetime:
    if len(schedule.split()) != 6:
        raise ValueError(f"NCRONTAB schedules have six fields: {schedule!r}")
    return croniter(schedule, after, second_at_beginning=True).get_next(datetime)


class TimerRunner:
    def __init__(self, function: FunctionDef, executor: Executor) -> None:
        self.function = function
        self.executor = executor
        self.schedule = resolve(function.trigger["schedule"])
        self.run_on_startup = bool(function.trigger.get("runOnStartup", False))
        next_occurrence(self.schedule, datetime.now(timezone.utc))  # fail fast on a bad schedule

    async def run(self, stop: asyncio.Event) -> None:
        if self.run_on_startup:
            await self._fire(past_due=False)
        while not stop.is_set():
            now = datetime.now(timezone.utc)
            due = next_occurrence(self.schedule, now)
            try:
                await asyncio.wait_for(stop.wait(), timeout=(due - now).total_seconds())
                return
            except asyncio.TimeoutError:
                pass
            late = (datetime.now(timezone.utc) - due).total_seconds() > 1
            await self._fire(past_due=late)

    async def _fire(self, past_due: bool) -> None:
        try:
            await invoke(self.function, TimerRequest(past_due=past_due), self.executor)
        except Exception as exc:  # noqa: BLE001 - the next occurrence runs anyway
            logger.warning("%s: timer run failed (%s)", self.function.name, type(exc).__name__)
