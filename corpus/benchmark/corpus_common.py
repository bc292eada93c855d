"""Helpers shared by the benchmark corpus scripts in this folder (Python 3 standard library only).

Not a corpus script itself: build_*.py import it from their own folder.
"""
import collections
import csv
import gzip
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "out")
NPM_DIR = os.path.join(OUT_DIR, "npm", "node_modules")

# C0/C1 control characters and other characters that have no place in a one-line text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def one_line(text):
    """Control characters dropped, every run of whitespace (newlines included) made one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def missing(what, install):
    """Exits with one line saying what is missing and how to install it."""
    sys.exit(f"{os.path.basename(sys.argv[0])}: {what} not found; install it with: {install}")


def lexnames():
    """WordNet's lexicographer file numbers -> names, read from the lexnames file (or the lexnames(5WN)
    man page, which wordnet-base ships instead of the file). None when neither is installed."""
    line = re.compile(r"^(\d\d)\t([a-z]+\.[A-Za-z]+)")
    for path in ("/usr/share/wordnet/lexnames", "/usr/share/man/man5/lexnames.5WN.gz"):
        if not os.path.exists(path):
            continue
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            found = {int(m.group(1)): m.group(2) for m in map(line.match, f) if m}
        if found:
            return found, path
    return None, None


def check_lexnames(expected):
    """Checks {number: 'verb.x'} against the installed lexnames; exits on a mismatch."""
    names, path = lexnames()
    if names is None:
        print("warning: neither /usr/share/wordnet/lexnames nor lexnames(5WN) found; "
              "using the built-in WordNet 3.0 numbers", file=sys.stderr)
        return
    for number, name in sorted(expected.items()):
        if names.get(number) != name:
            sys.exit(f"lexicographer file {number} is {names.get(number)!r} in {path}, expected {name!r}")
    print(f"lexicographer numbers checked against {path}")


def wordnet_lines(path):
    """(lex_filenum, gloss) for each synset line of a WordNet data.* file."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue  # licence header
            fields, _, gloss = line.partition("|")
            yield int(fields.split()[1]), gloss.strip()


def unique_by_label(pairs):
    """{label: sorted texts}: identical texts kept once; a text found under two labels is dropped."""
    labels = collections.defaultdict(set)
    for label, text in pairs:
        labels[text].add(label)
    by_class = collections.defaultdict(list)
    conflicting = 0
    for text, ls in labels.items():
        if len(ls) == 1:
            by_class[next(iter(ls))].append(text)
        else:
            conflicting += 1
    if conflicting:
        print(f"dropped {conflicting} texts found under more than one label")
    return {label: sorted(texts) for label, texts in by_class.items()}


def sample(by_class, per_class, seed):
    """At most per_class texts of each class (fixed-seed shuffle of the sorted texts), then all rows
    shuffled together so that the classes are interleaved."""
    rng = random.Random(seed)
    rows = []
    for label in sorted(by_class):
        texts = sorted(by_class[label])
        rng.shuffle(texts)
        rows += [(text, label) for text in texts[:per_class]]
    rng.shuffle(rows)
    return rows


def write_csv(rows, path):
    """Writes text,label rows (RFC 4180: CRLF, quotes where needed), checks them, prints a summary."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    for text, label in rows:
        if not text or text != one_line(text) or not label:
            raise ValueError(f"bad row: {(text, label)!r}")
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["text", "label"])
        w.writerows(rows)
    counts = collections.Counter(label for _, label in rows)
    chars = sum(len(t) for t, _ in rows) / len(rows)
    words = sum(len(t.split()) for t, _ in rows) / len(rows)
    per = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"wrote {len(rows)} rows, {len(counts)} classes ({per}); mean {chars:.1f} chars, "
          f"{words:.1f} words -> {path}")
