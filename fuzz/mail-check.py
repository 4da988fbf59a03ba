#!/usr/bin/python3
# Renders the realistic outbox entries of the mail target's seed corpus
# through the fuzz target (CHATPORT_MAIL_OUT) and reads each mail with
# Python's email package, as a mail client would: no parser defects, the
# subject, names and text decode exactly (Japanese included), the
# threading headers point where they should.
# Usage: mail-check.py FUZZ_BINARY CORPUS_DIR

import email
import email.header
import email.policy
import email.utils
import json
import os
import subprocess
import sys
import tempfile

binary, corpus = sys.argv[1], sys.argv[2]

CID = "0f3a9c2e4b5d6e7f8091a2b3c4d5e6f7"
LONG_NAME = ("寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処"
             "やぶら小路の藪柑子パイポパイポパイポのシューリンガン")

# seed: subject, From display name, Reply-To, root (None: no threading),
# texts the body must hold
EXPECT = {
    "owner-offline-ja": (
        "[ショップ例] 山田 太郎 さんから 2 件の新着メッセージ", "ショップ例",
        "山田 太郎 <taro@example.jp>", None,
        ["担当者が不在の間に 山田 太郎 さんから ショップ例 にメッセージが届きました。",
         "こんにちは。注文した商品がまだ届きません。",
         "2025-11-30 10:53 UTC  山田 太郎:",
         "    注文番号は A-1234 です。\r\n    確認をお願いします。",
         "管理画面で返信する: https://shop.example/chatport/agent/#" + CID,
         "このメールに返信すると、訪問者にメールで届きます。"]),
    "owner-unanswered-en": (
        "[Shop Example] Waiting for an answer: a visitor", "Shop Example",
        None, 1,
        ["Hello? Is anyone there?", "Page: https://shop.example/products/42",
         "Referrer: https://www.google.com/",
         "No email address of the visitor to reply to"]),
    "visitor-reply-en": (
        "[Shop Example] Reply from Yuki", "Shop Example", None, 1,
        ["Yuki:\r\n    Yes, we do.\r\n    Shipping takes about a week.",
         "Ken:\r\n    Customs fees may apply.",
         "Earlier in the conversation:",
         "You:\r\n    Do you ship to Canada?",
         "Continue the conversation: https://shop.example/products/42"]),
    "visitor-reply-ja": (
        "[shop] 佐藤 からの返信", "shop", None, 1,
        ["お待たせしました。本日発送いたしました。", "会話の続きはこちら: "]),
    "form-en": (
        "[Shop Example] Contact form from Jane Doe", "Shop Example",
        "Jane Doe <jane@example.com>", None,
        ["Name: Jane Doe", "Email: jane@example.com", "Phone: +1 555 0100",
         "Message:\r\n    Hello,\r\n    I would like a quote.\r\n    \r\n"
         "    Thanks", "budget: 1000",
         "User agent: Mozilla/5.0 (X11; Linux x86_64)",
         "Page: https://shop.example/contact",
         "Referrer: https://www.google.com/"]),
    "form-ja-anonymous": (
        "[Shop Example] お問い合わせ: 訪問者", "Shop Example", None, 1,
        ["Shop Example のお問い合わせフォームに 訪問者から送信がありました。",
         "お問い合わせ内容: 資料を送ってください。", "会話:",
         "チャットからも質問しました"]),
    "owner-crlf-names": (
        "[Shop Bcc: evil@attacker.example] New message from "
        "Eve Bcc: evil@attacker.example Subject: hi",
        "Shop Bcc: evil@attacker.example", None, 1,
        ["    line\r\n    two\u2028three\u0085four",
         "Eve Bcc: evil@attacker.example Subject: hi:"]),
    "owner-long-subject-ja": (
        "[とても長いお店の名前のオンラインショップ・日本語テキスト株式会社公式通販サイト] "
        + LONG_NAME[:60] + "… さんから 2 件の新着メッセージ",
        "とても長いお店の名前のオンラインショップ・日本語テキスト株式会社公式通販サイト",
        LONG_NAME[:60] + "… <hanako@example.jp>", 1,
        ["😀 絵文字もあります 🎌"]),
    "owner-50-messages": (
        "[Shop Example] 50 new messages from Bob", "Shop Example",
        "Bob <bob@example.org>", None,
        ["Bob:\r\n    message 0\r\n    more", "message 49\r\n"]),
    "corrupt-types": (
        "[shop] New message from a visitor", "shop", None, None, ["ok"]),
}

failures = 0


def fail(seed, what):
    global failures
    failures += 1
    print("chatport: mail check %s: %s" % (seed, what))


def display(parsed, raw):
    """NAME <addr>; an encoded name as RFC 2047 reads it: policy.default
    keeps the folding space between two encoded-words of a phrase"""

    if "=?" in raw:
        return str(email.header.make_header(email.header.decode_header(raw)))

    return "%s <%s>" % (parsed.addresses[0].display_name,
                        parsed.addresses[0].addr_spec)


def check(seed, raw, entry):
    subject, title, reply_to, root, texts = EXPECT[seed]

    msg = email.message_from_bytes(raw, policy=email.policy.default)

    if msg.defects:
        fail(seed, "defects %r" % msg.defects)

    for name, value in msg.items():
        if getattr(value, "defects", None):
            fail(seed, "%s: defects %r" % (name, value.defects))

    for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"):
        if len(line) > 78 and b"@" not in line:
            fail(seed, "header line of %d: %r" % (len(line), line))

    if str(msg["subject"]) != subject:
        fail(seed, "Subject %r, not %r" % (str(msg["subject"]), subject))

    legacy = email.message_from_bytes(raw, policy=email.policy.compat32)

    sender = msg["from"].addresses[0]
    want = "%s <%s>" % (title, entry["from"])
    got = display(msg["from"], legacy["from"])
    if got != want or sender.addr_spec != entry["from"]:
        fail(seed, "From %r, not %r" % (got, want))

    to = [a.addr_spec for a in msg["to"].addresses]
    want = [a for a in entry["to"]
            if isinstance(a, str) and "@" in a and "." in a.split("@")[1]]
    if to != want:
        fail(seed, "To %r, not %r" % (to, want))

    got = None
    if msg["reply-to"] is not None:
        got = display(msg["reply-to"], legacy["reply-to"])

    if got != reply_to:
        fail(seed, "Reply-To %r, not %r" % (got, reply_to))

    for name in ("Bcc", "Cc"):
        if msg[name] is not None:
            fail(seed, "a %s header" % name)

    if msg["auto-submitted"] != "auto-generated":
        fail(seed, "Auto-Submitted %r" % msg["auto-submitted"])

    date = email.utils.parsedate_to_datetime(str(msg["date"]))
    if (isinstance(entry.get("ts"), int) and entry["ts"] < 2 ** 40
            and date.timestamp() != entry["ts"] // 1000):
        fail(seed, "Date %s" % msg["date"])

    if isinstance(entry.get("seq"), int):
        mid = "<chatport.%s.%d@shop.example>" % (CID, entry["seq"])
        if msg["message-id"] != mid:
            fail(seed, "Message-ID %r" % msg["message-id"])

    if root is None:
        if msg["in-reply-to"] is not None or msg["references"] is not None:
            fail(seed, "threading headers on a first mail")
    else:
        rid = "<chatport.%s.%d@shop.example>" % (CID, root)
        if msg["in-reply-to"] != rid or msg["references"] != rid:
            fail(seed, "In-Reply-To %r, References %r"
                 % (msg["in-reply-to"], msg["references"]))

    if (msg.get_content_type() != "text/plain"
            or msg.get_content_charset() != "utf-8"
            or msg["content-transfer-encoding"] != "base64"):
        fail(seed, "Content-Type %r" % msg["content-type"])

    body = msg.get_payload(decode=True).decode("utf-8")

    for text in texts:
        if text not in body:
            fail(seed, "no %r in the body:\n%s" % (text, body))


def main():
    seen = 0

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "mail")

        for seed in sorted(EXPECT):
            path = os.path.join(corpus, seed)

            with open(path, "rb") as f:
                entry = json.loads(f.read())

            if os.path.exists(out):
                os.unlink(out)

            run = subprocess.run([binary, path], capture_output=True,
                                 env=dict(os.environ, CHATPORT_MAIL_OUT=out))

            if run.returncode != 0 or not os.path.exists(out):
                fail(seed, "no mail, exit %d\n%s"
                     % (run.returncode, run.stderr.decode(errors="replace")))
                continue

            with open(out, "rb") as f:
                check(seed, f.read(), entry)

            seen += 1

    print("chatport: mail check: %d entries, %d failures" % (seen, failures))

    return 1 if failures or seen != len(EXPECT) else 0


sys.exit(main())
