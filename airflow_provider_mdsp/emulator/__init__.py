"""A local Siemens Insights Hub (MindSphere) emulator for tests, demos and offline DAG development.

It imports nothing from the rest of ``airflow_provider_mdsp``: it is written from the API
reference, so the provider's client and the emulator check each other.

Usage::

    from airflow_provider_mdsp.emulator import run_emulator

    with run_emulator() as emu:
        ...  # emu.url, emu.token_url, emu.set_faults(...), emu.stats(), emu.reset()
"""

from __future__ import annotations

from .app import create_app
from .server import EmulatorHandle, run_emulator

__all__ = ["EmulatorHandle", "create_app", "run_emulator"]
