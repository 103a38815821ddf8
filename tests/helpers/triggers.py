"""Run a trigger as the triggerer does, for the trigger, sensor and operator tests."""

from __future__ import annotations

import asyncio
from typing import Any


def first_event(trigger: Any) -> Any:
    """Run a trigger the way the triggerer does and return its first event's payload."""

    async def collect():
        events = trigger.run()
        try:
            event = await events.__anext__()
        finally:
            await events.aclose()
        return event.payload

    return asyncio.run(collect())
