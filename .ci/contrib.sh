#!/usr/bin/env bash
# Run by .ci/run after the main suite: vets and tests each contrib module.
# Each has its own go.mod (so the core's dependencies stay small), which the
# root's `go test ./...` does not reach. LONGRUN_TEMPORAL_CLI, exported by
# .ci/peers-temporal.sh, lets contrib/temporal's worker-kill test run
# against a real Temporal dev server; without it that test skips and says
# why.
set -euo pipefail
cd "$(dirname "$0")/.."
for mod in contrib/*/go.mod; do
	dir=$(dirname "$mod")
	echo "== $dir"
	(cd "$dir" && go mod download && go vet ./... && go test -race ./...)
done
