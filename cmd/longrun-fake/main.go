// Command longrun-fake runs longrun's in-memory fake of all four dialects
// (CloudSigma API 2.0, TrueNAS middleware, OpenStack Freezer, ftrack) as a
// process, for tests written in other languages and for trying clients by
// hand:
//
//	go run ./cmd/longrun-fake -addr 127.0.0.1:8088 -speed 60
//
// Fake time runs -speed times faster than the wall clock, so a drive clone
// that takes ten fake minutes ends after ten seconds at -speed 60; with
// -speed 0 it stands still until a test moves it through the control API.
// The control API (/_fake/: clock, faults, jobs, request log, reset, seed)
// is always on here, guarded by -control-token (a random one by default).
// The process prints its base URL, each dialect's URL, the control token
// and the seeded credentials, and shuts down gracefully on SIGINT or
// SIGTERM.
//
// Flags:
//
//	-addr             listen address (default 127.0.0.1:8088; port 0: a free port)
//	-seed FILE        a seed document (JSON: users, per-dialect sections; see fake.SeedDocument)
//	-speed N          fake seconds per wall second (default 60; 0: a stopped clock)
//	-truenas-version  the TrueNAS middleware release to emulate (24.10, 25.04, 25.10, 26.0 or newest)
//	-control-token    the control API's bearer token (default: random, printed)
//	-log-level        debug, info, warn or error (default info), on stderr
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/longrun/longrun/fake/fakecmd"
)

func main() {
	// A test harness that stops reading our stdout must not kill the
	// server with SIGPIPE: writes to a closed pipe fail quietly instead.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := fakecmd.Main(ctx, "longrun-fake", os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
