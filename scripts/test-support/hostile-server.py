#!/usr/bin/env python3
"""A deliberately bad HTTP server for happy's end-to-end tests (never for anything else).

Usage: hostile-server.py MODE [--log FILE]. Prints its port on the first line, then serves until killed.
Modes:
  trickle       answers a 200 head, then one byte of body every 2 s, forever
  trickle-head  sends the status line one byte every 2 s
  close         accepts, then closes at once (for https:// URLs: a close during the TLS handshake)
  big-length    200 with Content-Length 2 MiB and a 2 MiB JSON body
  big-chunked   200, chunked, 2 MiB JSON body and no Content-Length
  retry-zero    503 with Retry-After: 0 to every request
  huge-numbers  503 with Retry-After and Content-Length far beyond 64 bits
  evil-text     200 with a request state full of terminal escape sequences (as JSON escapes)
Every request line is appended to the log file when one is given.
"""
import socket
import sys
import threading
import time

mode = sys.argv[1]
log = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--log" else None
lock = threading.Lock()

BIG = b'{"state": "requested"' + b" " * (2 * 1024 * 1024) + b"}"


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    if log:
        with lock, open(log, "a") as f:
            f.write(head.split(b"\r\n")[0].decode("latin-1") + "\n")
    return head


def handle(conn):
    try:
        if mode == "close":
            conn.close()
            return
        if mode == "trickle-head":
            read_request(conn)
            for byte in b"HTTP/1.1 200 OK\r\n":
                conn.sendall(bytes([byte]))
                time.sleep(2)
            return
        while read_request(conn) is not None:
            if mode == "trickle":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
                while True:
                    time.sleep(2)
                    conn.sendall(b" ")
            elif mode == "big-length":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BIG) + BIG)
            elif mode == "big-chunked":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                for i in range(0, len(BIG), 65536):
                    part = BIG[i:i + 65536]
                    conn.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
                conn.sendall(b"0\r\n\r\n")
            elif mode == "retry-zero":
                body = b'{"error": "busy"}'
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
            elif mode == "evil-text":
                body = b'{"state": "\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m", "state2": 1}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                             + body)
            elif mode == "huge-numbers":
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 99999999999999999999999999\r\n"
                             b"Content-Length: 99999999999999999999999999\r\n\r\n")
                conn.close()
                return
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(64)
print(server.getsockname()[1], flush=True)
while True:
    client, _ = server.accept()
    threading.Thread(target=handle, args=(client,), daemon=True).start()
