"""CM-7 / air gap: the suite cannot reach a network, and the product never tries.

(a) the socket guard installed by tests/conftest.py refuses AF_INET/AF_INET6 and allows AF_UNIX;
(b) a static scan of the product packages finds no import of a networking module;
(c) the real CLI, run in a fresh interpreter whose sitecustomize refuses and records every
    non-AF_UNIX socket, completes a whole flow with zero attempts.
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("app", "ui", "storage", "reports")
FORBIDDEN_MODULES = (
    "socket", "ssl", "requests", "httpx", "urllib.request", "urllib3", "http.client", "http.server", "aiohttp",
    "ftplib", "smtplib", "imaplib", "poplib", "telnetlib", "xmlrpc", "socketserver", "asyncio.streams",
    "websocket", "websockets", "PySide6.QtNetwork", "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets",
)

# Reviewed exceptions: the module may import it, for the reason given, and nothing else may.
ALLOWED = {
    ("app/services/selftest.py", "socket"): "installs the in-process guard that REFUSES Internet sockets",
}


# -- (a) the guard --------------------------------------------------------------------------------


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_guard_refuses_network_sockets(family: int) -> None:
    with pytest.raises(PermissionError, match="network access attempted"):
        socket.socket(family, socket.SOCK_STREAM)
    with pytest.raises(PermissionError):
        socket.socket(family, socket.SOCK_DGRAM)


def test_guard_refuses_default_family_and_create_connection() -> None:
    with pytest.raises(PermissionError):
        socket.socket()
    with pytest.raises(PermissionError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)


def test_guard_allows_unix_sockets(tmp_path: Path) -> None:
    a, b = socket.socketpair(socket.AF_UNIX)
    try:
        a.sendall(b"ping")
        assert b.recv(4) == b"ping"
    finally:
        a.close()
        b.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(tmp_path / "s.sock"))
    s.close()


# -- (b) static scan ------------------------------------------------------------------------------


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Call):  # importlib.import_module("x") / __import__("x") with a literal
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                found.append((node.lineno, str(node.args[0].value)))
    return found


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN_MODULES)


def test_scanner_catches_every_spelling() -> None:
    sample = textwrap.dedent("""
        import socket
        import urllib.request as r
        from http import client
        from requests import get
        import importlib
        importlib.import_module("httpx")
        __import__("smtplib")
        from PySide6 import QtNetwork
        import json, hashlib
    """)
    hits = sorted({m for _, m in _imports(ast.parse(sample)) if _forbidden(m)})
    assert hits == ["PySide6.QtNetwork", "http.client", "httpx", "requests", "requests.get", "smtplib", "socket",
                    "urllib.request"]


def test_product_code_imports_no_networking_module() -> None:
    sources = [p for pkg in PRODUCT_PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    assert len(sources) > 20, "the scan found too few files; wrong root?"
    offenders = []
    for path in sources:
        for line, module in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if _forbidden(module) and (str(path.relative_to(ROOT)), module) not in ALLOWED:
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offenders == []


# -- (c) the real CLI under a socket-refusing interpreter -----------------------------------------

SITECUSTOMIZE = '''
import os, socket
_LOG = os.environ["FRW_SOCKET_LOG"]
_real = socket.socket

def _record(what):
    with open(_LOG, "a") as fh:
        fh.write(what + "\\n")

class _Guarded(_real):
    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        fam = socket.AF_INET if family == -1 else family
        if fileno is None and fam != socket.AF_UNIX:
            _record(f"socket family {fam}")
            raise PermissionError("network access attempted")
        super().__init__(family, type, proto, fileno)

def _no_connect(*a, **k):
    _record(f"create_connection {a!r}")
    raise PermissionError("network access attempted")

def _no_dns(*a, **k):
    _record(f"getaddrinfo {a!r}")
    raise PermissionError("network access attempted")

socket.socket = _Guarded
socket.create_connection = _no_connect
socket.getaddrinfo = _no_dns

# Speed only, as the parent's fast_kdf fixture does: 600,000 PBKDF2 rounds per passphrase in each of
# the eight CLI processes cost minutes on a loaded machine and have nothing to do with sockets.
import storage.keys
storage.keys.DEFAULT_ITERATIONS = 1000
'''


def test_cli_flow_runs_with_sockets_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "sockets.log"
    log.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(PYTHONPATH=f"{site}{os.pathsep}{ROOT}", FRW_SOCKET_LOG=str(log), HOME=str(tmp_path),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", XDG_DATA_HOME=str(tmp_path / "xdg"))
    data = tmp_path / "ws"
    admin_pw, rev_pw = "correct-horse-42-granite", "battery-staple-7-willow"

    def run(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "app", *args], input=stdin, env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
        return done

    # Proof that the sitecustomize is active in the child: a deliberate attempt is recorded and refused.
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.socket()"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "network access attempted" in probe.stderr
    assert log.read_text().strip() == f"socket family {int(socket.AF_INET)}"
    log.write_text("")

    assert "frontier-review" in run(["--version"]).stdout
    d = ["--data-dir", str(data)]
    run([*d, "init", "--name", "Isolated", "--system-high", "SECRET", "--admin", "admin", "--no-keyring",
         "--recovery-key-file", str(tmp_path / "recovery.txt"), "--classified-by", "Admin", "--derived-from",
         "SCG", "--declassify-on", "20511231", "--cui-controlled-by", "Cell", "--cui-category", "CTI"],
        f"{admin_pw}\n{admin_pw}\n")
    run([*d, "--user", "admin", "user", "add", "rita", "--role", "reviewer", "--name", "Rita"],
        f"{admin_pw}\n{rev_pw}\n{rev_pw}\n")
    run([*d, "--user", "rita", "submission", "add", "--developer", "Dev", "--model", "M", "--version", "1",
         "--received", "2026-11-01", "--release", "2026-11-25", "--marking", "SECRET"],
        f"{rev_pw}\n{rev_pw}-own\n{rev_pw}-own\n")  # first sign-in: Rita sets her own passphrase
    rev_pw = f"{rev_pw}-own"
    assert "Dev" in run([*d, "--user", "rita", "submission", "list"], f"{rev_pw}\n").stdout
    media = tmp_path / "media"
    media.mkdir()
    assert "verified" in run([*d, "--user", "admin", "backup", "create", str(media), "--media-label", "SECRET"],
                             f"{admin_pw}\n").stdout
    folder = next(p for p in media.iterdir() if p.is_dir())
    assert "intact" in run([*d, "--user", "admin", "backup", "verify", str(folder)], f"{admin_pw}\n").stdout
    assert "intact" in run([*d, "--user", "admin", "audit", "verify"], f"{admin_pw}\n").stdout
    assert log.read_text() == "", f"the product tried to use the network:\n{log.read_text()}"


def test_signature_validation_never_fetches() -> None:
    """pyHanko and pyhanko-certvalidator carry network code (they require aiohttp, to fetch revocation
    data online): the product's one validation context asks them never to fetch, and no product module
    builds a context of its own or a timestamp client (which would go online)."""
    from reports import detached

    ctx = detached.validation_context([])
    assert ctx.fetching_allowed is False
    for path in (p for pkg in PRODUCT_PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        if rel != "reports/detached.py":
            assert "ValidationContext(" not in text, rel
        assert "HTTPTimeStamper" not in text and "timestamper=" not in text, rel
