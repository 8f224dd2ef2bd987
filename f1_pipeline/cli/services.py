"""Long-lived processes the command line starts and later stops (the team set-up's code
server, webserver and daemon): each in a process group of its own, its output in a log file,
recorded with its start time so that a pid reused by another process is never signalled."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from f1_pipeline.core.engine import process_start


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


@dataclass(frozen=True)
class Service:
    name: str
    pid: int
    started: int | None
    log: str
    command: tuple[str, ...]

    def alive(self) -> bool:
        """Still this process (same start time), and not a zombie waiting to be reaped."""
        return process_start(self.pid) == self.started and _state(self.pid) not in (None, "Z")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return Path(self.log).read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def spawn(name: str, argv: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path) -> Service:
    """Start ``argv`` detached from this process (its own session: a Ctrl-C here does not
    reach it, and stopping its group stops its children too)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return Service(name, proc.pid, process_start(proc.pid), str(log), tuple(argv))


def stop(service: Service, timeout: float = 30.0) -> bool:
    """SIGTERM to the service's process group, SIGKILL after ``timeout``; True once it is
    gone (False: it was not running)."""
    if not service.alive():
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(service.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while service.alive() and time.monotonic() < deadline:
            _reap(service.pid)
            time.sleep(0.2)
        if not service.alive():
            break
    _reap(service.pid)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when the service is this process's own child."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def group_members(service: Service) -> list[int]:
    """Every process still in the service's process group (its children included)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == service.pid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def save(path: Path, services: Sequence[Service], extra: Mapping[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({**extra, "services": [asdict(s) for s in services]}, indent=1))
    os.replace(tmp, path)


def load(path: Path) -> tuple[list[Service], dict[str, object]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return [], {}
    services = [Service(**{**s, "command": tuple(s["command"])}) for s in data.pop("services", [])]
    return services, data
