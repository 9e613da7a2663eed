package truenas_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

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

// Transient jobs (pool.scrub, job 1) send core.get_jobs events on 24.10
// to 25.10: job.py's send_job_event skips them only from 26.0
// (NAS-137842), whatever @job(transient=True)'s docstring promised
// before. pool.scrub wraps a pool.scrub.scrub job (2): queued before it
// runs, its set_progress(100) reaches the wrapper at once, before its
// own final event.
func TestTransientJobEventsUntil26(t *testing.T) {
	for _, tc := range []struct {
		v    truenas.Version
		want string
	}{
		{truenas.Version2504, "1 added WAITING,1 changed RUNNING,2 added WAITING,2 changed RUNNING,2 changed SUCCESS,1 changed RUNNING,2 changed SUCCESS,1 changed SUCCESS"},
		{truenas.Version2510, "1 added WAITING,1 changed RUNNING,2 added WAITING,2 changed RUNNING,2 changed SUCCESS,1 changed RUNNING,2 changed SUCCESS,1 changed SUCCESS"},
		{truenas.Version2600, "2 added WAITING,2 changed RUNNING,2 changed SUCCESS,2 changed SUCCESS"},
	} {
		t.Run(string(tc.v), func(t *testing.T) {
			b, clk, url := setup(t)
			b.SetVersion(tc.v)
			w := dial(t, url)
			login(t, w)
			w.call("core.subscribe", "core.get_jobs")
			f, events := w.reply(w.send("pool.scrub", 1, "STOP"))
			if n, _ := strconv.Atoi(string(f.Result)); n == 0 {
				t.Fatalf("pool.scrub: %s", f.Result)
			}
			clk.Advance(time.Second)
			// core.ping's reply follows every event sent before it.
			_, more := w.reply(w.send("core.ping"))
			events = append(events, more...)
			var got []string
			for _, e := range events {
				u := e.update(t)
				var f struct {
					State string `json:"state"`
				}
				_ = json.Unmarshal(u.Fields, &f)
				got = append(got, strconv.Itoa(u.ID)+" "+u.Msg+" "+f.State)
			}
			if strings.Join(got, ",") != tc.want {
				t.Fatalf("events %q, want %q", strings.Join(got, ","), tc.want)
			}
		})
	}
}

// pool.scrub.scrub reports as plugins/pool_/scrub.py does: 'Scrubbing' at
// the scan's percentage, then 100 'Scrub finished'.
func TestScrubProgress(t *testing.T) {
	b, clk, url := setup(t)
	w := dial(t, url)
	login(t, w)
	id := w.call("pool.scrub.scrub", "tank")
	clk.Advance(truenas.ScrubStep * 3)
	progress := func() string {
		return string(w.call("core.get_jobs", [][]any{{"id", "=", json.RawMessage(id)}}, map[string]any{"get": true, "select": []string{"progress"}}))
	}
	if got := progress(); got != `{"progress":{"description":"Scrubbing","extra":null,"percent":30}}` {
		t.Fatalf("running: %s", got)
	}
	n, _ := strconv.Atoi(string(id))
	j, _ := b.JobByID(n)
	clk.Advance(truenas.ScrubStep * truenas.ScrubSteps)
	<-j.Done()
	if got := progress(); got != `{"progress":{"description":"Scrub finished","extra":null,"percent":100}}` {
		t.Fatalf("finished: %s", got)
	}
}

// cloud_backup.sync is @job(logs=True): job.py's run sets logs_path
// before the job runs (a waiting one has none) and __close_logs the
// excerpt, "" when it wrote nothing.
func TestLogsJobPaths(t *testing.T) {
	b, _, url := setup(t)
	w := dial(t, url)
	login(t, w)
	entry := func(id json.RawMessage) string {
		return string(w.call("core.get_jobs", [][]any{{"id", "=", id}}, map[string]any{"get": true, "select": []string{"state", "logs_path", "logs_excerpt"}}))
	}
	failed := w.call("cloud_backup.sync", 0)
	n, _ := strconv.Atoi(string(failed))
	if j, ok := b.JobByID(n); ok {
		<-j.Done()
	}
	if got := entry(failed); got != `{"logs_excerpt":"","logs_path":"/var/log/jobs/`+string(failed)+`.log","state":"FAILED"}` {
		t.Fatalf("failed job: %s", got)
	}
	running := w.call("cloud_backup.sync", 1)
	waiting := w.call("cloud_backup.sync", 1)
	if got := entry(running); got != `{"logs_excerpt":null,"logs_path":"/var/log/jobs/`+string(running)+`.log","state":"RUNNING"}` {
		t.Fatalf("running job: %s", got)
	}
	if got := entry(waiting); got != `{"logs_excerpt":null,"logs_path":null,"state":"WAITING"}` {
		t.Fatalf("waiting job: %s", got)
	}
}

// Job.credential_access_error: a job run without a user session
// (StartJobAs(nil, ...)) is for full administrators only.
func TestInternalJobNeedsFullAdmin(t *testing.T) {
	b, _, url := setup(t)
	j, err := b.StartJobAs(nil, "filesystem.copy", []json.RawMessage{json.RawMessage(`"/mnt/a"`), json.RawMessage(`"/mnt/b"`)}, truenas.Pipes{})
	if err != nil {
		t.Fatal(err)
	}
	guest := dial(t, url)
	guest.call("auth.login_ex", map[string]any{"mechanism": "API_KEY_PLAIN", "username": "guest", "api_key": "2-guestapikey"})
	f, _ := guest.reply(guest.send("core.job_abort", j.ID()))
	if f.Error == nil || !strings.Contains(string(f.Error.Data), `"error":1,`) ||
		!strings.Contains(string(f.Error.Data), `"reason":"[EPERM] Only users with full administrative privileges can access internally ran jobs"`) {
		t.Fatalf("guest aborting an internal job: %+v", f.Error)
	}
}

// job.py's set_progress ignores a falsy extra ("if extra:"): an empty
// dict neither replaces the last extra nor sends an event.
func TestFalsyProgressExtra(t *testing.T) {
	b, clk, url := setup(t)
	step := make(chan struct{})
	b.RegisterJobMethod("test.extra", truenas.JobMethod{Run: func(r *truenas.JobRun) (any, error) {
		r.SetProgress(10, "", map[string]any{"files": 1})
		if err := r.Sleep(time.Second); err != nil {
			return nil, err
		}
		r.SetProgress(10, "", map[string]any{})
		close(step)
		return nil, r.Sleep(time.Hour)
	}})
	w := dial(t, url)
	login(t, w)
	id := w.call("test.extra")
	clk.Advance(time.Second)
	<-step
	got := w.call("core.get_jobs", [][]any{{"id", "=", json.RawMessage(id)}}, map[string]any{"get": true, "select": []string{"progress.extra"}})
	if string(got) != `{"progress":{"extra":{"files":1}}}` {
		t.Fatalf("extra after an empty one: %s", got)
	}
}

// core.job_wait on itself never ends (the middleware's wrap would
// recurse in set_progress): the fake keeps it waiting, answers other
// calls, and aborts it.
func TestJobWaitOnItself(t *testing.T) {
	b, _, url := setup(t)
	w := dial(t, url)
	login(t, w)
	if self := w.call("core.job_wait", 1); string(self) != "1" {
		t.Fatalf("job_wait id %s", self)
	}
	w.call("filesystem.copy", "/mnt/a", "/mnt/b")
	w.call("core.job_abort", 1)
	j, _ := b.JobByID(1)
	<-j.Done()
	if j.State() != "ABORTED" {
		t.Fatalf("job 1 %s", j.State())
	}
}
