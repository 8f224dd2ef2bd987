"""Source files are UTF-8: anything else is refused before Spark reads it.

Spark's text reader decodes invalid bytes to U+FFFD without a word, which would publish
corrupted race names; the check here is strict and names the first bad line.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable

from f1_pipeline.core.transforms.errors import InvalidInputError

BOM = codecs.BOM_UTF8


def check_utf8(chunks: Iterable[bytes], source: str) -> str:
    """Raise InvalidInputError naming ``source`` and the line of the first byte sequence
    that is not UTF-8 (a leading BOM is fine); return the file's first line (its header:
    Spark then needs no action to read it). Streams: memory stays one chunk."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines_before = 0
    head = b""
    for chunk in chunks:
        if lines_before == 0 and b"\n" not in head:
            head += chunk
        pending = decoder.getstate()[0]  # an incomplete character from the last chunk
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as err:
            data = pending + chunk
            _refuse(source, lines_before + data[: err.start].count(b"\n") + 1, data[err.start])
        lines_before += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        _refuse(source, lines_before + 1, decoder.getstate()[0][:1][0])
    return head.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")


def _refuse(source: str, line: int, byte: int) -> None:
    raise InvalidInputError(
        source,
        f"not UTF-8: byte 0x{byte:02x} is not valid UTF-8 (is the file Latin-1 or "
        "Windows-1252? save it as UTF-8)",
        line=line,
    )
