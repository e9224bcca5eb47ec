#!/usr/bin/env python3
"""Tiny QMP client (Python 3 standard library only).

Usage as a command:
    qmp.py SOCKET COMMAND [JSON-ARGS] [COMMAND [JSON-ARGS]]...
Sends qmp_capabilities, then each COMMAND with its optional JSON object of
arguments, prints each "return" value as one JSON line on stdout, and exits
nonzero with a one-line error on the first QMP error. Waits up to
--timeout seconds (default 30) for the socket to appear.

Usage as a module:
    from qmp import Qmp
    with Qmp("/path/sock") as q:
        q.cmd("stop")
        q.cmd("dump-guest-memory", paging=False, protocol="file:/tmp/x")
"""
import json
import os
import socket
import sys
import time


class QmpError(Exception):
    pass


class Qmp:
    def __init__(self, path, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QmpError("%s: cannot connect: %s" % (path, e))
                time.sleep(0.05)
        self.file = self.sock.makefile("rwb")
        self.events = []
        greeting = self._read()
        if "QMP" not in greeting:
            raise QmpError("%s: no QMP greeting" % path)
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise QmpError("QMP connection closed")
        return json.loads(line)

    def cmd(self, name, **args):
        """Run one command; return its "return" value or raise QmpError.
        Asynchronous events seen meanwhile are kept in self.events."""
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise QmpError("%s: %s" % (name, r["error"].get("desc", r)))
            self.events.append(r)

    def wait_event(self, name, timeout=60.0):
        """Return the first event called NAME (seen before or after)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("event") == name:
                    return self.events.pop(i)
            if time.monotonic() > deadline:
                raise QmpError("timeout waiting for event %s" % name)
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                self.events.append(self._read())
            except socket.timeout:
                pass
            finally:
                self.sock.settimeout(None)

    def close(self):
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv):
    timeout = 30.0
    if len(argv) > 2 and argv[1] == "--timeout":
        timeout = float(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        q = Qmp(argv[1], timeout)
        rest = argv[2:]
        while rest:
            name, rest = rest[0], rest[1:]
            args = {}
            if rest and rest[0].lstrip().startswith("{"):
                args, rest = json.loads(rest[0]), rest[1:]
            print(json.dumps(q.cmd(name, **args)))
        q.close()
    except (QmpError, OSError, ValueError) as e:
        sys.stderr.write("qmp.py: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
