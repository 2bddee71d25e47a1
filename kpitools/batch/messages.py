"""The messages between the batch and a kernel: pickled tuples, each with its length first,
over the kernel's standard input and output (the kernel is the batch's own child, so what
comes through is trusted as much as the batch itself)."""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

_HEADER = struct.Struct("!Q")


def send(stream: IO[bytes], message: tuple[Any, ...]) -> None:
    """Write one message (a pickled tuple, its length first) and flush it."""
    blob = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(blob)) + blob)
    stream.flush()


def receive(stream: IO[bytes]) -> tuple[Any, ...]:
    """Read one message; EOFError when the other side is gone."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other side has closed")
    (size,) = _HEADER.unpack(header)
    blob = stream.read(size)
    if len(blob) < size:
        raise EOFError("the other side has closed")
    message = pickle.loads(blob)
    if not isinstance(message, tuple) or not message:
        raise EOFError(f"not a message: {type(message).__name__}")
    return message
