#!/usr/bin/env python3
"""Builds out/wordnet-verbs.csv: WordNet verb glosses labelled by lexicographer file.

Input: Debian's wordnet-base (WordNet 3.0), installed with

    apt-get install -y wordnet-base

    python3 corpus/benchmark/build_wordnet_verbs.py [--data /usr/share/wordnet/data.verb] [--out FILE]

Each row is the definition part of a verb synset's gloss: the text before the first quoted example
(a gloss reads 'definition; "example"; "example"'), so several ';'-separated definition clauses
stay and the examples go. Labels are the synset's lexicographer file without the 'verb.' prefix:
motion (38), communication (32), consumption (34), emotion (37); the numbers are checked against
the lexnames file or, where wordnet-base ships only that, the lexnames(5WN) man page. Definitions
of at least 12 characters; an identical definition is kept once (and dropped if it occurs under
two labels); at most 500 per class, drawn with a fixed seed. verb.consumption and verb.emotion
have fewer than 500 synsets, so those classes hold all they have.
"""
import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_common as cc  # noqa: E402

CLASSES = {38: "verb.motion", 32: "verb.communication", 34: "verb.consumption", 37: "verb.emotion"}
PER_CLASS = 500
MIN_CHARS = 12
SEED = 20261201

# The first quote that opens an example: at the start or after ';', ',' or ':' (a quote inside a
# definition, as in 'spread by scattering ("straw" is archaic)', follows other characters).
EXAMPLE_START = re.compile(r'(?:^|[;,:])\s*"')


def definition(gloss):
    m = EXAMPLE_START.search(gloss)
    text = gloss[: m.start()] if m else gloss
    text = cc.one_line(text).rstrip(" ;,:")
    if text.endswith("e.g."):
        text = text[: -len("e.g.")].rstrip(" ;,:")
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/wordnet/data.verb")
    ap.add_argument("--out", default=os.path.join(cc.OUT_DIR, "wordnet-verbs.csv"))
    args = ap.parse_args()
    if not os.path.isfile(args.data):
        cc.missing(args.data, "apt-get install -y wordnet-base")
    cc.check_lexnames(CLASSES)

    pairs = []
    for lex, gloss in cc.wordnet_lines(args.data):
        if lex in CLASSES:
            text = definition(gloss)
            if len(text) >= MIN_CHARS:
                pairs.append((CLASSES[lex].removeprefix("verb."), text))
    rows = cc.sample(cc.unique_by_label(pairs), PER_CLASS, SEED)
    cc.write_csv(rows, args.out)


if __name__ == "__main__":
    main()
