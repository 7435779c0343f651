"""A stand-in for a world's coordinator and PoP (cli_token_test.sh): answers every request at
once and records, one JSON line per request in LOG, its method, path and Authorization header
(null when absent). Writes its port to PORT_FILE once listening on 127.0.0.1.
Usage: cli_token_stub.py LOG PORT_FILE"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG, PORT_FILE = sys.argv[1], sys.argv[2]
# Enough of a REST envelope for `edgekv kv namespace list`, and a JSON object for the rest.
REST = {"success": True, "errors": [], "messages": [], "result": [],
        "result_info": {"page": 1, "per_page": 100, "count": 0, "total_count": 0}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "auth": self.headers.get("Authorization")}) + "\n")
        body = json.dumps(REST if self.path.startswith("/client/v4") else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = answer

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hung up early (a command's timeout) is no news


server = Server(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:  # renamed: the file appears whole
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
