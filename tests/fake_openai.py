"""A small OpenAI-compatible HTTP server for tests: POST /v1/chat/completions on loopback, with scripted behaviour."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers import free_port


class FakeOpenAI:
    """Start with `with FakeOpenAI(mode=...) as srv:`; srv.base_url goes to OPENAI_BASE_URL.

    Modes: "good" answers {"category": srv.category, "confidence": srv.confidence}; "invalid" answers text
    that is not JSON; "wrong" answers JSON with an unknown category; "error" answers HTTP 500; "slow" sleeps
    srv.delay seconds before a good answer. srv.requests keeps every request body received.
    """

    def __init__(self, mode: str = "good", *, category: str = "billing", confidence: float = 0.93,
                 delay: float = 3.0) -> None:
        self.mode, self.category, self.confidence, self.delay = mode, category, confidence, delay
        self.requests: list[dict] = []
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _content(self) -> str:
        if self.mode == "invalid":
            return "I think this is probably a billing issue!"
        if self.mode == "wrong":
            return json.dumps({"category": "complaint", "confidence": 0.9})
        return json.dumps({"category": self.category, "confidence": self.confidence})

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                fake.requests.append(body)
                if fake.mode == "error":
                    self._send(500, {"error": {"message": "upstream exploded", "type": "server_error"}})
                    return
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                self._send(200, {
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "test-model"),
                    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                 "message": {"role": "assistant", "content": fake._content(), "refusal": None}}],
                    "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
                })

        return Handler
