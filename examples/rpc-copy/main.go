// Command rpc-copy copies a path on a TrueNAS box with filesystem.copy and
// shows the job's progress live until it ends.
//
// With no flags it starts longrun's fake in-process (its clock running 20
// times faster than the wall clock) and copies there:
//
//	go run ./examples/rpc-copy
//
// Against a real TrueNAS:
//
//	TRUENAS_API_KEY=... go run ./examples/rpc-copy -url wss://nas.local/api/current \
//	    -user admin -src /mnt/tank/a -dst /mnt/tank/b [-insecure]
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
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rpc-copy:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", os.Getenv("TRUENAS_URL"), "middleware websocket URL (empty: an in-process fake)")
	apiKey := flag.String("api-key", "", "API key (default $TRUENAS_API_KEY)")
	user := flag.String("user", envOr("TRUENAS_USER", "admin"), "user the API key belongs to")
	src := flag.String("src", "/mnt/tank/src", "path to copy")
	dst := flag.String("dst", "/mnt/tank/dst", "destination path")
	insecure := flag.Bool("insecure", false, "accept a self-signed certificate")
	legacy := flag.Bool("legacy-jobs", false, "use the 25.04 job-id reply style")
	timeout := flag.Duration("timeout", time.Hour, "give up after this long")
	flag.Parse()
	if *apiKey == "" {
		*apiKey = os.Getenv("TRUENAS_API_KEY")
	}

	if *url == "" {
		srv := fake.NewServer(nil, fake.Options{Clock: sim.NewScaledClock(20)})
		defer srv.Close()
		*url, *apiKey, *user = srv.WebsocketURL(), "1-longrunfakeapikey", "admin"
		fmt.Println("using the in-process fake at", *url)
	}
	if *apiKey == "" {
		return errors.New("an API key is needed: -api-key or $TRUENAS_API_KEY")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	opts := []rpc.Option{rpc.WithAPIKey(*user, *apiKey), rpc.WithLegacyJobs(*legacy)}
	if *insecure {
		opts = append(opts, rpc.WithTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	}
	c, err := rpc.Dial(ctx, *url, opts...)
	if err != nil {
		return err
	}
	defer c.Close()

	h, err := c.CallJob(ctx, "filesystem.copy", *src, *dst)
	if err != nil {
		return err
	}
	fmt.Printf("job %s: filesystem.copy %s -> %s\n", h.ID(), *src, *dst)
	for p := range h.Progress() {
		fmt.Printf("  %3.0f%% %s %s\n", p.Percent, bar(p.Percent), p.Description)
	}
	var result any
	err = h.Wait(ctx, &result)
	var je *rpc.JobError
	switch {
	case errors.As(err, &je) && errors.Is(err, jobs.ErrJobAborted):
		return fmt.Errorf("job %d was aborted", je.JobID)
	case errors.As(err, &je):
		return fmt.Errorf("job %d failed (%s): %s", je.JobID, je.Type, strings.TrimSpace(je.Message))
	case err != nil:
		return err
	}
	state := "SUCCESS"
	if e := h.Entry(); e != nil {
		state = e.State
	}
	fmt.Printf("job %s: %s, result %v\n", h.ID(), state, result)
	return nil
}

func bar(p float64) string {
	n := min(max(int(p/5), 0), 20)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + "]"
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
