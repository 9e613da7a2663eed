// Command longrun-fake runs longrun's in-memory fake of all four dialects
// (CloudSigma API 2.0, TrueNAS middleware, OpenStack Freezer, ftrack) as a
// process, for tests written in other languages and for trying clients by
// hand:
//
//	go run ./cmd/longrun-fake -addr 127.0.0.1:8088 -speed 60
//
// Fake time runs -speed times faster than the wall clock, so a drive clone
// that takes ten fake minutes ends after ten seconds at -speed 60. It
// prints the base URL of each dialect and the seeded credentials, and stops
// cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8088", "listen address")
	speed := flag.Float64("speed", 60, "fake seconds per wall second")
	flag.Parse()
	if *speed <= 0 {
		fmt.Fprintln(os.Stderr, "longrun-fake: -speed must be positive")
		os.Exit(2)
	}
	if err := run(*addr, *speed); err != nil {
		fmt.Fprintln(os.Stderr, "longrun-fake:", err)
		os.Exit(1)
	}
}

func run(addr string, speed float64) (err error) {
	defer func() {
		// fake.NewServer panics when it cannot listen outside a test.
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := fake.NewServer(nil, fake.Options{Addr: addr, Clock: sim.NewScaledClock(speed)})
	defer srv.Close()
	// Keystone tokens last an hour of wall time: expires_at is written on
	// the fake clock, where that is speed hours.
	srv.Freezer().SetTokenLifetime(time.Duration(speed * float64(time.Hour)))
	base := srv.URL()
	fmt.Printf("longrun fake listening on %s (fake time x%g)\n", base, speed)
	fmt.Printf("  CloudSigma API 2.0: %s/api/2.0/   (HTTP Basic: email + password)\n", base)
	fmt.Printf("  TrueNAS middleware: %s\n", srv.WebsocketURL())
	fmt.Printf("  OpenStack Freezer:  %s/v1/ and %s/v2/   (Keystone: %s/v3/)\n", base, base, base)
	fmt.Printf("  ftrack:             %s/api\n", base)
	fmt.Println("seeded users:")
	for _, u := range srv.Env().Users() {
		fmt.Printf("  name=%s email=%s password=%s api_key=%s project=%s\n", u.Name, u.Email, u.Password, u.APIKey, u.Project)
	}
	<-ctx.Done()
	fmt.Println("longrun fake: shutting down")
	return nil
}
