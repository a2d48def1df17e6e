"""A real local HTTP server speaking the OpenAI chat-completions protocol, scripted per test."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def completion(content: str | None = None, tool_calls: list[dict] | None = None, logprobs: list[tuple[str, float, dict]] | None = None,
               model: str = "fake-model") -> dict:  # fmt: skip
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (name, args) in enumerate((c["name"], c["args"]) for c in tool_calls)
        ]
    choice: dict[str, Any] = {
        "index": 0,
        "message": message,
        "finish_reason": "tool_calls" if tool_calls else "stop",
    }
    if logprobs:
        choice["logprobs"] = {"content": [
            {"token": tok, "logprob": lp, "bytes": None,
             "top_logprobs": [{"token": t, "logprob": v, "bytes": None} for t, v in top.items()]}
            for tok, lp, top in logprobs
        ]}  # fmt: skip
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [choice], "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}}  # fmt: skip


class FakeOpenAI:
    """Script: a deque of actions; each request pops one. Actions: ("json", body), ("status", code),
    ("sleep", seconds, body). When the script is empty, ``default`` (a callable of the request) answers."""

    def __init__(self) -> None:
        self.script: deque = deque()
        self.requests: list[dict] = []
        self.default = lambda req: completion("{}")
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.requests.append({"path": self.path, "body": body})
                action = outer.script.popleft() if outer.script else ("json", outer.default(body))
                if action[0] == "status":
                    payload = json.dumps(
                        {"error": {"message": f"scripted {action[1]}", "type": "x"}}
                    ).encode()
                    self.send_response(action[1])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("retry-after-ms", "10")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if action[0] == "sleep":
                    time.sleep(action[1])
                    action = ("json", action[2])
                payload = json.dumps(action[1]).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
