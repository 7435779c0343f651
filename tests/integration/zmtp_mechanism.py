"""Prints the security mechanism a ZeroMQ endpoint's ZMTP 3 greeting names (NULL, CURVE...).

Usage: python3 zmtp_mechanism.py tcp://ADDRESS:PORT | PORT (127.0.0.1)
It sends the signature and major version only, reads the 64-byte greeting and prints bytes
12..31 (the mechanism, NUL-padded), or "short" when the peer closes before sending them, so a
test proves a port speaks CURVE without a key of its own.
"""
import socket
import sys

target = sys.argv[1]
if target.isdigit():
    host, port = "127.0.0.1", target
else:
    host, port = target.removeprefix("tcp://").rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=3)
s.sendall(b"\xff" + b"\x00" * 8 + b"\x7f\x03")  # signature and major version 3
buf = b""
while len(buf) < 64:
    d = s.recv(64 - len(buf))
    if not d:
        break
    buf += d
print(buf[12:32].rstrip(b"\x00").decode("ascii", "replace") if len(buf) >= 32 else "short")
