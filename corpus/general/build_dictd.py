#!/usr/bin/env python3
"""Builds out/sources/gcide.txt, jargon.txt and foldoc.txt: sentences of three dict databases.

Input: the Debian packages dict-gcide, dict-jargon and dict-foldoc, unpacked (not installed:
installing them pulls in and starts the dictd server) by build_all.sh with

    apt-get download dict-gcide dict-jargon dict-foldoc
    dpkg-deb -x dict-gcide_*.deb corpus/general/out/deb   (and the same for the other two)

(`apt-get install dict-gcide dict-jargon dict-foldoc` works too: then pass --root /.)

    python3 corpus/general/build_dictd.py [--root DIR] [--out-dir DIR]

Each database is DIR/usr/share/dictd/NAME.dict.dz, a dictzip file (gzip-readable) of plain-text
entries: a headword line at column 0, then the entry's text indented. The text is read as blocks
separated by blank lines.

- GCIDE (Collaborative International Dictionary of English: Webster's 1913 plus later additions):
  each block of a sense ends with a source line such as `[1913 Webster]`. Entries that name WordNet
  anywhere (`[WordNet 1.5]`, `[1913 Webster + WordNet 1.5]`, ...) are dropped whole: WordNet is
  reserved for the project's benchmark and is no source of this corpus (GCIDE marks its WordNet
  glosses only once per entry, after the senses). `Syn:` and `Note:` blocks are dropped. Blocks indented 8 or more (quotations from authors, with their
  `--Author.` line) are dropped. In the head block the headword, pronunciation, part of speech and
  etymology (`Abdication \\Ab`di*ca"tion\\, n. [L. abdicatio.]`) are cut; sense numbers and field
  labels (`2. (Zool.)`) are cut; each definition is cut before its first inline quotation, `--Author`
  reference, `-- ` run-on word or `; as, ` example; bracketed usage notes (`[Obs.]`) and cross-reference
  braces are dropped. Definitions with `?` (characters lost in the conversion) are dropped.
- Jargon File 4.4.7 and FOLDOC: prose blocks (first line indented 4 in the Jargon File, 3 in FOLDOC);
  more deeply indented blocks (quoted poems, code, tables) are dropped; `[IBM]`, `<humour>` labels,
  `{cross reference}` braces and FOLDOC's `(2007-07-16)` dates are dropped. FOLDOC's entry "GNU Free
  Documentation License" (the licence's full text) is dropped whole.
Sentences are then split and kept when acceptable (general_common.acceptable).
"""
import argparse
import gzip
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

DICTS = {
    # name: (package, licence recorded, string checked in its copyright file, register, genre)
    "gcide": ("dict-gcide", "GPL-2+ (copyright: \"GCIDE is free software ... GNU General Public License ... "
              "either version 2, or (at your option) any later version\")", "GNU General Public License",
              "dictionary definitions", "English dictionary (Webster 1913 and later additions)"),
    "jargon": ("dict-jargon", "public domain (debian/copyright `License: public-domain`: \"The Jargon File "
               "is in the public domain\")", "License: public-domain", "dictionary definitions", "glossary of hacker slang"),
    "foldoc": ("dict-foldoc", "GFDL-1.1+ (copyright: \"GNU Free Documentation License, Version 1.1 or any "
               "later version\")", "GNU Free Documentation", "dictionary definitions", "encyclopedic dictionary of computing"),
}
BOILERPLATE = re.compile(r"General Public License|GCIDE|Webster's Revised Unabridged|Begin file \d|\* \* \*|"
                         r"Free Documentation License|00-database|public domain, to be freely used", re.I)


def blocks(text):
    """(lines) of each blank-line separated block."""
    current = []
    for line in text.split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            yield current
            current = []
    if current:
        yield current


def indent(line):
    return len(line) - len(line.lstrip(" "))


# --- GCIDE ---------------------------------------------------------------------------------------

SOURCE_LINE = re.compile(r"^\s*\[[^\]]*(?:Webster|PJC|WordNet|Century|AS|RDH|MW|JC|Chambers)[^\]]*\]\s*$")
HEAD = re.compile(r"^\S[^\\]*\\[^\\]*\\")  # headword \pron\


def skip_header(text):
    """The text after a GCIDE entry head: headword, pronunciation, part of speech, etymology."""
    m = HEAD.match(text)
    if not m:
        return None
    i, n = m.end(), len(text)
    while i < n:
        c = text[i]
        if c in " ,;&":
            i += 1
        elif c in "[({":
            close = {"[": "]", "(": ")", "{": "}"}[c]
            depth, j = 0, i
            while j < n:
                if text[j] == c:
                    depth += 1
                elif text[j] == close:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            i = j + 1
        else:
            m2 = re.match(r"(?:[a-z]+\.|[A-Z]\. pl\.|pl\.)", text[i:])
            if not m2:
                break
            i += m2.end()
    return text[i:]


def gcide_definition(text):
    # sense numbers and sub-sense letters anywhere ("1.", "(a)"), a bare leading number ("1 a genus"),
    # leading field labels ("(Zool.)") and usage notes ("[Obs.]")
    text = re.sub(r"(?:(?<=\s)|^)(?:\d+\.|\([a-z]\))(?=\s)", " ", text)
    text = re.sub(r"^(?:\s*(?:\d+\b|\([A-Z][^()]{0,30}\)|\[[^\[\]]{0,30}\]))+\s*", "", text)
    for cut in (re.compile(r"\s--\s?[A-Z{]"), re.compile(r'"'), re.compile(r"\s--\s"), re.compile(r"[;:,]\s+as,\s"),
                re.compile(r"\s\[=\s")):
        m = cut.search(text)
        if m:
            text = text[:m.start()]
    text = re.sub(r"\[[^\[\]]{0,40}\]", " ", text)
    text = text.replace("{", "").replace("}", "")
    text = gc.one_line(text).rstrip(" ;:,")
    if not text or "?" in text or "\\" in text or "*" in text or not text[0].isupper():
        return None  # lost characters, or a lower-case definition (WordNet or PJC style, or a fragment)
    if not text.endswith("."):
        text += "."
    return text


def gcide_entries(text):
    """Entries: lists of blocks, an entry starting with a block whose first line is at column 0."""
    entry = []
    for lines in blocks(text):
        if indent(lines[0]) == 0 and entry:
            yield entry
            entry = []
        entry.append(lines)
    if entry:
        yield entry


def gcide_paragraphs(text, stats):
    for entry in gcide_entries(text):
        if any("WordNet" in line for lines in entry for line in lines):
            # WordNet glosses are marked on the entry's last block ("Syn: ... [WordNet 1.5]"), not on each
            # sense: the whole entry goes
            stats["wordnet_entries_dropped"] = stats.get("wordnet_entries_dropped", 0) + 1
            continue
        for k, lines in enumerate(entry):
            head_block = k == 0 and indent(lines[0]) == 0
            body = [line for line in lines if not SOURCE_LINE.match(line)]
            if not body or BOILERPLATE.search(" ".join(body)):
                continue
            if body[0].lstrip().startswith(("Syn:", "Syn.", "Note:")):
                continue
            if not head_block and indent(body[0]) >= 8:
                stats["quotation_blocks_dropped"] = stats.get("quotation_blocks_dropped", 0) + 1
                continue
            joined = " ".join(line.strip() for line in body)
            if head_block:
                joined = skip_header(joined)
                if joined is None:
                    continue
            definition = gcide_definition(joined)
            if definition:
                yield definition


# --- Jargon File and FOLDOC ----------------------------------------------------------------------

# entries that hold a licence text rather than a definition (FOLDOC carries the whole GFDL as an entry)
LICENCE_ENTRIES = re.compile(r"^(?:GNU )?Free Documentation Licen[cs]e$", re.I)


def prose_paragraphs(text, prose_indent, stats):
    headword = ""
    for lines in blocks(text):
        if indent(lines[0]) == 0:
            headword = lines[0].strip()
        if LICENCE_ENTRIES.match(headword):
            stats["licence_entry_blocks_dropped"] = stats.get("licence_entry_blocks_dropped", 0) + 1
            continue
        if indent(lines[0]) != prose_indent or any(indent(line) < prose_indent for line in lines):
            continue
        joined = " ".join(line.strip() for line in lines)
        if BOILERPLATE.search(joined):
            continue
        joined = re.sub(r"^(?:\d+\.\s*)", "", joined)
        joined = re.sub(r"\[[^\[\]]{0,30}\]|<[a-z][a-z ,-]{0,30}>", " ", joined)
        joined = re.sub(r"\(\d{4}-\d\d-\d\d\)", " ", joined)
        joined = re.sub(r"\S*(?:https?|ftp)://\S*", " URL ", joined)
        joined = joined.replace("{", "").replace("}", "")
        if "URL" in joined.split():
            joined = " ".join(s for s in gc.sentences(gc.one_line(joined)) if "URL" not in s.split())
        yield joined


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=gc.DEB_ROOT)
    ap.add_argument("--out-dir", default=gc.SOURCES_DIR)
    args = ap.parse_args()
    for name, (package, licence, needle, register, genre) in DICTS.items():
        path = os.path.join(args.root, "usr/share/dictd", name + ".dict.dz")
        if not os.path.exists(path):
            gc.missing(path, gc.deb_install_hint(package))
    for name, (package, licence, needle, register, genre) in DICTS.items():
        path = os.path.join(args.root, "usr/share/dictd", name + ".dict.dz")
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            text = f.read()
        stats = {}
        if name == "gcide":
            paragraphs = gcide_paragraphs(text, stats)
        else:
            paragraphs = prose_paragraphs(text, 4 if name == "jargon" else 3, stats)
        found = list(gc.collect(paragraphs, stats))
        print(f"{name}: {stats}")
        gc.licence_named(os.path.join(args.root, "usr/share/doc", package, "copyright"), needle)
        gc.write_source(name, found, {
            "package": f"Debian {package}", "version": gc.deb_version(package, args.root), "licence": licence,
            "register": register, "genre": genre, "files": f"usr/share/dictd/{name}.dict.dz"}, args.out_dir)


if __name__ == "__main__":
    main()
