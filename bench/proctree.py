"""Peak resident memory of whole process trees (the JVMs included), sampled from /proc."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        # The command name may hold spaces and parentheses: fields follow the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_rss(roots: Iterable[int]) -> int:
    """Bytes resident in ``roots`` and all their descendants now."""
    tree, seen, stack = _children(), set(), list(roots)
    total = 0
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError):
            continue
        stack.extend(tree.get(pid, ()))
    return total


class PeakMemory:
    """Samples ``tree_rss(roots())`` every ``interval`` seconds in a thread; ``peak`` is the
    largest sum seen. ``roots`` is a callable: trees may start after sampling does."""

    # A scan reads every process's stat file: every 0.2 s keeps the sampler's own CPU use (which
    # the measured run shares 2 cores with) small; peaks last far longer (heaps, caches).
    def __init__(self, roots: Callable[[], Iterable[int]], interval: float = 0.2) -> None:

        self.roots, self.interval, self.peak = roots, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.roots()))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
