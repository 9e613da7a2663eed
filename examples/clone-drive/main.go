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
	"time"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/internal/display"
	"github.com/longrun/longrun/internal/flagenv"
	"github.com/longrun/longrun/jobs"
)

func main() {
	fs := flag.CommandLine
	url := flagenv.String(fs, "url", "", "CloudSigma API base URL (default: an in-process fake)", "CLOUDSIGMA_URL")
	user := flagenv.String(fs, "user", "", "account email", "CLOUDSIGMA_USER")
	password := flagenv.Secret(fs, "password", "account password", "CLOUDSIGMA_PASSWORD")
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
	ds := drives.New(c)
	src, err := pickDrive(ctx, ds, driveID)
	if err != nil {
		return err
	}
	if name == "" {
		name = src.Name + "-clone"
	}
	fmt.Printf("cloning drive %s %q (%d GiB, %s)\n", src.UUID, src.Name, src.Size>>30, src.Status)
	show := display.New(display.Options{})
	d, job, err := ds.CloneAndWait(ctx, src.UUID, &drives.CloneRequest{Name: name}, nil, jobs.WithOnProgress(show.Update))
	show.Finish(job, err)
	if err != nil {
		return err
	}
	fmt.Printf("drive %s %q is now %s\n", d.UUID, d.Name, d.Status)
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
