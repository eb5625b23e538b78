"""A tiny HTTP client over a real socket (urllib), and a server for an app in a thread."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import make_server


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    def __init__(self, base: str, key: str | None = None, lang: str | None = None) -> None:
        self.base, self.key, self.lang = base, key, lang

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        all_headers = dict(headers or {})
        if self.key:
            all_headers.setdefault("Authorization", f"Bearer {self.key}")
        if self.lang:
            all_headers.setdefault("Accept-Language", self.lang)
        data = raw
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            all_headers.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(
            self.base + path, data=data, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.headers, exc.read())

    def get(self, path: str, **kw: Any) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, payload: Any = None, **kw: Any) -> Answer:
        return self.request("POST", path, payload, **kw)


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` on a threaded server at 127.0.0.1:<free port>; yields the base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
