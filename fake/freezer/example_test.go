package freezer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/freezer"
	"github.com/longrun/longrun/fake/sim"
	fz "github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
)

// A test scripts the result of a job's next run and waits for it on the
// fake clock: the agent's ten seconds of work take no wall time.
func ExampleBackend_SetResult() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	tok, _ := srv.Freezer().IssueToken("admin")
	c, err := fz.New(srv.URL(), fz.WithToken(tok), fz.WithAPIVersion(fz.V2), fz.WithProjectID(sim.DefaultUsers()[0].Project))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	id, err := c.Create(ctx, &fz.Job{ClientID: "node1", JobActions: []fz.JobAction{
		{FreezerAction: fz.FreezerAction{Action: "backup", Mode: "fs"}},
		{FreezerAction: fz.FreezerAction{Action: "admin"}},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.Freezer().SetResult(id, freezer.ResultFail)
	start := srv.Clock().Now()
	_, err = c.Run(ctx, id, jobs.WithClock(srv.Clock()))
	fmt.Println("failed:", errors.Is(err, jobs.ErrJobFailed))
	j, err := c.Get(ctx, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := j.JobSchedule
	fmt.Println("status:", s.Status, "result:", s.Result)
	fmt.Println("ran for:", time.Duration(s.TimeEnded-s.TimeStarted)*time.Second)
	fmt.Println("took fake time:", srv.Clock().Now().Sub(start) >= freezer.PickupDelay+freezer.StartDelay+2*freezer.DefaultActionDuration)
	// Output:
	// failed: true
	// status: completed result: fail
	// ran for: 10s
	// took fake time: true
}

// With autostart, the agent starts every new job it sees, as the real
// freezer-scheduler does; a manual clock shows each step.
func ExampleBackend_SetAutostart() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	srv.Clock().SetAuto(false)
	srv.Freezer().SetAutostart(true)
	tok, _ := srv.Freezer().IssueToken("admin")
	c, err := fz.New(srv.URL(), fz.WithToken(tok), fz.WithAPIVersion(fz.V2), fz.WithProjectID(sim.DefaultUsers()[0].Project))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	id, err := c.Create(ctx, &fz.Job{ClientID: "node1", JobActions: []fz.JobAction{{FreezerAction: fz.FreezerAction{Action: "backup"}}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, step := range []time.Duration{0, freezer.PickupDelay, freezer.StartDelay, freezer.DefaultActionDuration} {
		srv.Clock().Advance(step)
		j, err := c.Get(ctx, id)
		if err != nil {
			fmt.Println(err)
			return
		}
		s := j.JobSchedule
		fmt.Printf("+%v: event=%q status=%q result=%q\n", step, s.Event, s.Status, s.Result)
	}
	// Output:
	// +0s: event="start" status="" result=""
	// +1s: event="" status="scheduled" result=""
	// +2s: event="" status="running" result=""
	// +5s: event="" status="completed" result="success"
}

// A test seeds a backup record, as a Freezer agent reports one after a
// backup, and reads it back through the v2 API as any client would.
func ExampleBackend_AddBackup() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	project := sim.DefaultUsers()[0].Project
	id, _ := srv.Freezer().AddBackup("admin", project, map[string]any{
		"container": "backups", "hostname": "db1", "backup_name": "nightly", "level": 0})
	tok, _ := srv.Freezer().IssueToken("admin")
	req, _ := http.NewRequest("GET", srv.URL()+"/v2/"+project+"/backups/"+id, nil)
	req.Header.Set("X-Auth-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var b struct {
		UserName string         `json:"user_name"`
		Metadata map[string]any `json:"backup_metadata"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&b)
	fmt.Println(resp.StatusCode, b.UserName, b.Metadata["hostname"], b.Metadata["backup_name"])
	// Output:
	// 200 admin db1 nightly
}
