package ftrack_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/longrun/longrun/ftrack"
)

// FuzzDecodeResults feeds arbitrary replies to the batch decoder and the
// typed decoders behind it: they may fail, never panic, and a success has
// exactly the asked number of results.
func FuzzDecodeResults(f *testing.F) {
	for _, s := range []string{
		string(batch(recServerInformation, recCreateFileComponent)),
		string(batch(recQueryTask, recGetUploadMetadata)),
		string(batch(recCreateUser, recUpdateUser)),
		recInvalidCredentials,
		`[{"action":"query","data":[{"__entity_type__":"Job","id":"j","status":"done","data":"{\"description\":\"50%\"}","created_at":{"__type__":"datetime","value":"2022-10-10T10:12:09"}}],"metadata":{"next":{"offset":null}}},{"action":"delete","data":true}]`,
		`[["x"],{"exception":1}]`, `[null,null]`, `{"exception":"X","content":{"a":1},"error_code":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ftrack.DecodeResults(body, 2)
		if err != nil {
			var se *ftrack.ServerError
			if !errors.As(err, &se) && !errors.Is(err, ftrack.ErrMalformedResponse) {
				t.Fatalf("untyped error %v", err)
			}
			_ = err.Error()
			return
		}
		if len(res) != 2 {
			t.Fatalf("%d results", len(res))
		}
		for _, r := range res {
			var jobs []ftrack.Job
			if r.Decode(&jobs) == nil {
				for i := range jobs {
					_ = jobs[i].Description()
					n := jobs[i].ToJob()
					if n.Progress.Known && (n.Progress.Percent < 0 || n.Progress.Percent > 100) {
						t.Fatalf("percent %v", n.Progress.Percent)
					}
					if _, err := json.Marshal(jobs[i]); err != nil {
						t.Fatalf("re-encoding a decoded job: %v", err)
					}
				}
			}
			var job ftrack.Job
			_ = r.Decode(&job)
			var md ftrack.UploadMetadata
			_ = r.Decode(&md)
			var info ftrack.ServerInformation
			_ = r.Decode(&info)
			var schemas []ftrack.Schema
			_ = r.Decode(&schemas)
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("re-encoding a result: %v", err)
			}
		}
	})
}

// FuzzDateTime decodes arbitrary datetime objects.
func FuzzDateTime(f *testing.F) {
	for _, s := range []string{`{"__type__":"datetime","value":"2022-10-10T10:12:09"}`, `null`, `{"__type__":"date","value":"2022-10-10"}`, `{"value":1}`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d ftrack.DateTime
		if json.Unmarshal(b, &d) == nil && !d.IsZero() {
			out, err := json.Marshal(d)
			if err != nil {
				return // years beyond 9999 do not encode
			}
			var back ftrack.DateTime
			if err := json.Unmarshal(out, &back); err != nil || !back.Equal(d.Time) {
				t.Fatalf("%s -> %s -> %v (%v)", b, out, back, err)
			}
		}
	})
}

var quoteEscape = regexp.MustCompile(`\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|.)`)

// FuzzNewSessionSecrets: whatever the server URL holds (the api key in its
// userinfo, query, path or host, a URL that does not parse), NewSession's
// error never shows the api key.
func FuzzNewSessionSecrets(f *testing.F) {
	for _, s := range []string{
		"https://jane:KEY@example.com\n", "ht!tp://KEY", "https://example.com/%zzKEY", "ftp://h?apiKey=KEY",
		"https://[KEY", ":KEY", "https://example.com#KEY", "//KEY@/", "https://KEY:KEY@exa mple.com", "mailto:KEY",
	} {
		f.Add(s, "s3cr3t-api-key")
	}
	// Text every error may hold whatever the key: a key that is part of
	// it cannot be told from the message itself.
	const fixed = `ftrack: server URL "" does not parse must be http(s)://host user and api key are required REDACTED`
	f.Fuzz(func(t *testing.T, raw, key string) {
		// Api keys are letters, digits and dashes; a shorter one is not
		// worth hiding (redact leaves values under 4 bytes alone).
		if len(key) < 4 || strings.Contains(fixed, key) || strings.Trim(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return
		}
		u := strings.ReplaceAll(raw, "KEY", key)
		_, err := ftrack.NewSession(u, "jane", key)
		if err == nil {
			return
		}
		// %q writes other characters as escapes such as \x00 or \u2028,
		// whose letters and digits could spell a key by chance: drop them.
		msg := quoteEscape.ReplaceAllString(err.Error(), " ")
		if strings.Contains(msg, key) {
			t.Fatalf("NewSession(%q) error shows the key: %v", u, err)
		}
	})
}
