#!/usr/bin/python3
"""An SMTP server for ChatPort's mail tests, on 127.0.0.1 only.

Run it with Debian's /usr/bin/python3 (python3-aiosmtpd). Every message
accepted is saved in --dir as NNNN.eml (the bytes received, CRLF lines,
dot-unstuffed) and then NNNN.json (the envelope); both are written to a
temporary name and renamed, so a NNNN.json means a complete mail.
DIR/events.log has a line of JSON ({"event", "time", "pid", "conn", ...})
for each: listen, connect (with "hang": true for one never answered),
starttls, tls-fail, auth-ok, auth-fail (with "user"), tempfail, reject,
accept (with "file"), close, exit. SIGTERM or SIGINT: exit 0.

  smtpd.py --dir D [--port N] [--port-file F] [--starttls CERT KEY |
           --tls CERT KEY] [--auth USER:PASS [--auth-plain-ok]]
           [--tempfail N] [--reject ADDR]... [--hang | --hang-first N]

--hang and --hang-first: such a connection is accepted and never gets a
byte (no greeting, no TLS handshake); what it sends is ignored.
--tempfail: the first N messages get 451 4.3.0 at the end of DATA.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import ssl
import sys
import time


class Log:
    """DIR/events.log: one JSON object a line, appended in one write."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def event(self, name, **fields):
        line = dict(event=name, time=round(time.time(), 3), pid=os.getpid())
        line.update(fields)
        os.write(self.fd, (json.dumps(line) + "\n").encode())


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path),
                       "." + os.path.basename(path) + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def peer_text(peer):
    return "%s:%s" % peer[:2] if peer else None


class Door(asyncio.Protocol):
    """Every connection's first protocol: it logs the connection and
    hands it over to the SMTP server (after a TLS handshake with --tls),
    or, for one to hang, keeps it, reading and dropping whatever comes.
    """

    def __init__(self, log, conn, serving):
        self.log = log
        self.conn = conn
        self.serving = serving

    def connection_made(self, transport):
        self.log.event("connect", conn=self.conn, hang=self.serving is None,
                       peer=peer_text(transport.get_extra_info("peername")))
        if self.serving is not None:
            self.serving(self, transport)

    def data_received(self, data):
        pass

    def connection_lost(self, exc):
        self.log.event("close", conn=self.conn)


def serve(args, log):
    """The SMTP side, with aiosmtpd: returns what a door calls to hand its
    connection over."""

    try:
        from aiosmtpd.smtp import SMTP, AuthResult, TLSSetupException
    except ImportError as e:
        sys.exit("smtpd.py: %s: run it with /usr/bin/python3, with Debian's"
                 " python3-aiosmtpd (scripts/deps.sh installs it)" % e)

    seen = {"data": 0}
    rejects = {a.lower() for a in args.reject}
    user, _, password = (args.auth or "").partition(":")

    # numbering goes on after a restart in the same folder
    numbers = [int(m.group(1)) for m in
               (re.fullmatch(r"(\d+)\.json", f) for f in os.listdir(args.dir))
               if m]
    seen["mail"] = max(numbers, default=0)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address,
                              rcpt_options):
            if address.lower() in rejects:
                log.event("reject", conn=server.conn, rcpt=address)
                return "550 5.1.1 <%s>: recipient rejected" % address
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            seen["data"] += 1
            if seen["data"] <= args.tempfail:
                log.event("tempfail", conn=server.conn,
                          sender=envelope.mail_from, rcpt=envelope.rcpt_tos)
                return "451 4.3.0 temporary failure (test)"

            seen["mail"] += 1
            name = "%04d" % seen["mail"]
            login = session.auth_data.login if session.authenticated else None
            meta = {
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "mail_options": envelope.mail_options,
                "helo": session.host_name,
                "peer": peer_text(session.peer),
                "conn": server.conn,
                "tls": server.transport.get_extra_info("ssl_object")
                       is not None,
                "user": login.decode("utf-8", "replace") if login else None,
                "time": time.time(),
            }
            # every event is logged before the client has its answer, and
            # an accept before its mail is complete: once a mail is seen,
            # so is its accept
            write_atomic(os.path.join(args.dir, name + ".eml"),
                         envelope.original_content)
            log.event("accept", conn=server.conn, file=name,
                      sender=envelope.mail_from, rcpt=envelope.rcpt_tos)
            write_atomic(os.path.join(args.dir, name + ".json"),
                         json.dumps(meta, indent=1).encode())
            return "250 2.0.0 OK queued as " + name

        def handle_STARTTLS(self, server, session, envelope):
            log.event("starttls", conn=server.conn)
            return True

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login == user.encode()
              and auth_data.password == password.encode())
        log.event("auth-ok" if ok else "auth-fail", conn=server.conn,
                  mechanism=mechanism,
                  user=auth_data.login.decode("utf-8", "replace"))
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    class Server(SMTP):
        def __init__(self, conn):
            self.conn = conn
            auth = {}
            if args.auth:
                # aiosmtpd knows only its own STARTTLS: over implicit
                # TLS it would refuse AUTH as unencrypted
                auth = dict(authenticator=authenticator, auth_required=True,
                            auth_require_tls=not (args.auth_plain_ok
                                                  or args.tls))
            super().__init__(Handler(), hostname="localhost",
                             ident="chatport-test-smtpd",
                             tls_context=starttls, **auth)

        def connection_lost(self, exc):
            log.event("close", conn=self.conn)
            super().connection_lost(exc)

        async def handle_exception(self, error):
            if isinstance(error, TLSSetupException):
                log.event("tls-fail", conn=self.conn,
                          error=str(error.__cause__))
            return await super().handle_exception(error)

    starttls = implicit = None
    if args.starttls:
        starttls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        starttls.load_cert_chain(*args.starttls)
    if args.tls:
        implicit = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        implicit.load_cert_chain(*args.tls)

    def hand_over(door, transport):
        smtp = Server(door.conn)
        transport.set_protocol(smtp)
        smtp.connection_made(transport)

    # the door stays the TLS layer's protocol until the handshake is done:
    # a failed one closes the door, not an SMTP session never begun
    async def handshake(door, transport):
        try:
            tls = await asyncio.get_running_loop().start_tls(
                transport, door, implicit, server_side=True)
        except OSError as e:            # ssl.SSLError is one
            log.event("tls-fail", conn=door.conn, error=str(e))
            return
        hand_over(door, tls)

    handshakes = set()      # the loop keeps only weak references to tasks

    def start_handshake(door, transport):
        task = asyncio.get_running_loop().create_task(
            handshake(door, transport))
        handshakes.add(task)
        task.add_done_callback(handshakes.discard)

    return hand_over if implicit is None else start_handshake


async def main(args):
    log = Log(os.path.join(args.dir, "events.log"))
    serving = None if args.hang else serve(args, log)
    count = {"conn": 0}

    def door():
        count["conn"] += 1
        hang = count["conn"] <= args.hang_first
        return Door(log, count["conn"], None if hang else serving)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(door, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    log.event("listen", port=port)

    if args.port_file:
        write_atomic(args.port_file, b"%d\n" % port)

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    await stop

    server.close()
    log.event("exit")


def options():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--dir", required=True)
    tls = p.add_mutually_exclusive_group()
    tls.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    tls.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--auth-plain-ok", action="store_true")
    p.add_argument("--tempfail", type=int, default=0, metavar="N")
    p.add_argument("--reject", action="append", default=[], metavar="ADDR")
    hang = p.add_mutually_exclusive_group()
    hang.add_argument("--hang", action="store_true")
    hang.add_argument("--hang-first", type=int, default=0, metavar="N")
    args = p.parse_args()
    if args.auth and ":" not in args.auth:
        p.error("--auth takes USER:PASS")
    return args


if __name__ == "__main__":
    asyncio.run(main(options()))
