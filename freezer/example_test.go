package freezer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
)

// Create a backup job, start it and wait for the run's result, against the
// in-process fake (its Keystone, v2 API and simulated agent).
func ExampleClient_Run() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()

	c, err := freezer.New(srv.URL(), freezer.WithAPIVersion(freezer.V2),
		freezer.WithPassword(freezer.Credentials{AuthURL: srv.URL() + "/v3", Username: "admin", Password: "secret"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	id, err := c.Create(ctx, &freezer.Job{
		ClientID:    "node1",
		Description: "backup /etc",
		JobActions: []freezer.JobAction{{FreezerAction: freezer.FreezerAction{
			Action: "backup", Mode: "fs", PathToBackup: "/etc", Container: "backups"}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	final, err := c.Run(ctx, id, jobs.WithClock(srv.Clock()), jobs.WithOnProgress(func(j *jobs.Job) {
		fmt.Println(strings.TrimSpace(string(j.State) + " " + j.RawState))
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("result:", final.State)
	// Output:
	// queued
	// queued scheduled
	// running running
	// succeeded completed/success
	// result: succeeded
}

// Validation happens before any request.
func ExampleJob_Validate() {
	j := &freezer.Job{
		ClientID:    "node1",
		JobSchedule: freezer.JobSchedule{ScheduleInterval: "10 mins"},
		JobActions:  []freezer.JobAction{{FreezerAction: freezer.FreezerAction{Action: "backup"}}},
	}
	err := j.Validate()
	var ve *freezer.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field)
	fmt.Println(err)
	// Output:
	// true job_schedule.schedule_interval
	// freezer: invalid job_schedule.schedule_interval "10 mins": want "continuous" or "N weeks|days|hours|minutes|seconds"
}

// A job document keeps the freezer_action options the SDK does not model.
func ExampleFreezerAction_Set() {
	a := freezer.FreezerAction{Action: "backup", Mode: "mysql"}
	_ = a.Set("max_level", 3)
	data, _ := json.Marshal(a)
	fmt.Println(string(data))
	var back freezer.FreezerAction
	_ = json.Unmarshal(data, &back)
	fmt.Println(string(back.Extra["max_level"]))
	// Output:
	// {"action":"backup","mode":"mysql","max_level":3}
	// 3
}

// Normalize maps a job_schedule to longrun's states.
func ExampleJob_ToJob() {
	for _, s := range []freezer.JobSchedule{
		{Event: freezer.EventStart},
		{Status: freezer.StatusRunning},
		{Status: freezer.StatusScheduled, Result: freezer.ResultSuccess},
		{Status: freezer.StatusCompleted, Result: freezer.ResultFail},
		{Status: freezer.StatusStop},
	} {
		j := (&freezer.Job{JobID: "j1", JobSchedule: s}).ToJob()
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-9s %s", j.State, j.RawState)))
	}
	// Output:
	// queued
	// running   running
	// succeeded scheduled/success
	// failed    completed/fail
	// aborted   stop
}

// All pages through the jobs a search selects.
func ExampleClient_All() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	tok, _ := srv.Freezer().IssueToken("admin")
	c, _ := freezer.New(srv.URL(), freezer.WithToken(tok))
	for _, host := range []string{"db1", "web1", "db1", "db1"} {
		_, err := c.Create(ctx, &freezer.Job{ClientID: host, Description: "on " + host,
			JobActions: []freezer.JobAction{{FreezerAction: freezer.FreezerAction{Action: "backup"}}}})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	n := 0
	for j, err := range c.All(ctx, &freezer.ListOptions{Limit: 2, Search: &freezer.Search{
		Match: []map[string]any{{"client_id": "db1"}}}}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		n++
		fmt.Println(n, j.Description)
	}
	// Output:
	// 1 on db1
	// 2 on db1
	// 3 on db1
}

// List fetches one page and says whether another may follow.
func ExampleClient_List() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	tok, _ := srv.Freezer().IssueToken("admin")
	c, _ := freezer.New(srv.URL(), freezer.WithToken(tok))
	for i := range 3 {
		if _, err := c.Create(ctx, &freezer.Job{ClientID: "node1", Description: fmt.Sprint("job ", i),
			JobActions: []freezer.JobAction{{FreezerAction: freezer.FreezerAction{Action: "backup"}}}}); err != nil {
			fmt.Println(err)
			return
		}
	}
	p, err := c.List(ctx, &freezer.ListOptions{Limit: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(p.Items), "jobs, more:", p.More, "next offset:", p.NextOffset())
	_, err = c.Get(ctx, "no-such-job")
	fmt.Println("not found:", errors.Is(err, jobs.ErrNotFound))
	// Output:
	// 2 jobs, more: true next offset: 2
	// not found: true
}

// A session starts its jobs together: both jobs join round 1, the fake's
// agent runs them, and the session completes when both have ended.
func ExampleClient_StartSession() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	c, err := freezer.New(srv.URL(), freezer.WithAPIVersion(freezer.V2), freezer.WithClock(srv.Clock()),
		freezer.WithPassword(freezer.Credentials{AuthURL: srv.URL() + "/v3", Username: "admin", Password: "secret"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	sid, err := c.CreateSession(ctx, &freezer.SessionRequest{Description: "nightly"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var ids []string
	for _, dir := range []string{"/etc", "/home"} {
		id, err := c.Create(ctx, &freezer.Job{ClientID: "node1", JobActions: []freezer.JobAction{{FreezerAction: freezer.FreezerAction{
			Action: "backup", Mode: "fs", PathToBackup: dir, BackupName: dir, Container: "backups"}}}})
		if err == nil {
			err = c.AddJob(ctx, sid, id)
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		r, err := c.StartSession(ctx, sid, id, 0)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("start:", r.Result, "tag", r.SessionTag)
	}
	for _, id := range ids {
		if _, err := c.Wait(ctx, id); err != nil {
			fmt.Println(err)
			return
		}
	}
	s, err := c.GetSession(ctx, sid)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("session:", s.Status, s.Result)
	n := 0
	for _, err := range c.AllBackups(ctx, nil) {
		if err == nil {
			n++
		}
	}
	fmt.Println("backups:", n)
	// Output:
	// start: success tag 1
	// start: success tag 1
	// session: completed success
	// backups: 2
}

// Register the agent that runs a host's jobs, and find it again.
func ExampleClient_RegisterClient() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	tok, _ := srv.Freezer().IssueToken("admin")
	c, _ := freezer.New(srv.URL(), freezer.WithToken(tok))
	id, err := c.RegisterClient(ctx, &freezer.AgentInfo{ClientID: "db1", Hostname: "db1.example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := c.GetClient(ctx, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Client.ClientID, a.Client.Hostname, len(a.Client.UUID))
	// v1 documents carry "project_id": null; it is kept.
	raw, _ := json.Marshal(a)
	fmt.Println(strings.HasPrefix(string(raw), `{"project_id":null`))
	// Output:
	// db1 db1.example.com 32
	// true
}
