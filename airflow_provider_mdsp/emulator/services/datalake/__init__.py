"""Integrated Data Lake v3 (emulated)."""
