"""Print the lowest Airflow minor version pyproject.toml admits (e.g. ``3.1``), for the floor test run."""

from __future__ import annotations

import re
import sys
from pathlib import Path

text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
match = re.search(r'"apache-airflow\s*>=\s*(\d+\.\d+)', text)
if match is None:
    sys.exit("pyproject.toml has no apache-airflow>=X.Y floor")
print(match.group(1))
