#!/usr/bin/env python3
"""Client for the QEMU guest agent of a vcluster node (test image variant only).

scripts/vcluster uses it to run commands inside a node and to read its state, over the
node's virtio-serial port, which QEMU exposes on the host as a Unix socket.

Usage:
  qga.py SOCKET ping [--timeout S]            exit 0 when the agent answers
  qga.py SOCKET exec [--timeout S] -- CMD...   run CMD, print its output, exit with its code
  qga.py SOCKET interfaces                     JSON: [{"name": ..., "addresses": [...]}, ...]
  qga.py SOCKET hostname                       the node's hostname

Exit codes of exec: the command's own; 124 when it outlives --timeout; 125 when the agent
cannot be reached or refuses the command.
"""

import base64
import fcntl
import json
import os
import random
import socket
import sys
import time

AGENT_UNREACHABLE = 125
COMMAND_TIMED_OUT = 124
POLL_INTERVAL_S = 0.2


class AgentError(Exception):
    pass


class GuestAgent:
    """One session with a guest agent: sync first, then request/response lines of JSON."""

    def __init__(self, path, timeout_s):
        self.path = path
        self.deadline = time.monotonic() + timeout_s
        # The agent's port serves one client at a time: serialise our own callers on a lock
        # file so that concurrent `vcluster exec` calls queue instead of interleaving.
        self.lock = open(path + ".lock", "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(max(0.1, self._remaining()))
        try:
            self.sock.connect(path)
        except OSError as err:
            raise AgentError(f"cannot connect to {path}: {err}") from err
        self.buffer = b""
        self._sync()

    def _remaining(self):
        return self.deadline - time.monotonic()

    def _read_message(self):
        while b"\n" not in self.buffer:
            if self._remaining() <= 0:
                raise AgentError("timed out waiting for the guest agent")
            self.sock.settimeout(max(0.05, self._remaining()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout as err:
                raise AgentError("timed out waiting for the guest agent") from err
            if not chunk:
                raise AgentError("guest agent closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        line = line.strip(b"\xff \r\t")
        if not line:
            return None
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            return None  # garbage left over from an earlier, interrupted session

    def _sync(self):
        # guest-sync makes the agent echo our token: everything before it is stale and
        # skipped. The agent may be still booting, so keep asking until the deadline.
        token = random.randrange(1, 2**31)
        request = json.dumps({"execute": "guest-sync", "arguments": {"id": token}}) + "\n"
        self.sock.sendall(request.encode())
        while True:
            message = self._read_message()
            if message is not None and message.get("return") == token:
                return

    def call(self, command, arguments=None):
        request = {"execute": command}
        if arguments is not None:
            request["arguments"] = arguments
        self.sock.sendall((json.dumps(request) + "\n").encode())
        while True:
            message = self._read_message()
            if message is None:
                continue
            if "error" in message:
                raise AgentError(f"{command}: {message['error'].get('desc', message['error'])}")
            if "return" in message:
                return message["return"]


def run_exec(agent, argv):
    """Runs argv in the guest; returns (exit code, stdout bytes, stderr bytes)."""
    started = agent.call(
        "guest-exec",
        {
            "path": argv[0],
            "arg": argv[1:],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
            "capture-output": True,
        },
    )
    pid = started["pid"]
    while True:
        status = agent.call("guest-exec-status", {"pid": pid})
        if status.get("exited"):
            out = base64.b64decode(status.get("out-data", ""))
            err = base64.b64decode(status.get("err-data", ""))
            if "signal" in status:
                return 128 + status["signal"], out, err
            return status.get("exitcode", 0), out, err
        if agent._remaining() <= 0:
            raise TimeoutError(pid)
        time.sleep(POLL_INTERVAL_S)


def main(args):
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, verb, rest = args[0], args[1], args[2:]
    timeout_s = 300.0
    if len(rest) >= 2 and rest[0] == "--timeout":
        timeout_s = float(rest[1])
        rest = rest[2:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    try:
        agent = GuestAgent(path, timeout_s if verb != "ping" else min(timeout_s, 5.0))
        if verb == "ping":
            agent.call("guest-ping")
            return 0
        if verb == "hostname":
            print(agent.call("guest-get-host-name")["host-name"])
            return 0
        if verb == "interfaces":
            result = []
            for iface in agent.call("guest-network-get-interfaces"):
                addresses = [a["ip-address"] for a in iface.get("ip-addresses", [])]
                result.append({"name": iface["name"], "mac": iface.get("hardware-address"), "addresses": addresses})
            print(json.dumps(result))
            return 0
        if verb == "exec":
            if not rest:
                print("qga.py: exec needs a command", file=sys.stderr)
                return 2
            try:
                code, out, err = run_exec(agent, rest)
            except TimeoutError as pid:
                print(f"qga.py: command still running after {timeout_s:g}s (guest pid {pid})", file=sys.stderr)
                return COMMAND_TIMED_OUT
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
            sys.stderr.buffer.write(err)
            sys.stderr.flush()
            return code
        print(f"qga.py: unknown verb {verb}", file=sys.stderr)
        return 2
    except AgentError as err:
        if verb != "ping":
            print(f"qga.py: {err}", file=sys.stderr)
        return AGENT_UNREACHABLE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
