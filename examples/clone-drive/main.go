// Command clone-drive clones a CloudSigma drive and follows the clone job
// until it is done, printing a progress bar as it moves.
//
// By default it starts longrun's fake in-process, with fake time running
// fast enough that the seeded 20 GiB drive "web-data" clones in a couple of
// seconds:
//
//	go run ./examples/clone-drive
//
// Point it at a real CloudSigma location with flags or environment
// variables:
//
//	CLOUDSIGMA_URL=https://zrh.cloudsigma.com/api/2.0/ \
//	CLOUDSIGMA_USER=you@example.com CLOUDSIGMA_PASSWORD=... \
//	go run ./examples/clone-drive -drive <uuid>
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
)

func main() {
	url := flag.String("url", os.Getenv("CLOUDSIGMA_URL"), "CloudSigma API base URL (default: an in-process fake); env CLOUDSIGMA_URL")
	user := flag.String("user", os.Getenv("CLOUDSIGMA_USER"), "account email; env CLOUDSIGMA_USER")
	password := flag.String("password", os.Getenv("CLOUDSIGMA_PASSWORD"), "account password; env CLOUDSIGMA_PASSWORD")
	driveID := flag.String("drive", "", "uuid of the drive to clone (default: the drive named web-data, else the first unmounted disk)")
	name := flag.String("name", "", "name of the clone (default: <source name>-clone)")
	speed := flag.Float64("speed", 900, "fake clock speed (fake seconds per wall second), fake only")
	timeout := flag.Duration("timeout", 2*time.Hour, "give up after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := run(ctx, *url, *user, *password, *driveID, *name, *speed); err != nil {
		fmt.Fprintln(os.Stderr, "clone-drive:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, user, password, driveID, name string, speed float64) error {
	interval := jobs.WithInterval(time.Second, 10*time.Second)
	if url == "" {
		srv := fake.NewServer(nil, fake.Options{Clock: sim.NewScaledClock(speed)})
		defer srv.Close()
		url, user, password = srv.CloudSigmaURL(), "admin@example.com", "secret"
		interval = jobs.WithInterval(100*time.Millisecond, 300*time.Millisecond)
		fmt.Printf("using the in-process fake at %s (fake time x%g)\n", url, speed)
	}
	c, err := cloudsigma.New(url, user, password)
	if err != nil {
		return err
	}
	ds := drives.New(c)
	src, err := pickDrive(ctx, ds, driveID)
	if err != nil {
		return err
	}
	if name == "" {
		name = src.Name + "-clone"
	}
	fmt.Printf("cloning drive %s %q (%d GiB, %s)\n", src.UUID, src.Name, src.Size>>30, src.Status)
	d, err := ds.Clone(ctx, src.UUID, &drives.CloneRequest{Name: name}, nil)
	if err != nil {
		return err
	}
	if len(d.Jobs) == 0 {
		return errors.New("the clone answer carries no job")
	}
	fmt.Printf("new drive %s %q in status %s, job %s\n", d.UUID, d.Name, d.Status, d.Jobs[0].UUID)
	job, err := jobs.Wait(ctx, c.Jobs, d.Jobs[0].UUID, interval, jobs.WithOnProgress(func(j *jobs.Job) {
		pct := j.Progress.Percent
		n := min(max(int(pct/5), 0), 20)
		fmt.Printf("  %s [%s%s] %3.0f%% %s\n", j.Operation, strings.Repeat("#", n), strings.Repeat(".", 20-n), pct, j.RawState)
	}))
	if err != nil {
		return err
	}
	fmt.Printf("job %s is done, state %s\n", job.ID, job.RawState)
	final, err := ds.Get(ctx, d.UUID)
	if err != nil {
		return err
	}
	fmt.Printf("drive %s %q is now %s\n", final.UUID, final.Name, final.Status)
	return nil
}

func pickDrive(ctx context.Context, ds *drives.Service, id string) (*drives.Drive, error) {
	if id != "" {
		return ds.Get(ctx, id)
	}
	var first *drives.Drive
	for d, err := range ds.All(ctx, &cloudsigma.ListOptions{Detail: true}) {
		if err != nil {
			return nil, err
		}
		if d.Name == "web-data" {
			return d, nil
		}
		if first == nil && d.Media == drives.MediaDisk && d.Status == drives.StatusUnmounted {
			first = d
		}
	}
	if first == nil {
		return nil, errors.New("no unmounted disk to clone; pass -drive")
	}
	return first, nil
}
