"""Splitting a stream of byte chunks into lines without ever holding more than one bounded line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OversizedLine:
    """A line longer than the reader keeps: its content was dropped as it streamed past, only its size is known."""

    size: int


def split_lines(chunks: Iterable[bytes], max_line_bytes: int) -> Iterator[bytes | OversizedLine]:
    """Yield the lines of a byte stream, each without its ``\\n`` (or ``\\r\\n``), in order.

    Unlike botocore's ``StreamingBody.iter_lines``, which joins the pending part of a line to every new chunk, a line
    spanning many chunks costs linear time here, and a line longer than ``max_line_bytes`` is never held in memory:
    an :class:`OversizedLine` with its size takes its place. A line split across chunk boundaries comes out whole.

    Parameters
    ----------
    chunks
        The stream, in chunks of any size (for instance ``S3ObjectStore.iter_chunks``).
    max_line_bytes
        The longest line to keep, counting a ``\\r`` before the ``\\n`` but not the ``\\n``.
    """
    pending: list[bytes] = []
    size = 0
    for chunk in chunks:
        *complete, rest = chunk.split(b"\n")
        for piece in complete:
            size += len(piece)
            if size > max_line_bytes:
                yield OversizedLine(size)
            elif pending:
                pending.append(piece)
                yield b"".join(pending).removesuffix(b"\r")
            else:
                yield piece.removesuffix(b"\r")
            pending.clear()
            size = 0
        size += len(rest)
        if size > max_line_bytes:
            pending.clear()
        elif rest:
            pending.append(rest)
    if size > max_line_bytes:
        yield OversizedLine(size)
    elif size:
        yield b"".join(pending).removesuffix(b"\r")
