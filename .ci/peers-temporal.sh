# Sourced by .ci/run: builds the temporal CLI from the Go module proxy, for
# contrib/temporal's worker-kill test against a real development server
# (`temporal server start-dev`), and exports where it is.
#
# v1.5.1 is the newest release `go install` accepts: v1.9.1's go.mod holds a
# replace directive (./cliext), so `go install ...@v1.9.1` refuses it and
# its cliext module is not on the proxy. The build compiles the whole
# Temporal server (about 7 minutes of CPU; 57 minutes of wall time on a
# shared 2-core machine at nice 19); it is cached across runs and bounded
# by a timeout. With it, TestWorkerKilledMidWaitResumes takes about 25 s.
temporal_version=v1.5.1
dir="${LONGRUN_PEERS_DIR:-$HOME/.cache/longrun}/temporal-$temporal_version"
if [ ! -x "$dir/temporal" ]; then
	mkdir -p "$dir"
	echo "temporal CLI: building $temporal_version (first run only)"
	if ! timeout 25m env GOBIN="$dir" go install "github.com/temporalio/cli/cmd/temporal@$temporal_version"; then
		echo "temporal CLI: build failed or timed out; the worker-kill test will skip"
	fi
fi
if [ -x "$dir/temporal" ]; then
	export LONGRUN_TEMPORAL_CLI="$dir/temporal"
	echo "temporal CLI: $LONGRUN_TEMPORAL_CLI"
fi
