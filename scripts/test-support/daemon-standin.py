#!/usr/bin/env python3
"""A stand-in for the TypeScript happy daemon, for happy's end-to-end tests. Run it as
    daemon-standin.py daemon start-sync --home DIR [--no-lock] [--no-state] [--stop MODE] [--ignore-term]
so that its command line carries `daemon start-sync` as the real daemon's does.

It writes its pid into DIR/daemon.state.json.lock (created exclusively, then kept open for its whole life, as the
TypeScript daemon does) unless --no-lock, writes DIR/daemon.state.json with its pid and the port of its control
server unless --no-state, prints "ready <port>" and serves POST /stop:
  --stop exit     answer 200, remove the state and lock files, exit (the default)
  --stop ignore   answer 200 and keep running
  --stop trickle  send a 200 head, then one body byte every 2 s
--ignore-term ignores SIGTERM (only SIGKILL ends it).
"""
import json
import os
import signal
import socket
import sys
import threading
import time

args = sys.argv[1:]
home = args[args.index("--home") + 1]
stop_mode = args[args.index("--stop") + 1] if "--stop" in args else "exit"
if "--ignore-term" in args:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(8)
port = server.getsockname()[1]

lock_path = os.path.join(home, "daemon.state.json.lock")
state_path = os.path.join(home, "daemon.state.json")
lock_fd = None
if "--no-lock" not in args:
    lock_fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.write(lock_fd, str(os.getpid()).encode())
if "--no-state" not in args:
    with open(state_path + ".tmp", "w") as f:
        json.dump({"pid": os.getpid(), "httpPort": port, "startTime": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "startedWithCliVersion": "0.0.0-standin"}, f)
    os.rename(state_path + ".tmp", state_path)
print("ready %d" % port, flush=True)


def handle(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk
    if stop_mode == "trickle":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while True:
            time.sleep(2)
            conn.sendall(b" ")
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    conn.close()
    if stop_mode == "exit":
        for path in (state_path, lock_path):
            try:
                os.unlink(path)
            except OSError:
                pass
        os._exit(0)


while True:
    client, _ = server.accept()
    threading.Thread(target=handle, args=(client,), daemon=True).start()
