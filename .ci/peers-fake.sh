# Sourced by .ci/run: the interpreters of examples/fake-control, which
# cmd/longrun-fake's tests run against the binary built as the Dockerfile
# builds it (python3 standard library only; node 18+ for node:test and
# fetch). A missing one makes its test skip and say why.
need=""
command -v python3 >/dev/null 2>&1 || need="$need python3"
command -v node >/dev/null 2>&1 || need="$need nodejs"
if [ -n "$need" ]; then
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null ||
		echo "fake-control examples: apt-get install$need failed; their tests will skip"
fi
if command -v node >/dev/null 2>&1 && ! node -e 'process.exit(typeof fetch === "function" ? 0 : 1)'; then
	echo "fake-control examples: node $(node --version) has no fetch (needs 18+); its test will fail"
fi
echo "fake-control examples: python3=$(command -v python3 || echo missing) node=$(command -v node || echo missing)"
