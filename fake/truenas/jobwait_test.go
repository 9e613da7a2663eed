package truenas_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/truenas"
)

// core.job_wait is job.wrap(target): subjob.wait(raise_error=True)
// forwards only CallError (job.py's raise_error_forward_classes), so a
// target that failed validation ends the waiting job with
// CallError(target.error), not with the target's ValidationErrors.
func TestJobWaitTurnsValidationErrorsIntoCallError(t *testing.T) {
	b, _, url := setup(t)
	w := dial(t, url)
	login(t, w)
	target := w.call("filesystem.copy", "/tmp/x", "/mnt/tank/b")
	waitID := w.call("core.job_wait", json.RawMessage(target))
	id, _ := strconv.Atoi(string(waitID))
	j, ok := b.JobByID(id)
	if !ok {
		t.Fatalf("job %d missing", id)
	}
	<-j.Done()
	got := w.call("core.get_jobs", [][]any{{"id", "=", id}}, map[string]any{"get": true, "select": []string{"state", "error", "exc_info"}})
	var e struct {
		State   string `json:"state"`
		Error   string `json:"error"`
		ExcInfo struct {
			Type  string `json:"type"`
			Errno int    `json:"errno"`
			Repr  string `json:"repr"`
			Extra any    `json:"extra"`
		} `json:"exc_info"`
	}
	if err := json.Unmarshal(got, &e); err != nil {
		t.Fatal(err)
	}
	want := "[EFAULT] [EINVAL] filesystem.copy.src: Path must reside within a pool mount point\n"
	if e.State != "FAILED" || e.Error != want || e.ExcInfo.Type != "CallError" || e.ExcInfo.Errno != 14 || e.ExcInfo.Extra != nil ||
		e.ExcInfo.Repr != `CallError('[EINVAL] filesystem.copy.src: Path must reside within a pool mount point\n', 14, None)` {
		t.Fatalf("job_wait of a job that failed validation: %s", got)
	}
}

// 24.10 and 25.04 look a job up as middleware.jobs[id]: a missing id is
// a KeyError (errno EINVAL, reason "9999" on a call; a FAILED KeyError
// job for core.job_wait); 25.10 raises InstanceNotFound.
func TestMissingJobIsKeyErrorBefore2510(t *testing.T) {
	for _, v := range []truenas.Version{truenas.Version2410, truenas.Version2504} {
		t.Run(string(v), func(t *testing.T) {
			b, _, base := legacyServer(t, v)
			w := ldial(t, base)
			w.connect()
			w.login()
			w.write(`{"id": "a", "msg": "method", "method": "core.job_abort", "params": [9999]}`)
			raw, _ := w.result("a")
			var m struct {
				Error struct {
					Error  int    `json:"error"`
					Type   any    `json:"type"`
					Reason string `json:"reason"`
					Trace  struct {
						Class string `json:"class"`
						Repr  string `json:"repr"`
					} `json:"trace"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(raw), &m); err != nil {
				t.Fatal(err)
			}
			if m.Error.Error != 22 || m.Error.Type != nil || m.Error.Reason != "9999" || m.Error.Trace.Class != "KeyError" || m.Error.Trace.Repr != "KeyError(9999)" {
				t.Fatalf("core.job_abort(9999): %s", raw)
			}
			w.write(`{"id": "w", "msg": "method", "method": "core.job_wait", "params": [9999]}`)
			raw, _ = w.result("w")
			var r struct {
				Result int `json:"result"`
			}
			if err := json.Unmarshal([]byte(raw), &r); err != nil || r.Result == 0 {
				t.Fatalf("core.job_wait(9999): %s", raw)
			}
			j, ok := b.JobByID(r.Result)
			if !ok {
				t.Fatalf("job %d missing", r.Result)
			}
			<-j.Done()
			entry := string(j.Entry())
			for _, want := range []string{`"error":"9999"`, `"type":"KeyError"`, `"repr":"KeyError(9999)"`, `"state":"FAILED"`} {
				if !strings.Contains(entry, want) {
					t.Fatalf("job_wait entry lacks %s: %s", want, entry)
				}
			}
		})
	}
}
