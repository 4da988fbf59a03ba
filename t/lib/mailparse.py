#!/usr/bin/python3
"""Parses mails saved by smtpd.py as a mail client would, for the tests.

  mailparse.py DIR/0001.eml [...]

prints a JSON array, one object a file:
  file          "0001"
  envelope      DIR/0001.json as smtpd.py wrote it (from, to, tls, user...)
  headers       [[name, value]...], every header in order, decoded
                (RFC 2047 words to Unicode)
  subject, from, to, cc, reply_to, message_id, in_reply_to, references,
  auto_submitted, date, mime_version
                the first such header, decoded, or null
  addresses     {"from", "to", "cc", "reply_to"}: the bare addresses
  date_valid    whether Date parses
  raw_headers   the header's lines as received, without CRLF, bytes as
                Latin-1 characters (8-bit shows up as characters > 0x7f)
  bare_newlines how many CR or LF in the whole mail are not a CRLF
  content_type  of the mail; parts: the leaf parts' types when multipart
  charset, content_transfer_encoding
                of the part the body comes from
  body          that part (text/plain first, else text/html) decoded to
                Unicode, line ends as "\\n"
  defects       what the parser found wrong, "where: Defect: text"

Run it with /usr/bin/python3 (the standard library only).
"""

import email.policy
import json
import os
import re
import sys
from email.parser import BytesParser

FIELDS = ["subject", "from", "to", "cc", "reply_to", "message_id",
          "in_reply_to", "references", "auto_submitted", "date",
          "mime_version"]


def defects_of(where, obj):
    return ["%s: %s: %s" % (where, type(d).__name__, d) for d in obj.defects]


def parse(path):
    with open(path, "rb") as f:
        raw = f.read()

    msg = BytesParser(policy=email.policy.default).parsebytes(raw)
    out = {"file": os.path.basename(path)[:-len(".eml")]}

    meta = path[:-len(".eml")] + ".json"
    with open(meta, "rb") as f:
        out["envelope"] = json.load(f)

    out["headers"] = [[k, str(v)] for k, v in msg.items()]
    for name in FIELDS:
        v = msg[name.replace("_", "-")]
        out[name] = None if v is None else str(v)

    out["addresses"] = {}
    for name in ("from", "to", "cc", "reply_to"):
        v = msg[name.replace("_", "-")]
        out["addresses"][name] = [a.addr_spec for a in v.addresses] if v \
            else []

    date = msg["date"]
    out["date_valid"] = date is not None and date.datetime is not None

    head = re.split(rb"\r\n\r\n", raw, maxsplit=1)[0]
    out["raw_headers"] = head.decode("latin-1").split("\r\n")
    out["bare_newlines"] = len(re.findall(rb"\r(?!\n)|(?<!\r)\n", raw))

    out["content_type"] = msg.get_content_type()
    out["parts"] = [p.get_content_type() for p in msg.walk()
                    if not p.is_multipart()] if msg.is_multipart() else []

    defects = defects_of("message", msg)
    for part in msg.walk():
        if part is not msg:
            defects += defects_of(part.get_content_type(), part)
        for k, v in part.items():
            defects += defects_of(k, v)

    body = msg.get_body(preferencelist=("plain", "html"))
    out["body"] = out["charset"] = out["content_transfer_encoding"] = None
    if body is not None:
        out["charset"] = body.get_content_charset()
        out["content_transfer_encoding"] = body.get(
            "content-transfer-encoding")
        try:
            out["body"] = body.get_content().replace("\r\n", "\n")
        except (LookupError, ValueError) as e:
            defects.append("body: %s: %s" % (type(e).__name__, e))

    out["defects"] = defects
    return out


if __name__ == "__main__":
    json.dump([parse(p) for p in sys.argv[1:]], sys.stdout)
    sys.stdout.write("\n")
