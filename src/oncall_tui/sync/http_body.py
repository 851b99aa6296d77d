"""Reading an answer's body within its size cap: streamed, decompressed as it comes
(gzip, deflate; an unknown encoding is refused), and stopped at the cap whatever the
``Content-Length`` claims, so an endless body, a declared terabyte or a gzip bomb costs at
most the cap."""

from __future__ import annotations

import zlib
from typing import Any

import httpx

from oncall_tui.sync.base import BadPayload


def _too_large(what: str, cap: int) -> BadPayload:
    return BadPayload(
        f"{what}: the answer is larger than the {_size(cap)} limit (limits.max_response_mb)"
    )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"


async def read_bounded(response: httpx.Response, cap: int, what: str) -> bytes:
    """The decoded body of a streamed ``response``; BadPayload past ``cap`` bytes.

    Both what arrives and what it decodes to are counted, so neither an endless body nor a
    small one that inflates to gigabytes gets further than ``cap``.
    """
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > cap:
        raise _too_large(what, cap)
    if response.is_stream_consumed:  # an in-process transport answered with bytes in memory
        if len(response.content) > cap:
            raise _too_large(what, cap)
        return response.content
    decoder = _Decoder(response.headers.get("content-encoding", ""), what)
    chunks: list[bytes] = []
    received = decoded = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > cap:
            raise _too_large(what, cap)
        out = decoder.feed(chunk, cap - decoded)
        if out is None:
            raise _too_large(what, cap)
        decoded += len(out)
        chunks.append(out)
    out = decoder.flush(cap - decoded)
    if out is None:
        raise _too_large(what, cap)
    chunks.append(out)
    return b"".join(chunks)


class _Decoder:
    """Content-Encoding decoding (gzip, deflate, chains of them) that never outgrows a budget."""

    def __init__(self, header: str, what: str) -> None:
        names = [n.strip().lower() for n in header.split(",") if n.strip()]
        self.steps: list[_Inflate] = []
        for name in reversed(names):  # the last encoding applied is undone first
            if name == "identity":
                continue
            if name not in ("gzip", "x-gzip", "deflate"):
                raise BadPayload(f"{what}: the answer uses an encoding we did not ask for")
            self.steps.append(_Inflate(name))

    def feed(self, data: bytes, budget: int) -> bytes | None:
        """Decoded bytes of ``data``; None if they would exceed ``budget``."""
        for step in self.steps:
            out = step.feed(data, budget)
            if out is None:
                return None
            data = out
        return data if len(data) <= budget else None

    def flush(self, budget: int) -> bytes | None:
        """Whatever the decoders still hold; None past ``budget``."""
        data = b""
        for step in self.steps:
            out = step.feed(data, budget)
            if out is None:
                return None
            data = out + step.flush()
        return data if len(data) <= budget else None


class _Inflate:
    """One zlib stream (gzip: several members in a row; deflate: raw or zlib-wrapped)."""

    def __init__(self, name: str) -> None:
        self.gzip = name != "deflate"
        self.raw_deflate = False
        self.started = False
        self.inflater = self._new()

    def _new(self) -> Any:
        if self.gzip:
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        return zlib.decompressobj(-zlib.MAX_WBITS if self.raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes, budget: int) -> bytes | None:
        out: list[bytes] = []
        size = 0
        while data:
            try:
                piece = self.inflater.decompress(data, budget - size + 1)
            except zlib.error:
                if self.gzip or self.started or self.raw_deflate:
                    raise
                self.raw_deflate = True  # "deflate" is often sent without its zlib header
                self.inflater = self._new()
                continue
            self.started = True
            size += len(piece)
            out.append(piece)
            if size > budget or self.inflater.unconsumed_tail:
                return None  # more output than the budget allows
            if self.inflater.eof and self.gzip and self.inflater.unused_data:
                data = self.inflater.unused_data  # the next gzip member
                self.inflater = self._new()
                continue
            data = b""
        return b"".join(out)

    def flush(self) -> bytes:
        return bytes(self.inflater.flush())


def complete(
    response: httpx.Response, body: bytes, history: list[httpx.Response]
) -> httpx.Response:
    """A read response: the decoded body, without the headers that described the encoding."""
    skip = {"content-encoding", "content-length", "transfer-encoding"}
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in skip]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=response.extensions,
        history=history,
    )


__all__ = ["complete", "read_bounded"]
