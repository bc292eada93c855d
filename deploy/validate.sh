#!/usr/bin/env bash
# Checks the deployment files where no container engine or cluster runs (as in CI): the compose
# files with docker-compose's own validator, every YAML and JSON file under deploy/ with a parser,
# the Kubernetes manifests for the fields every object needs, the Grafana dashboard for its data
# source, and the shell scripts with bash -n. Nothing here builds or starts an image.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "validate: FAIL: $*" >&2; exit 1; }

command -v docker-compose >/dev/null 2>&1 \
  || fail "docker-compose is not installed (Debian package docker-compose; .ci/run installs it)"

# docker-compose 1.29 checks the schema, interpolation and depends_on conditions; it needs no engine.
for files in "docker-compose.yml" "docker-compose.yml deploy/compose.gpu.yml"; do
  args=()
  for f in $files; do args+=(-f "$f"); done
  docker-compose "${args[@]}" config -q || fail "docker-compose rejects: $files"
  echo "validate: ok  docker-compose config: $files"
done

# PyYAML: the python3 on PATH may lack it; Debian's docker-compose brings it for /usr/bin/python3.
py=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' >/dev/null 2>&1; then
    py="$candidate"
    break
  fi
done
[ -n "$py" ] || fail "no python3 with PyYAML (Debian package python3-yaml)"

"$py" - <<'EOF' || fail "see the message above"
import json
import pathlib
import sys

import yaml

errors = []
count = 0
for path in sorted(pathlib.Path("deploy").rglob("*")):
    if not path.is_file():
        continue
    name = str(path)
    if path.suffix in (".yml", ".yaml"):
        count += 1
        try:
            with open(path, encoding="utf-8") as f:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            errors.append(f"{name}: not valid YAML: {e}")
            continue
        if path.parts[:2] == ("deploy", "k8s") and path.name != "kustomization.yaml":
            for i, d in enumerate(docs):
                missing = [k for k in ("apiVersion", "kind") if not isinstance(d, dict) or k not in d]
                if not missing and not (d.get("metadata") or {}).get("name"):
                    missing.append("metadata.name")
                if missing:
                    errors.append(f"{name}: document {i + 1} lacks {', '.join(missing)}")
    elif path.suffix == ".json":
        count += 1
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except ValueError as e:
            errors.append(f"{name}: not valid JSON: {e}")
            continue
        if path.parts[:3] == ("deploy", "grafana", "dashboards"):
            # The provisioned data source has uid "prometheus"; a panel naming another shows no data.
            for panel in doc.get("panels", []):
                if panel.get("type") == "row":
                    continue
                for target in [panel] + panel.get("targets", []):
                    uid = (target.get("datasource") or {}).get("uid")
                    if uid != "prometheus":
                        errors.append(f"{name}: panel '{panel.get('title')}' uses data source uid {uid!r}, not 'prometheus'")
                if not panel.get("targets"):
                    errors.append(f"{name}: panel '{panel.get('title')}' has no query")

for e in errors:
    print(f"validate: FAIL: {e}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"validate: ok  {count} YAML/JSON files under deploy/ parse")
EOF

for script in deploy/*.sh deploy/gpu/*.sh; do
  bash -n "$script" || fail "$script has a shell syntax error"
done
echo "validate: ok  shell syntax of deploy/*.sh deploy/gpu/*.sh"

# kubectl carries kustomize: render the manifests where it exists (not in CI).
if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize deploy/k8s >/dev/null || fail "kubectl kustomize deploy/k8s failed"
  echo "validate: ok  kubectl kustomize deploy/k8s"
else
  echo "validate: skip kubectl kustomize deploy/k8s (no kubectl)"
fi
