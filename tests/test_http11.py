"""fakeecs's own server (``fakeecs.http11`` on ``server.ThreadedServer``), on the wire:
keep-alive, pipelining, body framings, ``Expect: 100-continue``, HEAD, streamed
responses, the requests it refuses itself, and stop()."""

import contextlib
import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeecs import http11
from fakeecs.server import ThreadedServer


def echo_app(environ, start_response):
    """Answers with what it was given: method, path, a header, the body."""
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/ignore-body":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
        return [b"ignored"]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"one,", b"", b"two,", b"three"])
    if path == "/empty":
        start_response("204 No Content", [])
        return []
    body = environ["wsgi.input"].read()
    text = (
        f"{environ['REQUEST_METHOD']} {path}?{environ['QUERY_STRING']} "
        f"x={environ.get('HTTP_X_THING', '-')} len={len(body)} "
    ).encode("latin-1") + body
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [text]


@pytest.fixture
def server():
    running = ThreadedServer(echo_app, "127.0.0.1", 0, timeout=5).start()
    yield running
    running.stop()
    assert not running.running


def connect(server):
    sock = socket.create_connection((server.host, server.port), timeout=5)
    return sock, sock.makefile("rb")


def read_response(stream):
    """(status line, headers dict (lower-case names), body) of one response."""
    status = stream.readline().decode("latin-1").rstrip("\r\n")
    headers = {}
    while True:
        line = stream.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            size = int(stream.readline().strip(), 16)
            if size == 0:
                stream.readline()
                break
            body += stream.read(size)
            stream.readline()
    elif "content-length" in headers:
        body = stream.read(int(headers["content-length"]))
    else:
        body = stream.read()
    return status, headers, body


def test_keep_alive_and_pipelined_requests_are_answered_in_order(server):
    sock, stream = connect(server)
    with sock:
        sock.sendall(
            b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Thing: first\r\n\r\n"
            b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
        )
        bodies = [read_response(stream)[2] for _ in range(3)]
        assert bodies == [
            b"GET /a?x=1 x=first len=0 ",
            b"POST /b? x=- len=5 hello",
            b"GET /c? x=- len=0 ",
        ]
        sock.sendall(b"GET /d HTTP/1.1\r\nHost: h\r\n\r\n")  # the connection is still open
        assert read_response(stream)[2] == b"GET /d? x=- len=0 "


def test_a_chunked_request_body_is_read(server):
    sock, stream = connect(server)
    with sock:
        sock.sendall(
            b"PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
        )
        status, _headers, body = read_response(stream)
        assert status == "HTTP/1.1 200 OK"
        assert body == b"PUT /up? x=- len=11 hello world"


def test_expect_100_continue_is_answered_when_the_app_reads_the_body(server):
    sock, stream = connect(server)
    with sock:
        sock.sendall(
            b"POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        )
        assert stream.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert stream.readline() == b"\r\n"
        sock.sendall(b"data")
        assert read_response(stream)[2] == b"POST /e? x=- len=4 data"


def test_a_body_the_app_did_not_read_is_dropped_and_the_connection_kept(server):
    sock, stream = connect(server)
    with sock:
        body = b"x" * (http11.PREREAD + 10)  # past the pre-read: the app would stream it
        sock.sendall(
            b"POST /ignore-body HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body
        )
        status, headers, answer = read_response(stream)
        assert (status, answer) == ("HTTP/1.1 200 OK", b"ignored")
        assert "connection" not in headers
        sock.sendall(b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        assert read_response(stream)[2] == b"GET /next? x=- len=0 "


def test_head_sends_no_body_and_streams_go_chunked(server):
    sock, stream = connect(server)
    with sock:
        sock.sendall(b"HEAD /ignore-body HTTP/1.1\r\nHost: h\r\n\r\n")
        status, headers, _ = read_response_head_only(stream)
        assert status == "HTTP/1.1 200 OK" and headers["content-length"] == "7"
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
        status, headers, body = read_response(stream)
        assert headers["transfer-encoding"] == "chunked"
        assert body == b"one,two,three"
        sock.sendall(b"GET /empty HTTP/1.1\r\nHost: h\r\n\r\n")
        status, headers, body = read_response_head_only(stream)
        assert status == "HTTP/1.1 204 No Content"
        assert "content-length" not in headers and "transfer-encoding" not in headers


def read_response_head_only(stream):
    status = stream.readline().decode("latin-1").rstrip("\r\n")
    headers = {}
    for line in iter(stream.readline, b"\r\n"):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, b""


def test_http_1_0_and_connection_close_end_the_connection(server):
    for request in (
        b"GET /stream HTTP/1.0\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    ):
        sock, stream = connect(server)
        with sock:
            sock.sendall(request)
            _status, headers, body = read_response(stream)
            assert headers["connection"] == "close"
            assert body in (b"one,two,three", b"GET /x? x=- len=0 ")
            assert stream.read() == b""  # closed by the server


def test_the_environ_follows_pep_3333():
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [("Content-Length", "0")])
        return []

    other = ThreadedServer(app, "127.0.0.1", 0).start()
    try:
        sock = socket.create_connection((other.host, other.port), timeout=5)
        with sock:
            sock.sendall(
                b"GET http://example.com/p%E4%BD%A0/q?a=%20b HTTP/1.1\r\nHost: example.com\r\n"
                b"X-Dup: 1\r\nX-Dup: 2\r\nX_Sneaky: 1\r\nContent-Type: text/plain\r\n\r\n"
            )
            read_response(sock.makefile("rb"))
    finally:
        other.stop()
    assert seen["PATH_INFO"] == "/p\xe4\xbd\xa0/q"  # bytes decoded as latin-1
    assert seen["QUERY_STRING"] == "a=%20b"
    assert seen["HTTP_X_DUP"] == "1,2"
    assert "HTTP_X_SNEAKY" not in seen
    assert seen["CONTENT_TYPE"] == "text/plain" and "HTTP_CONTENT_TYPE" not in seen
    assert seen["SERVER_PORT"] == str(other.port) and seen["wsgi.url_scheme"] == "http"


@pytest.mark.parametrize(
    "request_bytes,status",
    [
        (b"NONSENSE\r\n\r\n", "400 Bad Request"),
        (b"GET / HTTP/2.0\r\n\r\n", "505 HTTP Version Not Supported"),
        (b"GET / HTTP/1.1\r\nBroken header\r\n\r\n", "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n", "400 Bad Request"),  # a digit
        (b"G\xc9T / HTTP/1.1\r\n\r\n", "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Not Implemented"),
        (
            b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (http11.MAX_HEAD + 10) + b"\r\n\r\n",
            "431 Request Header Fields Too Large",
        ),
    ],
)
def test_requests_the_server_refuses_itself(server, request_bytes, status):
    sock, stream = connect(server)
    with sock:
        sock.sendall(request_bytes)
        line, headers, _ = read_response(stream)
        assert line == f"HTTP/1.1 {status}"
        assert headers["connection"] == "close"


def test_an_app_that_raises_gets_a_500_and_the_server_lives_on(server):
    sock, stream = connect(server)
    with sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: h\r\n\r\n")
        assert read_response(stream)[0] == "HTTP/1.1 500 Internal Server Error"
    sock, stream = connect(server)
    with sock:
        sock.sendall(b"GET /fine HTTP/1.1\r\nHost: h\r\n\r\n")
        assert read_response(stream)[0] == "HTTP/1.1 200 OK"


def test_a_client_silent_past_the_timeout_is_closed():
    server = ThreadedServer(echo_app, "127.0.0.1", 0, timeout=0.5).start()
    sock, stream = connect(server)
    with sock, server_stopped(server):
        sock.sendall(b"POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        began = time.monotonic()
        assert stream.read() == b""  # the server gave up on the body and closed
        assert time.monotonic() - began < 4


@contextlib.contextmanager
def server_stopped(server):
    try:
        yield server
    finally:
        server.stop()


def test_stop_closes_idle_keep_alive_connections():
    running = ThreadedServer(echo_app, "127.0.0.1", 0).start()
    sock, stream = connect(running)
    with sock:
        sock.sendall(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
        read_response_head_only(stream)
        stream.read(len(b"GET /a? x=- len=0 "))
        stopped = threading.Thread(target=running.stop)
        began = time.monotonic()
        stopped.start()
        stopped.join(10)
        assert time.monotonic() - began < 5
        assert not running.running
        assert stream.read() == b""
    with pytest.raises(OSError):
        socket.create_connection((running.host, running.port), timeout=2).close()


def test_a_body_cut_short_ends_where_it_stops_and_closes_the_connection():
    """Bad chunk framing (or a client that leaves) ends the body there: the app sees a
    short body, answers, and the connection closes; never a 500."""
    running = ThreadedServer(echo_app, "127.0.0.1", 0).start()
    sock, stream = connect(running)
    with sock, server_stopped(running):
        sock.sendall(
            b"POST /chunks HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\nzz\r\n"
        )
        status, headers, body = read_response(stream)
        assert status == "HTTP/1.1 200 OK" and body == b"POST /chunks? x=- len=3 abc"
        assert headers["connection"] == "close"
        assert stream.read() == b""


@pytest.fixture(scope="module")
def shared_server():
    running = ThreadedServer(echo_app, "127.0.0.1", 0, timeout=2).start()
    yield running
    running.stop()


_TOKENS = st.sampled_from(
    [
        b"GET",
        b"POST",
        b" ",
        b"/",
        b"/a%",
        b"%ff",
        b"?",
        b"HTTP/1.1",
        b"HTTP/1.0",
        b"HTTP/9",
        b"\r\n",
        b":",
        b"Content-Length",
        b"Transfer-Encoding",
        b"chunked",
        b"0",
        b"5",
        b"-1",
        b"\xff",
        b"\x00",
        b"\t",
        b"Expect",
        b"100-continue",
        b"Connection",
        b"close",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(_TOKENS, st.binary(max_size=8)), max_size=40))
def test_hostile_bytes_get_an_http_answer_or_a_close_and_the_server_lives_on(shared_server, parts):
    """Whatever arrives, the answer (if any) is HTTP and never a 5xx; the next client is served."""
    sock, stream = connect(shared_server)
    with sock:
        sock.sendall(b"".join(parts) + b"\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)  # nothing more is coming: the server answers or closes
        sock.settimeout(5)
        first = stream.readline()
        if first:
            assert first.startswith(b"HTTP/1.1 ")
            assert first[9:10] != b"5" or first.startswith(b"HTTP/1.1 505")
    sock, stream = connect(shared_server)
    with sock:
        sock.sendall(b"GET /alive HTTP/1.1\r\nHost: h\r\n\r\n")
        assert read_response(stream)[2] == b"GET /alive? x=- len=0 "
