# Sourced by .ci/run: the Debian packages the conformance tests use.
#   python3-freezer-api, python3-freezerclient: the real Freezer API server
#     and client (freezer/ conformance tests, run with /usr/bin/python3):
#     the SDK's scenarios against the real server, python-freezerclient
#     against the fake, and the scripted `freezer` command-line session
#     run against both and compared (TestConformanceCommandLine), and raw
#     HTTP probes of every route compared byte for byte (TestConformanceWire);
#   python3-requests: replays the TrueNAS middleware's own upload/download
#     tests against the fake (upload/);
#   curl: the upload/download comparison (LONGRUN_CURL=1, not run by default).
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends \
	python3-freezer-api python3-freezerclient python3-requests curl >/dev/null; then
	/usr/bin/python3 -c 'import freezer_api.cmd.api, freezerclient.v2.client, requests' &&
		echo "debian peers installed"
else
	echo "debian peers: apt-get failed; the tests that need them will skip and say why"
fi
