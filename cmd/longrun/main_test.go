package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"longrun": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs every testdata/script/*.txtar against a fresh in-process
// fake (fake time x6000, so a ten-minute clone takes 100 ms), with each
// dialect's environment variables pointing at it.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			srv := fake.NewServer(nil, fake.Options{Clock: sim.NewScaledClock(6000)})
			e.Defer(srv.Close)
			u := srv.Env().Users()[0]
			e.Setenv("LONGRUN_CONFIG", e.WorkDir+"/no-config.yaml")
			e.Setenv("CLOUDSIGMA_URL", srv.CloudSigmaURL())
			e.Setenv("CLOUDSIGMA_USER", u.Email)
			e.Setenv("CLOUDSIGMA_PASSWORD", u.Password)
			e.Setenv("TRUENAS_URL", srv.WebsocketURL())
			e.Setenv("TRUENAS_USER", u.Name)
			e.Setenv("TRUENAS_API_KEY", u.APIKey)
			e.Setenv("FTRACK_SERVER", srv.URL())
			e.Setenv("FTRACK_API_USER", u.Name)
			e.Setenv("FTRACK_API_KEY", u.APIKey)
			e.Setenv("OS_BACKUP_URL", srv.URL())
			e.Setenv("OS_AUTH_URL", srv.URL()+"/v3")
			e.Setenv("OS_USERNAME", u.Name)
			e.Setenv("OS_PASSWORD", u.Password)
			e.Setenv("OS_PROJECT_NAME", u.Project)
			e.Setenv("FAKE_PASSWORD", u.Password) // for scripts that check it is never printed
			web1, err := serverUUID(srv.CloudSigmaURL(), u.Email, u.Password, "web-1")
			if err != nil {
				return err
			}
			e.Setenv("WEB1", web1)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// code N prog args...: run prog and require exit code N.
			"code": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: code N prog [args...]")
				}
				want, err := strconv.Atoi(args[0])
				ts.Check(err)
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("%v", err)
				}
				if (got == want) == neg {
					ts.Fatalf("exit code %d, want %d", got, want)
				}
			},
			// setenvout NAME: set NAME to the last command's stdout, trimmed.
			"setenvout": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: setenvout NAME")
				}
				ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile("stdout")))
			},
			// jsonlines: every line of the last stdout is a JSON object.
			"jsonlines": func(ts *testscript.TestScript, neg bool, args []string) {
				out := strings.TrimSpace(ts.ReadFile("stdout"))
				if out == "" {
					ts.Fatalf("no output")
				}
				for _, line := range strings.Split(out, "\n") {
					var v map[string]any
					if err := json.Unmarshal([]byte(line), &v); err != nil {
						ts.Fatalf("not a JSON object: %q: %v", line, err)
					}
				}
			},
			// noctl: the last stdout and stderr hold no terminal control
			// characters (no escape sequences, no carriage returns).
			"noctl": func(ts *testscript.TestScript, neg bool, args []string) {
				for _, name := range []string{"stdout", "stderr"} {
					for i, r := range ts.ReadFile(name) {
						if r < 0x20 && r != '\n' && r != '\t' {
							ts.Fatalf("%s has control character %q at %d", name, r, i)
						}
					}
				}
			},
		},
	})
}

// serverUUID finds a seeded server by name with a plain HTTP request, so
// the scripts' setup does not depend on the SDK under test.
func serverUUID(base, user, password, name string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, base+"servers/?limit=0", nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var list struct {
		Objects []struct{ UUID, Name string } `json:"objects"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return "", err
	}
	for _, s := range list.Objects {
		if s.Name == name {
			return s.UUID, nil
		}
	}
	return "", fmt.Errorf("no server named %s among %d", name, len(list.Objects))
}
