"""A local directory as the storage root (the embedded default)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from f1_pipeline.core.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    WriteConflict,
)


def _umask() -> int:
    """This process's umask, without changing it (Linux reports it in /proc)."""
    with suppress(OSError):
        if found := re.search(r"^Umask:\s*([0-7]+)", Path("/proc/self/status").read_text(), re.M):
            return int(found[1], 8)
    return 0o022


# Published files get the mode a plain `open()` would give them (mkstemp makes them 0600).
_FILE_MODE = 0o666 & ~_umask()


# Checksums by file, process-wide: a sensor lists source-data/ every few seconds through a
# storage object built for that tick; a file is re-hashed only when its size or
# modification time changed.
_CHECKSUMS: dict[Path, tuple[tuple[int, int, int], str]] = {}


def _stamp(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class LocalStorage(Storage):
    """Objects are files under ``root``; a key's ``/`` maps to directories."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        # Lexical: `..` cannot leave the root, while a directory the operator symlinked
        # into it stays usable (and no file system call is paid per key).
        path = Path(os.path.normpath(self.root / key))
        if not path.is_relative_to(self.root):
            raise StorageError(f"key {key!r} escapes the storage root {self.root}")
        return path

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def info(self, key: str, version_id: str | None = None) -> ObjectInfo:
        # A local root keeps no versions: the file as it is now is the only one.
        path = self._path(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise ObjectNotFound(f"{path}: file not found") from None
        if not path.is_file():
            raise ObjectNotFound(f"{path}: file not found")
        stamp, checksum = _CHECKSUMS.get(path, (None, ""))
        if stamp != _stamp(stat):
            checksum = sha256_file(path)
            _CHECKSUMS[path] = (_stamp(stat), checksum)
        return ObjectInfo(key=key, size=stat.st_size, checksum=checksum, written_by=stat.st_mtime)

    def list(self, prefix: str) -> list[ObjectInfo]:
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        keys = sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        return [self.info(k) for k in keys if k.startswith(prefix)]

    def _open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise ObjectNotFound(f"{path}: file not found") from None

    def read_bytes(self, key: str) -> bytes:
        with self._open(key) as handle:
            return handle.read()

    def iter_chunks(self, key: str, version_id: str | None = None) -> Iterator[bytes]:
        with self._open(key) as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    def delete(self, key: str) -> bool:
        path = self._path(key)
        existed = path.is_file()
        path.unlink(missing_ok=True)
        return existed

    def withdraw(self, key: str, archive_key: str) -> str | None:
        source, target = self._path(key), self._path(archive_key)
        if not source.is_file():
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)  # a rename: never a copy that could be cut halfway
        _CHECKSUMS.pop(source, None)
        return str(target)

    def iter_lines(self, key: str) -> Iterator[bytes]:
        with self._open(key) as handle:
            yield from handle

    def write_bytes(self, key: str, data: bytes) -> ObjectInfo:
        with self._atomic_target(key) as tmp:
            tmp.write_bytes(data)
            # The checksum of what is in hand, not of the file read back.
            _CHECKSUMS[self._path(key)] = (_stamp(tmp.stat()), hashlib.sha256(data).hexdigest())
        return self.info(key)

    def write_bytes_if(self, key: str, data: bytes, expected_checksum: str | None) -> ObjectInfo:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # An exclusive lock beside the target makes check-then-replace atomic between
        # processes on this machine.
        with (target.parent / f".{target.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.find(key)
            if (current.checksum if current else None) != expected_checksum:
                raise WriteConflict(f"{target}: changed since it was read")
            return self.write_bytes(key, data)

    def publish_file(self, local_path: Path, key: str) -> ObjectInfo:
        with self._atomic_target(key) as tmp:
            shutil.copyfile(local_path, tmp)
        return self.info(key)

    def copy(self, src: str, dst: str, version_id: str | None = None) -> ObjectInfo:
        # A local root keeps no versions: the file as it is now is the only one.
        source = self._path(src)
        if not source.is_file():
            raise ObjectNotFound(f"{source}: file not found")
        return self.publish_file(source, dst)

    def delete_prefix(self, prefix: str) -> int:
        keys = [o.key for o in self.list(prefix)]
        for key in keys:
            self._path(key).unlink(missing_ok=True)
        base = self._path(prefix.rstrip("/")) if prefix.endswith("/") else None
        if base is not None and base.is_dir():
            shutil.rmtree(base)  # Spark's hidden .crc files
        # Directories are not objects: drop the ones left empty.
        for parent in {self._path(key).parent for key in keys} | ({base} if base else set()):
            while parent != self.root and parent.is_relative_to(self.root):
                if parent.is_dir():
                    if any(parent.iterdir()):
                        break
                    parent.rmdir()
                parent = parent.parent
        return len(keys)

    @contextmanager
    def local_copy(
        self, key: str, version_id: str | None = None
    ) -> Iterator[tuple[Path, ObjectInfo]]:
        with tempfile.TemporaryDirectory(prefix="f1-pin-") as tmp:
            copy = Path(tmp) / Path(key).name
            with self._open(key) as source, copy.open("wb") as out:
                shutil.copyfileobj(source, out)
            # What was read is the copy: hash it, not the live file.
            info = ObjectInfo(key=key, size=copy.stat().st_size, checksum=sha256_file(copy))
            yield copy, info

    @contextmanager
    def _atomic_target(self, key: str) -> Iterator[Path]:
        """Yield a temp path beside ``key``; rename it over ``key`` only on success."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            os.chmod(tmp, _FILE_MODE)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
