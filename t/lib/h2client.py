#!/usr/bin/python3
"""One HTTP/2 connection over TLS, driven line by line, for t/070-http2.t.

    /usr/bin/python3 t/lib/h2client.py PORT

Needs Debian's python3-h2. Connects to 127.0.0.1:PORT (TLS, ALPN "h2",
the certificate is not checked), then reads commands from stdin, one JSON
object a line, and writes what happens to stdout, one JSON object a line:

  {"op": "request", "id": "p1", "method": "GET", "path": "/x",
   "headers": {"name": "value"}, "body": "text"}
        opens a stream ("pieces": ["te", "xt"] instead of "body" sends
        each piece in its own DATA frame, 50 ms apart; "no_length": true
        leaves out content-length); later {"id": "p1", "status": 200,
        "headers": {...}, "body": "..."} when its answer is complete, or
        {"id": "p1", "reset": CODE} when the server resets it
  {"op": "reset", "id": "p1"}    RST_STREAM (CANCEL) of that stream
  {"op": "close"}                closes the connection, then exits

It also writes {"event": "ready"} once connected, {"event": "goaway"} when
the server sends GOAWAY and {"event": "closed"} when the server closes the
connection (then it exits). Headers repeated in an answer are joined with
", "; set-cookie ones with "\\n".
"""

import json
import os
import selectors
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import hyperframe.frame


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    port = int(sys.argv[1])

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])

    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 5),
                           server_hostname="localhost")
    if sock.selected_alpn_protocol() != "h2":
        raise SystemExit("no h2 from the server")

    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()

    # h2 closes its side on GOAWAY, but streams up to the frame's last
    # stream id go on (RFC 9113, 6.8): nginx answers them after a GOAWAY
    # on a graceful shutdown, and those answers are what is tested
    def goaway(frame):
        ev = h2.events.ConnectionTerminated()
        ev.error_code = frame.error_code
        ev.last_stream_id = frame.last_stream_id
        return [], [ev]

    conn._frame_dispatch_table[hyperframe.frame.GoAwayFrame] = goaway
    sock.sendall(conn.data_to_send())
    sock.setblocking(False)

    streams = {}            # stream id -> {"id", "headers", "body"}
    ids = {}                # request id -> stream id
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, "net")
    sel.register(sys.stdin, selectors.EVENT_READ, "cmd")
    say({"event": "ready"})

    def flush():
        out = conn.data_to_send()
        if out:
            sock.setblocking(True)
            sock.sendall(out)
            sock.setblocking(False)

    def command(cmd):
        if cmd["op"] == "request":
            sid = conn.get_next_available_stream_id()
            pieces = [p.encode("utf-8") for p in cmd.get("pieces", [])]
            if "body" in cmd:
                pieces = [cmd["body"].encode("utf-8")]
            hdrs = [(":method", cmd.get("method", "GET")),
                    (":scheme", "https"),
                    (":authority", "localhost:%d" % port),
                    (":path", cmd["path"])]
            hdrs += [(k.lower(), v) for k, v in cmd.get("headers", {}).items()]
            if pieces and not cmd.get("no_length"):
                hdrs.append(("content-length",
                             str(sum(len(p) for p in pieces))))
            conn.send_headers(sid, hdrs, end_stream=not pieces)
            for i, piece in enumerate(pieces):
                if i:
                    # each piece in its own DATA frame, read on its own
                    flush()
                    time.sleep(0.05)
                conn.send_data(sid, piece, end_stream=i == len(pieces) - 1)
            streams[sid] = {"id": cmd["id"], "headers": {}, "body": b""}
            ids[cmd["id"]] = sid
        elif cmd["op"] == "reset":
            conn.reset_stream(ids[cmd["id"]], h2.errors.ErrorCodes.CANCEL)
        elif cmd["op"] == "close":
            sock.close()
            raise SystemExit(0)

    def network(data):
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived):
                st = streams[ev.stream_id]
                for k, v in ev.headers:
                    old = st["headers"].get(k)
                    sep = "\n" if k == "set-cookie" else ", "
                    st["headers"][k] = v if old is None else old + sep + v
            elif isinstance(ev, h2.events.DataReceived):
                streams[ev.stream_id]["body"] += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length,
                                               ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                st = streams.pop(ev.stream_id)
                say({"id": st["id"],
                     "status": int(st["headers"].get(":status", 0)),
                     "headers": st["headers"],
                     "body": st["body"].decode("utf-8", "replace")})
            elif isinstance(ev, h2.events.StreamReset):
                st = streams.pop(ev.stream_id, None)
                if st:
                    say({"id": st["id"], "reset": int(ev.error_code)})
            elif isinstance(ev, h2.events.ConnectionTerminated):
                say({"event": "goaway",
                     "last_stream_id": ev.last_stream_id})

    pending = b""
    while True:
        for key, _ in sel.select():
            if key.data == "cmd":
                chunk = os.read(sys.stdin.fileno(), 65536)
                if not chunk:
                    return
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    command(json.loads(line))
            else:
                # TLS may hold more decrypted data than select() tells
                while True:
                    try:
                        data = sock.recv(65536)
                    except (ssl.SSLWantReadError, BlockingIOError):
                        break
                    except (ConnectionError, ssl.SSLError):
                        data = b""
                    if not data:
                        say({"event": "closed"})
                        return
                    network(data)
            flush()

if __name__ == "__main__":
    main()
