package ftrack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

func seeded(t testing.TB) *Backend {
	b := New(sim.NewEnv(nil, nil, nil))
	t.Cleanup(b.Close)
	for i, st := range []string{"running", "done", "failed", "queued"} {
		_, aerr := b.create(nil, map[string]any{"entity_type": "Job", "entity_key": []any{"j" + string(rune('0'+i))},
			"entity_data": map[string]any{"__entity_type__": "Job", "status": st, "user_id": "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23",
				"data": `{"description": "step ` + st + `"}`}})
		if aerr != nil {
			t.Fatal(aerr)
		}
		b.env.Clock.Advance(1e9)
	}
	if _, aerr := b.create(nil, map[string]any{"entity_type": "FileComponent", "entity_key": []any{"c1"},
		"entity_data": map[string]any{"name": "build", "file_type": ".log", "size": 12.0}}); aerr != nil {
		t.Fatal(aerr)
	}
	if _, aerr := b.create(nil, map[string]any{"entity_type": "JobComponent", "entity_key": []any{"c1", "j1"},
		"entity_data": map[string]any{}}); aerr != nil {
		t.Fatal(aerr)
	}
	return b
}

func ids(t *testing.T, b *Backend, expr string) string {
	t.Helper()
	res, aerr := b.query(context.Background(), &txn{limits: DefaultLimits}, expr)
	if aerr != nil {
		t.Fatalf("%s: %v", expr, aerr)
	}
	var out []string
	for _, row := range res.(map[string]any)["data"].([]any) {
		m := row.(map[string]any)
		id, _ := m["id"].(string)
		if id == "" {
			id, _ = m["component_id"].(string)
		}
		out = append(out, id)
	}
	return strings.Join(out, ",")
}

// ts renders now plus sec seconds as a query datetime literal.
func ts(b *Backend, sec int) string {
	return b.now().Add(time.Duration(sec) * time.Second).Format("2006-01-02T15:04:05")
}

func TestQueryLanguage(t *testing.T) {
	b := seeded(t)
	for _, tc := range []struct{ expr, want string }{
		{`Job`, "j0,j1,j2,j3"},
		{`select id from Job where status is "done"`, "j1"},
		{`select id from Job where status = done`, "j1"},
		{`select id from Job where status != "done" and status is_not 'failed'`, "j0,j3"},
		{`select id from Job where status in ("done", "failed") order by id desc`, "j2,j1"},
		{`select id from Job where status not_in ("done", "failed")`, "j0,j3"},
		{`select id from Job where data like "%fail%"`, "j2"},
		{`select id from Job where not data like "%fail%" and (status is running or status is queued)`, "j0,j3"},
		{`select id from Job where finished_at is None`, "j0,j1,j2,j3"},
		{`select id from Job where user_id is_not None order by created_at descending offset 1 limit 2`, "j2,j1"},
		{`select id from Job where created_at > "` + ts(b, -4) + `" and created_at <= "` + ts(b, -2) + `"`, "j1,j2"},
		{`select id from Job where created_at after "` + ts(b, -2) + `"`, "j3"},
		{`select id from Job where user.username is "admin" and status is done`, "j1"},
		{`select id from Job where job_components any (component.name is "build")`, "j1"},
		{`select id from Job where not job_components any ()`, "j0,j2,j3"},
		{`select id from Job where user has (username like "adm%")  limit 1`, "j0"},
		{`select component_id, component.name from JobComponent where job_id is "j1"`, "c1"},
		{`select id from Job where job_components.component.size >= 12`, "j1"},
	} {
		if got := ids(t, b, tc.expr); got != tc.want {
			t.Errorf("%s\n got %q want %q", tc.expr, got, tc.want)
		}
	}
	res, _ := b.query(context.Background(), &txn{limits: DefaultLimits}, `select id from Job order by created_at offset 1 limit 2`)
	md := res.(map[string]any)["metadata"].(map[string]any)["next"].(map[string]any)["offset"]
	if md != 3 {
		t.Errorf("next offset %v", md)
	}
	res, _ = b.query(context.Background(), &txn{limits: DefaultLimits}, `select id from Job offset 2 limit 2`)
	if md := res.(map[string]any)["metadata"].(map[string]any)["next"].(map[string]any)["offset"]; md != nil {
		t.Errorf("last page next offset %v", md)
	}
	res, _ = b.query(context.Background(), &txn{limits: DefaultLimits}, `select component.name, component.size, job.status from JobComponent`)
	row := res.(map[string]any)["data"].([]any)[0].(map[string]any)
	comp := row["component"].(map[string]any)
	if comp["name"] != "build" || comp["size"] != int64(12) || comp["__entity_type__"] != "FileComponent" || row["job"].(map[string]any)["status"] != "done" {
		t.Errorf("nested projection %v", row)
	}
}

func TestQueryErrors(t *testing.T) {
	b := seeded(t)
	for _, expr := range []string{
		``, `select from Job`, `select id Job`, `select id from Nope`, `select nope from Job`,
		`select id from Job where status matches "x"`, `select id from Job where status is`, `select id from Job where (status is done`,
		`select id from Job where user is "x"`, `select id from Job where job_components has (job_id is "j")`,
		`select id from Job where status in "x"`, `select id from Job limit -1`, `select id from Job limit x`,
		`select id from Job where created_at > "yesterday"`, `select id from Job where "unterminated`, `select id from Job group by status`,
		`select id from Job where status is done extra`,
	} {
		_, aerr := b.query(context.Background(), &txn{limits: DefaultLimits}, expr)
		if aerr == nil {
			t.Errorf("%q: no error", expr)
			continue
		}
		if aerr.Exception != "ParseError" || aerr.Content == "" {
			t.Errorf("%q: %v", expr, aerr)
		}
	}
}

// FuzzQuery runs arbitrary expressions: an answer or a ParseError, never a
// panic or a hang.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		`select id, status from Job where status in ("running", "done") and created_at > "2026-01-01" order by created_at descending, id offset 0 limit 10`,
		`Job where job_components any (component.name like "%log")`, `select component.name from JobComponent where not (job_id is None or job.user.username is "x")`,
		`Location where name is "ftrack.server"`, `select id from Job where id in ()`,
	} {
		f.Add(s)
	}
	b := seeded(f)
	f.Fuzz(func(t *testing.T, expr string) {
		res, aerr := b.query(context.Background(), &txn{limits: DefaultLimits}, expr)
		if aerr != nil {
			if aerr.Exception != "ParseError" {
				t.Fatalf("%q: %v", expr, aerr)
			}
			return
		}
		if _, ok := res.(map[string]any)["data"].([]any); !ok {
			t.Fatalf("%q: no data", expr)
		}
	})
}

// FuzzOperations applies arbitrary batches: each operation answers or
// fails in the server's error shape, never panics.
func FuzzOperations(f *testing.F) {
	for _, s := range []string{
		`[{"action":"create","entity_type":"Job","entity_key":["x"],"entity_data":{"__entity_type__":"Job","user_id":"5b4a69a3-8e78-4c45-a8ba-8b13f0895e23","status":"running","created_at":{"__type__":"datetime","value":"2026-01-01T00:00:00"}}}]`,
		`[{"action":"update","entity_type":"Job","entity_key":["j0"],"entity_data":{"status":"done","finished_at":"2026-01-01T00:00:00Z","user":{"__entity_type__":"User","id":"5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"}}}]`,
		`[{"action":"delete","entity_type":"FileComponent","entity_key":["c1"]},{"action":"query","expression":"JobComponent"}]`,
		`[{"action":"get_upload_metadata","component_id":"c1","file_name":"a.log","file_size":3,"checksum":"rL0Y20zC+Fzt72VPzMSk2A=="}]`,
		`[{"action":"create","entity_type":"JobComponent","entity_key":["c1","j2"],"entity_data":{}},{"action":"query_schemas"},{"action":"query_server_information"}]`,
		`[{"action":"nope"}]`, `[{"action":"create","entity_type":"Component","entity_data":{"size":1e300}}]`,
	} {
		f.Add([]byte(s))
	}
	b := seeded(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var ops []map[string]any
		if json.Unmarshal(body, &ops) != nil {
			return
		}
		tx := &txn{limits: DefaultLimits}
		defer b.rollback(tx)
		for _, op := range ops {
			res, aerr := b.apply(context.Background(), tx, op, "http://fake")
			if aerr != nil {
				if aerr.Exception == "" || aerr.Content == "" || aerr.status == 0 {
					t.Fatalf("error without shape: %+v", aerr)
				}
				return
			}
			if _, err := json.Marshal(res); err != nil {
				t.Fatalf("result does not encode: %v", err)
			}
		}
	})
}
