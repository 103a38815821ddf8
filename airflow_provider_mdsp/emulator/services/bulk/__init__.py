"""Emulated Insights Hub services."""
