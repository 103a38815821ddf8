"""What a task instance remembers across its tries, on every Airflow version the provider supports.

Airflow 3.3 gives each task instance a state store that outlives a try (``task_state_store`` in
the context). Before 3.3 a new try starts with its XCom cleared, so the memory is an Airflow
Variable named after the task instance (dag, task, map index, run), deleted once empty. Writes
that may have happened in an earlier try (an import job whose answer was lost) are looked up
through it instead of being done twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: Prefix of the Variables holding the memory of a task instance before Airflow 3.3.
VARIABLE_PREFIX = "mdsp_try_state"


def variable_key(ti: Any) -> str | None:
    """Return the Variable key of a task instance, or ``None`` when the context has no full identity.

    :param ti: the task instance of the context.
    """
    parts = [getattr(ti, name, None) for name in ("dag_id", "task_id", "run_id")]
    if not all(isinstance(p, str) and p for p in parts):
        return None
    map_index = getattr(ti, "map_index", -1)
    dag_id, task_id, run_id = parts
    return f"{VARIABLE_PREFIX}:{dag_id}:{task_id}:{map_index}:{run_id}"


class TryMemory:
    """Small string values a task instance keeps from one try to the next.

    :param context: the task context.
    :param prefix: the namespace of the values, e.g. ``mdsp_bulk_import_``; a field ``job_id``
        is the state-store key ``mdsp_bulk_import_job_id``.
    """

    def __init__(self, context: Mapping[str, Any], prefix: str) -> None:
        self._store = context.get("task_state_store")
        self._prefix = prefix
        self._key = None if self._store is not None else variable_key(context.get("ti"))

    @property
    def durable(self) -> bool:
        """Whether values survive into the next try (a state store, or a task instance to name a Variable)."""
        return self._store is not None or self._key is not None

    def get(self, field: str) -> str | None:
        """Return a remembered value, or ``None``.

        :param field: the value's name.
        """
        if self._store is not None:
            value = self._store.get(self._prefix + field)
            return str(value) if value else None
        return self._load().get(self._prefix + field)

    def set(self, field: str, value: str) -> None:
        """Remember a value until it is deleted.

        :param field: the value's name.
        :param value: the value.
        """
        if self._store is not None:
            self._store.set(self._prefix + field, value)
        elif self._key is not None:
            self._save({**self._load(), self._prefix + field: value})

    def delete(self, field: str) -> None:
        """Forget a value (nothing happens when it is not there).

        :param field: the value's name.
        """
        if self._store is not None:
            self._store.delete(self._prefix + field)
        elif self._key is not None:
            values = self._load()
            if values.pop(self._prefix + field, None) is not None:
                self._save(values)

    def _load(self) -> dict[str, str]:
        if self._key is None:
            return {}
        from airflow.sdk import Variable

        text = Variable.get(self._key, default=None)
        try:
            values = json.loads(text) if text else {}
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {}

    def _save(self, values: dict[str, str]) -> None:
        from airflow.sdk import Variable

        assert self._key is not None
        if values:
            Variable.set(self._key, json.dumps(values, sort_keys=True))
        else:
            Variable.delete(self._key)
