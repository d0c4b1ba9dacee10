"""HTTP/1.1 for one connection, to a WSGI app: fakeecs's own server's protocol half.

A connection's thread reads a request's head, reads its body when it is small (so a
client that stalls mid-body stalls before the app runs, and only its own thread),
builds the WSGI environ with plain byte operations, calls the app and writes the
response: headers and the first body chunk in one ``sendall``.  Keep-alive is HTTP/1.1's
default; ``Content-Length`` and ``Transfer-Encoding: chunked`` bodies are both read;
a response without a length is sent chunked (HTTP/1.1) or ends the connection.

It knows nothing of fakeecs: :class:`fakeecs.server.ThreadedServer` accepts and
hands each connection to :func:`serve_connection`.
"""

import io
import socket
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

#: a request line and headers larger than this are refused (eventlet's limit per line
#: is 16 KiB; whole heads past 64 KiB are nobody's real request)
MAX_HEAD = 64 * 1024
#: bodies up to this size are read before the app is called
PREREAD = 1024 * 1024
#: after a response, an unread body up to this size is read and dropped to keep the
#: connection; a larger one ends it
DRAIN = 64 * 1024 * 1024
_CHUNK = 64 * 1024
_STATUS_NO_BODY = (204, 304)
_REASONS = {
    400: "Bad Request",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


class _Refusal(Exception):
    """A request the server answers itself (status, message), then closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Closed(Exception):
    """The peer went away (or stayed silent) between or inside requests."""


class Reader:
    """Buffered reads from a socket: heads by their blank line, bodies by size."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _more(self) -> bytes:
        try:
            data = self.sock.recv(_CHUNK)
        except (TimeoutError, OSError) as error:
            raise _Closed() from error
        if not data:
            raise _Closed()
        return data

    def head(self) -> bytes:
        """The next request's head, without its blank line; ``_Closed`` at a clean end."""
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if 0 <= end <= MAX_HEAD:
                head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
                return head
            if len(self.buffer) > MAX_HEAD:
                raise _Refusal(431, "Request header fields too large")
            self.buffer += self._more()
            if not self.buffer.strip(b"\r\n"):  # blank lines between requests are allowed
                self.buffer = b""

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes: what is buffered, else one receive."""
        if not self.buffer:
            self.buffer = self._more()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._more()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def line(self) -> bytes:
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
                return line
            if len(self.buffer) > MAX_HEAD:
                raise _Refusal(400, "Chunk size line too long")
            self.buffer += self._more()


class Body(io.RawIOBase):
    """``wsgi.input`` for a body the app reads from the socket itself."""

    def __init__(
        self, reader: Reader, length: int | None, on_first_read: Callable[[], None] | None
    ) -> None:
        self.reader = reader
        self.remaining = length  # None: chunked
        self.chunk_left = 0
        self.done = length == 0
        self.broken = False  # the body ended early: the peer left, or bad chunk framing
        self._first = on_first_read

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bool:
        """Read the next chunk's size line; whether it has data (the last has none)."""
        line = self.reader.line().split(b";", 1)[0].strip()
        try:
            self.chunk_left = int(line, 16)
        except ValueError:
            raise _Refusal(400, "Bad chunk size") from None
        if self.chunk_left < 0:
            raise _Refusal(400, "Bad chunk size")
        if self.chunk_left == 0:
            while self.reader.line():  # trailers, then the blank line
                pass
            self.done = True
        return not self.done

    def readinto(self, target: Any) -> int:
        """Fill ``target`` from the body; 0 at its end.  A body cut short (the client left
        or timed out, or its chunks are malformed) ends there, as a short body the app
        refuses, and the connection closes after the answer."""
        if self.done:
            return 0
        try:
            return self._readinto(target)
        except (_Closed, _Refusal):
            self.done = self.broken = True
            return 0

    def _readinto(self, target: Any) -> int:
        first = self._first
        if first is not None:  # the client waits for "100 Continue" before the body
            self._first = None
            first()
        wanted = len(target)
        if self.remaining is None:
            if not self.chunk_left and not self._next_chunk():
                return 0
            data = self.reader.read(min(wanted, self.chunk_left))
            self.chunk_left -= len(data)
            if not self.chunk_left:
                self.reader.exactly(2)  # the chunk's CRLF
        else:
            data = self.reader.read(min(wanted, self.remaining))
            self.remaining -= len(data)
            self.done = not self.remaining
        target[: len(data)] = data
        return len(data)

    def drain(self, limit: int) -> bool:
        """Read and drop the rest (at most ``limit`` bytes); whether it all went."""
        if self._first is not None:  # the client waits for "100 Continue": never sent
            return self.done
        while not self.done and limit > 0:
            limit -= len(self.read(_CHUNK))
        return self.done and not self.broken


class _Response:
    """One response's state: start_response's status and headers, and what was sent."""

    __slots__ = ("chunked", "close", "code", "headers", "sent", "status")

    def __init__(self) -> None:
        self.status = ""
        self.code = 0
        self.headers: list[tuple[str, str]] = []
        self.sent = False
        self.chunked = False
        self.close = False


class _DateCache:
    """The ``Date`` header, formatted once a second."""

    second = -1
    value = ""

    @classmethod
    def now(cls) -> str:
        second = int(time.time())
        if second != cls.second:
            cls.value = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(second))
            cls.second = second
        return cls.value


def _refuse(sock: socket.socket, status: int, message: str) -> None:
    body = message.encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nDate: {_DateCache.now()}\r\n\r\n"
    )
    try:
        sock.sendall(head.encode("latin-1") + body)
    except OSError:
        pass


def _parse(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    """Method, target, protocol and header pairs (names upper-cased) of a request head."""
    lines = head.split(b"\r\n")
    try:
        method, target, protocol = lines[0].decode("latin-1").split(" ")
    except ValueError:
        raise _Refusal(400, "Malformed request line") from None
    if not protocol.startswith("HTTP/1."):
        if protocol.startswith("HTTP/"):
            raise _Refusal(505, "HTTP version not supported")
        raise _Refusal(400, "Malformed request line")
    if not (method.isascii() and method.isalpha()):
        raise _Refusal(400, "Malformed request line")
    headers: list[tuple[str, str]] = []
    for raw in lines[1:]:
        if raw[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + raw.strip().decode("latin-1"))
            continue
        raw_name, colon, raw_value = raw.partition(b":")
        if not colon or not raw_name or raw_name != raw_name.strip():
            raise _Refusal(400, "Malformed header line")
        headers.append((raw_name.decode("latin-1").upper(), raw_value.strip().decode("latin-1")))
    return method, target, protocol, headers


def serve_connection(
    sock: socket.socket,
    address: tuple[Any, ...],
    app: Callable[..., Iterable[bytes]],
    server_name: str,
    server_port: int,
    server_header: str = "fakeecs",
) -> None:
    """Answer the requests of one connection until it ends; closes ``sock``."""
    reader = Reader(sock)
    base = {
        "SCRIPT_NAME": "",
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "REMOTE_ADDR": str(address[0]) if address else "",
        "REMOTE_PORT": str(address[1]) if len(address) > 1 else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    try:
        while _one_request(sock, reader, base, app, server_header):
            pass
    except _Refusal as refusal:
        _refuse(sock, refusal.status, str(refusal))
    except _Closed:
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _one_request(
    sock: socket.socket,
    reader: Reader,
    base: dict[str, Any],
    app: Callable[..., Iterable[bytes]],
    server_header: str,
) -> bool:
    """Read, answer; whether the connection stays open for another request."""
    method, target, protocol, headers = _parse(reader.head())
    environ = dict(base)
    environ["REQUEST_METHOD"] = method
    environ["SERVER_PROTOCOL"] = protocol
    environ["REQUEST_URI"] = environ["RAW_URI"] = target
    if target.startswith(("http://", "https://")):  # absolute form: keep the path
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    path, _, query = target.partition("?")
    environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1") if "%" in path else path
    environ["QUERY_STRING"] = query
    length: int | None = 0
    chunked = False
    keep_alive = protocol == "HTTP/1.1"
    expect_continue = False
    for name, value in headers:
        if name == "CONTENT-LENGTH":
            if not (value.isascii() and value.isdigit()) or len(value) > 18:
                raise _Refusal(400, "Malformed Content-Length header")
            length = int(value)
            environ["CONTENT_LENGTH"] = value
            continue
        if name == "CONTENT-TYPE":
            environ["CONTENT_TYPE"] = value
            continue
        if name == "TRANSFER-ENCODING":
            if value.lower() != "chunked":
                raise _Refusal(501, "Transfer-Encoding not implemented")
            chunked = True
        elif name == "CONNECTION":
            tokens = value.lower()
            if "close" in tokens:
                keep_alive = False
            elif "keep-alive" in tokens:
                keep_alive = True
        elif name == "EXPECT" and value.lower() == "100-continue":
            expect_continue = True
        if "_" in name:  # a header with "_" could pose as one with "-"
            continue
        key = "HTTP_" + name.replace("-", "_")
        environ[key] = environ[key] + "," + value if key in environ else value
    if chunked:
        length = None
        environ.pop("CONTENT_LENGTH", None)
    body: Body | None = None
    if length == 0:
        environ["wsgi.input"] = io.BytesIO(b"")
    elif length is not None and length <= PREREAD and not expect_continue:
        environ["wsgi.input"] = io.BytesIO(reader.exactly(length))
    else:

        def send_continue() -> None:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

        body = Body(reader, length, send_continue if expect_continue else None)
        environ["wsgi.input"] = io.BufferedReader(body, _CHUNK)

    response = _Response()
    response.close = not keep_alive

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None and response.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        response.status = status
        response.code = int(status[:3])
        response.headers = response_headers
        return write

    def write(data: bytes) -> None:
        _send(sock, response, method, data, server_header)

    try:
        result = app(environ, start_response)
    except Exception:
        _refuse(sock, 500, "Internal Server Error")
        return False
    try:
        _respond(sock, response, method, result, body, server_header)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return not response.close


def _respond(
    sock: socket.socket,
    response: _Response,
    method: str,
    result: Iterable[bytes],
    body: Body | None,
    server_header: str,
) -> None:
    if body is not None and (body.broken or not (body.done or body.drain(DRAIN))):
        response.close = True  # an unread body would be taken for the next request
    if isinstance(result, list | tuple) and not response.sent:
        whole = b"".join(result)
        bodiless = method == "HEAD" or response.code in _STATUS_NO_BODY
        if not bodiless and all(name.lower() != "content-length" for name, _ in response.headers):
            response.headers.append(("Content-Length", str(len(whole))))
        _send(sock, response, method, whole, server_header, last=True)
        return
    for chunk in result:
        if chunk:
            _send(sock, response, method, chunk, server_header)
    _send(sock, response, method, b"", server_header, last=True)


def _head_bytes(response: _Response, method: str, server_header: str) -> bytes:
    lines = [f"HTTP/1.1 {response.status}"]
    has_length = False
    for name, value in response.headers:
        lowered = name.lower()
        if lowered == "content-length":
            has_length = True
        elif lowered == "connection":
            if "close" in value.lower():
                response.close = True
            continue
        lines.append(f"{name}: {value}")
    bodiless = method == "HEAD" or response.code in _STATUS_NO_BODY or response.code < 200
    if not has_length and not bodiless:
        response.chunked = True
        lines.append("Transfer-Encoding: chunked")
    lines.append(f"Date: {_DateCache.now()}")
    lines.append(f"Server: {server_header}")
    if response.close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(
    sock: socket.socket,
    response: _Response,
    method: str,
    data: bytes,
    server_header: str,
    last: bool = False,
) -> None:
    """Send ``data`` (with the head first, if not sent yet) in one ``sendall``."""
    if not response.status:
        raise AssertionError("write() before start_response()")
    out = b""
    if not response.sent:
        out = _head_bytes(response, method, server_header)
        response.sent = True
    if method == "HEAD" or response.code in _STATUS_NO_BODY:
        data = b""
    if response.chunked:
        if data:
            out += b"%x\r\n" % len(data) + data + b"\r\n"
        if last:
            out += b"0\r\n\r\n"
    else:
        out += data
    if out:
        try:
            sock.sendall(out)
        except OSError as error:
            raise _Closed() from error
