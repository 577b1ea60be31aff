"""Transcript viewer for one sample: what the model was asked, what it did, how it was scored.

Everything in a transcript came from an evaluation log on removable media and is untrusted: a
model's output may contain `<img src=...>`, terminal escape sequences or right-to-left overrides
that reorder what a reviewer reads. So text is only ever inserted with `QTextCursor.insertText`
into a read-only QPlainTextEdit (no HTML, no rich-text detection, no links), after control
characters are removed and bidirectional overrides are made visible. Formatting (role headers,
tool-call colours) comes from QTextCharFormat objects built here, never from the content.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeySequence,
    QShortcut,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.foundation.text import untrusted_text
from app.model.results import SampleRow
from ui.banner import ClassificationBanner

MAX_PART_CHARS = 200_000  # per message part: a multi-MB tool output would freeze layout for nothing
MAX_TOTAL_CHARS = 5_000_000  # per transcript shown (about 1 s to lay out); the rest is named, not shown
ATTACHMENT_PREFIX = "attachment://"

def clean_text(text: Any, limit: int = MAX_PART_CHARS) -> str:
    """Untrusted text made safe to display as plain text (the one policy: app.foundation.text)."""
    return untrusted_text(text, limit)


def plain_tooltip(text: str, limit: int = 1500) -> str:
    """Tooltips guess rich text (Qt::mightBeRichText); make them explicit, escaped rich text so
    `<img src=...>` from a log or a file name is shown as characters, never loaded or rendered."""
    body = html.escape(clean_text(text, limit))
    return f"<p style='white-space:pre-wrap'>{body}</p>"


class Kind(StrEnum):
    TITLE = "title"  # the sample header line
    FIELD = "field"  # "Target: …" lines of the summary
    ROLE = "role"  # a message header: SYSTEM / USER / ASSISTANT / TOOL
    TEXT = "text"  # message content
    REASONING = "reasoning"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    ERROR = "error"
    NOTE = "note"  # our own remarks ("image omitted")


@dataclass(frozen=True)
class Block:
    kind: Kind
    text: str


def _resolve(value: Any, attachments: dict[str, Any]) -> Any:
    """Inspect stores long strings once, as `attachment://<hash>` keys into `attachments`."""
    if isinstance(value, str) and value.startswith(ATTACHMENT_PREFIX):
        key = value[len(ATTACHMENT_PREFIX):]
        found = attachments.get(key)
        if isinstance(found, str):
            return found
        return f"[attachment {key} not present in the log]"
    return value


def _as_text(value: Any, attachments: dict[str, Any]) -> str:
    value = _resolve(value, attachments)
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str, allow_nan=True)
    except (TypeError, ValueError):
        return str(value)


def _content_blocks(content: Any, attachments: dict[str, Any], kind: Kind = Kind.TEXT) -> list[Block]:
    content = _resolve(content, attachments)
    if content is None:
        return []
    if isinstance(content, str):
        return [Block(kind, clean_text(content))] if content else []
    if not isinstance(content, list):
        return [Block(kind, clean_text(_as_text(content, attachments)))]
    blocks: list[Block] = []
    for part in content:
        if isinstance(part, str):
            blocks.append(Block(kind, clean_text(_resolve(part, attachments))))
            continue
        if not isinstance(part, dict):
            blocks.append(Block(kind, clean_text(_as_text(part, attachments))))
            continue
        ptype = str(part.get("type", ""))
        if ptype == "text":
            blocks.append(Block(kind, clean_text(_as_text(part.get("text", ""), attachments))))
        elif ptype == "reasoning":
            text = part.get("reasoning") or part.get("summary") or ""
            if part.get("redacted"):
                text = "[reasoning redacted by the provider]"
            blocks.append(Block(Kind.REASONING, "Reasoning:\n" + clean_text(_as_text(text, attachments))))
        elif ptype in ("image", "audio", "video", "document"):
            ref = part.get(ptype) or part.get("url") or ""
            size = len(_resolve(ref, attachments)) if isinstance(ref, str) else 0
            blocks.append(Block(Kind.NOTE, f"[{ptype} not displayed ({size:,} characters of data)]"))
        else:
            # Unknown part types (tool_use, data, server tool results…): show their JSON as text.
            blocks.append(Block(kind, clean_text(_as_text(part, attachments))))
    return blocks


def _format_arguments(args: Any, attachments: dict[str, Any]) -> str:
    args = _resolve(args, attachments)
    if isinstance(args, dict):
        lines = []
        for k, v in args.items():
            v = _resolve(v, attachments)
            if isinstance(v, str) and "\n" in v:
                lines.append(f"  {k}:\n" + "\n".join("    " + ln for ln in v.split("\n")))
            else:
                lines.append(f"  {k}: {v if isinstance(v, str) else _as_text(v, attachments)}")
        return "\n".join(lines)
    return "  " + _as_text(args, attachments)


def message_blocks(messages: Iterable[Any], attachments: dict[str, Any]) -> list[Block]:
    """Chat messages (Inspect ChatMessage dicts) as display blocks."""
    blocks: list[Block] = []
    for i, m in enumerate(messages, start=1):
        if not isinstance(m, dict):
            blocks.append(Block(Kind.ROLE, f"#{i} MESSAGE"))
            blocks.append(Block(Kind.TEXT, clean_text(_as_text(m, attachments))))
            continue
        role = clean_text(str(m.get("role", "message")), 40).upper()
        header = f"#{i} {role}"
        if role == "ASSISTANT" and m.get("model"):
            header += f"  ·  {clean_text(m['model'], 200)}"
        if role == "TOOL":
            fn = m.get("function") or ""
            header += f"  ·  result of {clean_text(fn, 200)}" if fn else ""
        blocks.append(Block(Kind.ROLE, header))
        kind = Kind.TOOL_RESULT if role == "TOOL" else Kind.TEXT
        blocks.extend(_content_blocks(m.get("content"), attachments, kind))
        err = m.get("error")
        if err:
            msg = err.get("message", err) if isinstance(err, dict) else err
            blocks.append(Block(Kind.ERROR, "Tool error: " + clean_text(_as_text(msg, attachments))))
        for call in m.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            name = clean_text(str(call.get("function", "tool")), 200)
            text = f"→ call {name}\n" + clean_text(_format_arguments(call.get("arguments", {}), attachments))
            if call.get("parse_error"):
                text += "\n  parse error: " + clean_text(str(call["parse_error"]))
            blocks.append(Block(Kind.TOOL_CALL, text))
    return blocks


def _flat(value: Any) -> str:
    """One response of lm-eval (`["-0.2", "True"]`, `"22"`...) on one line."""
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def lm_eval_blocks(tr: dict[str, Any], attachments: dict[str, Any]) -> list[Block]:
    """An lm-evaluation-harness sample: the document, then each request (prompt and
    continuation) with the model's response, then the per-sample metrics."""
    blocks = [Block(Kind.ROLE, "DOCUMENT"), Block(Kind.TEXT, clean_text(_as_text(tr.get("doc"), attachments)))]
    args = tr.get("arguments") or {}
    found = tr.get("filtered_resps") if isinstance(tr.get("filtered_resps"), list) else tr.get("resps")
    responses: list[Any] = found if isinstance(found, list) else []
    for i, (_key, req) in enumerate(args.items()):
        blocks.append(Block(Kind.ROLE, f"REQUEST {i + 1}"))
        if isinstance(req, dict):
            prompt, cont = req.get("arg_0"), req.get("arg_1")
            blocks.append(Block(Kind.TEXT, clean_text(_as_text(prompt, attachments))))
            if cont not in (None, ""):
                label = "continuation scored" if isinstance(cont, str) else "generation settings"
                blocks.append(Block(Kind.TOOL_CALL, f"→ {label}: " + clean_text(_flat(cont), 4000)))
        else:
            blocks.append(Block(Kind.TEXT, clean_text(_as_text(req, attachments))))
        if i < len(responses):
            blocks.append(Block(Kind.TOOL_RESULT, "← response: " + clean_text(_flat(responses[i]), 20_000)))
    listed = tr.get("metrics")
    metrics: list[Any] = listed if isinstance(listed, list) else []
    shown = [f"{m}: {_short(tr[m])}" for m in metrics if isinstance(m, str) and m in tr]
    if tr.get("filter"):
        shown.append(f"filter: {clean_text(str(tr['filter']), 200)}")
    if shown:
        blocks.append(Block(Kind.ROLE, "METRICS"))
        blocks.append(Block(Kind.FIELD, clean_text("; ".join(shown), 4000)))
    return blocks


# Inspect's letter values (inspect_ai.scorer CORRECT/INCORRECT/PARTIAL/NOANSWER), spelled out.
SCORE_WORDS = {"C": "correct", "I": "incorrect", "P": "partially correct", "N": "no answer"}


def score_value_text(v: Any) -> str:
    if isinstance(v, str) and v in SCORE_WORDS:
        return f"{SCORE_WORDS[v]} ({v})"
    if isinstance(v, dict):  # one value per metric
        return ", ".join(f"{k} {score_value_text(x)}" for k, x in v.items())
    return _short(v)


def _score_lines(scores: Any) -> list[str]:
    """One line per scorer: 'scorer name: value (answer …; explanation: …)'."""
    if not isinstance(scores, dict):
        return []
    lines = []
    for name, sc in scores.items():
        if isinstance(sc, dict):
            v = sc.get("value")
            extra = []
            if sc.get("answer") not in (None, ""):
                extra.append(f"answer {sc['answer']}")
            if sc.get("explanation") not in (None, ""):
                extra.append(f"explanation: {sc['explanation']}")
            lines.append(f"{name}: {score_value_text(v)}" + (f" ({'; '.join(str(e) for e in extra)})" if extra else ""))
        else:
            n = getattr(sc, "numeric", None)
            raw = getattr(sc, "value", sc)
            lines.append(f"{name}: {score_value_text(raw)}" + (f" = {_short(n)}" if n is not None and n != raw else ""))
    return lines


def _short(v: Any) -> str:
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else f"{v:.4g}"
    if isinstance(v, str):
        return v
    return json.dumps(v, default=str, ensure_ascii=False) if isinstance(v, dict | list) else str(v)


def sample_blocks(row: SampleRow | None, transcript: dict[str, Any] | None) -> list[Block]:
    """The whole view for one sample: summary fields, then the conversation (or the raw record)."""
    blocks: list[Block] = []
    tr = transcript if isinstance(transcript, dict) else {}
    attachments = tr.get("attachments") if isinstance(tr.get("attachments"), dict) else {}
    assert isinstance(attachments, dict)
    if row is not None:
        blocks.append(Block(Kind.TITLE, f"Sample {clean_text(row.sample_id, 400)}  ·  epoch {row.epoch}"))
        fields = [
            ("Score", "—" if row.score is None else f"{row.score:.4g}"),
            # The log's own scores carry the scorer's answer and explanation; the row has values only.
            ("Scores", "; ".join(_score_lines(tr.get("scores") if isinstance(tr.get("scores"), dict)
                                              and tr.get("scores") else row.scores))),
            ("Target", row.target),
            ("Answer", row.answer),
            ("Tokens", _tokens(row)),
            ("Time", "" if row.total_time is None else f"{row.total_time:.1f} s"
             + ("" if row.working_time is None else f" ({row.working_time:.1f} s working)")),
        ]
        for label, value in fields:
            if value:
                blocks.append(Block(Kind.FIELD, f"{label}: {clean_text(value, 4000)}"))
        if row.error:
            blocks.append(Block(Kind.ERROR, "Error: " + clean_text(row.error)))
    messages = tr.get("messages")
    if isinstance(messages, list) and messages:
        blocks.extend(message_blocks(messages, attachments))
        output = tr.get("output")
        if isinstance(output, dict) and output.get("error"):
            blocks.append(Block(Kind.ERROR, "Model error: " + clean_text(_as_text(output["error"], attachments))))
    elif isinstance(tr.get("arguments"), dict) and "doc" in tr:
        blocks.extend(lm_eval_blocks(tr, attachments))
    elif tr:
        # No chat (CSV and other tools): the stored record as indented text.
        rest = {k: v for k, v in tr.items() if k not in ("attachments", "events")}
        if rest:
            blocks.append(Block(Kind.ROLE, "RECORD"))
            blocks.append(Block(Kind.TEXT, clean_text(_as_text(rest, attachments))))
    elif row is not None and row.input_text:
        blocks.append(Block(Kind.ROLE, "INPUT"))
        blocks.append(Block(Kind.TEXT, clean_text(row.input_text)))
    if row is not None and not tr and not row.has_transcript:
        blocks.append(Block(Kind.NOTE, "No transcript was stored for this sample."))
    metadata = tr.get("metadata")
    if isinstance(metadata, dict) and metadata:
        blocks.append(Block(Kind.ROLE, "METADATA"))
        for key, value in metadata.items():
            blocks.append(Block(Kind.FIELD, f"{clean_text(str(key), 200)}: {clean_text(_flat(value), 2000)}"))
    events = tr.get("events")
    if isinstance(events, list) and events:
        blocks.extend(event_blocks(events, attachments))
    return blocks


def _when(event: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(event.get("timestamp")))
    except ValueError:
        return None


def _duration(event: dict[str, Any]) -> str:
    wt = event.get("working_time")
    return f" ({float(wt):.3f} s)" if isinstance(wt, int | float) else ""


def _error_text(err: Any, attachments: dict[str, Any]) -> str:
    if isinstance(err, dict):
        return str(err.get("message") or err.get("type") or _as_text(err, attachments))
    return _as_text(err, attachments)


def event_blocks(events: list[Any], attachments: dict[str, Any]) -> list[Block]:
    """The log's events, as Inspect View lists them: each with its time from the sample's start
    and, for model and tool calls, how long it took. Span ends and bookkeeping are left out."""
    blocks = [Block(Kind.ROLE, f"EVENTS ({len(events):,})")]
    start = next((t for t in (_when(e) for e in events if isinstance(e, dict)) if t is not None), None)
    for e in events:
        if not isinstance(e, dict):
            continue
        kind = str(e.get("event", "?"))
        if kind == "span_end":
            continue
        t = _when(e)
        at = f"+{(t - start).total_seconds():8.3f} s  " if t is not None and start is not None else ""
        if kind == "model":
            out = e.get("output")
            usage = out.get("usage") if isinstance(out, dict) else None
            total = usage.get("total_tokens") if isinstance(usage, dict) else None
            tokens = f", {total:,} tokens" if isinstance(total, int) else ""
            text = f"{at}model call: {e.get('model', '')}{tokens}{_duration(e)}"
            err = e.get("error")
            blocks.append(Block(Kind.FIELD, clean_text(text, 600)))
            if err:
                blocks.append(Block(Kind.ERROR, f"{at}model error: " + clean_text(_error_text(err, attachments), 2000)))
        elif kind == "tool":
            args = ", ".join(line.strip() for line in _format_arguments(e.get("arguments"), attachments).splitlines()
                             if line.strip())
            blocks.append(Block(Kind.TOOL_CALL, clean_text(f"{at}tool call: {e.get('function', '')}({args})"
                                                           f"{_duration(e)}", 2000)))
            if e.get("error"):
                blocks.append(Block(Kind.ERROR, f"{at}tool error: " + clean_text(_error_text(e["error"], attachments),
                                                                                   2000)))
            elif e.get("result") not in (None, ""):
                blocks.append(Block(Kind.TOOL_RESULT, clean_text(_as_text(e["result"], attachments), 2000)))
        elif kind == "error":
            message = _error_text(e.get("error"), attachments)
            blocks.append(Block(Kind.ERROR, f"{at}error: " + clean_text(message, 4000)))
        elif kind == "score":
            sc = e.get("score") if isinstance(e.get("score"), dict) else {}
            line = _score_lines({str(e.get("scorer") or "score"): sc})
            blocks.append(Block(Kind.FIELD, clean_text(f"{at}score: " + ("; ".join(line) or "—"), 2000)))
        elif kind == "span_begin":
            if e.get("type") not in ("init", "tool"):  # a tool's span repeats its tool event
                blocks.append(Block(Kind.NOTE, clean_text(f"{at}{e.get('type') or 'step'}: {e.get('name', '')}", 300)))
        elif kind in ("sample_init", "state", "store", "logger", "info", "input", "approval", "sandbox", "subtask",
                      "step", "sample_limit"):
            detail = {"sample_init": "sample started", "state": "state changed", "store": "store changed",
                      "sample_limit": "limit reached"}.get(kind, kind)
            if kind == "logger" and isinstance(e.get("message"), dict):
                detail = "log: " + str(e["message"].get("message", ""))
            elif kind == "info" and e.get("data") is not None:
                detail = "info: " + _flat(e.get("data"))
            elif kind == "sample_limit":
                detail = f"limit reached: {e.get('type', '')} {e.get('message', '')}"
            blocks.append(Block(Kind.NOTE, clean_text(at + detail, 600)))
        else:
            blocks.append(Block(Kind.NOTE, clean_text(f"{at}{kind}", 200)))
    return blocks


def _tokens(row: SampleRow) -> str:
    parts = []
    if row.input_tokens is not None:
        parts.append(f"{row.input_tokens:,} in")
    if row.output_tokens is not None:
        parts.append(f"{row.output_tokens:,} out")
    if row.total_tokens is not None:
        parts.append(f"{row.total_tokens:,} total")
    return ", ".join(parts)


def blocks_to_text(blocks: Iterable[Block]) -> str:
    """The exact plain text the viewer shows (copy/export and tests)."""
    return "\n".join(_rendered(b) for b in blocks)


def _rendered(b: Block) -> str:
    if b.kind == Kind.ROLE:
        return f"\n{b.text}"
    return b.text


_BLOCK_BACKGROUNDS = {Kind.ROLE: "#ddf4ff", Kind.TOOL_CALL: "#fbefff", Kind.TOOL_RESULT: "#f6f8fa"}


def _formats(base: QFont) -> dict[Kind, QTextCharFormat]:
    def fmt(color: str, bold: bool = False, bg: str | None = None, italic: bool = False,
            scale: float = 1.0) -> QTextCharFormat:
        f = QTextCharFormat()
        f.setForeground(QColor(color))
        if bg:
            f.setBackground(QColor(bg))
        if bold:
            f.setFontWeight(QFont.Weight.Bold)
        f.setFontItalic(italic)
        if scale != 1.0:
            f.setFontPointSize(base.pointSizeF() * scale)
        return f

    return {
        Kind.TITLE: fmt("#1f2328", bold=True, scale=1.15),
        Kind.FIELD: fmt("#3d444d"),
        Kind.ROLE: fmt("#0a3069", bold=True, bg="#ddf4ff"),
        Kind.TEXT: fmt("#1f2328"),
        Kind.REASONING: fmt("#57606a", italic=True),
        Kind.TOOL_CALL: fmt("#6639ba", bg="#fbefff"),
        Kind.TOOL_RESULT: fmt("#1f2328", bg="#f6f8fa"),
        Kind.ERROR: fmt("#cf222e", bold=True),
        Kind.NOTE: fmt("#57606a", italic=True),
    }


class TranscriptView(QWidget):
    """Read-only plain-text view of one sample's transcript, with find-in-text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setUndoRedoEnabled(False)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.text.setFont(mono)
        self.text.setAccessibleName("Transcript")
        self.find_box = QLineEdit(self)
        self.find_box.setPlaceholderText("Find in transcript…")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setAccessibleName("Find in transcript")
        self.find_box.returnPressed.connect(self.find_next)
        self.find_box.textChanged.connect(self._count_matches)
        self.find_status = QLabel(self)
        self.find_status.setObjectName("findStatus")
        prev_btn = QPushButton("Previous", self)
        prev_btn.setToolTip("Previous match (Shift+F3)")
        prev_btn.clicked.connect(self.find_previous)
        next_btn = QPushButton("Next", self)
        next_btn.setToolTip("Next match (F3)")
        next_btn.clicked.connect(self.find_next)
        bar = QHBoxLayout()
        bar.addWidget(self.find_box, 1)
        bar.addWidget(prev_btn)
        bar.addWidget(next_btn)
        bar.addWidget(self.find_status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        QShortcut(QKeySequence.StandardKey.Find, self, self.find_box.setFocus)
        QShortcut(QKeySequence("F3"), self, self.find_next)
        QShortcut(QKeySequence("Shift+F3"), self, self.find_previous)
        self._blocks: list[Block] = []
        self.matches: list[int] = []  # start positions of the current search's matches

    def set_sample(self, row: SampleRow | None, transcript: dict[str, Any] | None) -> None:
        self.set_blocks(sample_blocks(row, transcript))

    def set_blocks(self, blocks: list[Block]) -> None:
        self._blocks = blocks
        self.text.clear()
        formats = _formats(self.text.font())
        plain = QTextBlockFormat()
        cursor = QTextCursor(self.text.document())
        cursor.beginEditBlock()
        first = True
        shown = 0
        for n, b in enumerate(blocks):
            if shown > MAX_TOTAL_CHARS:
                rest = len(blocks) - n
                cursor.insertBlock(plain)
                cursor.insertText(f"[… the transcript continues: {rest:,} more part(s) not shown, "
                                  f"{sum(len(x.text) for x in blocks[n:]):,} characters]", formats[Kind.NOTE])
                break
            shown += len(b.text)
            bf = QTextBlockFormat()
            bg = _BLOCK_BACKGROUNDS.get(b.kind)
            if bg:
                bf.setBackground(QColor(bg))  # full-width band, so calls/results stand apart
            if first:
                cursor.setBlockFormat(bf)
            else:
                if b.kind == Kind.ROLE:
                    cursor.insertBlock(plain)  # blank line before each message
                cursor.insertBlock(bf)
            first = False
            # insertText never interprets markup: '<b>x</b>' stays seven visible characters.
            cursor.insertText(b.text, formats[b.kind])
        cursor.endEditBlock()
        self.text.moveCursor(QTextCursor.MoveOperation.Start)

    def plain_text(self) -> str:
        return self.text.toPlainText()

    def document(self) -> QTextDocument:
        return self.text.document()

    def _count_matches(self) -> int:
        """Every (case-insensitive) occurrence of the search text; the status says how many."""
        needle = self.find_box.text()
        self.matches = []
        if needle:
            hay, low = self.text.toPlainText().casefold(), needle.casefold()
            at = hay.find(low)
            while at >= 0:
                self.matches.append(at)
                at = hay.find(low, at + max(1, len(low)))
        self._show_status()
        return len(self.matches)

    def _show_status(self) -> None:
        needle = self.find_box.text()
        if not needle:
            self.find_status.clear()
            return
        if not self.matches:
            self.find_status.setText("Not found")
            return
        pos = self.text.textCursor().selectionStart()
        current = self.matches.index(pos) + 1 if pos in self.matches and self.text.textCursor().hasSelection() else 0
        self.find_status.setText(f"{current} of {len(self.matches)}" if current else f"{len(self.matches)} matches")

    def find_next(self) -> None:
        self._find(backward=False)

    def find_previous(self) -> None:
        self._find(backward=True)

    def _find(self, backward: bool) -> None:
        needle = self.find_box.text()
        if not needle:
            self.find_status.clear()
            return
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        if not self.text.find(needle, flags):
            # wrap around once
            self.text.moveCursor(QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start)
            self.text.find(needle, flags)
        self._show_status()


# (position) -> (row, transcript, window title) of the sample at that position, or None past the end
SampleLoader = Callable[[int], tuple[SampleRow, dict[str, Any] | None, str] | None]


class TranscriptDialog(QDialog):
    """Non-modal window with one sample's transcript (opened from the run detail table). Given a
    loader, it walks the run's samples in the table's order: Previous / Next (Alt+Left / Alt+Right)."""

    sample_changed = Signal(object)  # the SampleRow now shown

    def __init__(self, row: SampleRow | None, transcript: dict[str, Any] | None, title: str = "",
                 parent: QWidget | None = None, marking: str = "", loader: SampleLoader | None = None,
                 position: int = 0, count: int = 0) -> None:
        super().__init__(parent)
        sample = clean_text(row.sample_id, 200) if row is not None else ""
        self.setWindowTitle(title or f"Transcript — sample {sample}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.resize(900, 700)
        self.row = row
        self.loader = loader
        self.position = position
        self.count = count
        self.view = TranscriptView(self)
        self.view.set_sample(row, transcript)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        self.buttons = buttons  # callers add actions (e.g. "Record vulnerability…")
        self.prev_button = QPushButton("◀ Previous sample")
        self.prev_button.setAccessibleName("Previous sample")
        self.prev_button.setToolTip("Alt+Left")
        self.prev_button.clicked.connect(lambda: self.go(-1))
        self.next_button = QPushButton("Next sample ▶")
        self.next_button.setAccessibleName("Next sample")
        self.next_button.setToolTip("Alt+Right")
        self.next_button.clicked.connect(lambda: self.go(1))
        self.position_label = QLabel()
        self.position_label.setObjectName("samplePosition")
        nav = QHBoxLayout()
        nav.addWidget(self.prev_button)
        nav.addWidget(self.position_label)
        nav.addWidget(self.next_button)
        nav.addStretch(1)
        QShortcut(QKeySequence("Alt+Left"), self, lambda: self.go(-1))
        QShortcut(QKeySequence("Alt+Right"), self, lambda: self.go(1))
        self._update_nav()
        layout = QVBoxLayout(self)
        body = QVBoxLayout()
        body.addLayout(nav)
        body.addWidget(self.view, 1)
        body.addWidget(buttons)
        if marking:
            # A window of its own shows the classification banner top and bottom, like the main window.
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(0)
            body.setContentsMargins(9, 9, 9, 9)
            layout.addWidget(ClassificationBanner(marking))
            layout.addLayout(body, 1)
            layout.addWidget(ClassificationBanner(marking))
        else:
            layout.addLayout(body, 1)

    def _update_nav(self) -> None:
        walkable = self.loader is not None and self.count > 0
        for w in (self.prev_button, self.next_button, self.position_label):
            w.setVisible(walkable)
        if walkable:
            self.prev_button.setEnabled(self.position > 0)
            self.next_button.setEnabled(self.position < self.count - 1)
            self.position_label.setText(f"Sample {self.position + 1:,} of {self.count:,}")

    def go(self, delta: int) -> bool:
        """Show the previous (-1) or next (+1) sample; False at either end."""
        if self.loader is None:
            return False
        target = self.position + delta
        if not 0 <= target < self.count:
            return False
        loaded = self.loader(target)
        if loaded is None:
            return False
        row, transcript, title = loaded
        needle = self.view.find_box.text()
        self.row, self.position = row, target
        self.view.set_sample(row, transcript)
        self.setWindowTitle(title)
        self._update_nav()
        if needle:
            self.view._count_matches()  # the search stays; its count is for this sample
        self.sample_changed.emit(row)
        return True
