# Sourced by .ci/run: installs ftrack's reference JavaScript client from npm
# for fake/ftrack_reference_test.go and exports where it is.
dir="${LONGRUN_PEERS_DIR:-$HOME/.cache/longrun}/ftrack-js"
mkdir -p "$dir"
if command -v npm >/dev/null 2>&1 && npm install --silent --no-audit --no-fund --prefix "$dir" @ftrack/api@1 >/dev/null 2>&1; then
	export LONGRUN_FTRACK_JS_DIR="$dir"
	echo "ftrack reference client: @ftrack/api in $dir"
else
	echo "ftrack reference client: npm install @ftrack/api failed; its conformance test will skip"
fi
