"""A tiny stand-in for the Functions host's HTTP front: real HTTP in, the registered function called.

The real host cannot run offline (Core Tools downloads it). This serves `/api/<route>` by building
an `azure.functions.HttpRequest` exactly as a test would and returning the function's response, so
that HTTP clients (phony, benchmarks) can be tested end to end.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import azure.functions as func


class FunctionsHttpHost:
    def __init__(self, functions: dict):
        self.routes = {}
        for f in functions.values():
            import json
            for b in json.loads(f.get_function_json())["bindings"]:
                if b["type"] == "httpTrigger":
                    self.routes["/api/" + b.get("route", f.get_function_name())] = f.get_user_function()
        host = self

        class Handler(BaseHTTPRequestHandler):
            wbufsize = -1  # write headers and body together (avoids delayed-ACK stalls)
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                path = self.path.split("?", 1)[0]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fn = host.routes.get(path)
                if fn is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                req = func.HttpRequest(method=self.command, url=f"http://localhost{self.path}",
                                       headers=dict(self.headers.items()), params={}, route_params={}, body=body)
                resp = fn(req)
                data = resp.get_body()
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    if k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
