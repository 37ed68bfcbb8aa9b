"""The log of the events ``POST /events`` accepted: ``<export_dir>/events/events-YYYY-MM-DD.jsonl``
(one file per UTC day of receipt, one JSON object per line: activity_id, lead_id,
activity_type as posted, occurred_at in ISO 8601 UTC, received_at). Written and fsynced before
the API answers, so an acknowledged event survives a crash; the next ``dbt build`` reads every
file as an extra activities source (base_crm__activities: an event whose activity_id the CRM
export already has is dropped there), and the server replays the files when it loads a bundle,
so events after the build's as_of are not lost on a restart or a reload.

Files are never deleted by leadscore: delete old days once the CRM export has the activities
(docs/serving.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from leadscore.exports import EXPORT_DIR_MODE, EXPORT_FILE_MODE
from leadscore.serve.config import EVENTS_DIR

FIELDS = ("activity_id", "lead_id", "activity_type", "occurred_at", "received_at")


def log_folder(export_dir: Path) -> Path:
    return Path(export_dir) / EVENTS_DIR


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")


def append(export_dir: Path, events: Sequence[Mapping[str, Any]], now: datetime) -> Path:
    """Append ``events`` (activity_id, lead_id, activity_type, occurred_at: naive UTC) to
    today's file and fsync it; returns the file."""
    folder = log_folder(export_dir)
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(EXPORT_DIR_MODE)
    path = folder / f"events-{now:%Y-%m-%d}.jsonl"
    lines = "".join(
        json.dumps(
            {
                "activity_id": e["activity_id"],
                "lead_id": e["lead_id"],
                "activity_type": e["activity_type"],
                "occurred_at": _iso(e["occurred_at"]),
                "received_at": _iso(now),
            }
        )
        + "\n"
        for e in events
    )
    _drop_partial_line(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, EXPORT_FILE_MODE)
    try:
        os.write(fd, lines.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def _drop_partial_line(path: Path) -> None:
    """Cut a last line without its newline (a write a crash cut short, never acknowledged),
    so the next line starts on its own."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
        data = handle.seek(0) or handle.read()
        handle.truncate(data.rfind(b"\n") + 1)


def read_since(export_dir: Path, day: date) -> Iterator[dict[str, Any]]:
    """Every logged event of the files of ``day`` and later, oldest file first. A last line
    without its newline (a write cut short by a crash: never acknowledged) is skipped; any
    other line that is not an event stops with the file and line."""
    folder = log_folder(export_dir)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("events-*.jsonl")):
        try:
            file_day = date.fromisoformat(path.stem.removeprefix("events-"))
        except ValueError:
            continue
        if file_day < day:
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        # the last element is '' after a complete file, or a line a crash cut short
        for number, line in enumerate(lines[:-1], start=1):
            try:
                event = json.loads(line)
                event["occurred_at"] = datetime.fromisoformat(event["occurred_at"])
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(
                    f"{path}:{number} is not an event line ({err}); fix or remove that line"
                ) from err
            yield event


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
