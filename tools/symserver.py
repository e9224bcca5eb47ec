#!/usr/bin/env python3
"""A symbol server for tests, on 127.0.0.1 and an ephemeral port.

Serves the tree under --root. The first path segment picks a behaviour:
  /store/...     the file, or 404
  /redirect/...  302 to the same path under /store/
  /stall/...     headers and half the body, then silence (bounded)
  /flaky/...     503 on the first request for each path, then the file
  /cabonly/...   404 for every .pdb, else as /store/ (a server that has
                 only the compressed .pd_ of a PDB)
  /hang/...      reads the request and never answers (bounded by
                 --hang-seconds), as a server that accepts and stalls
  /trickle/...   the file at --trickle-rate bytes a second
  /redirect-to/... 302 to --redirect-to BASE + "/" + the rest of the path
                 (an absolute URL: another server, another port)
Every request is logged as "METHOD PATH" to --log; the port is written to
--port-file once the socket listens. Python standard library only.
"""
import argparse
import http.server
import os
import posixpath
import sys
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stall-seconds", type=float, default=20.0)
    ap.add_argument("--hang-seconds", type=float, default=60.0)
    ap.add_argument("--trickle-rate", type=int, default=32768)
    ap.add_argument("--redirect-to", default=None)
    args = ap.parse_args()
    root = os.path.realpath(args.root)
    lock = threading.Lock()
    seen = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def log_request_line(self):
            with lock, open(args.log, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))

        def local(self, rel):
            p = posixpath.normpath(urllib.parse.unquote(rel)).lstrip("/")
            full = os.path.realpath(os.path.join(root, p))
            if not full.startswith(root + os.sep) or not os.path.isfile(full):
                return None
            return full

        def send_body(self, code, body, ctype="application/octet-stream",
                      extra=None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            self.log_request_line()
            parts = self.path.split("/", 2)
            mode = parts[1] if len(parts) > 1 else ""
            rest = parts[2] if len(parts) > 2 else ""
            if mode == "hang":
                time.sleep(args.hang_seconds)
                self.close_connection = True
                return
            if mode == "redirect":
                self.send_body(302, b"", extra={"Location": "/store/" + rest})
                return
            if mode == "redirect-to" and args.redirect_to:
                self.send_body(302, b"", extra={
                    "Location": args.redirect_to.rstrip("/") + "/" + rest})
                return
            if mode == "flaky":
                with lock:
                    first = rest not in seen
                    seen.add(rest)
                if first:
                    self.send_body(503, b"busy\n", "text/plain")
                    return
            if mode == "cabonly" and rest.lower().endswith(".pdb"):
                self.send_body(404, b"only the .pd_\n", "text/plain")
                return
            if mode not in ("store", "stall", "flaky", "cabonly", "trickle"):
                self.send_body(404, b"no such store\n", "text/plain")
                return
            full = self.local(rest)
            if full is None:
                self.send_body(404, b"not found\n", "text/plain")
                return
            with open(full, "rb") as f:
                body = f.read()
            if mode == "stall":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(args.stall_seconds)
                self.close_connection = True
                return
            if mode == "trickle":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step = max(1, args.trickle_rate // 10)
                try:
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i:i + step])
                        self.wfile.flush()
                        time.sleep(0.1)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True
                return
            self.send_body(200, body)

        do_HEAD = do_GET

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
