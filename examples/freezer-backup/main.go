// Command freezer-backup creates an OpenStack Freezer backup job with a
// schedule and actions, starts it, waits for the run's result and stops
// the job's schedule.
//
// By default it runs against longrun's in-process fake (Keystone login,
// Freezer v2 API and a simulated scheduler agent on a fake clock), and
// finishes at once. Against a real Freezer:
//
//	go run ./examples/freezer-backup -url https://freezer:9090 -token "$OS_TOKEN" -project "$OS_PROJECT_ID"
//
// (or -v1 for the v1 API, without -project). A real job runs only when a
// freezer-scheduler agent with the job's client_id (-client) picks it up.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
)

func main() {
	url := flag.String("url", os.Getenv("FREEZER_URL"), "Freezer API endpoint (empty: the in-process fake)")
	token := flag.String("token", os.Getenv("OS_TOKEN"), "Keystone token for -url")
	project := flag.String("project", os.Getenv("OS_PROJECT_ID"), "project id for the v2 API")
	v1 := flag.Bool("v1", false, "use the v1 API (/v1/jobs)")
	clientID := flag.String("client", "backup-node-1", "client_id of the freezer agent that runs the job")
	timeout := flag.Duration("timeout", 30*time.Minute, "how long to wait for the run")
	flag.Parse()
	if err := run(*url, *token, *project, *v1, *clientID, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "freezer-backup:", err)
		os.Exit(1)
	}
}

func run(url, token, project string, v1 bool, clientID string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	var opts []freezer.Option
	var waitOpts []jobs.Option
	settle := func() {} // lets the agent see the stop (fake clock only)
	if url == "" {
		srv := fake.NewServer(nil, fake.Options{})
		defer srv.Close()
		url = srv.URL()
		fmt.Println("using the in-process fake at", url)
		// Log in at the fake's Keystone v3 with a password, as against a
		// real cloud; the v2 path takes the token's project.
		opts = append(opts, freezer.WithPassword(freezer.Credentials{
			AuthURL: url + "/v3", Username: "admin", Password: "secret", ProjectName: "admin",
		}))
		waitOpts = append(waitOpts, jobs.WithClock(srv.Clock()))
		settle = func() { <-srv.Clock().After(2 * time.Second) }
	} else {
		if token == "" {
			return errors.New("-token is required with -url")
		}
		opts = append(opts, freezer.WithToken(token), freezer.WithProjectID(project))
	}
	if v1 {
		opts = append(opts, freezer.WithAPIVersion(freezer.V1))
	} else {
		opts = append(opts, freezer.WithAPIVersion(freezer.V2))
	}
	c, err := freezer.New(url, opts...)
	if err != nil {
		return err
	}

	job := &freezer.Job{
		ClientID:    clientID,
		Description: "daily backup of /etc",
		JobSchedule: freezer.JobSchedule{ScheduleInterval: "1 days"},
		JobActions: []freezer.JobAction{{
			FreezerAction: freezer.FreezerAction{
				Action: "backup", Mode: "fs", PathToBackup: "/etc",
				BackupName: "etc", Container: "freezer_backups", Storage: "swift",
			},
			MaxRetries: 3, MaxRetriesInterval: 60,
		}},
	}
	if err := job.JobActions[0].FreezerAction.Set("remove_older_than", 30); err != nil {
		return err
	}
	id, err := c.Create(ctx, job)
	if err != nil {
		return err
	}
	fmt.Println("created job", id)

	r, err := c.Start(ctx, id)
	if err != nil {
		return err
	}
	fmt.Println("start:", r.Result)

	waitOpts = append(waitOpts, jobs.WithInterval(2*time.Second, 30*time.Second),
		jobs.WithOnProgress(func(j *jobs.Job) {
			fmt.Printf("  job %s: %s (%s)\n", j.ID, j.State, j.RawState)
		}))
	final, err := c.Wait(ctx, id, waitOpts...)
	switch {
	case errors.Is(err, jobs.ErrJobFailed):
		fmt.Println("run failed:", err)
	case err != nil:
		return err
	default:
		fmt.Printf("run finished: %s (%s)\n", final.State, final.RawState)
	}

	r, err = c.Stop(ctx, id)
	if err != nil {
		return err
	}
	fmt.Println("stop:", r.Result)
	settle()
	if final != nil {
		got, err := c.Get(ctx, id)
		if err != nil {
			return err
		}
		s := got.JobSchedule
		fmt.Printf("job_schedule: status=%q result=%q event=%q started=%d ended=%d\n",
			s.Status, s.Result, s.Event, s.TimeStarted, s.TimeEnded)
	}
	return nil
}
