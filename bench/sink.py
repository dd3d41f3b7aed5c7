#!/usr/bin/env python3
# sink.py: a fast local HTTP sink for upload benchmarks. Reads each request
# body with recv_into into one 4 MiB buffer and discards it, answers 204.
# Binds 127.0.0.1 port 0 and writes the port to --port-file.
# SPDX-License-Identifier: MIT
import argparse
import os
import socket
import threading


def serve(conn):
    buf = bytearray(4 << 20)
    mv = memoryview(buf)
    data = b""
    with conn:
        while True:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            left = length - len(rest)
            while left > 0:
                n = conn.recv_into(mv, min(len(buf), left))
                if n == 0:
                    return
                left -= n
            data = b""
            conn.sendall(b"HTTP/1.1 204 No Content\r\n"
                         b"Content-Length: 0\r\n\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
