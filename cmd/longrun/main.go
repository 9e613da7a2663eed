// Command longrun waits on, watches and inspects the long-running jobs of
// CloudSigma, TrueNAS, OpenStack Freezer and ftrack from a shell, with exit
// codes a script can act on (`longrun help exit-codes`):
//
//	longrun wait cloudsigma 5d1f...          # every sub-job to the end, live bars
//	longrun wait truenas 101 102 --json      # NDJSON, one event per change
//	longrun cloudsigma clone-server UUID --wait
//	longrun fake &                           # the bundled fake of all four services
//
// Endpoints and credentials come from flags, the environment variables each
// service's own tools read (CLOUDSIGMA_*, TRUENAS_*, OS_* for Freezer,
// FTRACK_* for ftrack) or a profile of ~/.config/longrun/config.yaml.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
