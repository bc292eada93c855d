#!/usr/bin/env python3
"""Builds out/sources/python-doc.txt: sentences of the Python 3.11 documentation (technical prose).

Input: the Debian package python3.11-doc (what python3-doc depends on), unpacked (not installed:
installing python3-doc pulls in and may upgrade the system's Python 3.11) by build_all.sh with

    apt-get download python3.11-doc
    dpkg-deb -x python3.11-doc_*.deb corpus/general/out/deb

(`apt-get install python3.11-doc` works too: then pass --root /.)

    python3 corpus/general/build_python_doc.py [--root DIR] [--out-dir DIR]

Reads the reStructuredText sources that the package ships beside the HTML,
DIR/usr/share/doc/python3.11/html/_sources/**/*.rst.txt, in sorted order, except the licence and
copyright pages and the generated changelog (whatsnew/changelog). Kept: prose paragraphs, list items
and the text inside description directives (`.. function::` bodies, notes, warnings). Dropped:
headings, directive lines and their options, comments, literal blocks (after `::`), code, doctest,
production-list, table and toctree blocks, interactive sessions (`>>>`). Inline markup is reduced to
its text (:func:`~os.fork` -> fork, ``x`` -> x, `text <url>`_ -> text).
"""
import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

PACKAGE = "python3.11-doc"
SKIP_FILES = {"license.rst.txt", "copyright.rst.txt", os.path.join("whatsnew", "changelog.rst.txt")}
NON_PROSE = {"code-block", "sourcecode", "code", "productionlist", "doctest", "testcode", "testoutput",
             "testsetup", "testcleanup", "toctree", "csv-table", "list-table", "table", "math", "raw",
             "literalinclude", "autosummary", "highlight", "index", "only", "include", "image", "figure",
             "audit-event-table", "availability", "opcode", "pdbcommand", "2to3fixer", "cmdoption",
             "option", "envvar", "describe"}
UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")
BULLET = re.compile(r"^(\s*)(?:[*\-+\u2022]|#\.|\d+\.|\(\d+\)|[a-z]\.)\s+")
ROLE = re.compile(r":[a-zA-Z:+-]+:`([^`]+)`")
REF = re.compile(r"`([^`<]+?)\s*<[^`>]*>`_{1,2}|`([^`]+)`_{1,2}")


def role_text(m):
    text = m.group(1)
    if "<" in text and text.endswith(">"):
        text = text[:text.index("<")].strip()
    text = text.lstrip("!")
    if text.startswith("~"):
        text = text[1:].split(".")[-1]
    return text


def inline(text):
    text = ROLE.sub(role_text, text)
    text = REF.sub(lambda m: (m.group(1) or m.group(2)).strip(), text)
    text = re.sub(r"``([^`]+)``", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"\|([^|\s][^|]*)\|", r"\1", text)
    text = text.replace("\\ ", "").replace("\\", "")
    return text


def indent(line):
    return len(line) - len(line.lstrip(" "))


def paragraphs(text):
    blocks, current = [], []
    for line in text.split("\n"):
        if line.strip():
            current.append(line.rstrip().replace("\t", "    "))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)

    skip_deeper = None  # indentation above which blocks are code (literal block or non-prose directive)
    for lines in blocks:
        first = indent(lines[0])
        if skip_deeper is not None:
            if first > skip_deeper:
                continue
            skip_deeper = None
        # directive or comment lines at the start of a block (and their option lines)
        while lines and lines[0].lstrip().startswith(".."):
            m = re.match(r"\s*\.\.\s+([\w:-]+)::", lines[0])
            base = indent(lines[0])
            lines = lines[1:]
            while lines and re.match(r"\s*:[\w -]+:", lines[0]) and indent(lines[0]) > base:
                lines = lines[1:]
            if m is None or m.group(1).split(":")[-1] in NON_PROSE:
                # a comment or a non-prose directive: its content (deeper blocks) is skipped
                skip_deeper = base
                lines = [line for line in lines if indent(line) <= base]
        if not lines:
            continue
        if skip_deeper is not None and indent(lines[0]) > skip_deeper:
            continue
        if any(UNDERLINE.match(line.strip()) for line in lines):
            continue  # heading
        stripped = lines[0].lstrip()
        if stripped.startswith((">>>", "+-", "+=", "|", "$ ", "% ", "...")) or re.match(r"^[=\s]+$", stripped):
            continue
        # split at list items; a definition-list term (a line less indented than the next) is dropped
        items, item = [], []
        for i, line in enumerate(lines):
            if BULLET.match(line) and item:
                items.append(item)
                item = []
            item.append(line)
        items.append(item)
        for item in items:
            if len(item) > 1 and indent(item[1]) > indent(item[0]) and not BULLET.match(item[0]):
                item = item[1:]
            para = " ".join(BULLET.sub("", line).strip() if j == 0 else line.strip() for j, line in enumerate(item))
            para = re.sub(r"^:[\w ]+:\s*", "", para)  # field list marker
            literal = para.endswith("::")
            if literal:
                para = para[:-2].rstrip() + ("" if para[:-2].rstrip().endswith(":") else ":")
            yield inline(para)
            if literal:
                skip_deeper = indent(lines[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=gc.DEB_ROOT)
    ap.add_argument("--out-dir", default=gc.SOURCES_DIR)
    args = ap.parse_args()
    top = os.path.join(args.root, "usr/share/doc/python3.11/html/_sources")
    if not os.path.isdir(top):
        gc.missing(top, gc.deb_install_hint(PACKAGE))
    files = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, name), top)
            if name.endswith(".rst.txt") and rel not in SKIP_FILES:
                files.append(rel)
    files.sort()
    stats, found = {}, []
    for rel in files:
        with open(os.path.join(top, rel), encoding="utf-8", errors="replace") as f:
            found += gc.collect(paragraphs(f.read()), stats)
    print(f"python-doc: {len(files)} files; {stats}")
    gc.licence_named(os.path.join(args.root, "usr/share/doc", PACKAGE, "copyright"),
                     "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2")
    gc.write_source("python-doc", found, {
        "package": f"Debian {PACKAGE}", "version": gc.deb_version(PACKAGE, args.root),
        "licence": "PSF-2.0 (copyright: \"PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2\"; the documentation "
                   "is under the Python licence)",
        "register": "technical documentation", "genre": "programming language reference, library manual, tutorials, HOWTOs", "files": "usr/share/doc/python3.11/html/_sources/**/*.rst.txt"},
        args.out_dir)


if __name__ == "__main__":
    main()
