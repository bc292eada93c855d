#!/usr/bin/env python3
"""Builds out/sources/perl-doc.txt: sentences of Perl 5.36's core documentation (technical prose).

Input: the Debian package perl-doc, unpacked by build_all.sh with

    apt-get download perl-doc
    dpkg-deb -x perl-doc_*.deb corpus/general/out/deb

(`apt-get install perl-doc` works too: then pass --root /.)

    python3 corpus/general/build_perl_doc.py [--root DIR] [--out-dir DIR]

Reads the POD files DIR/usr/share/perl/5.*/pod/*.pod in sorted order, except the licence texts
(perlgpl, perlartistic), the table of contents (perltoc) and the pages in Chinese, Japanese and
Korean (perlcn, perljp, perlko, perltw). POD is read by paragraphs: command paragraphs (=head1,
=item, ...) are dropped, except that the text of an =item that is a sentence is kept; verbatim
paragraphs (indented: code) are dropped, as is everything between =begin/=end and =for, and the
=head1 sections on copyright, licence, authors and acknowledgements; ordinary
paragraphs are kept with their formatting codes reduced to text (C<code>, B<...>, I<...>,
L<text|target> -> text, E<lt> -> <, X<...> and Z<> dropped).
"""
import argparse
import glob
import html
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

PACKAGE = "perl-doc"
SKIP = {"perlgpl.pod", "perlartistic.pod", "perltoc.pod", "perlcn.pod", "perljp.pod", "perlko.pod", "perltw.pod"}
ESCAPES = {"lt": "<", "gt": ">", "verbar": "|", "sol": "/"}


def escape(name):
    if name in ESCAPES:
        return ESCAPES[name]
    if name.isdigit():
        return chr(int(name))
    if name.lower().startswith("0x"):
        return chr(int(name, 16))
    return html.unescape(f"&{name};")


def link_text(inner):
    if "|" in inner:
        return inner.split("|", 1)[0]
    inner = inner.strip('"')
    if "/" in inner:
        page, _, section = inner.partition("/")
        return section.strip('"') or page
    return inner


def codes(text):
    """Formatting codes X<...>, X<< ... >>, X<<< ... >>> reduced to their text, innermost first."""
    pattern = re.compile(r"([A-Z])(?:<<<\s(.*?)\s>>>|<<\s(.*?)\s>>|<([^<>]*)>)", re.S)
    for _ in range(10):
        new = pattern.sub(lambda m: render(m.group(1), next(g for g in m.groups()[1:] if g is not None)), text)
        if new == text:
            break
        text = new
    return text


def render(code, inner):
    if code in "XZ":
        return ""
    if code == "E":
        return escape(inner)
    if code == "L":
        return link_text(inner)
    return inner


SKIP_HEADS = re.compile(r"COPYRIGHT|LICEN[CS]E|AUTHORS?\b|ACKNOWLEDG", re.I)


def paragraphs(text):
    skipping, skip_section = False, False
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        if not block.strip():
            continue
        if block.startswith("=head1"):
            skip_section = bool(SKIP_HEADS.search(block))
        if skip_section:
            continue
        if block.startswith("="):
            command = block.split(None, 1)[0]
            if command in ("=begin", "=for"):
                skipping = command == "=begin"
            elif command == "=end":
                skipping = False
            elif command == "=item" and not skipping:
                item = block[len(command):].strip()
                if item and not re.match(r"^[*\d.]+$", item) and " " in item:
                    yield codes(re.sub(r"^(?:\*|\d+\.?)\s+", "", item))
            continue
        if skipping or block[0] in " \t":
            continue
        yield codes(block)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=gc.DEB_ROOT)
    ap.add_argument("--out-dir", default=gc.SOURCES_DIR)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.root, "usr/share/perl/5.*/pod/*.pod")))
    files = [f for f in files if os.path.basename(f) not in SKIP]
    if not files:
        gc.missing(os.path.join(args.root, "usr/share/perl/5.*/pod"), gc.deb_install_hint(PACKAGE))
    stats, found = {}, []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            found += gc.collect(paragraphs(f.read()), stats)
    print(f"perl-doc: {len(files)} POD files; {stats}")
    gc.licence_named(os.path.join(args.root, "usr/share/doc", PACKAGE, "copyright"), "License: GPL-1+ or Artistic")
    gc.write_source("perl-doc", found, {
        "package": f"Debian {PACKAGE}", "version": gc.deb_version(PACKAGE, args.root),
        "licence": "GPL-1+ or Artistic (debian/copyright `License: GPL-1+ or Artistic`)",
        "register": "technical documentation", "genre": "programming language manual, FAQ, release notes", "files": "usr/share/perl/5.*/pod/*.pod"}, args.out_dir)


if __name__ == "__main__":
    main()
