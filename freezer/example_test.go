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

// List pages through the jobs a search selects.
func ExampleClient_List() {
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
