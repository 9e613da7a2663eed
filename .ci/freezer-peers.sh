#!/bin/sh
# Installs the real OpenStack Freezer peers the freezer conformance tests
# use: the freezer-api server and python-freezerclient, from Debian. The
# tests run them with /usr/bin/python3 and skip, saying why, when they are
# missing.
set -eu
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends python3-freezer-api python3-freezerclient
/usr/bin/python3 -c 'import freezer_api.cmd.api, freezerclient.v2.client' 
echo "freezer peers installed"
