package truenas_test

import (
	"encoding/json"
	"strconv"
	"testing"
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
