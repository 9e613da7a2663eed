package freezer_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

func TestSeedKeepsKeyOrderAndOwners(t *testing.T) {
	srv, admin, guest := newClient(t)
	err := srv.Freezer().Seed(json.RawMessage(`{
	  "clients": [{"client_id": "node-1", "user": "guest", "hostname": "h1"}],
	  "jobs": [{"description": "first", "user": "guest", "client_id": "node-1", "job_id": "j1",
	            "job_actions": [{"freezer_action": {"path_to_backup": "/srv", "action": "backup"}}]},
	           {"client_id": "node-2", "description": "admin's", "job_actions": []}]}`))
	if err != nil {
		t.Fatal(err)
	}
	guestJobs := "/v2/" + sim.DefaultUsers()[1].Project + "/jobs"
	code, _, body := guest.do("GET", guestJobs+"/j1", "")
	if code != 200 {
		t.Fatalf("GET j1: %d %s", code, body)
	}
	// A job's own keys come in the SQL backend's column order; the
	// freezer_action's keep the order they were seeded in, as a POST's do.
	if i, j := strings.Index(body, `"path_to_backup"`), strings.Index(body, `"action": "backup"`); i < 0 || j < 0 || i > j {
		t.Errorf("action key order lost: %s", body)
	}
	if strings.Contains(body, `"user":`) {
		t.Errorf("the seed's user key leaked into the document: %s", body)
	}
	code, _, body = admin.do("GET", "/v2/"+sim.DefaultUsers()[0].Project+"/jobs", "")
	if code != 200 || strings.Count(body, `"job_id"`) != 1 || !strings.Contains(body, `"admin's"`) {
		t.Errorf("admin's jobs: %d %s", code, body)
	}
	if code, _, body = admin.do("GET", guestJobs+"/j1", ""); code == 200 {
		t.Errorf("admin sees guest's seeded job: %s", body)
	}
}

func TestSeedRefusesBadEntries(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	for _, c := range []struct{ doc, want string }{
		{`{"jobs": [{"client_id": "n", "job_actions": [], "job_id": "a"}, {"client_id": "n", "job_actions": [], "job_id": "a"}]}`, `freezer job 1: job_id "a" is taken`},
		{`{"jobs": [{"client_id": "n", "job_actions": [], "job_id": 5}]}`, `freezer job 0: "job_id" must be`},
		{`{"jobs": [{"client_id": 5, "job_actions": []}]}`, "freezer job 0: the API answers 400: 5 is not of type 'string'"},
		{`{"jobs": [{"client_id": "n", "user": ""}]}`, `freezer job 0: "user" must be`},
		{`{"clients": [{"client_id": "c", "hostname": "h"}, {"client_id": "c", "hostname": "h"}]}`, "freezer client 1: the API answers 409: Client already registered with ID c"},
		{`{"sessions": [{}]}`, "freezer session 0: the API answers 400: Missing request body"},
		{`{"jobs": {}}`, "freezer section"},
		{`{"jobs": ["x"]}`, "freezer job 0: not a JSON object"},
	} {
		err := srv.Freezer().Seed(json.RawMessage(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, sim.ErrBadSeed) {
			t.Errorf("%s: got %v, want %q and ErrBadSeed", c.doc, err, c.want)
		}
	}
}
