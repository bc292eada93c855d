#!/usr/bin/env python3
"""Merges out/sources/*.txt into out/general.txt and writes out/general.json.

    python3 corpus/general/merge_general.py [--sources DIR] [--exclude FILE] [--out FILE] [--seed N]

Input: the per-source files that build_*.py write (NAME.txt, one sentence a line, and NAME.json).
Every source in SOURCES must be there. Steps, all deterministic:
1. Sentences whose normalised form (general_common.normalise: lower case, white space collapsed,
   punctuation stripped at both ends) is listed (as sha256 hex) in the exclusion file are dropped:
   check_general.py --screen writes that file with the sentences of any source that match the
   project's evaluation corpora (see README). Counted per source.
2. A sentence whose normalised form already came from an earlier source in SOURCES order is dropped
   (counted as a cross-source repeat).
3. A source with a cap keeps a sample of that many sentences (fixed-seed shuffle of its sorted
   sentences).
4. All sentences are shuffled together with a fixed seed, so that registers are interleaved, and
   written one per line (UTF-8, LF line ends).
general.json records, per source, package, version, licence, register, counts at each step and mean
words; per register the counts; the total, the mean words and the sha256 of general.txt.
"""
import argparse
import collections
import hashlib
import json
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

SEED = 20261207
# (source, cap or None); order decides which source keeps a sentence found in two sources.
SOURCES = [
    ("austen", None),
    ("moby-dick", None),
    ("brown-fiction", None),
    ("brown-nonfiction", None),
    ("factbook", None),
    ("jargon", None),
    ("foldoc", None),
    ("gcide", 60000),
    ("python-doc", 30000),
    ("postgresql-doc", 30000),
    ("perl-doc", 30000),
    ("man-pages", 30000),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", default=gc.SOURCES_DIR)
    ap.add_argument("--exclude", default=None, help="file of sha256 hex digests of normalised sentences to drop")
    ap.add_argument("--out", default=os.path.join(gc.OUT_DIR, "general.txt"))
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()

    excluded = set()
    if args.exclude:
        with open(args.exclude, encoding="utf-8") as f:
            excluded = {line.split()[0] for line in f if line.strip()}
    seen, rows, sources = set(), [], []
    for i, (name, cap) in enumerate(SOURCES):
        path = os.path.join(args.sources, name + ".txt")
        if not os.path.exists(path):
            sys.exit(f"merge_general.py: {path} not found; build it first (bash corpus/general/build_all.sh)")
        with open(os.path.join(args.sources, name + ".json"), encoding="utf-8") as f:
            meta = json.load(f)
        with open(path, encoding="utf-8") as f:
            found = [line.rstrip("\n") for line in f]
        kept, n_excluded, n_repeat = [], 0, 0
        for s in found:
            key = gc.normalise(s)
            if gc.digest(key) in excluded:
                n_excluded += 1
            elif key in seen:
                n_repeat += 1
            else:
                seen.add(key)
                kept.append(s)
        available = len(kept)
        if cap is not None and len(kept) > cap:
            rng = random.Random(f"{args.seed}:{name}")
            kept = sorted(kept)
            rng.shuffle(kept)
            kept = kept[:cap]
        words = sum(len(s.split()) for s in kept) / max(len(kept), 1)
        sources.append({
            "source": name, "package": meta["package"], "version": meta["version"], "licence": meta["licence"],
            "register": meta["register"], "genre": meta.get("genre"), "built": meta["sentences"], "excluded_by_check": n_excluded,
            "cross_source_repeats": n_repeat, "available": available, "cap": cap, "sentences": len(kept),
            "mean_words": round(words, 2)})
        rows += [(name, s) for s in sorted(kept)]
    rng = random.Random(args.seed)
    rng.shuffle(rows)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for _, s in rows:
            f.write(s + "\n")
    with open(args.out, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    total = len(rows)
    registers = collections.Counter()
    for src in sources:
        registers[src["register"]] += src["sentences"]
        src["share"] = round(src["sentences"] / total, 4)
    summary = {
        "file": os.path.basename(args.out), "sha256": sha, "sentences": total,
        "mean_words": round(sum(len(s.split()) for _, s in rows) / total, 2),
        "mean_chars": round(sum(len(s) for _, s in rows) / total, 2),
        "seed": args.seed, "exclusion_file": os.path.basename(args.exclude) if args.exclude else None,
        "excluded_by_check": sum(s["excluded_by_check"] for s in sources),
        "registers": dict(sorted(registers.items())), "sources": sources}
    with open(os.path.splitext(args.out)[0] + ".json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("| source | package | version | register | built | excluded | repeats | cap | sentences | share | mean words |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in sources:
        print(f"| {s['source']} | {s['package']} | {s['version']} | {s['register']} | {s['built']} | "
              f"{s['excluded_by_check']} | {s['cross_source_repeats']} | {s['cap'] or ''} | {s['sentences']} | "
              f"{100 * s['share']:.1f}% | {s['mean_words']} |")
    print(f"registers: {dict(sorted(registers.items()))}")
    print(f"wrote {total} sentences, mean {summary['mean_words']} words, sha256 {sha} -> {args.out}")


if __name__ == "__main__":
    main()
