#!/usr/bin/env python3
"""Builds out/sources/man-pages.txt: sentences of the Linux man-pages project (technical prose).

Input: the Debian packages manpages (sections 1, 4-8) and manpages-dev (sections 2 and 3),
unpacked by build_all.sh with

    apt-get download manpages manpages-dev
    dpkg-deb -x manpages_*.deb corpus/general/out/deb   (and the same for manpages-dev)

(`apt-get install manpages manpages-dev` works too: then pass --root /.)

    python3 corpus/general/build_manpages.py [--root DIR] [--out-dir DIR]

Reads DIR/usr/share/man/man[1-8]/*.gz of those two packages (the files they list in
DIR/var/lib/dpkg/info is not available after dpkg-deb -x, so the pages are taken from the package
file lists that build_all.sh writes to DIR/FILES.manpages and DIR/FILES.manpages-dev; without them,
every page under DIR/usr/share/man is read). roff is reduced to text: request lines are dropped
except the font macros (.B, .I, .BR, .IR, ...) whose arguments are text; .SH/.SS headings and the
tag line after .TP are dropped; no-fill and example regions (.nf/.fi, .EX/.EE) and tables (.TS/.TE,
.EQ/.EN) are dropped; font escapes (\\fB ... \\fR), special characters (\\(em, \\-, \\[aq]) and
comments are resolved or removed; `.so` link pages are skipped. The SYNOPSIS, COPYRIGHT, COLOPHON
and AUTHORS sections are skipped. Paragraphs are split at .PP/.P/.LP/.TP/.IP/.SH/.SS/.RS/.RE.
"""
import argparse
import glob
import gzip
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

PACKAGES = ["manpages", "manpages-dev"]
SKIP_SECTIONS = {"SYNOPSIS", "COPYRIGHT", "COLOPHON", "AUTHORS", "AUTHOR", "SEE ALSO", "NAME", "EXAMPLES",
                 "EXAMPLE", "VERSIONS", "ATTRIBUTES", "FILES"}
BREAKS = {"PP", "P", "LP", "TP", "TQ", "IP", "HP", "SH", "SS", "RS", "RE", "br", "sp", "in", "ti", "UR", "UE",
          "MT", "ME", "SY", "YS", "OP", "PD"}
FONT_MACROS = {"B", "I", "R", "SM", "SB", "BI", "BR", "IB", "IR", "RB", "RI"}
SPECIAL = {"em": "\u2014", "en": "\u2013", "aq": "'", "dq": '"', "lq": "\u201c", "rq": "\u201d", "oq": "\u2018",
           "cq": "\u2019", "ha": "^", "ti": "~", "rs": "\\", "bu": "\u2022", "co": "\u00a9", "rg": "\u00ae",
           "tm": "\u2122", "de": "\u00b0", "+-": "\u00b1", "mu": "\u00d7", "di": "\u00f7", "<=": "\u2264",
           ">=": "\u2265", "!=": "\u2260", "->": "\u2192", "<-": "\u2190", "hy": "-", "mi": "-", "pl": "+",
           "eq": "=", "sl": "/", "ga": "`", "aa": "\u00b4", "lB": "[", "rB": "]", "lC": "{", "rC": "}",
           "at": "@", "sh": "#", "Do": "$", "ba": "|", "or": "|", "ss": "\u00df", "'e": "\u00e9", "'a": "\u00e1",
           ":o": "\u00f6", ":u": "\u00fc", ":a": "\u00e4", "`e": "\u00e8", "^e": "\u00ea", ",c": "\u00e7", "~n": "\u00f1"}


def unescape(text):
    text = re.sub(r'\\".*$', "", text)  # comment
    text = re.sub(r"\\f(?:\[[^\]]*\]|\(..|.)", "", text)  # font changes
    text = re.sub(r"\\\[([^\]]+)\]", lambda m: SPECIAL.get(m.group(1), ""), text)
    text = re.sub(r"\\\((..)", lambda m: SPECIAL.get(m.group(1), ""), text)
    text = re.sub(r"\\[*n](?:\[[^\]]*\]|\(..|.)", "", text)  # strings and registers
    text = re.sub(r"\\[sS][+-]?\d+|\\[hvwlLxkbo]'[^']*'", "", text)
    text = text.replace("\\-", "-").replace("\\e", "\\").replace("\\ ", " ").replace("\\~", " ")
    text = text.replace("\\&", "").replace("\\%", "").replace("\\:", "").replace("\\|", "").replace("\\^", "")
    text = text.replace("\\c", "").replace("\\0", " ").replace("\\/", "").replace("\\,", "").replace("\\.", ".")
    return re.sub(r"\\.", "", text)


def macro_args(rest):
    """Arguments of a roff request line: quoted strings kept together."""
    return [a[1:-1] if a.startswith('"') and a.endswith('"') and len(a) > 1 else a
            for a in re.findall(r'"[^"]*"|\S+', rest)]


def paragraphs(source):
    current, section, nofill, tp_tag = [], "", False, False
    for raw in source.split("\n"):
        line = raw.rstrip()
        if line.startswith((".", "'")):
            m = re.match(r"^[.']\s*([A-Za-z]{1,3}|\\\")\s*(.*)$", line)
            if not m:
                continue
            name, rest = m.group(1), m.group(2)
            if name in ("nf", "EX", "TS", "EQ", "de", "ig"):
                nofill = True
            elif name in ("fi", "EE", "TE", "EN", ".."):
                nofill = False
            if name in BREAKS or name in ("nf", "EX", "TS", "EQ"):
                if current:
                    yield section, " ".join(current)
                    current = []
                if name == "SH":
                    section = unescape(" ".join(macro_args(rest))).strip().upper()
                tp_tag = name in ("TP", "TQ")
                continue
            if name in FONT_MACROS and not nofill:
                args = macro_args(rest)
                text = "".join(args) if len(name) == 2 else " ".join(args)
                if tp_tag:
                    tp_tag = False
                    continue
                current.append(unescape(text))
            continue
        if nofill:
            continue
        if not line.strip():
            if current:
                yield section, " ".join(current)
                current = []
            continue
        if tp_tag:
            tp_tag = False
            continue
        current.append(unescape(line))
    if current:
        yield section, " ".join(current)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=gc.DEB_ROOT)
    ap.add_argument("--out-dir", default=gc.SOURCES_DIR)
    args = ap.parse_args()
    lists = [os.path.join(args.root, f"FILES.{p}") for p in PACKAGES]
    if all(os.path.exists(p) for p in lists):
        files = set()
        for path in lists:
            with open(path, encoding="utf-8") as f:
                files |= {os.path.join(args.root, line.strip().lstrip("./")) for line in f
                          if re.search(r"usr/share/man/man[1-8]/[^/]+\.gz$", line.strip())}
        files = sorted(files)
    else:
        files = sorted(glob.glob(os.path.join(args.root, "usr/share/man/man[1-8]/*.gz")))
    if not any("/man2/" in f for f in files) or not any("/man7/" in f for f in files):
        gc.missing(os.path.join(args.root, "usr/share/man/man2 and man7"),
                   gc.deb_install_hint("manpages") + "; the same for manpages-dev")
    stats, found, pages = {}, [], 0
    for path in files:
        if not os.path.exists(path) or os.path.islink(path):
            continue
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            source = f.read()
        if source.lstrip().startswith(".so "):
            continue
        pages += 1
        found += gc.collect((p for section, p in paragraphs(source) if section not in SKIP_SECTIONS), stats)
    print(f"man-pages: {pages} pages; {stats}")
    for p in PACKAGES:
        gc.licence_named(os.path.join(args.root, "usr/share/doc", p, "copyright"), "Linux-man-pages-copyleft")
    versions = sorted({gc.deb_version(p, args.root) or "?" for p in PACKAGES})
    gc.write_source("man-pages", found, {
        "package": "Debian manpages + manpages-dev", "version": " / ".join(versions),
        "licence": "per page, as listed in debian/copyright: mostly Linux-man-pages-copyleft and GPL-2+, "
                   "some BSD-2/3/4-clause, Expat, GPL-1+, GPL-2",
        "register": "technical documentation", "genre": "Unix manual pages (system calls, library functions, formats, overviews)", "files": "usr/share/man/man[1-8]/*.gz"}, args.out_dir)


if __name__ == "__main__":
    main()
