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
	"github.com/longrun/longrun/internal/display"
	"github.com/longrun/longrun/internal/flagenv"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

func main() {
	fs := flag.CommandLine
	url := flagenv.String(fs, "url", "", "CloudSigma API base URL (default: an in-process fake)", "CLOUDSIGMA_URL")
	user := flagenv.String(fs, "user", "", "account email", "CLOUDSIGMA_USER")
	password := flagenv.Secret(fs, "password", "account password", "CLOUDSIGMA_PASSWORD")
	serverID := fs.String("server", "", "uuid of the server to clone (default: the first server named web-1, else the first with disks)")
	name := fs.String("name", "", "name of the clone (default: <source name>-clone)")
	speed := fs.Float64("speed", 900, "fake clock speed (fake seconds per wall second), fake only")
	timeout := flagenv.Duration(fs, "timeout", 2*time.Hour, "give up after this long")
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
	if url == "" {
		srv, err := fake.New(fake.Options{Clock: sim.NewScaledClock(speed)})
		if err != nil {
			return err
		}
		defer srv.Close()
		u := srv.Env().Users()[0]
		url, user, password = srv.CloudSigmaURL(), u.Email, u.Password
		fmt.Printf("using the in-process fake at %s (fake time x%g)\n", url, speed)
	}
	c, err := cloudsigma.New(url, user, password)
	if err != nil {
		return err
	}
	defer c.Close()
	svc, ds := servers.New(c), drives.New(c)

	src, err := pickServer(ctx, svc, serverID)
	if err != nil {
		return err
	}
	names := map[string]string{} // source drive uuid -> name, to label the sub-jobs
	for _, d := range src.Drives {
		if dd, err := ds.Get(ctx, d.Drive.UUID); err == nil {
			names[dd.UUID] = dd.Name + " (" + dd.Media + ")"
		}
	}
	if name == "" {
		name = src.Name + "-clone"
	}
	fmt.Printf("cloning server %s %q with %d drives\n", src.UUID, src.Name, len(src.Drives))
	show := display.New(display.Options{Label: func(j *jobs.Job) string { return label(j, names) }})
	clone, job, err := svc.CloneAndWait(ctx, src.UUID, &servers.CloneRequest{Name: name, RandomVNCPassword: true}, nil,
		jobs.WithOnProgress(show.Update))
	show.Finish(job, err)
	if err != nil {
		return err
	}
	fmt.Printf("all %d sub-jobs are done; server %s %q is %s with %d drives:\n", len(job.Children), clone.UUID, clone.Name, clone.Status, len(clone.Drives))
	for _, d := range clone.Drives {
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

// label names a sub-job after the source drive it clones.
func label(j *jobs.Job, names map[string]string) string {
	for _, r := range j.Resources {
		parts := strings.Split(strings.Trim(r, "/"), "/")
		if n, ok := names[parts[len(parts)-1]]; ok {
			return n
		}
	}
	return display.DefaultLabel(j)
}
