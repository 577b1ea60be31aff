"""Validate CSAF 2.0 / 2.1 documents against the official OASIS JSON schemas, fully offline.

Every `$ref` URL of the schemas (docs.oasis-open.org, first.org, certcc.github.io) is mapped to a
bundled file through a `referencing` registry whose retriever refuses anything unknown, so a
validation can never open a network connection.
"""

from __future__ import annotations

import decimal
import functools
import importlib.util
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4, DRAFT7, DRAFT202012

SCHEMA_DIR = Path(__file__).with_name("schemas")
CSAF_20_ID = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
CSAF_21_ID = "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json"
_FIRST = "https://www.first.org/cvss/"
_OASIS_21 = "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/"

# URI -> path inside the bundle, per version.
_FILES_21: dict[str, str] = {
    CSAF_21_ID: "json_schema/csaf.json",
    _OASIS_21 + "meta.json": "json_schema/meta.json",
    _OASIS_21 + "extension-content.json": "json_schema/extension-content.json",
    _OASIS_21 + "extension-metaschema.json": "json_schema/extension-metaschema.json",
    _FIRST + "cvss-v2.0.json": "referenced_schema/first/cvss-v2.0.json",
    _FIRST + "cvss-v3.0.json": "referenced_schema/first/cvss-v3.0.json",
    _FIRST + "cvss-v3.1.json": "referenced_schema/first/cvss-v3.1.json",
    _FIRST + "cvss-v4.0.json": "referenced_schema/first/cvss-v4.0.json",
    _FIRST + "meta.json": "referenced_schema/first/meta.json",
    "https://certcc.github.io/SSVC/data/schema/v2/SelectionList_2_0_0.schema.json":
        "referenced_schema/certcc/SelectionList_2_0_0.schema.json",
}
_FILES_20: dict[str, str] = {
    CSAF_20_ID: "json_schema/csaf_json_schema.json",
    _FIRST + "cvss-v2.0.json": "referenced_schema/first/cvss-v2.0.json",
    _FIRST + "cvss-v3.0.json": "referenced_schema/first/cvss-v3.0.json",
    _FIRST + "cvss-v3.1.json": "referenced_schema/first/cvss-v3.1.json",
}
# The same files inside the `csaf` PyPI package (preferred for 2.0: the brief's registry copy).
_PACKAGE_20: dict[str, str] = {
    CSAF_20_ID: "csaf/v20/schema/csaf.json",
    _FIRST + "cvss-v2.0.json": "csaf/v20/schema/referenced/cvss-v2.0.json",
    _FIRST + "cvss-v3.0.json": "csaf/v20/schema/referenced/cvss-v3.0.json",
    _FIRST + "cvss-v3.1.json": "csaf/v20/schema/referenced/cvss-v3.1.json",
}

_DIALECTS = {
    "http://json-schema.org/draft-04/schema#": DRAFT4,
    "http://json-schema.org/draft-07/schema#": DRAFT7,
}


@dataclass(frozen=True)
class SchemaProblem:
    path: str  # JSON path of the offending value, e.g. $.document.tracking.id
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def json_path(parts: Any) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _resource(contents: dict[str, Any]) -> Resource[Any]:
    spec = _DIALECTS.get(str(contents.get("$schema", "")), DRAFT202012)
    return spec.create_resource(contents)


def _refuse(uri: str) -> Resource[Any]:
    # A $ref outside the bundle: fail closed rather than fetch.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


def _loads(text: str) -> Any:
    # Decimals, not floats: jsonschema's multipleOf 0.1 rejects 5.3 as a float (5.3 / 0.1 = 52.999...).
    return json.loads(text, parse_float=Decimal)


def as_decimal(value: Any) -> Any:
    """Floats -> exact Decimals (repr round-trips), for schema checks of in-memory documents."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: as_decimal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_decimal(v) for v in value]
    return value


def _load_bundle(files: dict[str, str], base: Path) -> dict[str, dict[str, Any]]:
    return {uri: _loads((base / rel).read_text(encoding="utf-8")) for uri, rel in files.items()}


def csaf_package_dir() -> Path | None:
    """Folder of the installed `csaf` package, found without importing it: its __init__ configures
    the root logger and pulls in its network tooling, neither of which belongs in this process."""
    spec = importlib.util.find_spec("csaf")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def _load_package_20() -> dict[str, dict[str, Any]] | None:
    root = csaf_package_dir()
    if root is None:
        return None
    try:
        return {uri: _loads((root / rel).read_text(encoding="utf-8")) for uri, rel in _PACKAGE_20.items()}
    except (FileNotFoundError, OSError, ValueError):
        return None


def _registry(docs: dict[str, dict[str, Any]]) -> Registry[Any]:
    pairs: list[tuple[str, Resource[Any]]] = []
    for uri, contents in docs.items():
        res = _resource(contents)
        pairs.append((uri, res))
        own = contents.get("$id")
        if isinstance(own, str) and own != uri:
            pairs.append((own, res))  # e.g. cvss-v4.0.json?20260226: its internal refs use this base
    return Registry(retrieve=_refuse).with_resources(pairs)  # type: ignore[call-arg]


@functools.cache
def schema_source(version: str) -> str:
    """Where the schema for `version` is loaded from (shown in reports and tests)."""
    if version == "2.0" and _load_package_20() is not None:
        return "csaf package (PyPI) csaf/v20/schema"
    return f"bundled reports/schemas/csaf_{version}"


@functools.cache
def validator(version: str) -> Draft202012Validator:
    if version == "2.1":
        docs = _load_bundle(_FILES_21, SCHEMA_DIR / "csaf_2.1")
        root = CSAF_21_ID
    elif version == "2.0":
        docs = _load_package_20() or _load_bundle(_FILES_20, SCHEMA_DIR / "csaf_2.0")
        root = CSAF_20_ID
    else:
        raise ValueError(f"unsupported CSAF version {version!r}")
    return Draft202012Validator(
        docs[root], registry=_registry(docs), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _best(err: SchemaError) -> SchemaError:
    # oneOf/anyOf failures: descend to the deepest sub-error so the path names the real place.
    while err.context:
        err = max(err.context, key=lambda e: len(e.absolute_path))
    return err


# Digits of Decimal arithmetic during validation: multipleOf computes instance % 0.1, whose integer
# quotient has up to 310 digits for a number near a float's limit (1.8e308, which the reader lets
# through); at the default 28 digits anything above about 1e27 raised decimal.InvalidOperation.
# 700 covers 1.8e308 against the smallest float as well.
EXACT_DIGITS = 700


def validate(doc: Any, version: str | None = None, limit: int = 20) -> list[SchemaProblem]:
    """Schema problems of `doc` (empty when valid). The version defaults to document.csaf_version."""
    if version is None:
        version = str(((doc or {}).get("document") or {}).get("csaf_version", "")) if isinstance(doc, dict) else ""
    if version not in ("2.0", "2.1"):
        return [SchemaProblem("$.document.csaf_version", f"unsupported CSAF version {version!r} (2.0 or 2.1)")]
    problems: list[SchemaProblem] = []
    with decimal.localcontext(prec=EXACT_DIGITS):  # multipleOf on a large number is exact, not InvalidOperation
        errors = sorted(validator(version).iter_errors(as_decimal(doc)), key=lambda e: list(map(str, e.absolute_path)))
    for err in errors:
        best = _best(err)
        path = json_path(best.absolute_path)
        message = best.message if len(best.message) < 300 else best.message[:297] + "..."
        problems.append(SchemaProblem(path, message))
        if len(problems) >= limit:
            break
    return problems
