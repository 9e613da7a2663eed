package freezer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

// cliStep is one command of the scripted command-line session and what
// it printed.
type cliStep struct {
	Args []string `json:"args"`
	Code int      `json:"code"`
	Out  string   `json:"out"`
	Err  string   `json:"err"`
}

// TestConformanceCommandLine runs the real `freezer` command line
// (python3-freezerclient) through the same scripted session, every
// command of every resource (testdata/cli-script.json: client-register,
// client-list, client-show, client-delete; job-create, job-list with
// --limit, --offset, --search and --client, job-show, job-get,
// job-update, job-start, job-stop, job-abort, job-delete; action-create,
// action-list, action-show, action-update, action-delete;
// session-create, session-list, session-show, session-add-job,
// session-start, session-update, session-remove-job, session-delete;
// backup-create, backup-list, backup-show, backup-delete; refusals and
// unknown ids included), against the real freezer-api 13 server and
// against the fake, on v1 and on v2, and compares what the two printed
// step by step once ids and times are masked. Both runs log in at the
// fake's Keystone (the real server runs without one: its identity is
// fixed by testdata/realserver.py to the same user and project). The
// fake runs on a manual clock, so its agent does nothing while the
// script runs, as no agent runs beside the real server.
func TestConformanceCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: starts the real freezer-api (-short)")
	}
	needPython(t, "freezer_api.cmd.api", "python3-freezer-api")
	needPython(t, "freezerclient.shell", "python3-freezerclient")
	script, err := os.ReadFile("testdata/cli-script.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2"} {
		t.Run("v"+v, func(t *testing.T) {
			t.Parallel()
			srv := fake.NewServer(t, fake.Options{Clock: sim.NewClock(sim.Epoch)})
			real := startRealServer(t, v == "1")
			onReal := runCLI(t, real, srv.URL()+"/v3", v, script)
			onFake := runCLI(t, srv.URL(), srv.URL()+"/v3", v, script)
			if len(onReal) != len(onFake) {
				t.Fatalf("%d steps on the real server, %d on the fake", len(onReal), len(onFake))
			}
			var cmds []string
			for i := range onReal {
				r, f := onReal[i], onFake[i]
				cmd := "freezer " + strings.Join(r.Args, " ")
				cmds = append(cmds, cmd)
				if r.Code != f.Code {
					t.Errorf("step %d %s: exit %d on the real server, %d on the fake\nreal: %s%s\nfake: %s%s", i, cmd, r.Code, f.Code, r.Out, r.Err, f.Out, f.Err)
					continue
				}
				mr, mf := maskCLI(r.Out+r.Err), maskCLI(f.Out+f.Err)
				if mr != mf && !sameWords(mr, mf) {
					t.Errorf("step %d %s printed differently:\nreal:\n%s\nfake:\n%s", i, cmd, mr, mf)
				}
			}
			t.Logf("v%s: %d commands compared:\n%s", v, len(cmds), strings.Join(cmds, "\n"))
		})
	}
}

var (
	maskID   = regexp.MustCompile(`\b[0-9a-f]{32}\b`)
	maskTime = regexp.MustCompile(`\b1[0-9]{9}\b`)
)

// maskCLI hides what differs between any two runs: server-made ids and
// Unix times.
func maskCLI(s string) string {
	return maskTime.ReplaceAllString(maskID.ReplaceAllString(s, "<id>"), "<time>")
}

// sameWords reports whether a and b hold the same words, in any order:
// the command line prints a dict keyed by ids (a session's jobs) sorted by
// id, and the two servers' random ids sort their entries differently.
func sameWords(a, b string) bool {
	wa, wb := strings.FieldsFunc(a, splitWord), strings.FieldsFunc(b, splitWord)
	slices.Sort(wa)
	slices.Sort(wb)
	return slices.Equal(wa, wb)
}

func splitWord(r rune) bool { return strings.ContainsRune(" \n|{}[]:,+-", r) }

// runCLI runs testdata/clirun.py with the script against the Freezer API
// at backupURL, logging in at authURL.
func runCLI(t *testing.T, backupURL, authURL, version string, script []byte) []cliStep {
	t.Helper()
	runner, err := filepath.Abs("testdata/clirun.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, runner, backupURL, authURL, version)
	cmd.WaitDelay = 10 * time.Second // a bound on a killed child's pipes, not a sleep
	cmd.Stdin = bytes.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("clirun.py: %v\n%s", err, stderr.String())
	}
	var steps []cliStep
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s cliStep
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("clirun.py line %q: %v", sc.Text(), err)
		}
		steps = append(steps, s)
	}
	if len(steps) == 0 {
		t.Fatal(fmt.Sprint("clirun.py printed nothing: ", stderr.String()))
	}
	return steps
}
