package upload

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
)

func TestParseUploadReply(t *testing.T) {
	r, err := ParseUploadReply([]byte(`{"job_id": 20}`))
	if err != nil || r.JobID != 20 || r.Extra != nil {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = ParseUploadReply([]byte(`{"job_id": 7, "new": {"a": 1}}`))
	if err != nil || r.JobID != 7 || string(r.Extra["new"]) != `{"a": 1}` {
		t.Fatalf("%+v %v", r, err)
	}
	out, _ := json.Marshal(r)
	if string(out) != `{"job_id":7,"new":{"a":1}}` {
		t.Fatalf("re-encoded %s", out)
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"job_id": "7"}`, `{"job_id": 0}`, `{"job_id": -1}`,
		`{"job_id": 1.5}`, `{"job_id": 1e3}`, `{"job_id": 99999999999999999999}`, `{"job_id": 1} x`, `null`} {
		if _, err := ParseUploadReply([]byte(bad)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func TestParseDownloadTicket(t *testing.T) {
	tk, err := ParseDownloadTicket([]byte(`[86, "/_download/86?auth_token=9WIqYg4jAYEOGQ4g319Bkr64Oj8CZk1VACfyN68M7hgjGTdeSSgZjSf5lJEshS8M"]`))
	if err != nil || tk.JobID != 86 || !strings.HasPrefix(tk.Path, "/_download/86?") {
		t.Fatalf("%+v %v", tk, err)
	}
	if s := tk.String(); strings.Contains(s, "9WIq") || !strings.Contains(s, "REDACTED") {
		t.Fatalf("String shows the token: %s", s)
	}
	// core.job_download_logs answers the path alone.
	tk, err = ParseDownloadTicket([]byte(`"/_download/12?auth_token=abc"`))
	if err != nil || tk.JobID != 12 {
		t.Fatalf("%+v %v", tk, err)
	}
	for _, bad := range []string{`[]`, `[1]`, `[1, "/_download/2?auth_token=x"]`, `["1", "/_download/1"]`,
		`[1, "http://evil/_download/1"]`, `[1, "/other/1"]`, `[1, "/_download/x?auth_token=y"]`, `{}`, `"nope"`, `[1, 2, 3]`} {
		if _, err := ParseDownloadTicket([]byte(bad)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

func TestParseDisposition(t *testing.T) {
	for in, want := range map[string]string{
		`attachment; filename="freenas.db"`:        "freenas.db",
		`attachment; filename="a b.tar"`:           "a b.tar",
		`attachment; filename="../../etc/passwd"`:  "passwd",
		`attachment; filename="None"`:              "None",
		`attachment; filename="x"y.db"`:            `x"y.db`,
		`attachment; filename=plain.txt`:           "plain.txt",
		`attachment; filename="C:\\dir\\file.db"`:  "file.db",
		`attachment; filename="bad` + "\x01" + `"`: "bad",
	} {
		got, ok := ParseDisposition(in)
		if !ok || got != want {
			t.Errorf("%q: got %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{``, `attachment`, `attachment; filename=".."`, `attachment; filename=""`} {
		if got, ok := ParseDisposition(in); ok {
			t.Errorf("%q: got %q", in, got)
		}
	}
}

func TestRedactSecrets(t *testing.T) {
	for _, in := range []string{
		"GET /_download/1?auth_token=abcdef failed",
		`{"auth_token": "abcdef"}`,
		"token=abcdef",
		"Invalid api_key: abcdef",
	} {
		if out := redact.String(in); strings.Contains(out, "abcdef") {
			t.Errorf("%q -> %q", in, out)
		}
	}
	if out := redact.String("Invalid token"); out != "Invalid token" {
		t.Errorf("plain text changed: %q", out)
	}
}

func FuzzParseUploadReply(f *testing.F) {
	for _, s := range []string{`{"job_id": 20}`, `{"job_id": 7, "x": [1, {"y": null}]}`, `{"job_id": 1e2}`, `[]`, `{`, `{"job_id": 9223372036854775807}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseUploadReply(data)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if r.JobID <= 0 {
			t.Fatalf("accepted job id %d", r.JobID)
		}
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseUploadReply(enc)
		if err != nil || back.JobID != r.JobID || len(back.Extra) != len(r.Extra) {
			t.Fatalf("round trip %s: %+v %v", enc, back, err)
		}
	})
}

func FuzzParseDownloadTicket(f *testing.F) {
	for _, s := range []string{`[86, "/_download/86?auth_token=abc"]`, `"/_download/3?auth_token=x"`, `[1, "/_download/1"]`, `[0, ""]`, `[1, "/_download/1?%zz"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := ParseDownloadTicket(data)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if tk.JobID <= 0 || !strings.HasPrefix(tk.Path, "/_download/") {
			t.Fatalf("accepted %+v", tk)
		}
		_ = tk.String()
	})
}

func FuzzParseDisposition(f *testing.F) {
	for _, s := range []string{`attachment; filename="freenas.db"`, `attachment; filename=a`, `inline`, `attachment; filename*=UTF-8''%e2%82%ac.db`, `; filename="/"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		name, ok := ParseDisposition(h)
		if !ok {
			if name != "" {
				t.Fatalf("name %q without ok", name)
			}
			return
		}
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00\n\r") {
			t.Fatalf("unsafe name %q from %q", name, h)
		}
	})
}

func FuzzRedactSecrets(f *testing.F) {
	for _, s := range []string{"GET /_download/1?auth_token=abc", "ẞẞẞẞ?auth_token=x&ẞ", `{"token": "x"}`, "\x8b&token=1"} {
		f.Add(s, "s3cr3tvalue")
	}
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		if secret == "" || strings.ContainsAny(secret, " \t\n\r\f\v&\"',;") || strings.Contains(prefix, secret) {
			return
		}
		msg := prefix + "?auth_token=" + secret
		if out := redact.String(msg); !strings.HasSuffix(out, "REDACTED") {
			t.Fatalf("%q -> %q", msg, out)
		}
	})
}

func TestTransferErrorSentinels(t *testing.T) {
	for _, tc := range []struct {
		kind         error
		notFound, un bool
	}{
		{ErrJobNotFound, true, false},
		{ErrTokenRejected, false, true},
		{ErrUnauthorized, false, true},
		{ErrForbidden, false, true},
		{ErrServer, false, false},
	} {
		err := error(&TransferError{Op: opDownload, Kind: tc.kind})
		if errors.Is(err, jobs.ErrNotFound) != tc.notFound || errors.Is(err, jobs.ErrUnauthorized) != tc.un {
			t.Errorf("%v: not found %v, unauthorized %v", tc.kind, errors.Is(err, jobs.ErrNotFound), errors.Is(err, jobs.ErrUnauthorized))
		}
	}
	if err := error(&TransferError{Op: opUpload, Kind: ErrSource, Committed: true}); !errors.Is(err, ErrIncomplete) || !errors.Is(err, ErrSource) {
		t.Errorf("committed: %v", err)
	}
}
