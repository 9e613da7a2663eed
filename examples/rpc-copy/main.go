// Command rpc-copy copies a path on a TrueNAS box with filesystem.copy and
// shows the job's progress live until it ends.
//
// With no -url it starts longrun's fake in-process (its clock running 20
// times faster than the wall clock) and copies there:
//
//	go run ./examples/rpc-copy
//
// Against a real TrueNAS, JSON-RPC 2.0 (25.04 and later), or the legacy
// protocol of CORE 13 and SCALE up to 24.10 (a URL ending in /websocket):
//
//	TRUENAS_API_KEY=... go run ./examples/rpc-copy -url wss://nas.local/api/current \
//	    -user admin -src /mnt/tank/a -dst /mnt/tank/b [-insecure]
//	go run ./examples/rpc-copy -url ws://127.0.0.1:PORT/websocket   # longrun-fake's legacy endpoint
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/internal/display"
	"github.com/longrun/longrun/internal/flagenv"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

func main() {
	fs := flag.CommandLine
	url := flagenv.String(fs, "url", "", "middleware websocket URL: wss://nas/api/current, or .../websocket for the legacy protocol (default: an in-process fake)", "TRUENAS_URL")
	apiKey := flagenv.Secret(fs, "api-key", "API key", "TRUENAS_API_KEY")
	user := flagenv.String(fs, "user", "admin", "user the API key belongs to", "TRUENAS_USER")
	src := fs.String("src", "/mnt/tank/src", "path to copy")
	dst := fs.String("dst", "/mnt/tank/dst", "destination path")
	insecure := fs.Bool("insecure", false, "accept a self-signed certificate")
	legacy := fs.Bool("legacy-jobs", false, "use the 25.04 job-id reply style (JSON-RPC only)")
	timeout := flagenv.Duration(fs, "timeout", time.Hour, "give up after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := run(ctx, *url, *user, *apiKey, *src, *dst, *insecure, *legacy); err != nil {
		fmt.Fprintln(os.Stderr, "rpc-copy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, user, apiKey, src, dst string, insecure, legacy bool) error {
	if url == "" {
		srv, err := fake.New(fake.Options{Clock: sim.NewScaledClock(20)})
		if err != nil {
			return err
		}
		defer srv.Close()
		u := srv.Env().Users()[0]
		url, user, apiKey = srv.WebsocketURL(), u.Name, u.APIKey
		fmt.Println("using the in-process fake at", url)
	}
	if apiKey == "" {
		return errors.New("an API key is needed: -api-key or $TRUENAS_API_KEY")
	}
	opts := []rpc.Option{rpc.WithAPIKey(user, apiKey), rpc.WithLegacyJobs(legacy)}
	if insecure {
		opts = append(opts, rpc.WithTLSConfig(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // asked for
	}
	c, err := rpc.Dial(ctx, url, opts...)
	if err != nil {
		return err
	}
	defer c.Close()

	h, err := c.CallJob(ctx, "filesystem.copy", src, dst)
	if err != nil {
		return err
	}
	fmt.Printf("job %s: filesystem.copy %s -> %s over %s\n", h.ID(), src, dst, c.Protocol())
	show := display.New(display.Options{})
	var last *jobs.Job
	if h.ID() != "" {
		last, err = jobs.Wait(ctx, c, h.ID(), jobs.WithOnProgress(show.Update))
	}
	var result any
	if err == nil || errors.Is(err, jobs.ErrJobFailed) {
		err = h.Wait(ctx, &result)
	}
	if last == nil {
		last = h.ToJob()
	}
	show.Finish(last, err)
	var je *rpc.JobError
	switch {
	case errors.As(err, &je) && errors.Is(err, jobs.ErrJobAborted):
		return fmt.Errorf("job %s was aborted", h.ID())
	case errors.As(err, &je):
		return fmt.Errorf("job %s failed (%s): %s", h.ID(), je.Type, strings.TrimSpace(je.Message))
	case err != nil:
		return err
	}
	fmt.Printf("job %s: %s, result %v\n", h.ID(), last.RawState, result)
	return nil
}
