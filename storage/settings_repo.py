"""Settings repository: one JSON value per key."""

from __future__ import annotations

import json
from typing import Any

from app.model.settings import Settings
from storage.db import Connection


def load(conn: Connection) -> Settings:
    data: dict[str, Any] = {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM settings")}
    return Settings.from_dict(data)


def save(conn: Connection, settings: Settings) -> None:
    for key, value in settings.to_dict().items():
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )


def get_raw(conn: Connection, key: str, default: Any = None) -> Any:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def set_raw(conn: Connection, key: str, value: Any) -> None:
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value)),
    )
