"""Apache Airflow provider for Siemens Insights Hub (formerly MindSphere) Industrial IoT APIs."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
