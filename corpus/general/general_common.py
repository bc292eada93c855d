"""Helpers shared by the generic-corpus scripts in this folder (Python 3 standard library only).

Not a corpus script itself: build_*.py, merge_general.py and check_general.py import it from their
own folder. Every build_*.py writes one or more sources into out/sources/: NAME.txt (one sentence a
line, unique, sorted) and NAME.json (package, version, licence, register, counts).
"""
import json
import os
import re
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "out")
SOURCES_DIR = os.path.join(OUT_DIR, "sources")
DEB_ROOT = os.path.join(OUT_DIR, "deb")  # Debian packages unpacked here by build_all.sh (dpkg-deb -x)
NPM_DIR = os.path.join(OUT_DIR, "npm", "node_modules")

MIN_WORDS, MAX_WORDS, MAX_CHARS = 4, 60, 400

# C0/C1 control characters and other characters that have no place in a one-line text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u2028\u2029\ufeff]")


def one_line(text):
    """NFC, control characters dropped, every run of white space (newlines included) made one space."""
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", text)).split())


def missing(what, install):
    """Exits with one line saying what is missing and how to install it."""
    sys.exit(f"{os.path.basename(sys.argv[0])}: {what} not found; install it with: {install}")


def deb_install_hint(package):
    return (f"bash corpus/general/build_all.sh (or: apt-get download {package} && "
            f"dpkg-deb -x {package}_*.deb {DEB_ROOT})")


def npm_install_hint(spec):
    return f"npm install --prefix {os.path.join(OUT_DIR, 'npm')} {spec}"


# --- sentence splitting --------------------------------------------------------------------------

# A sentence ends at . ! or ? (and any closing quotes or brackets) before white space and a capital,
# a digit or an opening quote or bracket.
BOUNDARY = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[_]?[A-Z0-9])")
ABBREVIATIONS = {
    "mr", "mrs", "ms", "messrs", "dr", "st", "gen", "col", "capt", "lieut", "lt", "adm", "hon", "rev",
    "sr", "jr", "prof", "no", "nos", "vs", "v", "etc", "viz", "sec", "secs", "ch", "chap", "vol",
    "vols", "p", "pp", "ft", "fig", "figs", "eq", "ref", "refs", "cf", "e.g", "i.e", "al", "approx", "ca",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept", "sep", "oct", "nov", "dec", "u.s", "u.s.a",
    "u.k", "d.c", "n.y", "a.m", "p.m", "inc", "co", "bros", "corp", "ltd", "gov", "govt", "dept", "univ",
    "supt", "maj", "sgt", "cong", "ex", "esq", "mt", "ave", "blvd", "rd", "vii", "ii", "iii", "iv", "vi",
    "viii", "ix", "xi", "xii", "anat", "zool", "bot", "chem", "obs", "naut", "geol", "theol", "pl",
    "fem", "masc", "lat", "gr", "fr", "ger", "heb", "adv", "prep", "conj", "interj", "pron",
}


def sentences(text):
    """Splits one paragraph (already one line) into sentences, not after common abbreviations
    (Mr. Smith, e.g. Foo, U.S. Navy) or single initials (John Q. Adams)."""
    out, start = [], 0
    for m in BOUNDARY.finditer(text):
        piece = text[start:m.start() + 1].split()
        if not piece:
            continue
        last = piece[-1].lower().lstrip("\"'(\u201c\u2018[")
        word = last.rstrip(".!?")
        if last.endswith(".") and (word in ABBREVIATIONS or re.fullmatch(r"[a-z]", word)):
            continue
        out.append(text[start:m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


_START = re.compile(r"^[\"'\u201c\u2018(]?[A-Z0-9]")
_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def acceptable(sentence):
    """A sentence for the corpus: 4-60 words, at most 400 characters, starts with a capital, a digit
    or an opening quote, ends with . ! or ? (closing quotes allowed), has balanced parentheses and brackets, and is mostly words: at least
    75% of its characters letters or spaces and at least 60% of its tokens plain words."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or len(sentence) > MAX_CHARS:
        return False
    if not _START.match(sentence) or not _END.search(sentence):
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count("[") != sentence.count("]"):
        return False
    letters = sum(1 for c in sentence if c.isalpha() or c == " ")
    if letters < 0.75 * len(sentence):
        return False
    plain = sum(1 for w in words if _WORD.fullmatch(w.strip(".,;:!?\"'()[]\u201c\u201d\u2018\u2019")))
    return plain >= 0.6 * len(words)


def tidy(sentence):
    """Light clean-up of one sentence: _italic_ and *emphasis* marks dropped; a lone straight double
    quote at the start or the end (left over from splitting a quotation into sentences) dropped."""
    sentence = re.sub(r"(?<![\w*])[_*]{1,2}([^_*\s](?:[^_*]*[^_*\s])?)[_*]{1,2}(?![\w*])", r"\1", sentence)
    if sentence.count('"') == 1:
        if sentence.startswith('"'):
            sentence = sentence[1:]
        elif sentence.endswith('"'):
            sentence = sentence[:-1]
    return one_line(sentence)


def collect(paragraphs, stats=None):
    """Sentences (tidied, acceptable, one line) from an iterable of paragraphs; counts them in stats
    (split: all sentences found, kept: those acceptable)."""
    stats = stats if stats is not None else {}
    for paragraph in paragraphs:
        for s in sentences(one_line(paragraph)):
            s = tidy(s)
            stats["split"] = stats.get("split", 0) + 1
            if acceptable(s):
                stats["kept"] = stats.get("kept", 0) + 1
                yield s
    return stats


# --- package facts ---------------------------------------------------------------------------------

def deb_version(package, root=DEB_ROOT):
    """Version of a Debian package unpacked under root by build_all.sh (it records the version in
    root/VERSIONS), else the system's installed version (dpkg-query), else None."""
    path = os.path.join(root, "VERSIONS")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, _, version = line.strip().partition(" ")
                if name == package:
                    return version
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                             text=True, check=False)
        return out.stdout.strip() or None
    except OSError:
        return None


def licence_named(path, needle):
    """Checks that the licence name we record occurs in the package's own file; warns otherwise."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            found = needle in f.read()
    except OSError:
        found = False
    if not found:
        print(f"warning: {needle!r} not found in {path}", file=sys.stderr)
    return found


def write_source(name, sentences_iter, meta, out_dir=SOURCES_DIR):
    """Writes out_dir/NAME.txt (unique sentences, sorted) and NAME.json (meta + counts)."""
    os.makedirs(out_dir, exist_ok=True)
    found = list(sentences_iter)
    unique = sorted(set(found))
    for s in unique:
        if s != one_line(s) or not s:
            raise ValueError(f"bad sentence: {s!r}")
    with open(os.path.join(out_dir, name + ".txt"), "w", encoding="utf-8", newline="\n") as f:
        for s in unique:
            f.write(s + "\n")
    words = sum(len(s.split()) for s in unique) / max(len(unique), 1)
    meta = dict(meta, source=name, sentences=len(unique), repeats_dropped=len(found) - len(unique),
                mean_words=round(words, 2))
    with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"{name}: {len(unique)} sentences ({len(found) - len(unique)} repeats dropped), "
          f"mean {words:.1f} words -> {os.path.join(out_dir, name + '.txt')}")


# --- normalisation for comparisons ----------------------------------------------------------------

def _edge(c):
    return unicodedata.category(c)[0] in "PSZ" or c.isspace()


def normalise(text):
    """Lower case, white space collapsed, punctuation and symbols stripped at both ends."""
    text = " ".join(text.lower().split())
    i, j = 0, len(text)
    while i < j and _edge(text[i]):
        i += 1
    while j > i and _edge(text[j - 1]):
        j -= 1
    return text[i:j]


def digest(normalised):
    import hashlib
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
