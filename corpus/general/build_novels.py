#!/usr/bin/env python3
"""Builds out/sources/austen.txt and out/sources/moby-dick.txt: sentences of narrative fiction.

Input: two Debian packages of GNU R data, unpacked (not installed: that would pull in R) by
build_all.sh with

    apt-get download r-cran-janeaustenr r-cran-tokenizers
    dpkg-deb -x r-cran-janeaustenr_*.deb corpus/general/out/deb   (and the same for r-cran-tokenizers)

(`apt-get install r-cran-janeaustenr r-cran-tokenizers` works too: then pass --root /.)

    python3 corpus/general/build_novels.py [--root DIR] [--out-dir DIR]

DIR/usr/lib/R/site-library/janeaustenr/data holds Jane Austen's six completed novels (Emma,
Mansfield Park, Northanger Abbey, Persuasion, Pride and Prejudice, Sense and Sensibility), each a
character vector of the Project Gutenberg text's lines; .../tokenizers/data holds `mobydick`, the
Project Gutenberg text of Herman Melville's Moby-Dick as one string. Both are read with rdata.py
(R's lazy-load data base format). Lines are joined into paragraphs at blank lines; headings (lines
in capitals, "Chapter 12") are dropped; for Moby-Dick the Project Gutenberg header and licence, the
"Etymology" and the "Extracts" (a collection of quotations about whales) are cut: the text runs
from "CHAPTER 1. Loomings" to the end of the Epilogue. Paragraphs are split into sentences
(general_common.sentences) and kept when acceptable (4-60 words, see general_common.acceptable).
"""
import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402
import rdata  # noqa: E402

HEADING = re.compile(r"^(?:[^a-z]+|(?:chapter|volume|book)\s+[0-9ivxlc]+\.?)$", re.I)


def paragraphs(lines):
    current = []
    for line in lines:
        line = (line or "").strip()
        if not line or (not current and HEADING.match(line) and not line.endswith((".", "!", "?", '"'))):
            if current:
                yield " ".join(current)
                current = []
            continue
        current.append(line)
    if current:
        yield " ".join(current)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=gc.DEB_ROOT)
    ap.add_argument("--out-dir", default=gc.SOURCES_DIR)
    args = ap.parse_args()
    site = os.path.join(args.root, "usr/lib/R/site-library")

    austen_dir = os.path.join(site, "janeaustenr", "data")
    if not os.path.exists(os.path.join(austen_dir, "Rdata.rdx")):
        gc.missing(austen_dir, gc.deb_install_hint("r-cran-janeaustenr"))
    moby_dir = os.path.join(site, "tokenizers", "data")
    if not os.path.exists(os.path.join(moby_dir, "Rdata.rdx")):
        gc.missing(moby_dir, gc.deb_install_hint("r-cran-tokenizers"))

    books = rdata.load_package_data(austen_dir)
    stats, found = {}, []
    for name in sorted(books):
        found += gc.collect(paragraphs(books[name].value), stats)
    print(f"austen: {len(books)} novels ({', '.join(sorted(books))}); {stats}")
    copyright_file = os.path.join(args.root, "usr/share/doc/r-cran-janeaustenr/copyright")
    gc.licence_named(copyright_file, "License: MIT")
    gc.write_source("austen", found, {
        "package": "Debian r-cran-janeaustenr", "version": gc.deb_version("r-cran-janeaustenr", args.root),
        "licence": "MIT (debian/copyright `License: MIT`); the novels themselves are public-domain "
                   "Project Gutenberg texts",
        "register": "narrative fiction", "genre": "novels (1811-1818)", "files": "usr/lib/R/site-library/janeaustenr/data/Rdata.rdb"}, args.out_dir)

    text = rdata.load_package_data(moby_dir)["mobydick"].value[0].replace("\r\n", "\n")
    start = text.index("CHAPTER 1. Loomings")
    end = text.index("End of Project Gutenberg", start)
    stats = {}
    found = list(gc.collect(paragraphs(text[start:end].split("\n")), stats))
    print(f"moby-dick: {stats}")
    copyright_file = os.path.join(args.root, "usr/share/doc/r-cran-tokenizers/copyright")
    gc.licence_named(copyright_file, "License: MIT")
    gc.write_source("moby-dick", found, {
        "package": "Debian r-cran-tokenizers (data set `mobydick`)",
        "version": gc.deb_version("r-cran-tokenizers", args.root),
        "licence": "MIT (debian/copyright `License: MIT`); the novel is a public-domain Project "
                   "Gutenberg text",
        "register": "narrative fiction", "genre": "novel (1851)", "files": "usr/lib/R/site-library/tokenizers/data/Rdata.rdb"}, args.out_dir)


if __name__ == "__main__":
    main()
