package truenas

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// core.download answers only once the job it started has blocked again,
// so a job's first Sleep is on the clock before the caller can Advance
// it. Before, the job woke from waiting for its pipes and reached Sleep
// on its own schedule: an Advance that came first passed its timer by,
// and Job.Wait hung (TestBufferedTokenExpiryAndRenewal under load).
func TestDownloadJobSleepsBeforeCoreDownloadAnswers(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	b := New(sim.NewEnv(clk, nil, nil))
	f := NewFiles(b)
	t.Cleanup(func() { f.Close(); b.Close() })
	// A job that is slow to get from its pipes to its Sleep, as any job
	// is on a loaded machine.
	b.RegisterJobMethod("test.slow_to_sleep", JobMethod{Output: true, Run: f.piped(func(j *JobRun, _ *inputSet) (any, error) {
		for range 1000 {
			runtime.Gosched()
		}
		if err := j.Sleep(2 * time.Second); err != nil {
			return nil, err
		}
		return nil, write(j, []byte("done"))
	})})
	cred := &Credentials{User: b.Env().Users()[0], Type: CredAPIKey}
	before := clk.Pending()
	id, _, err := f.startDownload(cred, "test.slow_to_sleep", nil, "f", true)
	if err != nil {
		t.Fatal(err)
	}
	// The download's keep timer and the job's Sleep.
	if got := clk.Pending() - before; got != 2 {
		t.Fatalf("%d timers pending after core.download, want 2 (the job has not reached its Sleep)", got)
	}
	clk.Advance(3 * time.Second)
	job, ok := b.JobByID(id)
	if !ok {
		t.Fatal("no job")
	}
	<-job.Done()
	if st := job.State(); st != StateSuccess {
		t.Fatalf("state %v", st)
	}
}

// test.test_input_pipe and test.test_download_pipe write json.dumps(arg)
// as the middleware's CPython does: ensure_ascii escapes, no HTML escapes,
// numbers as Python reads them back; keys sorted, since decoding loses
// the caller's order.
func TestPyDumpsAsCPython(t *testing.T) {
	for in, want := range map[string]string{
		`{"b": "<é>", "a": [1, 2.50, -0]}`: `{"a": [1, 2.5, 0], "b": "<\u00e9>"}`,
		`"😀"`:                              `"\ud83d\ude00"`,
		`{"k":`:                            `{"k":`, // not JSON: written as it came
	} {
		if got := pyDumps([]json.RawMessage{json.RawMessage(in)}); got != want {
			t.Errorf("pyDumps(%s) = %s, want %s", in, got, want)
		}
	}
	if got := pyDumps(nil); got != "null" {
		t.Errorf("pyDumps() = %s, want null", got)
	}
}
