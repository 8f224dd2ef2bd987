"""Local processes and ports, as the warm engine, the team set-up and the command line's runs
need them: a process told apart from a later one with its pid, a free loopback port, a file
only its owner reads. No Dagster, no Spark."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def process_start(pid: int) -> int | None:
    """The process's start time (clock ticks since boot): with the pid, what identifies it."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def free_port(preferred: int = 0) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now: ``preferred`` when it is free."""
    try:
        probe = socket.create_server(("127.0.0.1", preferred))
    except OSError:
        probe = socket.create_server(("127.0.0.1", 0))
    with probe:
        return int(probe.getsockname()[1])


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by the owner only (0600 from creation on)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
    os.replace(tmp, path)


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
