package cloudsigma_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// FuzzNewNeverEchoesPassword: whatever the base URL holds, no error of New
// shows the password (unless the password is a piece of New's own fixed
// words).
func FuzzNewNeverEchoesPassword(f *testing.F) {
	f.Add("http://u:hunter22@host/api/2.0/", "hunter22")
	f.Add("http://host/%zz/hunter22", "hunter22")
	f.Add("ftp://hunter22.example/", "hunter22")
	f.Add("http://ho st/?password=abc", "abc")
	f.Add("https://zrh.cloudsigma.com/api/2.0/\n", "s3cr3t")
	f.Add(":/x\x7fpw", "pw")
	f.Fuzz(func(t *testing.T, base, password string) {
		_, err := cloudsigma.New(base, "user@example.com", password)
		if err == nil || password == "" {
			return
		}
		if msg := err.Error(); strings.Contains(msg, password) && !strings.Contains("cloudsigma: bad base URL (not shown: it holds the password)", password) {
			t.Fatalf("error shows the password %q: %s", password, msg)
		}
	})
}

func TestNewOptionsRefuseBadValues(t *testing.T) {
	for _, o := range []cloudsigma.Option{cloudsigma.WithHTTPClient(nil), cloudsigma.WithClock(nil), cloudsigma.WithMaxDepth(0), cloudsigma.WithBatch(-1)} {
		if _, err := cloudsigma.New(cloudsigma.URL("zrh"), "u@example.com", "pw", o); err == nil {
			t.Error("a bad option was taken")
		}
	}
	if got := cloudsigma.URL("wdc"); got != "https://wdc.cloudsigma.com/api/2.0/" {
		t.Errorf("URL %s", got)
	}
}

func TestAPIErrorMatchesSharedSentinels(t *testing.T) {
	for code, want := range map[int]error{404: jobs.ErrNotFound, 401: jobs.ErrUnauthorized, 403: jobs.ErrUnauthorized} {
		var err error = &cloudsigma.Errors{API: &rest.APIError{StatusCode: code}}
		if !errors.Is(err, want) {
			t.Errorf("%d does not match %v", code, want)
		}
	}
	if errors.Is(&rest.APIError{StatusCode: 400}, jobs.ErrNotFound) {
		t.Error("400 matches not found")
	}
}

// FuzzParseFrame: any websocket message parses or fails with a typed
// error, never a panic; a parsed object is valid JSON.
func FuzzParseFrame(f *testing.F) {
	f.Add([]byte(`{"resource_type":"jobs","resource_uri":"/api/2.0/jobs/a/","object":{"uuid":"a"}}`))
	f.Add([]byte(`{"resource_type":"drives","resource_uri":"/api/2.0/drives/b/"}`))
	f.Add([]byte(`{"resource_type":"","resource_uri":"x","object":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := cloudsigma.ParseFrame(data)
		if err != nil {
			if !errors.Is(err, cloudsigma.ErrMalformed) && !errors.Is(err, jobs.ErrTooDeep) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !json.Valid(data) || (fr.Object != nil && !json.Valid(fr.Object)) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		_ = fr.UUID()
	})
}
