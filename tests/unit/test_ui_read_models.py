"""The UI gets its types from app.model and the services' own results, never a storage row type or a
reports class handed through a service (issue 18 point 3). The import contract keeps ui from
importing storage and reports itself; mypy (implicit_reexport = false for app.services) and these
tests keep it from reaching them through a service: every name ui imports or reads off a project
module, every annotation it writes, and the signatures of the service functions and classes it uses
resolve to types defined outside storage and reports."""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("app", "storage", "reports")
FOREIGN = ("storage", "reports")


def _ui_trees() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / "ui").rglob("*.py")):
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def _imports_from_services() -> list[tuple[str, str, str]]:
    out = []
    for where, tree in _ui_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app.services."):
                out += [(where, node.module, a.name) for a in node.names]
    return out


def _is_project(module: str) -> bool:
    return module.split(".")[0] in PROJECT


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        return False
    return True


def _string_annotations(tree: ast.Module) -> Iterator[ast.AST]:
    """Annotations written as strings, parsed, so `"pki.Root"` is walked like `pki.Root`."""
    for node in ast.walk(tree):
        notes: list[ast.expr | None] = []
        if isinstance(node, ast.arg | ast.AnnAssign):
            notes.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            notes.append(node.returns)
        for note in notes:
            for sub in ast.walk(note) if note is not None else ():
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    yield ast.parse(sub.value, mode="eval")


def _references() -> tuple[list[tuple[str, str, str]], set[str]]:
    """(where, module, name) for every name ui imports from a project module or reads off one
    (`pki.list_trusted_roots`, also inside annotations), and every attribute name ui reads off a
    value (which members of a service's class it can reach)."""
    refs: list[tuple[str, str, str]] = []
    members: set[str] = set()
    for where, tree in _ui_trees():
        modules: dict[str, str] = {}  # local name -> project module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if _is_project(a.name):
                        modules[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and _is_project(node.module):
                for a in node.names:
                    if _is_module(f"{node.module}.{a.name}"):
                        modules[a.asname or a.name] = f"{node.module}.{a.name}"
                    else:
                        refs.append((where, node.module, a.name))
        for top in (tree, *_string_annotations(tree)):
            for node in ast.walk(top):
                if not isinstance(node, ast.Attribute):
                    continue
                chain, base = [node.attr], node.value
                while isinstance(base, ast.Attribute):
                    chain.insert(0, base.attr)
                    base = base.value
                if isinstance(base, ast.Name) and base.id in modules:
                    module = modules[base.id]
                    while len(chain) > 1 and f"{module}.{chain[0]}" in sys.modules:  # app.services.pki.x
                        module = f"{module}.{chain.pop(0)}"
                    refs.append((where, module, chain[0]))
                else:
                    members.add(node.attr)
    return refs, members


@functools.cache
def _type_checking_names(module: types.ModuleType) -> dict[str, Any]:
    """Names a module imports under `if TYPE_CHECKING:`, so its annotations resolve here."""
    names: dict[str, Any] = {}
    source = inspect.getsource(module)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            exec(compile(ast.Module(body=node.body, type_ignores=[]), module.__name__, "exec"), names)
    return names


def _classes_in(hint: Any) -> Iterator[type]:
    if isinstance(hint, type):
        yield hint
    origin = typing.get_origin(hint)
    if isinstance(origin, type):
        yield origin
    for arg in typing.get_args(hint):
        yield from _classes_in(arg)


def _hints(obj: Any) -> dict[str, Any]:
    module = sys.modules[obj.__module__]
    extra = _type_checking_names(module)
    return typing.get_type_hints(obj, globalns={**vars(module), **extra})


def _foreign_types(obj: Any, members: set[str], seen: set[int]) -> Iterator[str]:
    """Types defined in storage or reports that reach the UI through `obj`: the object itself, its
    signature, and for a service's own class the fields and members the UI reads."""
    if id(obj) in seen or isinstance(obj, types.ModuleType):
        return
    seen.add(id(obj))
    if isinstance(obj, type):
        home = obj.__module__
        if home.startswith(FOREIGN):
            yield f"{home}.{obj.__qualname__}"
            return
        if not home.startswith("app.services."):
            return  # app.model imports nothing of the project (import contract); the standard library
        hints: dict[str, Any] = {}
        if dataclasses.is_dataclass(obj):
            hints.update({k: v for k, v in _hints(obj).items() if k in members})
        for name, member in vars(obj).items():
            if name.startswith("_") or name not in members:
                continue
            target = member.fget if isinstance(member, property) else member
            if callable(target):
                hints.update({f"{name}.{k}": v for k, v in _hints(target).items()})
        for hint in hints.values():
            for cls in _classes_in(hint):
                yield from _foreign_types(cls, members, seen)
    elif callable(obj) and _is_project(getattr(obj, "__module__", "") or ""):
        for hint in _hints(obj).values():
            for cls in _classes_in(hint):
                yield from _foreign_types(cls, members, seen)
    else:
        yield from _foreign_types(type(obj), members, seen)


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


def test_no_type_the_ui_uses_through_any_path_is_defined_in_storage_or_reports() -> None:
    refs, members = _references()
    assert {"import_trusted_root", "list_profiles", "keyring_status"} <= {name for _, _, name in refs}, \
        "the scan missed calls the UI makes through service modules: the test would check too little"
    foreign = set()
    for where, module, name in refs:
        obj = getattr(importlib.import_module(module), name)
        for found in _foreign_types(obj, members, set()):
            foreign.add(f"{where}: {module}.{name} hands the UI {found}")
    assert not foreign, "\n".join(sorted(foreign))


def test_the_scan_finds_a_storage_type_handed_through_a_service_signature() -> None:
    """The walk itself: a service function returning a storage row type is reported."""
    from storage.db import Connection

    def leaks() -> list[Connection] | None:
        return None

    leaks.__module__ = "app.services.decisions"
    assert set(_foreign_types(leaks, set(), set())) == {"storage.db.Connection"}


def test_the_read_models_the_ui_shows_live_in_app_model() -> None:
    from app.model import (
        assessment_record,
        assignment,
        backup,
        csaf_publisher,
        csaf_recipients,
        decision_record,
        determination,
        discussion,
        keyring_status,
        narrative,
        package_result,
        release_record,
        report_profile,
        report_version,
        trusted_root,
        verification,
    )

    for module, names in ((report_version, ["StoredReport"]), (verification, ["PdfVerification", "PackageVerification"]),
                          (assessment_record, ["AssessmentRow", "HistoryEntry", "EvidenceLink", "Comment"]),
                          (determination, ["Determination"]), (assignment, ["Assignment"]),
                          (release_record, ["StoredRelease"]), (trusted_root, ["StoredRoot"]),
                          (report_profile, ["StoredProfile"]), (backup, ["BackupMeta", "BackupRecord"]),
                          (keyring_status, ["KeyringStatus"]), (decision_record, ["StoredDecision"]),
                          (discussion, ["Comment"]), (narrative, ["NarrativeComment"]),
                          (csaf_recipients, ["RecipientRow"]), (package_result, ["PackageResult", "SealedResult"]),
                          (csaf_publisher, ["Publisher"])):
        for name in names:
            assert getattr(module, name).__module__ == module.__name__  # defined there, not re-exported
