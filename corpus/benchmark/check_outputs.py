#!/usr/bin/env python3
"""Checks the CSVs in corpus/benchmark/out/ and prints a table of their figures (Markdown).

    python3 corpus/benchmark/check_outputs.py [--samples N]

Each file must have the header text,label, parse as RFC 4180 CSV, and hold no empty text, no
empty label, no line break inside a text and no duplicate text. Exits non-zero on a problem.
With --samples N it also prints N rows of each class.
"""
import argparse
import collections
import csv
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["wordnet-verbs.csv", "wordnet-examples-8class.csv", "spam-assassin.csv", "sotu.csv"]


def check(path):
    problems = []
    with open(path, encoding="utf-8", newline="") as f:
        records = list(csv.reader(f))
    if not records or records[0] != ["text", "label"]:
        problems.append(f"header is {records[:1]}")
    rows = records[1:]
    seen = set()
    for i, rec in enumerate(rows, start=2):
        if len(rec) != 2:
            problems.append(f"record {i} has {len(rec)} fields")
            continue
        text, label = rec
        if not text.strip() or not label.strip():
            problems.append(f"record {i} has an empty field")
        if "\n" in text or "\r" in text or text != " ".join(text.split()):
            problems.append(f"record {i} has a line break or uncollapsed white space")
        if text in seen:
            problems.append(f"record {i} repeats a text")
        seen.add(text)
    return [r for r in rows if len(r) == 2], problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(HERE, "out"))
    ap.add_argument("--samples", type=int, default=0)
    args = ap.parse_args()
    failed = False
    print("| corpus | rows | classes | per class | mean chars | mean words |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    details = []
    for name in FILES:
        path = os.path.join(args.dir, name)
        if not os.path.isfile(path):
            print(f"| {name} | missing | | | | |")
            failed = True
            continue
        rows, problems = check(path)
        counts = collections.Counter(label for _, label in rows)
        chars = sum(len(t) for t, _ in rows) / max(len(rows), 1)
        words = sum(len(t.split()) for t, _ in rows) / max(len(rows), 1)
        per = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"| {name} | {len(rows)} | {len(counts)} | {per} | {chars:.1f} | {words:.1f} |")
        if problems:
            failed = True
            details.append(f"{name}: {len(problems)} problems, first: {problems[:3]}")
        if args.samples:
            rng = random.Random(1)
            by = collections.defaultdict(list)
            for text, label in rows:
                by[label].append(text)
            for label in sorted(by):
                for text in rng.sample(by[label], min(args.samples, len(by[label]))):
                    details.append(f"  {name} [{label}] {text[:160]}")
    for line in details:
        print(line)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
