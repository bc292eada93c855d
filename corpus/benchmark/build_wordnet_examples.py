#!/usr/bin/env python3
"""Builds out/wordnet-examples-8class.csv: WordNet's example sentences for verbs, 8 classes.

Input: Debian's wordnet-base (WordNet 3.0), installed with

    apt-get install -y wordnet-base

    python3 corpus/benchmark/build_wordnet_examples.py [--data /usr/share/wordnet/data.verb] [--out FILE]

Each row is one quoted example from a verb synset's gloss (the '"he ran to the store"' parts that
follow the definition), labelled by the synset's lexicographer file without the 'verb.' prefix:
motion (38), communication (32), consumption (34), emotion (37), contact (35), cognition (31),
perception (39), possession (40); the numbers are checked against the lexnames file or the
lexnames(5WN) man page. Examples of at least 15 characters and 3 words; identical sentences kept
once, and dropped when they occur under two labels; at most 400 per class, drawn with a fixed seed.
verb.consumption and verb.emotion have fewer than 400 such examples and hold all they have.
"""
import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_common as cc  # noqa: E402
from build_wordnet_verbs import EXAMPLE_START  # noqa: E402

CLASSES = {
    38: "verb.motion", 32: "verb.communication", 34: "verb.consumption", 37: "verb.emotion",
    35: "verb.contact", 31: "verb.cognition", 39: "verb.perception", 40: "verb.possession",
}
PER_CLASS = 400
MIN_CHARS = 15
MIN_WORDS = 3
SEED = 20261202
QUOTED = re.compile(r'"([^"]+)"')


def examples(gloss):
    m = EXAMPLE_START.search(gloss)
    if not m:
        return []
    return [cc.one_line(s) for s in QUOTED.findall(gloss[m.start():])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/wordnet/data.verb")
    ap.add_argument("--out", default=os.path.join(cc.OUT_DIR, "wordnet-examples-8class.csv"))
    args = ap.parse_args()
    if not os.path.isfile(args.data):
        cc.missing(args.data, "apt-get install -y wordnet-base")
    cc.check_lexnames(CLASSES)

    pairs = []
    for lex, gloss in cc.wordnet_lines(args.data):
        if lex in CLASSES:
            for text in examples(gloss):
                if len(text) >= MIN_CHARS and len(text.split()) >= MIN_WORDS:
                    pairs.append((CLASSES[lex].removeprefix("verb."), text))
    rows = cc.sample(cc.unique_by_label(pairs), PER_CLASS, SEED)
    cc.write_csv(rows, args.out)


if __name__ == "__main__":
    main()
