"""A preloaded fork server for tests whose child only needs to be a real, separate process (one to
SIGKILL, or one that dies with os._exit at a chosen step).

A fresh interpreter per child pays Python's start and the application's imports (~0.5-1.5 s of CPU
each) before it does anything the test is about. The server imports them once, then forks one child
per request: the child is still its own process with its own stdin/stdout/stderr pipes, environment
and working directory; the test signals it by pid and the server reports how it ended.

    python fork_server.py SOCKET MODULE...    (started by ForkServer; no Qt: it forks)
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]


class Child:
    """One forked child: pipes like subprocess.Popen's (text), its pid, and its exit code (negative
    for a signal, as Popen.returncode) once the server has reaped it."""

    def __init__(self, pid: int, stdin: IO[str], stdout: IO[str], stderr: IO[str], conn: socket.socket,
                 reports: IO[str]) -> None:
        self.pid, self.stdin, self.stdout, self.stderr = pid, stdin, stdout, stderr
        self.returncode: int | None = None
        self._conn, self._reports = conn, reports

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it ended on its own (the server reaped it): wait() says how

    def wait(self, timeout: float = 30) -> int:
        if self.returncode is None:
            self._conn.settimeout(timeout)
            line = self._reports.readline()
            assert line, "the fork server ended without reporting its child's end"
            self.returncode = int(line)
            self._reports.close()
            self._conn.close()
        return self.returncode

    def close(self) -> None:
        """Kill if still running, reap, close the pipes."""
        if self.returncode is None:
            self.kill()
            self.wait()
        for stream in (self.stdin, self.stdout, self.stderr):
            stream.close()


class ForkServer:
    """`preload`: the modules every child needs, imported once in the server."""

    def __init__(self, folder: Path, preload: Sequence[str]) -> None:
        self.address = str(folder / "fork.sock")
        self.log = folder / "fork-server.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen([sys.executable, __file__, self.address, *preload], cwd=ROOT,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        assert ready == "READY\n", f"the fork server did not start: {self.log.read_text()}"

    def start(self, target: str, argv: Sequence[str], env: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> Child:
        """Fork a child that runs `target` ("module:function", called with argv; its return value or
        SystemExit code is the exit code) with this environment (default: the caller's, now)."""
        request = json.dumps({"target": target, "argv": list(argv), "env": dict(env or os.environ),
                              "cwd": str(cwd or Path.cwd())}).encode()
        pipes = [os.pipe() for _ in range(3)]  # stdin, stdout, stderr
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.address)
            socket.send_fds(conn, [request], theirs)
        finally:
            for fd in theirs:
                os.close(fd)
        conn.settimeout(30)
        reports = conn.makefile("r")  # one reader: the pid line, later the exit code line
        pid = int(reports.readline() or 0)
        assert pid, f"the fork server did not start a child: {self.log.read_text()}"
        return Child(pid, open(pipes[0][1], "w"), open(pipes[1][0]), open(pipes[2][0]), conn, reports)

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()  # the server's signal to stop
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


# -- the server ----------------------------------------------------------------------------------


def _run_child(request: dict[str, object], fds: list[int]) -> int:
    for target_fd, fd in enumerate(fds):
        os.dup2(fd, target_fd)
        os.close(fd)
    env, argv = request["env"], request["argv"]
    assert isinstance(env, dict) and isinstance(argv, list)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(str(request["cwd"]))
    module, _, name = str(request["target"]).partition(":")
    sys.argv = [module, *argv]
    try:
        code = getattr(importlib.import_module(module), name)(argv)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    return int(code or 0)


def serve(address: str, preload: Sequence[str]) -> None:
    sys.path.insert(0, str(ROOT))
    for module in preload:
        importlib.import_module(module)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen()
    print("READY", flush=True)
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable and not os.read(sys.stdin.fileno(), 1):
            return  # the test process closed our stdin (or ended)
        if listener not in readable:
            continue
        conn, _ = listener.accept()
        with conn:
            message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            pid = os.fork()
            if pid == 0:  # the child: no way back into the server's loop
                code = 1
                try:
                    listener.close()
                    conn.close()
                    code = _run_child(json.loads(message), fds)
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            for fd in fds:
                os.close(fd)
            conn.sendall(f"{pid}\n".encode())
            _, status = os.waitpid(pid, 0)
            try:
                conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
            except OSError:
                pass  # the test stopped listening (it failed): keep serving the next one


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
