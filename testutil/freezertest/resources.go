package freezertest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Clients registers, lists, gets and deletes a client.
func Clients(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	id := "lr-" + uniq()
	got, err := c.RegisterClient(ctx, &freezer.AgentInfo{ClientID: id, Hostname: id, Description: "scenario node"})
	if err != nil || got != id {
		t.Fatalf("register: %q %v", got, err)
	}
	t.Cleanup(func() { _ = c.DeleteClient(context.Background(), id) })
	_, err = c.RegisterClient(ctx, &freezer.AgentInfo{ClientID: id, Hostname: id})
	if ae := apiError(t, err, 409); ae.Type != "Document already existing" {
		t.Errorf("second register: %v", err)
	}
	a, err := c.GetClient(ctx, id)
	if err != nil || a.Client.ClientID != id || a.Client.Hostname != id || len(a.Client.UUID) != 32 || a.UserID == "" {
		t.Fatalf("get: %+v %v", a, err)
	}
	if tg.Version == freezer.V1 && (string(a.Extra["project_id"]) != "null") {
		t.Errorf("v1 client project_id: %s, want null kept", a.Extra["project_id"])
	}
	// Re-encoding keeps the document, nulls included.
	raw, _ := json.Marshal(a)
	if !strings.HasPrefix(string(raw), `{"project_id":`) || !strings.Contains(string(raw), `"client":{"uuid":`) {
		t.Errorf("re-encoded client: %s", raw)
	}
	found := false
	for a, err := range c.AllClients(ctx, &freezer.ListOptions{Limit: 1, Search: &freezer.Search{Match: []map[string]any{{"client_id": id}}}}) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || a.Client.ClientID == id
	}
	if !found {
		t.Errorf("AllClients did not find %s", id)
	}
	if _, err := c.GetClient(ctx, "lr-"+uniq()); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("unknown client: %v, want jobs.ErrNotFound", err)
	}
	if err := c.DeleteClient(ctx, id); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteClient(ctx, id)
	if tg.Version == freezer.V1 && !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("v1 delete twice: %v, want jobs.ErrNotFound", err)
	}
	if tg.Version == freezer.V2 && err != nil {
		t.Errorf("v2 delete twice: %v, want 204", err)
	}
	if _, err := c.RegisterClient(ctx, &freezer.AgentInfo{ClientID: "bad id"}); !errors.Is(err, freezer.ErrInvalid) {
		t.Errorf("bad client id: %v", err)
	}
}

// Actions creates, gets, patches, lists and deletes a stored action.
func Actions(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	fa := freezer.FreezerAction{Action: "restore", Mode: "fs", BackupName: "etc", RestoreAbsPath: "/tmp/etc"}
	_ = fa.Set("overwrite", true)
	id, err := c.CreateAction(ctx, &freezer.Action{FreezerAction: fa, MaxRetries: 4})
	if err != nil || len(id) != 32 {
		t.Fatalf("create: %q %v", id, err)
	}
	t.Cleanup(func() { _ = c.DeleteAction(context.Background(), id) })
	a, err := c.GetAction(ctx, id)
	if err != nil || a.ActionID != id || a.MaxRetries != 4 || a.MaxRetriesInterval != 6 || a.FreezerAction.Action != "restore" || string(a.FreezerAction.Extra["overwrite"]) != "true" {
		t.Fatalf("get: %+v %v", a, err)
	}
	// The server fills the columns it keeps apart with null: kept.
	if string(a.FreezerAction.Extra["priority"]) != "null" {
		t.Errorf("freezer_action.priority: %q, want null", a.FreezerAction.Extra["priority"])
	}
	if _, err := c.CreateAction(ctx, &freezer.Action{ActionID: id, FreezerAction: fa}); err == nil {
		t.Errorf("create with a taken id succeeded")
	}
	// PATCH replaces freezer_action and nulls the retry interval.
	if err := c.UpdateAction(ctx, id, &freezer.Action{FreezerAction: freezer.FreezerAction{Action: "restore", Mode: "mysql"}, MaxRetries: 7}); err != nil {
		t.Fatal(err)
	}
	a, err = c.GetAction(ctx, id)
	if err != nil || a.MaxRetries != 7 || string(a.Extra["max_retries_interval"]) != "null" || a.FreezerAction.Mode != "mysql" || a.FreezerAction.Extra["overwrite"] != nil {
		t.Errorf("after patch: %+v %v", a, err)
	}
	// Replace: a full document in place.
	if err := c.ReplaceAction(ctx, id, &freezer.Action{FreezerAction: freezer.FreezerAction{Action: "restore", Mode: "mysql", BackupName: "db"}, MaxRetries: 7}); err != nil {
		t.Fatal(err)
	}
	if a, err := c.GetAction(ctx, id); err != nil || a.FreezerAction.BackupName != "db" || a.MaxRetries != 7 {
		t.Errorf("after replace: %+v %v", a, err)
	}
	p, err := c.ListActions(ctx, &freezer.ListOptions{Search: &freezer.Search{Match: []map[string]any{{"mode": "mysql"}}}})
	if err != nil || len(p.Items) == 0 || p.Total != -1 {
		t.Errorf("search by mode: %+v %v", p, err)
	}
	if err := c.DeleteAction(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAction(ctx, id); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("deleted action: %v, want jobs.ErrNotFound", err)
	}
	if _, err := c.CreateAction(ctx, &freezer.Action{FreezerAction: freezer.FreezerAction{Mode: "fs"}}); !errors.Is(err, freezer.ErrInvalid) {
		t.Errorf("action without action: %v", err)
	}
}

// Sessions groups two jobs, starts both in one round and ends them.
func Sessions(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	sid, err := c.CreateSession(ctx, &freezer.SessionRequest{Description: "scenario"})
	if err != nil || len(sid) != 32 {
		t.Fatalf("create: %q %v", sid, err)
	}
	t.Cleanup(func() { _ = c.DeleteSession(context.Background(), sid) })
	s, err := c.GetSession(ctx, sid)
	if err != nil || s.Status != "active" || s.HoldOff != 30 || s.TimeStart != -1 || string(s.Extra["result"]) != "null" {
		t.Fatalf("get: %+v %v", s, err)
	}
	j1, j2 := created(t, c, ""), created(t, c, "")
	for _, j := range []string{j1, j2} {
		if err := c.AddJob(ctx, sid, j); err != nil {
			t.Fatal(err)
		}
	}
	s, err = c.GetSession(ctx, sid)
	if err != nil || len(s.Jobs) != 2 || s.Jobs[j1].ClientID == "" {
		t.Fatalf("after add: %+v %v", s, err)
	}
	if j, err := c.Get(ctx, j1); err != nil || j.SessionID != sid {
		t.Errorf("job after add: %+v %v", j, err)
	}
	if err := c.AddJob(ctx, sid, "lr"+uniq()); err == nil || !errors.Is(err, rest.ErrServer) {
		t.Errorf("add an unknown job: %v, want the server's 500", err)
	}
	r, err := c.StartSession(ctx, sid, j1, 0)
	if tg.Version == freezer.V1 {
		// The SQL backend writes the session back with its null
		// project_id and its schema refuses it.
		if ae := apiError(t, err, 400); ae.Message != "None is not of type 'string'" {
			t.Errorf("v1 start: %v", err)
		}
		return
	}
	if err != nil || r.Result != "success" || r.SessionTag != 1 {
		t.Fatalf("start: %+v %v", r, err)
	}
	if r, err := c.StartSession(ctx, sid, j2, 0); err != nil || r.Result != "success" || r.SessionTag != 1 {
		t.Fatalf("second job of the round: %+v %v", r, err)
	}
	if _, err := c.StartSession(ctx, sid, j2, 5); !errors.Is(err, rest.ErrBadRequest) {
		t.Errorf("tag too high: %v", err)
	}
	s, err = c.GetSession(ctx, sid)
	if err != nil || s.Status != "running" || s.SessionTag != 1 || s.Jobs[j1].Status != "running" || s.Jobs[j2].Status != "running" {
		t.Fatalf("running: %+v %v", s, err)
	}
	for _, j := range []string{j1, j2} {
		if _, err := c.EndSession(ctx, sid, j, freezer.ResultSuccess); err != nil {
			t.Fatal(err)
		}
	}
	s, err = c.GetSession(ctx, sid)
	if err != nil || s.Status != "completed" || s.Result != "success" || s.TimeEnd <= 0 {
		t.Fatalf("ended: %+v %v", s, err)
	}
	if err := c.RemoveJob(ctx, sid, j2); err != nil {
		t.Fatal(err)
	}
	if j, err := c.Get(ctx, j2); err != nil || j.SessionID != "" || j.JobSchedule.Event != freezer.EventStop {
		t.Errorf("removed job: %+v %v", j, err)
	}
	if err := c.DeleteSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSession(ctx, sid); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("deleted session: %v, want jobs.ErrNotFound", err)
	}
}

// Backups records a backup's metadata, finds it, and deletes it.
func Backups(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	host := "lr-" + uniq()
	m := &freezer.BackupMetadata{Container: "c1", Hostname: host, BackupName: "etc", TimeStamp: 1700000000, Mode: "fs"}
	m.Extra = map[string]json.RawMessage{"curr_backup_level": json.RawMessage(`0`), "fs_real_path": json.RawMessage(`null`)}
	id, err := c.CreateBackup(ctx, m)
	if err != nil || len(id) != 32 {
		t.Fatalf("create: %q %v", id, err)
	}
	t.Cleanup(func() { _ = c.DeleteBackup(context.Background(), id) })
	b, err := c.GetBackup(ctx, id)
	if err != nil || b.BackupID != id || b.Metadata.Hostname != host || string(b.Metadata.Extra["fs_real_path"]) != "null" || string(b.Metadata.Extra["curr_backup_level"]) != "0" {
		t.Fatalf("get: %+v %v", b, err)
	}
	n := 0
	for b, err := range c.AllBackups(ctx, &freezer.ListOptions{Search: &freezer.Search{Match: []map[string]any{{"hostname": host}}}}) {
		if err != nil {
			t.Fatal(err)
		}
		if b.BackupID == id {
			n++
		}
	}
	if n != 1 {
		t.Errorf("AllBackups found it %d times", n)
	}
	if _, err := c.CreateBackup(ctx, &freezer.BackupMetadata{Container: "c1"}); !errors.Is(err, freezer.ErrInvalid) {
		t.Errorf("incomplete metadata: %v", err)
	}
	if err := c.DeleteBackup(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBackup(ctx, id); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("deleted backup: %v, want jobs.ErrNotFound", err)
	}
}
