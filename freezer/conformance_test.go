package freezer_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/testutil/freezertest"
)

// debianPython is the interpreter Debian's python3-freezer-api and
// python3-freezerclient install into (LONGRUN_FREEZER_PYTHON overrides it).
var debianPython = func() string {
	if p := os.Getenv("LONGRUN_FREEZER_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}()

// needPython skips the test unless /usr/bin/python3 can import module.
func needPython(t *testing.T, module, pkg string) {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("skipping: %s not found; install the Debian package %s (.ci/peers-debian.sh)", debianPython, pkg)
	}
	out, err := exec.Command(debianPython, "-c", "import "+module).CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Skipf("skipping: %s cannot import %s (%s); install the Debian package %s (.ci/peers-debian.sh)", debianPython, module, lines[len(lines)-1], pkg)
	}
}

// startRealServer runs the real freezer-api (testdata/realserver.py) on a
// free loopback port with a fresh sqlite database and returns its URL.
// With enableV1 the server runs with enable_v1_api = True (v1 usable);
// without it, with the upstream default (v2 only: v1 creates fail).
//
// The server never outlives the test: cleanup (which runs after a failure
// too) kills its process group by pid and waits for it, and the server
// exits by itself when its stdin closes, which also happens when this
// test process dies without cleaning up.
func startRealServer(t *testing.T, enableV1 bool) string {
	t.Helper()
	needPython(t, "freezer_api.cmd.api", "python3-freezer-api")
	dir := t.TempDir()
	script, err := filepath.Abs("testdata/realserver.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, debianPython, script, dir, "0")
	cmd.Dir = dir
	v1 := "False"
	if enableV1 {
		v1 = "True"
	}
	cmd.Env = append(os.Environ(), "FREEZER_DEFAULT_USER="+sim.DefaultUsers()[0].ID, "FREEZER_ENABLE_V1="+v1, "FREEZER_EXIT_ON_STDIN_EOF=1")
	killGroupOnCancel(cmd)           // db sync runs in a child of the server
	cmd.WaitDelay = 10 * time.Second // a bound on a killed child's pipes, not a sleep
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &listenWriter{url: make(chan string, 1)}
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		_ = stdin.Close()
		<-exited
	})
	deadline := time.NewTimer(180 * time.Second) // a bound on a child process (slow on a loaded machine), not a sleep
	defer deadline.Stop()
	select {
	case url := <-out.url:
		return url
	case <-exited:
		t.Fatalf("freezer-api exited before listening: %s", stderr.String())
	case <-deadline.C:
		t.Fatalf("freezer-api did not start: %s", stderr.String())
	}
	return ""
}

// listenWriter takes the server's stdout and sends the URL of its
// "LISTENING <url>" line on url, once.
type listenWriter struct {
	mu   sync.Mutex
	line []byte
	url  chan string
	sent bool
}

func (w *listenWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(p), nil
	}
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		l := string(w.line[:i])
		w.line = w.line[i+1:]
		if url, ok := strings.CutPrefix(l, "LISTENING "); ok {
			w.url <- url
			w.sent, w.line = true, nil
			break
		}
	}
	return len(p), nil
}

// syncBuffer is a bytes.Buffer a child's output can be written to while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestConformanceRealServer runs the SDK's scenarios against the real
// freezer-api 13 (v1 and v2, SQL backend on sqlite, a fixed identity in
// place of Keystone's middleware).
func TestConformanceRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: starts the real freezer-api (-short)")
	}
	needPython(t, "freezer_api.cmd.api", "python3-freezer-api")
	u := sim.DefaultUsers()[0]
	// v2 on a server with the upstream default configuration; v1 on one
	// with enable_v1_api = True, the only way v1 works.
	t.Run("v2", func(t *testing.T) {
		t.Parallel()
		url := startRealServer(t, false)
		freezertest.Run(t, freezertest.Target{BaseURL: url, Token: "real-server-ignores-it", Version: freezer.V2, ProjectID: u.Project})
	})
	t.Run("v1", func(t *testing.T) {
		t.Parallel()
		url := startRealServer(t, true)
		freezertest.Run(t, freezertest.Target{BaseURL: url, Token: "real-server-ignores-it", Version: freezer.V1,
			SkipEvents: `freezer-api 13's SQL backend cannot store an event on a v1 job: its project_id is null and replace_job's schema check answers 400 "None is not of type 'string'"`})
	})
}
