package fake_test

import (
	"testing"

	"github.com/longrun/longrun/fake"
)

// The control API's JSON readers take untrusted input: they must answer
// an error, never panic, and what they accept must be usable.

func FuzzParseClockRequest(f *testing.F) {
	for _, s := range []string{`{"action":"advance","by":"90s"}`, `{"action":"run","limit":3600,"step":"1s"}`,
		`{"action":"speed","speed":60}`, `{"action":"pause"}`, `{"action":"advance","by":1e300}`, `{`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := fake.ParseClockRequest(b)
		if err != nil {
			return
		}
		switch c.Action {
		case "advance":
			if c.By <= 0 {
				t.Fatalf("accepted advance by %v", c.By)
			}
		case "speed":
			if c.Speed == nil || *c.Speed < 0 {
				t.Fatalf("accepted speed %v", c.Speed)
			}
		case "run":
			if c.Limit < 0 || c.Step < 0 {
				t.Fatalf("accepted run %+v", c)
			}
		}
	})
}

func FuzzParseFaultRequest(f *testing.F) {
	for _, s := range []string{`{"dialect":"cloudsigma","status":503,"times":3}`, `{"name":"truenas.drop-websocket"}`,
		`{"path":"/v1/","latency":"2s"}`, `{"status":500,"headers":{"Retry-After":"1"}}`, `{"drop":true}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := fake.ParseFaultRequest(b)
		if err != nil {
			return
		}
		if r.Times < 0 || (r.Name == "" && r.Status == 0 && r.Latency == 0 && !r.Drop && r.TruncateAfter == 0) {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func FuzzParseJobRequest(f *testing.F) {
	for _, s := range []string{`{"dialect":"truenas","id":"12","outcome":"abort"}`, `{"dialect":"x"}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := fake.ParseJobRequest(b)
		if err == nil && (r.ID == "" || r.Outcome == "") {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func FuzzParseSeed(f *testing.F) {
	for _, s := range []string{`{"users":[{"name":"ci","email":"ci@example.com","password":"pw"}]}`,
		`{"cloudsigma":{"servers":[{"owner":"a@b","name":"x","disks":1}]}}`, `{"users":[{}]}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := fake.ParseSeed(b)
		if err != nil {
			return
		}
		for _, u := range d.Users {
			if u.Name == "" {
				t.Fatal("accepted a user without a name")
			}
		}
	})
}
