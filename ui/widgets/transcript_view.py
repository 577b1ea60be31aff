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
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PySide6.QtCore import Qt
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


def _score_lines(scores: Any) -> list[str]:
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
            lines.append(f"{name}: {_short(v)}" + (f" ({'; '.join(str(e) for e in extra)})" if extra else ""))
        else:
            n = getattr(sc, "numeric", None)
            raw = getattr(sc, "value", sc)
            lines.append(f"{name}: {_short(raw)}" + (f" = {_short(n)}" if n is not None and n != raw else ""))
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
            ("Scores", "; ".join(_score_lines(row.scores))),
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
    events = tr.get("events")
    if isinstance(events, list) and events:
        blocks.append(Block(Kind.NOTE, f"{len(events):,} events recorded in the log."))
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
        self.find_box.returnPressed.connect(self.find_next)
        self.find_status = QLabel(self)
        next_btn = QPushButton("Next", self)
        next_btn.clicked.connect(self.find_next)
        bar = QHBoxLayout()
        bar.addWidget(self.find_box, 1)
        bar.addWidget(next_btn)
        bar.addWidget(self.find_status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        QShortcut(QKeySequence.StandardKey.Find, self, self.find_box.setFocus)
        self._blocks: list[Block] = []

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

    def find_next(self) -> None:
        needle = self.find_box.text()
        if not needle:
            self.find_status.clear()
            return
        if self.text.find(needle):
            self.find_status.clear()
            return
        self.text.moveCursor(QTextCursor.MoveOperation.Start)  # wrap around once
        self.find_status.setText("" if self.text.find(needle) else "Not found")


class TranscriptDialog(QDialog):
    """Non-modal window with one sample's transcript (opened from the run detail table)."""

    def __init__(self, row: SampleRow | None, transcript: dict[str, Any] | None, title: str = "",
                 parent: QWidget | None = None, marking: str = "") -> None:
        super().__init__(parent)
        sample = clean_text(row.sample_id, 200) if row is not None else ""
        self.setWindowTitle(title or f"Transcript — sample {sample}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.resize(900, 700)
        self.view = TranscriptView(self)
        self.view.set_sample(row, transcript)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        self.buttons = buttons  # callers add actions (e.g. "Record vulnerability…")
        layout = QVBoxLayout(self)
        body = QVBoxLayout()
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
