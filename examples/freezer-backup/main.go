// Command freezer-backup backs up two directories with OpenStack Freezer:
// it creates a session and two backup jobs, adds both jobs to the session,
// starts them together in one session round, waits for both runs to end
// and shows the session's result and the backups the runs produced. It
// deletes what it created when it ends, unless -keep is given.
//
// By default it runs against longrun's in-process fake (Keystone login,
// the Freezer v2 API, and a simulated freezer-scheduler agent on a fake
// clock that runs the session's jobs), and finishes at once. Against a
// real Freezer API (v2):
//
//	go run ./examples/freezer-backup -url https://freezer:9090 -token "$OS_TOKEN" -project "$OS_PROJECT_ID" -client "$(hostname)"
//
// A real job runs only when a freezer-scheduler agent registered with the
// job's client_id (-client) picks it up; without one, the wait ends after
// -timeout and the program says so. (freezer-api 13's SQL backend cannot
// start a job or a session on the v1 API: it answers 400 "None is not of
// type 'string'". This example speaks v2 only.)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/internal/display"
	"github.com/longrun/longrun/internal/flagenv"
	"github.com/longrun/longrun/jobs"
)

type config struct {
	url, token, project, client string
	timeout                     time.Duration
	keep                        bool
	out                         io.Writer
	mode                        display.Mode
}

func main() {
	fs := flag.NewFlagSet("freezer-backup", flag.ExitOnError)
	var cfg config
	cfg.url = *flagenv.String(fs, "url", "", "Freezer API endpoint (empty: the in-process fake)", "FREEZER_URL")
	tok := flagenv.Secret(fs, "token", "Keystone token for -url", "OS_TOKEN")
	proj := flagenv.String(fs, "project", "", "project id of the v2 paths", "OS_PROJECT_ID")
	client := fs.String("client", "backup-node-1", "client_id of the freezer-scheduler agent that runs the jobs")
	timeout := flagenv.Duration(fs, "timeout", 10*time.Minute, "how long to wait for the runs", "FREEZER_TIMEOUT")
	keep := fs.Bool("keep", false, "keep the session and jobs when done")
	_ = fs.Parse(os.Args[1:])
	cfg.token, cfg.project, cfg.client, cfg.timeout, cfg.keep, cfg.out = *tok, *proj, *client, *timeout, *keep, os.Stdout
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "freezer-backup:", err)
		os.Exit(1)
	}
}

// errNoAgent is the end of a wait no agent answered.
var errNoAgent = errors.New("no freezer-scheduler agent ran the jobs")

func run(ctx context.Context, cfg config) (err error) {
	out := cfg.out
	opts := []freezer.Option{freezer.WithAPIVersion(freezer.V2)}
	url := cfg.url
	var now func() time.Time // the display's timestamps
	if url == "" {
		srv := fake.NewServer(nil, fake.Options{})
		defer srv.Close()
		url = srv.URL()
		fmt.Fprintln(out, "using the in-process fake at", url)
		// Log in at the fake's Keystone v3 with a password, as against a
		// real cloud; the v2 paths take the token's project, and token
		// lifetimes and waits run on the fake's clock.
		opts = append(opts, freezer.WithPassword(freezer.Credentials{
			AuthURL: url + "/v3", Username: "admin", Password: "secret", ProjectName: "admin",
		}), freezer.WithClock(srv.Clock()))
		now = srv.Clock().Now
	} else {
		if cfg.token == "" || cfg.project == "" {
			return errors.New("-token and -project are required with -url")
		}
		opts = append(opts, freezer.WithToken(cfg.token), freezer.WithProjectID(cfg.project))
	}
	c, err := freezer.New(url, opts...)
	if err != nil {
		return err
	}

	// What this run creates, deleted at the end unless -keep.
	var sessionID string
	var jobIDs []string
	defer func() {
		if cfg.keep {
			fmt.Fprintf(out, "kept session %s and jobs %v (-keep)\n", sessionID, jobIDs)
			return
		}
		// A fresh context: the wait's may have ended.
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, id := range jobIDs {
			if derr := c.Delete(cctx, id); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete job %s: %w", id, derr))
			}
		}
		if sessionID != "" {
			if derr := c.DeleteSession(cctx, sessionID); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete session %s: %w", sessionID, derr))
			}
		}
		fmt.Fprintf(out, "deleted session %s and jobs %v\n", sessionID, jobIDs)
	}()

	sessionID, err = c.CreateSession(ctx, &freezer.SessionRequest{Description: "nightly /etc and /var/lib backups"})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "created session", sessionID)
	for _, dir := range []string{"/etc", "/var/lib"} {
		job := &freezer.Job{
			ClientID:    cfg.client,
			Description: "backup of " + dir,
			JobActions: []freezer.JobAction{{
				FreezerAction: freezer.FreezerAction{
					Action: "backup", Mode: "fs", PathToBackup: dir,
					BackupName: "nightly" + dir, Container: "freezer_backups", Storage: "swift",
				},
				MaxRetries: 3, MaxRetriesInterval: 60,
			}},
		}
		id, err := c.Create(ctx, job)
		if err != nil {
			return err
		}
		jobIDs = append(jobIDs, id)
		if err := c.AddJob(ctx, sessionID, id); err != nil {
			return err
		}
		fmt.Fprintf(out, "created job %s (%s) in the session\n", id, dir)
	}

	// Start both jobs in one round: the first start moves the session's
	// tag from 0 to 1; the second, with the tag it saw (0), joins that
	// round within the session's hold-off.
	for _, id := range jobIDs {
		r, err := c.StartSession(ctx, sessionID, id, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "start %s: %s (session tag %d)\n", id, r.Result, r.SessionTag)
	}

	wctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	d := display.New(display.Options{Out: out, Mode: cfg.mode, Now: now})
	var wg sync.WaitGroup
	errs := make([]error, len(jobIDs))
	finals := make([]*jobs.Job, len(jobIDs))
	for i, id := range jobIDs {
		wg.Go(func() {
			finals[i], errs[i] = c.Wait(wctx, id,
				jobs.WithInterval(2*time.Second, 30*time.Second),
				jobs.WithOnProgress(d.Update))
			d.Finish(finals[i], errs[i])
		})
	}
	wg.Wait()
	var te *jobs.TimeoutError
	for i, err := range errs {
		switch {
		case errors.As(err, &te) && cfg.url != "":
			fmt.Fprintf(out, "job %s did not run within %s: no freezer-scheduler agent with client_id %q picked it up.\n"+
				"A Freezer job runs only when an agent registered with its client_id polls the API (freezer-scheduler --client-id %s).\n",
				jobIDs[i], cfg.timeout, cfg.client, cfg.client)
			return errNoAgent
		case errors.Is(err, jobs.ErrJobFailed):
			fmt.Fprintf(out, "job %s failed: %v\n", jobIDs[i], err)
		case err != nil:
			return err
		default:
			fmt.Fprintf(out, "job %s: %s (%s)\n", jobIDs[i], finals[i].State, finals[i].RawState)
		}
	}

	s, err := c.GetSession(ctx, sessionID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "session %s: status %s, result %s, %d jobs\n", sessionID, s.Status, s.Result, len(s.Jobs))
	for _, id := range jobIDs {
		search := &freezer.Search{Match: []map[string]any{{"job_id": id}}}
		for b, err := range c.AllBackups(ctx, &freezer.ListOptions{Search: search}) {
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "backup %s: %s of %s in %s\n", b.BackupID, b.Metadata.BackupName, b.Metadata.Hostname, b.Metadata.Container)
		}
	}
	return nil
}
