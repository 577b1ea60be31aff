"""The UI gets its types from app.model and the services' own results, never a storage row type or a
reports class handed through a service (issue 18 point 3). The import contract keeps ui from
importing storage and reports itself; mypy (implicit_reexport = false for app.services) and this
test keep it from reaching them through a service module."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports_from_services() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((ROOT / "ui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app.services."):
                out += [(str(path.relative_to(ROOT)), node.module, a.name) for a in node.names]
    return out


def test_names_the_ui_takes_from_services_are_defined_by_services_or_the_model() -> None:
    found = _imports_from_services()
    assert found, "the scan found no imports: the test would check nothing"
    foreign = []
    for where, module, name in found:
        obj = getattr(importlib.import_module(module), name)
        if not isinstance(obj, type):
            continue  # functions and constants; type aliases (Clock) are spelled in the service
        home = obj.__module__
        if not home.startswith(("app.services.", "app.model.")):
            foreign.append(f"{where}: {name} from {module} is {home}.{name}")
    assert not foreign, "\n".join(foreign)


def test_the_read_models_the_ui_shows_live_in_app_model() -> None:
    from app.model import assessment_record, assignment, determination, release_record, report_version, verification

    for module, names in ((report_version, ["StoredReport"]), (verification, ["PdfVerification", "PackageVerification"]),
                          (assessment_record, ["AssessmentRow", "HistoryEntry", "EvidenceLink", "Comment"]),
                          (determination, ["Determination"]), (assignment, ["Assignment"]),
                          (release_record, ["StoredRelease"])):
        for name in names:
            assert getattr(module, name).__module__ == module.__name__  # defined there, not re-exported
