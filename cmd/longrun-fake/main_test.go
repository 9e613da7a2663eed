package main

import (
	"github.com/longrun/longrun/fake/fakecmd"

	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the module root, two levels up from this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// dockerBuild reads the Dockerfile's build stage: its ENV settings and its
// "RUN go build" line.
func dockerBuild(t testing.TB) (env []string, command string) {
	t.Helper()
	df, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(df), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "FROM ") && command != "" {
			break // the build stage is over
		}
		if v, ok := strings.CutPrefix(line, "ENV "); ok {
			env = append(env, strings.Fields(v)...)
		}
		if v, ok := strings.CutPrefix(line, "RUN go build "); ok {
			command = "go build " + v
		}
	}
	require.NotEmpty(t, command, "the Dockerfile has a RUN go build line")
	return env, command
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// binary builds longrun-fake once per test run exactly as the Dockerfile
// does (its ENV and its go build line, with the output path moved).
func binary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short")
	}
	env, command := dockerBuild(t)
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "longrun-fake-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "longrun-fake")
		command = strings.Replace(command, "-o /out/longrun-fake", "-o "+binPath, 1)
		cmd := exec.Command("sh", "-c", command)
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), env...)
		buildOut, buildErr = cmd.CombinedOutput()
	})
	require.NoError(t, buildErr, "%s", buildOut)
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	env, command := dockerBuild(t)
	assert.Contains(t, env, "CGO_ENABLED=0")
	assert.Contains(t, command, "./cmd/longrun-fake")
	f, err := elf.Open(binary(t))
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "a static binary has no dynamic loader")
	}
	libs, _ := f.ImportedLibraries()
	assert.Empty(t, libs)

	// No package testing in the binary (fake.NewServer takes fake.TB).
	out, err := exec.Command("go", "version", "-m", binary(t)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	assert.NotContains(t, strings.Fields(string(deps)), "testing")
}

// started is a running longrun-fake.
type started struct {
	cmd   *exec.Cmd
	url   string
	token string
	out   *bufio.Scanner
}

func start(t *testing.T, args ...string) *started {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	s := &started{cmd: cmd, out: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		// SIGTERM first: the fake shuts down and removes its spool files;
		// a kill only if it does not end in time.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	for s.out.Scan() {
		line := s.out.Text()
		if v, ok := strings.CutPrefix(line, "longrun fake listening on "); ok {
			s.url = strings.Fields(v)[0]
		}
		if v, ok := strings.CutPrefix(line, "control token: "); ok {
			s.token = v
		}
		if line == "ready" {
			return s
		}
	}
	t.Fatalf("longrun-fake ended before it was ready: %s", stderr.String())
	return nil
}

func TestStartAnswerAndShutDownOnSIGTERM(t *testing.T) {
	bin := binary(t)
	t0 := time.Now()
	s := start(t, "-speed", "0", "-control-token", "sesame", "-truenas-version", "25.04", "-log-level", "debug")
	resp, err := http.Get(s.url + "/_fake/health")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	t.Logf("%s: start to first answered request %v", filepath.Base(bin), time.Since(t0))
	assert.Equal(t, "sesame", s.token)

	req, _ := http.NewRequest("GET", s.url+"/_fake/version", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), `"emulating":"25.04"`)

	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	var rest []string
	for s.out.Scan() {
		rest = append(rest, s.out.Text())
	}
	require.NoError(t, s.cmd.Wait(), "exit 0 after SIGTERM")
	assert.Contains(t, rest, "longrun fake: shutting down")
}

func TestBadFlagsAndListenFailure(t *testing.T) {
	var stderr bytes.Buffer
	for _, args := range [][]string{{"-speed", "-1"}, {"-log-level", "loud"}, {"extra"}, {"-nope"}} {
		_, err := fakecmd.ParseFlags("longrun-fake", args, &stderr)
		assert.Error(t, err, "%q", args)
	}
	_, err := fakecmd.ParseFlags("longrun-fake", []string{"-h"}, &stderr)
	assert.ErrorIs(t, err, flag.ErrHelp)
	cfg, err := fakecmd.ParseFlags("longrun-fake", nil, &stderr)
	require.NoError(t, err)
	assert.Len(t, cfg.Token, 32, "a random control token by default")
	assert.Equal(t, "127.0.0.1:8088", cfg.Addr)

	// A port in use is an error from run, not a panic.
	s := start(t, "-speed", "0")
	cfg.Addr = strings.TrimPrefix(s.url, "http://")
	err = fakecmd.Run(context.Background(), cfg, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "listen")
	cfg.Addr, cfg.SeedFile = "127.0.0.1:0", filepath.Join(t.TempDir(), "missing.json")
	assert.Error(t, fakecmd.Run(context.Background(), cfg, io.Discard, io.Discard))
	cfg.SeedFile, cfg.TrueNASVersion = "", "1.0"
	assert.ErrorContains(t, fakecmd.Run(context.Background(), cfg, io.Discard, io.Discard), "25.10")
}

func TestSeedFlag(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	require.NoError(t, os.WriteFile(seed, []byte(`{"users":[{"name":"ci","email":"ci@example.com","password":"pw"}],
		"cloudsigma":{"servers":[{"owner":"ci@example.com","name":"db-1","disks":1}]}}`), 0o600))
	s := start(t, "-speed", "0", "-seed", seed)
	req, _ := http.NewRequest("GET", s.url+"/api/2.0/servers/?name=db-1", nil)
	req.SetBasicAuth("ci@example.com", "pw")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), `"db-1"`)
}

// runExample runs one of examples/fake-control's suites against the binary.
func runExample(t *testing.T, interpreter string, args ...string) {
	if _, err := exec.LookPath(interpreter); err != nil {
		t.Skipf("%s is not installed: the %s example of examples/fake-control does not run", interpreter, interpreter)
	}
	bin := binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, interpreter, args...)
	cmd.Dir = filepath.Join(repoRoot(t), "examples", "fake-control")
	cmd.Env = append(os.Environ(), "LONGRUN_FAKE_BIN="+bin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) || err != nil {
		t.Fatalf("%s %s: %v\n%s", interpreter, strings.Join(args, " "), err, out)
	}
	t.Logf("%s", out)
	assert.NotContains(t, string(out), "skipped 1", "the suite ran rather than skipped")
}

func TestPythonExample(t *testing.T) {
	runExample(t, "python3", "-m", "unittest", "-v", "test_fake_control")
}

func TestNodeExample(t *testing.T) {
	runExample(t, "node", "--test", "fake_control.test.mjs")
}
