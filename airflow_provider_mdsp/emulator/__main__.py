"""``python -m airflow_provider_mdsp.emulator``: same as ``mdsp-emulator``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
