#!/usr/bin/env python3
"""A stand-in daemon for bench/build.sh: answers /_ping, and reads each
POST /build body (the docker CLI's chunked context) to its end and answers
with an image ID, doing nothing else. `docker build` against it measures
the docker CLI alone: the floor under any daemon's cached build.
Usage: null-daemon.py SOCKET"""
import os
import socket
import sys

path = sys.argv[1]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(8)
AUX = b'{"aux":{"ID":"sha256:' + b"0" * 64 + b'"}}\r\n'
while True:
    c, _ = srv.accept()
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            break
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    line = head.split(b"\r\n")[0]
    if not line.startswith(b"POST"):
        c.sendall(b"HTTP/1.1 200 OK\r\nApi-Version: 1.50\r\nContent-Length: 2\r\n"
                  b"Connection: close\r\n\r\nOK")
        c.close()
        continue
    # The chunked body ends with a zero-length chunk.
    tail = rest[-8:]
    while not (tail + b"").endswith(b"0\r\n\r\n"):
        d = c.recv(4 << 20)
        if not d:
            break
        tail = (tail + d)[-8:]
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n%s" % (len(AUX), AUX))
    c.close()
