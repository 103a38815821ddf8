"""Tenant Management v4 (emulated)."""
