// Command ftrack-report reports a long task to ftrack the way the ftrack
// web interface shows it: it creates a Job (running), reports its progress
// in the job's description, attaches the task's log file, marks the job
// done and prints where the log can be downloaded.
//
// By default it runs against longrun's in-process fake and finishes at
// once:
//
//	go run ./examples/ftrack-report
//
// Against a real ftrack server (flags, or the environment variables the
// ftrack Python API reads):
//
//	go run ./examples/ftrack-report -url https://example.ftrackapp.com -user jane -api-key "$KEY"
//	FTRACK_SERVER=... FTRACK_API_USER=... FTRACK_API_KEY=... go run ./examples/ftrack-report
//
// The download URL carries the api key in its query string (ftrack's
// /component/get authenticates that way), so the program prints it with
// the key replaced by REDACTED unless -show-key is given: output ends up in
// terminals' scrollback and CI logs, where a key must not. The key is never
// logged.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/internal/flagenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ftrack-report:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		server  = flagenv.String(flag.CommandLine, "url", "", "ftrack server URL (default: an in-process fake)", "FTRACK_SERVER")
		user    = flagenv.String(flag.CommandLine, "user", "", "API user", "FTRACK_API_USER")
		apiKey  = flagenv.Secret(flag.CommandLine, "api-key", "API key", "FTRACK_API_KEY")
		steps   = flag.Int("steps", 5, "steps of the pretend task")
		logPath = flag.String("log", "", "attach this file instead of the task's own log")
		showKey = flag.Bool("show-key", false, "print the download URL with the api key in clear")
		timeout = flag.Duration("timeout", 5*time.Minute, "give up after this long")
	)
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	var opts []ftrack.Option
	if *server == "" {
		srv := fake.NewServer(nil, fake.Options{})
		defer srv.Close()
		*server, *user, *apiKey = srv.URL(), "admin", "1-longrunfakeapikey"
		opts = append(opts, ftrack.WithClock(srv.Clock())) // finished_at on the fake's clock
		fmt.Println("using the in-process fake ftrack at", *server)
	}
	if *user == "" || *apiKey == "" {
		return errors.New("-user and -api-key (or FTRACK_API_USER and FTRACK_API_KEY) are required with -url")
	}
	s, err := ftrack.NewSession(*server, *user, *apiKey, opts...)
	if err != nil {
		return err
	}

	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "ftrack-report: starting (0%)"})
	if err != nil {
		return fmt.Errorf("creating the job: %w", err)
	}
	fmt.Printf("job %s is %s: %s\n", job.ID, job.Status, job.Description())

	if err := work(ctx, s, job.ID, *steps, *logPath, *showKey); err != nil {
		// Tell the user in the web interface too.
		if _, ferr := s.SetStatus(ctx, job.ID, ftrack.StatusFailed, "ftrack-report failed: "+err.Error()); ferr != nil {
			fmt.Fprintln(os.Stderr, "ftrack-report: marking the job failed:", ferr)
		}
		return err
	}
	return nil
}

func work(ctx context.Context, s *ftrack.Session, jobID string, steps int, logPath string, showKey bool) error {
	f, err := os.CreateTemp("", "ftrack-report-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	for i := 1; i <= steps; i++ {
		// The pretend task: one line of log per step.
		fmt.Fprintf(f, "%s step %d of %d done\n", time.Now().UTC().Format(time.RFC3339), i, steps)
		pct := i * 100 / steps
		desc := fmt.Sprintf("ftrack-report: step %d of %d (%d%%)", i, steps, pct)
		if _, err := s.SetDescription(ctx, jobID, desc); err != nil {
			return fmt.Errorf("reporting progress: %w", err)
		}
		fmt.Println(desc)
	}

	src := f
	if logPath != "" {
		if src, err = os.Open(logPath); err != nil {
			return err
		}
		defer src.Close()
	}
	st, err := src.Stat()
	if err != nil {
		return err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return err
	}
	name := "ftrack-report.log"
	if logPath != "" {
		name = st.Name()
	}
	att, err := s.Attach(ctx, jobID, name, src, st.Size())
	if err != nil {
		return fmt.Errorf("attaching %s: %w", name, err)
	}
	fmt.Printf("attached %s (%d bytes) as component %s\n", att.FileName(), att.Size, att.ComponentID)

	done, err := s.SetStatus(ctx, jobID, ftrack.StatusDone, fmt.Sprintf("ftrack-report: done, %d steps, log attached", steps))
	if err != nil {
		return fmt.Errorf("marking the job done: %w", err)
	}
	fmt.Printf("job %s is %s at %s: %s\n", jobID, done.Status, done.FinishedAt.Format(time.RFC3339), done.Description())

	// Read the attachment back through the streaming download.
	rc, _, err := s.Download(ctx, att.ComponentID)
	if err != nil {
		return fmt.Errorf("downloading the log back: %w", err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		return err
	}
	fmt.Printf("downloaded the log back: %d bytes\n", n)

	if showKey {
		fmt.Println("download URL:", s.DownloadURL(att.ComponentID))
	} else {
		fmt.Println("download URL:", s.RedactedDownloadURL(att.ComponentID))
		fmt.Println("(the api key is redacted; run with -show-key to print the usable URL)")
	}
	return nil
}
