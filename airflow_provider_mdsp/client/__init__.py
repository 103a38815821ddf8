"""Insights Hub REST client: transport, retries, paging and one client per service (no Airflow)."""
