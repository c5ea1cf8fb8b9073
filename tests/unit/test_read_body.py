"""read_body: the body limit holds with or without Content-Length, on a real server."""

from __future__ import annotations

import http.client
import socket

import pytest
from flask import Flask, Response, request

from oie.errors import OieError
from oie.http import error_response, json_response, read_body
from tests.live import post_chunked, serving

LIMIT = 1000


def make_app() -> Flask:
    app = Flask(__name__)

    @app.post("/raw")
    def raw() -> Response:
        try:
            body = read_body(request, LIMIT)
        except OieError as exc:
            return error_response(exc)
        return json_response({"length": len(body), "again": len(request.get_data())})

    @app.post("/form")
    def form() -> Response:
        try:
            read_body(request, LIMIT)
        except OieError as exc:
            return error_response(exc)
        return json_response(dict(request.form))

    return app


@pytest.fixture(scope="module")
def port():
    with serving(make_app()) as bound:
        yield bound


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        ([b"x" * LIMIT], 200),
        ([b"x"] * LIMIT, 200),  # a thousand one-byte chunks: reads loop until the end
        ([b"x" * (LIMIT // 2), b"x" * (LIMIT // 2 + 1)], 413),
        ([b"x" * 600] * 4, 413),
        ([], 200),
    ],
)
def test_a_chunked_body_without_content_length_is_held_to_the_limit(port, chunks, status):
    got, answer = post_chunked(port, "/raw", chunks, {"Content-Type": "application/octet-stream"})
    assert got == status
    if status == 200:
        assert answer == f'{{"length": {sum(map(len, chunks))}, "again": {sum(map(len, chunks))}}}'.encode()
    else:
        assert b'"field": "body"' in answer


def test_a_declared_content_length_over_the_limit_is_refused_before_reading(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", "/raw")
        connection.putheader("Content-Length", str(10 * 1024 * 1024))
        connection.endheaders()  # and no body at all: nothing waits for it
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()


def test_a_form_is_still_readable_after_the_body_was_read(port):
    got, answer = post_chunked(
        port, "/form", [b"a=1&", b"b=two"], {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (got, answer) == (200, b'{"a": "1", "b": "two"}')


def test_a_body_cut_short_of_its_content_length_is_a_400_naming_the_body(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc")
        sock.shutdown(socket.SHUT_WR)  # the client goes away mid-body
        answer = b"".join(iter(lambda: sock.recv(4096), b""))
    assert answer.startswith(b"HTTP/1.1 400") and b'"field": "body"' in answer
