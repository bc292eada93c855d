#!/usr/bin/env python3
"""Builds out/sources/postgresql-doc.txt: sentences of the PostgreSQL 15 manual (technical prose).

Input: the Debian package postgresql-doc-15, unpacked (not installed: installing it pulls in and
starts the PostgreSQL server) by build_all.sh with

    apt-get download postgresql-doc-15
    dpkg-deb -x postgresql-doc-15_*.deb corpus/general/out/deb

(`apt-get install postgresql-doc-15` works too: then pass --root /.)

    python3 corpus/general/build_postgresql_doc.py [--root DIR] [--out-dir DIR]

Reads DIR/usr/share/doc/postgresql-doc-15/html/*.html in sorted order (html.parser) and keeps the
text of each <p> paragraph outside navigation headers and footers, tables, program listings and
synopses (<pre>), with inline elements (<code>, <em>, links) reduced to their text. The release
notes (release-*.html) and the licence page (legalnotice.html) are skipped.
"""
import argparse
import html.parser
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

PACKAGE = "postgresql-doc-15"
SKIP_INSIDE = {"pre", "table", "script", "style", "head", "title"}
SKIP_CLASSES = {"navheader", "navfooter", "toc", "titlepage", "synopsis", "programlisting", "screen",
                "cmdsynopsis", "funcsynopsis", "literallayout"}


class Paragraphs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, skipping)
        self.paragraph = None
        self.found = []

    def skipping(self):
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "hr", "meta", "link", "input", "col", "wbr"):
            return
        classes = set((dict(attrs).get("class") or "").split())
        skip = self.skipping() or tag in SKIP_INSIDE or bool(classes & SKIP_CLASSES)
        self.stack.append((tag, skip))
        if tag == "p" and not skip:
            self.flush()
            self.paragraph = []

    def handle_endtag(self, tag):
        if tag in ("br", "img", "hr", "meta", "link", "input", "col", "wbr"):
            return
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if tag == "p":
            self.flush()

    def handle_data(self, data):
        if self.paragraph is not None and not self.skipping():
            self.paragraph.append(data)

    def flush(self):
        if self.paragraph:
            self.found.append("".join(self.paragraph))
        self.paragraph = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=gc.DEB_ROOT)
    ap.add_argument("--out-dir", default=gc.SOURCES_DIR)
    args = ap.parse_args()
    top = os.path.join(args.root, "usr/share/doc", PACKAGE, "html")
    if not os.path.isdir(top):
        gc.missing(top, gc.deb_install_hint(PACKAGE))
    names = sorted(n for n in os.listdir(top) if n.endswith(".html")
                   and not n.startswith("release-") and n != "legalnotice.html")
    stats, found = {}, []
    for name in names:
        parser = Paragraphs()
        with open(os.path.join(top, name), encoding="utf-8", errors="replace") as f:
            parser.feed(f.read())
        parser.close()
        parser.flush()
        found += gc.collect(parser.found, stats)
    print(f"postgresql-doc: {len(names)} pages; {stats}")
    gc.licence_named(os.path.join(args.root, "usr/share/doc", PACKAGE, "copyright"), "License: PostgreSQL")
    gc.write_source("postgresql-doc", found, {
        "package": f"Debian {PACKAGE}", "version": gc.deb_version(PACKAGE, args.root),
        "licence": "PostgreSQL (debian/copyright `License: PostgreSQL`)",
        "register": "technical documentation", "genre": "database manual", "files": f"usr/share/doc/{PACKAGE}/html/*.html"}, args.out_dir)


if __name__ == "__main__":
    main()
