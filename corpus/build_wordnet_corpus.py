#!/usr/bin/env python3
"""Builds corpus/wordnet-4class.csv, the demo's bundled corpus, from Debian's wordnet-base package.

Each line is a WordNet noun gloss (its definition, without the headword) and the synset's
lexicographer category as the label: animal, food, plant or person. 2,000 glosses per class are
drawn with a fixed seed; every fourth line has its label removed, so part of the stream is
unlabelled as live traffic would be. WordNet's licence is in corpus/LICENSE-WordNet.txt.

    apt-get install wordnet-base && python3 corpus/build_wordnet_corpus.py
"""
import csv
import os
import random

DATA = "/usr/share/wordnet/data.noun"
CLASSES = {5: "animal", 13: "food", 20: "plant", 18: "person"}  # lexicographer file numbers
PER_CLASS = 2000
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wordnet-4class.csv")


def glosses():
    with open(DATA, encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue  # licence header
            fields, _, gloss = line.partition("|")
            parts = fields.split()
            lex = int(parts[1])
            if lex not in CLASSES:
                continue
            # The definition only: drop the quoted examples after ';'.
            definition = gloss.split(";")[0].strip()
            if len(definition) >= 12:
                yield CLASSES[lex], definition


def main():
    by_class = {}
    for label, text in glosses():
        by_class.setdefault(label, []).append(text)
    rng = random.Random(20261128)
    rows = []
    for label in sorted(by_class):
        texts = sorted(set(by_class[label]))
        rng.shuffle(texts)
        rows += [(t, label) for t in texts[:PER_CLASS]]
    rng.shuffle(rows)
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for i, (text, label) in enumerate(rows):
            w.writerow([text, "" if i % 4 == 3 else label])
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
