# shellcheck shell=bash
# scripts/lib/qmp.py (vcluster screenshot): the QMP handshake, events skipped, the PNG checked,
# QEMU's refusals and a missing monitor reported, against a fake monitor on a Unix socket.

QMP="$CLUSTERLIVE_ROOT/scripts/lib/qmp.py"

# Serves one QMP session on $TMP/qmp.sock; MODE: png (writes a PNG), ppm (writes something
# else), error (refuses the screendump). Records the requests in $TMP/requests.
start_fake_monitor() {
	python3 - "$TMP/qmp.sock" "$1" "$TMP/requests" <<'PY' &
import json, socket, sys
path, mode, log = sys.argv[1:4]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
conn, _ = server.accept()
conn.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
reader = conn.makefile("rb")
with open(log, "w") as requests:
    for line in reader:
        request = json.loads(line)
        requests.write(json.dumps(request, sort_keys=True) + "\n")
        requests.flush()
        if request["execute"] == "screendump":
            conn.sendall(b'{"event": "RTC_CHANGE", "data": {"offset": 0}}\r\n')
            if mode == "error":
                conn.sendall(b'{"error": {"class": "GenericError", "desc": "no console"}}\r\n')
                continue
            with open(request["arguments"]["filename"], "wb") as image:
                image.write(b"\x89PNG\r\n\x1a\nrest" if mode == "png" else b"P6\n1 1\n255\n\0\0\0")
        conn.sendall(b'{"return": {}}\r\n')
PY
	FAKE_PID=$!
	for _ in $(seq 50); do [ -S "$TMP/qmp.sock" ] && return 0; sleep 0.1; done
	fail "the fake monitor did not start"
}

test_screendump_writes_a_png_at_an_absolute_path() {
	start_fake_monitor png
	(cd "$TMP" && python3 "$QMP" "$TMP/qmp.sock" screendump shot.png --timeout 5)
	wait "$FAKE_PID"
	assert_eq $'\x89PNG' "$(head -c 4 "$TMP/shot.png")" "the file's start"
	assert_contains "$(cat "$TMP/requests")" '"execute": "qmp_capabilities"'
	assert_contains "$(cat "$TMP/requests")" "{\"arguments\": {\"filename\": \"$TMP/shot.png\", \"format\": \"png\"}, \"execute\": \"screendump\"}"
}

test_a_file_that_is_not_a_png_fails() {
	start_fake_monitor ppm
	local rc=0 out
	out="$(python3 "$QMP" "$TMP/qmp.sock" screendump "$TMP/shot.png" --timeout 5 2>&1)" || rc=$?
	wait "$FAKE_PID"
	assert_eq 1 "$rc" "exit code"
	assert_contains "$out" "is not a PNG"
}

test_qemus_refusal_is_reported() {
	start_fake_monitor error
	local rc=0 out
	out="$(python3 "$QMP" "$TMP/qmp.sock" screendump "$TMP/shot.png" --timeout 5 2>&1)" || rc=$?
	kill "$FAKE_PID" 2>/dev/null || true
	wait "$FAKE_PID" 2>/dev/null || true
	assert_eq 1 "$rc" "exit code"
	assert_contains "$out" "screendump: no console"
}

test_no_monitor_is_unreachable() {
	local rc=0 out
	out="$(python3 "$QMP" "$TMP/absent.sock" screendump "$TMP/shot.png" --timeout 2 2>&1)" || rc=$?
	assert_eq 125 "$rc" "exit code"
	assert_contains "$out" "cannot connect"
}
