// Command clone-server clones a CloudSigma server and follows the clone
// job until it and every drive clone under it are done, printing a progress
// bar per sub-job.
//
// By default it starts longrun's fake in-process, with fake time running
// fast enough that the seeded server "web-1" (three disks and a cdrom)
// clones in a few seconds:
//
//	go run ./examples/clone-server
//
// Point it at a real CloudSigma location with flags or environment
// variables:
//
//	CLOUDSIGMA_URL=https://zrh.cloudsigma.com/api/2.0/ \
//	CLOUDSIGMA_USER=you@example.com CLOUDSIGMA_PASSWORD=... \
//	go run ./examples/clone-server -server <uuid>
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

func main() {
	url := flag.String("url", os.Getenv("CLOUDSIGMA_URL"), "CloudSigma API base URL (default: an in-process fake); env CLOUDSIGMA_URL")
	user := flag.String("user", os.Getenv("CLOUDSIGMA_USER"), "account email; env CLOUDSIGMA_USER")
	password := flag.String("password", os.Getenv("CLOUDSIGMA_PASSWORD"), "account password; env CLOUDSIGMA_PASSWORD")
	serverID := flag.String("server", "", "uuid of the server to clone (default: the first server named web-1, else the first with disks)")
	name := flag.String("name", "", "name of the clone (default: <source name>-clone)")
	speed := flag.Float64("speed", 900, "fake clock speed (fake seconds per wall second), fake only")
	timeout := flag.Duration("timeout", 2*time.Hour, "give up after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := run(ctx, *url, *user, *password, *serverID, *name, *speed); err != nil {
		fmt.Fprintln(os.Stderr, "clone-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, user, password, serverID, name string, speed float64) error {
	interval := []jobs.Option{jobs.WithInterval(time.Second, 10*time.Second)}
	if url == "" {
		srv := fake.NewServer(nil, fake.Options{Clock: sim.NewScaledClock(speed)})
		defer srv.Close()
		url, user, password = srv.CloudSigmaURL(), "admin@example.com", "secret"
		interval = []jobs.Option{jobs.WithInterval(100*time.Millisecond, 300*time.Millisecond)}
		fmt.Printf("using the in-process fake at %s (fake time x%g)\n", url, speed)
	}
	c, err := cloudsigma.New(url, user, password)
	if err != nil {
		return err
	}
	svc, ds := servers.New(c), drives.New(c)

	src, err := pickServer(ctx, svc, serverID)
	if err != nil {
		return err
	}
	names := map[string]string{} // source drive uuid -> name
	for _, d := range src.Drives {
		if dd, err := ds.Get(ctx, d.Drive.UUID); err == nil {
			names[dd.UUID] = dd.Name + " (" + dd.Media + ")"
		}
	}
	if name == "" {
		name = src.Name + "-clone"
	}
	fmt.Printf("cloning server %s %q with %d drives\n", src.UUID, src.Name, len(src.Drives))
	clone, err := svc.Clone(ctx, src.UUID, &servers.CloneRequest{Name: name, RandomVNCPassword: true}, nil)
	if err != nil {
		return err
	}
	if len(clone.Jobs) == 0 {
		return errors.New("the clone answer carries no job")
	}
	fmt.Printf("new server %s %q, status %s, job %s\n", clone.UUID, clone.Name, clone.Status, clone.Jobs[0].UUID)

	p := &printer{names: names, last: map[string]float64{}, done: map[string]bool{}}
	opts := append(interval, jobs.WithOnProgress(p.show))
	job, err := jobs.Wait(ctx, c.Jobs, clone.Jobs[0].UUID, opts...)
	if err != nil {
		var te *jobs.TimeoutError
		if errors.As(err, &te) && te.Last != nil {
			p.show(te.Last)
		}
		return err
	}
	final, err := svc.Get(ctx, clone.UUID)
	if err != nil {
		return err
	}
	fmt.Printf("all %d sub-jobs are done; server %s %q is %s with %d drives:\n", len(job.Children), final.UUID, final.Name, final.Status, len(final.Drives))
	for _, d := range final.Drives {
		fmt.Printf("  %-6s %s  %s\n", d.Device, d.DevChannel, d.Drive.UUID)
	}
	return nil
}

func pickServer(ctx context.Context, svc *servers.Service, id string) (*servers.Server, error) {
	if id != "" {
		return svc.Get(ctx, id)
	}
	var first *servers.Server
	for s, err := range svc.All(ctx, &cloudsigma.ListOptions{Detail: true}) {
		if err != nil {
			return nil, err
		}
		if s.Name == "web-1" {
			return s, nil
		}
		if first == nil && len(s.Drives) > 0 {
			first = s
		}
	}
	if first == nil {
		return nil, errors.New("no server with drives to clone; pass -server")
	}
	return first, nil
}

// printer prints a bar per sub-job whenever its progress moves, and a line
// when it reaches 100.
type printer struct {
	names map[string]string
	last  map[string]float64
	done  map[string]bool
}

func (p *printer) show(root *jobs.Job) {
	subs := root.Children
	if len(subs) == 0 {
		subs = []*jobs.Job{root}
	}
	for i, j := range subs {
		pct := j.Progress.Percent
		if j.Done() {
			pct = 100
		}
		if old, ok := p.last[j.ID]; ok && old == pct {
			continue
		}
		p.last[j.ID] = pct
		fmt.Printf("  sub-job %2d/%d %s %-28s %s %3.0f%%\n", i+1, len(subs), short(j.ID), p.label(j), bar(pct), pct)
		if pct >= 100 && !p.done[j.ID] {
			p.done[j.ID] = true
			fmt.Printf("  sub-job %s (%s of %s) is done, state %s\n", j.ID, j.Operation, p.label(j), j.RawState)
		}
	}
	agg := root.Aggregate()
	fmt.Printf("  total %s %3.0f%% (%s, %s)\n", bar(agg.Percent), agg.Percent, root.Operation, root.RawState)
}

func (p *printer) label(j *jobs.Job) string {
	for _, r := range j.Resources {
		parts := strings.Split(strings.Trim(r, "/"), "/")
		if n, ok := p.names[parts[len(parts)-1]]; ok {
			return n
		}
	}
	return j.Operation
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func bar(pct float64) string {
	n := int(pct / 5)
	n = min(max(n, 0), 20)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + "]"
}
