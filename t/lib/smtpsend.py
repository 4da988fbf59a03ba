#!/usr/bin/python3
"""Sends one mail with Python's smtplib: the client of t/081-smtpd-tool.t.

  smtpsend.py --port N [--starttls CA | --tls CA] [--auth USER:PASS
              [--mech PLAIN|LOGIN]] [--to ADDR]... [--subject S] [--body B]

CA "system": the system's certificate store. The mail: a UTF-8 subject
(RFC 2047) and a UTF-8 body in base64. Prints one line of JSON: {"ok":
true, "refused": {ADDR: [code, text]}} or {"ok": false, "error": the
exception's class, "code": the SMTP code or null, "text"}.
"""

import argparse
import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def context(ca):
    return ssl.create_default_context(cafile=None if ca == "system" else ca)


def send(a):
    msg = EmailMessage()
    msg["From"] = a.sender
    msg["To"] = ", ".join(a.to)
    msg["Subject"] = a.subject
    msg["Date"] = formatdate()
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content(a.body, charset="utf-8", cte="base64")

    if a.tls:
        smtp = smtplib.SMTP_SSL("127.0.0.1", a.port, timeout=a.timeout,
                                context=context(a.tls))
    else:
        smtp = smtplib.SMTP("127.0.0.1", a.port, timeout=a.timeout)

    with smtp:
        if a.starttls:
            smtp.starttls(context=context(a.starttls))
        if a.auth:
            user, _, password = a.auth.partition(":")
            if a.mech:
                smtp.ehlo_or_helo_if_needed()
                smtp.user, smtp.password = user, password
                smtp.auth(a.mech, getattr(smtp, "auth_" + a.mech.lower()))
            else:
                smtp.login(user, password)
        return smtp.send_message(msg, a.sender, a.to)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--starttls", metavar="CA")
    p.add_argument("--tls", metavar="CA")
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--mech", choices=["PLAIN", "LOGIN"])
    p.add_argument("--from", dest="sender", default="shop@example.com")
    p.add_argument("--to", action="append")
    p.add_argument("--subject", default="test")
    p.add_argument("--body", default="test\n")
    p.add_argument("--timeout", type=float, default=10)
    a = p.parse_args()
    a.to = a.to or ["owner@example.com"]

    try:
        refused = send(a)
        out = {"ok": True, "refused": {k: [c, t.decode("utf-8", "replace")]
                                       for k, (c, t) in refused.items()}}
    except (smtplib.SMTPException, OSError) as e:
        code = getattr(e, "smtp_code", None)
        text = getattr(e, "smtp_error", str(e))
        if isinstance(e, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(e.recipients.values()))
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        out = {"ok": False, "error": type(e).__name__, "code": code,
               "text": text}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
