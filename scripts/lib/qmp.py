#!/usr/bin/env python3
"""Client for the QEMU monitor (QMP) of a vcluster node: what the host asks of the machine
itself, not of the system in it (that is qga.py).

Usage:
  qmp.py SOCKET screendump FILE.png [--timeout S]   node's screen as a PNG (QEMU >= 7.1)

Exit: 0 done; 1 QEMU refused or the file is not a PNG; 2 usage; 125 the monitor cannot be
reached.
"""

import json
import os
import socket
import sys
import time

MONITOR_UNREACHABLE = 125
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MonitorError(Exception):
    pass


class Monitor:
    """One QMP session: greeting, capabilities negotiation, then commands and their returns
    (asynchronous events in between are skipped)."""

    def __init__(self, path, timeout_s):
        self.deadline = time.monotonic() + timeout_s
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout_s)
        try:
            self.sock.connect(path)
        except OSError as err:
            raise MonitorError(f"cannot connect to {path}: {err}") from err
        self.buffer = b""
        greeting = self._read_message()
        if "QMP" not in greeting:
            raise MonitorError(f"not a QMP greeting: {greeting}")
        self.call("qmp_capabilities")

    def _read_message(self):
        while b"\n" not in self.buffer:
            if time.monotonic() > self.deadline:
                raise MonitorError("timed out waiting for QEMU's monitor")
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout as err:
                raise MonitorError("timed out waiting for QEMU's monitor") from err
            if not chunk:
                raise MonitorError("QEMU's monitor closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except json.JSONDecodeError as err:
            raise MonitorError(f"QEMU's monitor sent no JSON: {line[:80]!r}") from err

    def call(self, command, arguments=None):
        request = {"execute": command}
        if arguments is not None:
            request["arguments"] = arguments
        self.sock.sendall((json.dumps(request) + "\r\n").encode())
        while True:
            message = self._read_message()
            if "error" in message:
                raise MonitorError(f"{command}: {message['error'].get('desc', message['error'])}")
            if "return" in message:
                return message["return"]


def screendump(monitor, target):
    # QEMU writes the file itself: give it an absolute path, and check what it wrote.
    target = os.path.abspath(target)
    if os.path.exists(target):
        os.unlink(target)
    monitor.call("screendump", {"filename": target, "format": "png"})
    try:
        with open(target, "rb") as image:
            head = image.read(len(PNG_SIGNATURE))
    except OSError as err:
        raise MonitorError(f"QEMU wrote no {target}: {err}") from err
    if head != PNG_SIGNATURE:
        raise MonitorError(f"{target} is not a PNG")


def main(args):
    if len(args) < 3 or args[1] != "screendump":
        print(__doc__, file=sys.stderr)
        return 2
    path, target, rest = args[0], args[2], args[3:]
    timeout_s = 30.0
    if len(rest) == 2 and rest[0] == "--timeout":
        timeout_s = float(rest[1])
    elif rest:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        monitor = Monitor(path, timeout_s)
    except MonitorError as err:
        print(f"qmp: {err}", file=sys.stderr)
        return MONITOR_UNREACHABLE
    try:
        screendump(monitor, target)
    except MonitorError as err:
        print(f"qmp: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
