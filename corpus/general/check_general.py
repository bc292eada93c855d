#!/usr/bin/env python3
"""Checks out/general.txt: its format, and that no text of the project's evaluation corpora is in it.

    python3 corpus/general/check_general.py [--general FILE] [--no-install]
    python3 corpus/general/check_general.py --screen [--write-exclusions FILE]

Format: UTF-8; one sentence a line with LF line ends; no empty line, no uncollapsed white space, no
repeated line (also after normalising); 4 to 60 words; general.json beside it has the file's sha256
and line count.

Evaluation corpora (reserved: never a source of the generic corpus). Each text is compared whole
and sentence by sentence (general_common.sentences), normalised (lower case, white space collapsed,
punctuation stripped at both ends):
  - the project's benchmark corpora: every text of corpus/wordnet-4class.csv and corpus/benchmark/out/*.csv
    (build them with `bash corpus/benchmark/build_all.sh`; missing ones fail the check);
  - quotation collections: every fortune of the Debian fortune packages (FORTUNE_PACKAGES below),
    read from /usr/share/games/fortunes and from out/reserved/ where this check unpacks them itself
    (apt-get download + dpkg-deb -x; --no-install forbids that) — for this comparison only;
  - package descriptions: every Description of `apt-cache dumpavail`, /var/lib/dpkg/status and the
    Translation-en lists (the long descriptions) of /var/lib/apt/lists, or, when apt here keeps none,
    of out/reserved/lists, where this check fetches them itself (apt-get update with
    Dir::State::Lists pointing there; the system's lists are untouched); short description, long
    description and each of its paragraphs.
A generic line fails when its normalised form equals a normalised evaluation text or sentence, or
when an evaluation text or sentence of at least 8 words is contained in it (compared as sequences of
lower-case word characters). The report gives counts per generic source and evaluation corpus, with
an example of each; any match fails the check (exit 1).

--screen runs the same comparison on every sentence of out/sources/*.txt (before merging and
capping) and exits 0; with --write-exclusions it writes the sha256 of the normalised form of every
matching sentence, one per line, sorted: merge_general.py --exclude drops those, and counts them.
"""
import argparse
import codecs
import collections
import csv
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import general_common as gc  # noqa: E402

REPO = os.path.dirname(os.path.dirname(gc.HERE))
FORTUNE_PACKAGES = ["fortune-mod", "fortunes-min", "fortunes", "fortune-anarchism", "fortunes-bofh-excuses",
                    "fortunes-debian-hints", "fortunes-mario"]
RESERVED_DIR = os.environ.get("GENERAL_RESERVED_DIR", os.path.join(gc.OUT_DIR, "reserved"))
NGRAM = 8
TOKEN = re.compile(r"\w+")
csv.field_size_limit(10 ** 8)


def units(text):
    """Normalised forms of the text and of each of its sentences."""
    line = gc.one_line(text)
    out = {gc.normalise(line)}
    out.update(gc.normalise(s) for s in gc.sentences(line))
    out.discard("")
    return out


# --- evaluation corpora --------------------------------------------------------------------------

def benchmark_texts():
    paths = [os.path.join(REPO, "corpus", "wordnet-4class.csv")]
    paths += sorted(glob.glob(os.path.join(REPO, "corpus", "benchmark", "out", "*.csv")))
    expected = ["wordnet-verbs.csv", "wordnet-examples-8class.csv", "spam-assassin.csv", "sotu.csv"]
    names = {os.path.basename(p) for p in paths}
    lacking = [n for n in expected if n not in names]
    if lacking or not os.path.exists(paths[0]):
        sys.exit(f"check_general.py: benchmark corpora missing ({', '.join(lacking) or 'wordnet-4class.csv'}); "
                 "build them with: bash corpus/benchmark/build_all.sh")
    for path in paths:
        with open(path, encoding="utf-8", newline="") as f:
            rows = csv.reader(f)
            header = next(rows)
            col = header.index("text")
            name = os.path.relpath(path, REPO)
            for row in rows:
                if len(row) > col:
                    yield name, row[col]


def ensure_fortunes(allow_install):
    dirs = [d for d in ("/usr/share/games/fortunes", os.path.join(RESERVED_DIR, "usr/share/games/fortunes"))
            if os.path.isdir(d)]
    have = os.path.exists(os.path.join(RESERVED_DIR, "VERSIONS"))
    if not have and allow_install:
        os.makedirs(RESERVED_DIR, exist_ok=True)
        debs = os.path.join(RESERVED_DIR, "debs")
        os.makedirs(debs, exist_ok=True)
        print(f"unpacking {' '.join(FORTUNE_PACKAGES)} into {RESERVED_DIR} (for comparison only)")
        subprocess.run(["apt-get", "download", "-q"] + FORTUNE_PACKAGES, cwd=debs, check=True)
        versions = []
        for deb in sorted(glob.glob(os.path.join(debs, "*.deb"))):
            subprocess.run(["dpkg-deb", "-x", deb, RESERVED_DIR], check=True)
            fields = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version"], capture_output=True,
                                    text=True, check=True).stdout.split("\n")
            versions.append(" ".join(x.split(": ", 1)[1] for x in fields if ": " in x))
        with open(os.path.join(RESERVED_DIR, "VERSIONS"), "w", encoding="utf-8") as f:
            f.write("\n".join(sorted(versions)) + "\n")
        dirs = [d for d in ("/usr/share/games/fortunes", os.path.join(RESERVED_DIR, "usr/share/games/fortunes"))
                if os.path.isdir(d)]
    if not dirs:
        sys.exit("check_general.py: no fortune data found; install it with: apt-get install fortunes "
                 "(or run without --no-install)")
    return dirs


def fortune_texts(dirs):
    for top in dirs:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if name.endswith((".dat", ".u8", ".gz")) or os.path.islink(path):
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                rot13 = "/off" in path
                for entry in re.split(r"^%\s*$", text, flags=re.M):
                    if entry.strip():
                        yield f"fortune:{os.path.relpath(path, top)}", entry
                        if rot13:
                            yield f"fortune:{os.path.relpath(path, top)}", codecs.decode(entry, "rot13")


def deb822_descriptions(text, origin):
    for record in re.split(r"\n\s*\n", text):
        m = re.search(r"^Description(?:-[a-zA-Z_]+)?: ?(.*(?:\n[ \t].*)*)", record, flags=re.M)
        if not m:
            continue
        lines = m.group(1).split("\n")
        short, body = lines[0].strip(), [line[1:] if line.startswith(" ") else line for line in lines[1:]]
        yield origin, short
        paragraphs = "\n".join(body).split("\n.\n")
        paragraphs = [p.replace("\n.", "\n") for p in paragraphs]
        if body:
            yield origin, " ".join(paragraphs)
            for p in paragraphs:
                yield origin, p


def ensure_translations(allow_install):
    """The long package descriptions (Translation-en lists), fetched by apt into out/reserved/lists when
    the system's apt lists carry none (apt here may be configured without translations); the system's
    own lists are not touched."""
    if glob.glob("/var/lib/apt/lists/*i18n_Translation-en*"):
        return []
    lists = os.path.join(RESERVED_DIR, "lists")
    found = glob.glob(os.path.join(lists, "*i18n_Translation-en*"))
    if not found and allow_install:
        os.makedirs(os.path.join(lists, "partial"), exist_ok=True)
        print(f"fetching the Translation-en package description lists into {lists} (for comparison only)")
        subprocess.run(["apt-get", "update", "-q", f"-o=Dir::State::Lists={lists}", "-o=Acquire::Languages=en",
                        "-o=Acquire::IndexTargets::deb::Packages::DefaultEnabled=false"], check=True,
                       stdout=subprocess.DEVNULL)
        found = glob.glob(os.path.join(lists, "*i18n_Translation-en*"))
    if not found:
        print("warning: no Translation-en lists: long package descriptions are compared only for installed "
              "packages (/var/lib/dpkg/status)", file=sys.stderr)
    return sorted(found)


def apt_texts(extra_lists=()):
    found = False
    try:
        out = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, errors="replace", check=True)
        found = True
        yield from deb822_descriptions(out.stdout, "apt:dumpavail")
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"warning: apt-cache dumpavail failed: {e}", file=sys.stderr)
    if os.path.exists("/var/lib/dpkg/status"):
        found = True
        with open("/var/lib/dpkg/status", encoding="utf-8", errors="replace") as f:
            yield from deb822_descriptions(f.read(), "apt:dpkg-status")
    for path in sorted(glob.glob("/var/lib/apt/lists/*i18n_Translation-en*")) + list(extra_lists):
        try:
            out = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path], capture_output=True, text=True,
                                 errors="replace", check=True)
            found = True
            yield from deb822_descriptions(out.stdout, "apt:translations")
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"warning: cannot read {path}: {e}", file=sys.stderr)
    if not found:
        sys.exit("check_general.py: no package descriptions found (apt-cache dumpavail, /var/lib/dpkg/status); "
                 "run apt-get update")


class Reserved:
    """Normalised evaluation units: exact set and 8-word-prefix index for containment."""

    def __init__(self):
        self.exact = {}  # normalised unit -> (corpus, original text)
        self.prefix = collections.defaultdict(list)  # first 8 tokens -> [(tokens, corpus, text)]
        self.counts = collections.Counter()

    def add(self, corpus, text):
        self.counts[corpus.split(":")[0] if corpus.startswith(("fortune", "apt")) else corpus] += 1
        for unit in units(text):
            self.exact.setdefault(unit, (corpus, text))
            tokens = tuple(TOKEN.findall(unit))
            if len(tokens) >= NGRAM:
                self.prefix[tokens[:NGRAM]].append((tokens, corpus, text))

    def match(self, line):
        """(kind, corpus, evaluation text) of the first match of a generic line, or None."""
        key = gc.normalise(line)
        if key in self.exact:
            corpus, text = self.exact[key]
            return "equal", corpus, text
        tokens = tuple(TOKEN.findall(key))
        for i in range(len(tokens) - NGRAM + 1):
            for cand, corpus, text in self.prefix.get(tokens[i:i + NGRAM], ()):
                if tokens[i:i + len(cand)] == cand:
                    return "contains", corpus, text
        return None


def group(corpus):
    if corpus.startswith("fortune:"):
        return "fortunes"
    if corpus.startswith("apt:"):
        return "apt descriptions"
    return corpus


# --- the generic corpus --------------------------------------------------------------------------

def check_format(path):
    problems = []
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"not UTF-8: {e}"], []
    if "\r" in text:
        problems.append("CR line ends")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    else:
        problems.append("no final line break")
    seen, seen_norm = set(), set()
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            problems.append(f"line {i} is empty")
        elif line != gc.one_line(line):
            problems.append(f"line {i} has uncollapsed white space or control characters")
        n = len(line.split())
        if not gc.MIN_WORDS <= n <= gc.MAX_WORDS:
            problems.append(f"line {i} has {n} words")
        if line in seen:
            problems.append(f"line {i} repeats a line")
        norm = gc.normalise(line)
        if norm in seen_norm and line not in seen:
            problems.append(f"line {i} repeats a line after normalising")
        seen.add(line)
        seen_norm.add(norm)
    meta_path = os.path.splitext(path)[0] + ".json"
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        if meta.get("sha256") != hashlib.sha256(raw).hexdigest():
            problems.append(f"{os.path.basename(meta_path)} sha256 does not match")
        if meta.get("sentences") != len(lines):
            problems.append(f"{os.path.basename(meta_path)} counts {meta.get('sentences')} lines, file has {len(lines)}")
    else:
        problems.append(f"{meta_path} missing")
    return problems, lines


def source_of(sources_dir):
    owner = {}
    for path in sorted(glob.glob(os.path.join(sources_dir, "*.txt"))):
        name = os.path.basename(path)[:-4]
        with open(path, encoding="utf-8") as f:
            for line in f:
                owner.setdefault(line.rstrip("\n"), name)
    return owner


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--general", default=os.path.join(gc.OUT_DIR, "general.txt"))
    ap.add_argument("--sources", default=gc.SOURCES_DIR)
    ap.add_argument("--screen", action="store_true", help="compare every sentence of --sources instead; exit 0")
    ap.add_argument("--write-exclusions", default=None)
    ap.add_argument("--no-install", action="store_true", help="do not unpack the fortune packages")
    args = ap.parse_args()

    reserved = Reserved()
    for corpus, text in benchmark_texts():
        reserved.add(corpus, text)
    for corpus, text in fortune_texts(ensure_fortunes(not args.no_install)):
        reserved.add(corpus, text)
    for corpus, text in apt_texts(ensure_translations(not args.no_install)):
        reserved.add(corpus, text)
    print("evaluation texts read: " + ", ".join(f"{k} {v}" for k, v in sorted(reserved.counts.items()))
          + f"; {len(reserved.exact)} distinct normalised texts and sentences, "
            f"{sum(len(v) for v in reserved.prefix.values())} of at least {NGRAM} words")

    problems = []
    if args.screen:
        items = []
        for path in sorted(glob.glob(os.path.join(args.sources, "*.txt"))):
            name = os.path.basename(path)[:-4]
            with open(path, encoding="utf-8") as f:
                items += [(name, line.rstrip("\n")) for line in f]
        if not items:
            sys.exit(f"check_general.py: no sources in {args.sources}")
    else:
        if not os.path.exists(args.general):
            sys.exit(f"check_general.py: {args.general} not found; build it with: bash corpus/general/build_all.sh")
        problems, lines = check_format(args.general)
        owner = source_of(args.sources)
        items = [(owner.get(line, "?"), line) for line in lines]

    matches = collections.defaultdict(list)  # (source, evaluation group, kind) -> [(line, eval text)]
    matched_keys = set()
    for source, line in items:
        m = reserved.match(line)
        if m:
            kind, corpus, text = m
            matches[(source, group(corpus), kind)].append((line, corpus, text))
            matched_keys.add(gc.digest(gc.normalise(line)))
    checked = len(items)
    print(f"compared {checked} generic sentences ({'all sources, before merging' if args.screen else args.general})")
    total = sum(len(v) for v in matches.values())
    if matches:
        print("| generic source | evaluation corpus | match | sentences | example (generic line <- evaluation text) |")
        print("| --- | --- | --- | ---: | --- |")
        for (source, corpus, kind), found in sorted(matches.items()):
            line, where, text = found[0]
            print(f"| {source} | {corpus} | {kind} | {len(found)} | {line[:120]!r} <- {where}: {gc.one_line(text)[:120]!r} |")
    print(f"matches: {total}")
    if args.write_exclusions:
        with open(args.write_exclusions, "w", encoding="utf-8", newline="\n") as f:
            for key in sorted(matched_keys):
                f.write(key + "\n")
        print(f"wrote {len(matched_keys)} exclusions -> {args.write_exclusions}")
    if args.screen:
        return
    for p in problems[:20]:
        print(f"format problem: {p}")
    if problems or total:
        first = next(iter(sorted(matches.items())), None)
        detail = f"; first: source {first[0][0]} matches {first[0][1]}: {first[1][0][0][:100]!r}" if first else ""
        sys.exit(f"check_general.py: FAILED: {len(problems)} format problems, {total} sentences found in "
                 f"evaluation corpora{detail}")
    print(f"check passed: {checked} sentences, format ok, none found in the evaluation corpora")


if __name__ == "__main__":
    main()
