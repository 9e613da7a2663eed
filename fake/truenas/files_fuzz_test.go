package truenas

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"

	"github.com/longrun/longrun/fake/sim"
)

// uploadStatuses are the statuses POST /_upload answers.
var uploadStatuses = map[int]bool{200: true, 400: true, 401: true, 403: true, 405: true, 412: true, 422: true, 500: true}

// uploadAuths are the Authorization headers the fuzz targets pick from.
var uploadAuths = []string{
	"Bearer 1-longrunfakeapikey",
	"",
	"Basic " + base64.StdEncoding.EncodeToString([]byte("admin:secret")),
	"Token not-a-token",
	"Bearer 1-wrong",
	"Basic %%%",
}

var jobIDBody = regexp.MustCompile(`^\{"job_id": ([0-9]+)\}$`)

// fuzzUpload serves one POST /_upload on a fresh backend and checks what
// every answer must be: one of the middleware's statuses, a job id that
// exists on success, "Connection: close" on a refusal. It returns the
// status and body.
func fuzzUpload(t *testing.T, contentType, auth string, body []byte) (int, string) {
	b := New(sim.NewEnv(sim.NewClock(sim.Epoch), nil, nil))
	f := NewFiles(b)
	f.SetSpool(64, t.TempDir())
	defer func() { f.Close(); b.Close() }()
	req := httptest.NewRequest(http.MethodPost, "/_upload", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	f.serveUpload(rec, req)
	status, got := rec.Code, rec.Body.String()
	if !uploadStatuses[status] {
		t.Fatalf("status %d %q", status, got)
	}
	if status == 200 {
		m := jobIDBody.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("200 with body %q", got)
		}
		id, _ := strconv.Atoi(m[1])
		if _, ok := b.JobByID(id); !ok {
			t.Fatalf("job %d does not exist", id)
		}
	} else if rec.Header().Get("Connection") != "close" {
		t.Fatalf("refusal %d without Connection: close", status)
	}
	return status, got
}

// FuzzUploadRequest feeds whole /_upload requests (content type, body and
// one of a few credentials) to the handler: whatever the multipart
// framing, it must answer with one of the real statuses, never panic, and
// start a job only when it answers 200.
func FuzzUploadRequest(f *testing.F) {
	ok := "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"test.test_input_pipe\", \"params\": [1]}\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nA\r\n--XX--\r\n"
	put := "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"filesystem.put\", \"params\": [\"/mnt/x\", {\"append\": true}]}\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nB\r\n--XX--\r\n"
	for _, s := range []struct {
		ct   string
		auth uint8
		body string
	}{
		{"multipart/form-data; boundary=XX", 0, ok},
		{"multipart/form-data; boundary=XX", 0, put},
		{"multipart/form-data; boundary=XX", 1, ok},
		{"multipart/form-data; boundary=XX", 2, put},
		{"multipart/form-data; boundary=XX", 3, ok},
		{"multipart/form-data; boundary=XX", 0, "--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nA\r\n--XX--\r\n"},
		{"multipart/form-data; boundary=XX", 0, "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"config.upload\"}\r\n--XX--\r\n"},
		{"multipart/form-data; boundary=XX", 0, "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"config.upload\"}\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nSQLite format 3\x00\r\n--XX"},
		{"multipart/form-data; boundary=XX", 0, "--XX\r\n\r\n\r\n--XX--"},
		{"multipart/mixed; boundary=\"a b\"", 0, "--a b\r\n\r\nx\r\n--a b--\r\n"},
		{"text/plain", 0, "x"},
		{"multipart/form-data", 0, ok},
		{"", 0, ""},
	} {
		f.Add(s.ct, s.auth, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, auth uint8, body []byte) {
		status, _ := fuzzUpload(t, ct, uploadAuths[int(auth)%len(uploadAuths)], body)
		if status == 200 && !bytes.Contains(body, []byte("data")) {
			t.Fatal("a job started without a data part")
		}
	})
}

// FuzzUploadDataPart feeds the "data" part of an otherwise well-formed
// upload (an admin's, with one file part): what it is decides the answer
// exactly as in the real handler: JSON that does not parse is 400 with
// Python's message, valid JSON without a "method" key is 422, and only an
// object naming a method can start a job.
func FuzzUploadDataPart(f *testing.F) {
	for _, s := range []string{
		`{"method": "test.test_input_pipe", "params": [1]}`,
		`{"method": "filesystem.put", "params": ["/mnt/tank/a", {}]}`,
		`{"method": "filesystem.put", "params": ["/data/pwenc_secret", {}]}`,
		`{"method": "filesystem.put", "params": ["", {"append": 3}]}`,
		`{"method": "config.upload", "params": null}`,
		`{"method": "nodot"}`, `{"method": "no.such"}`, `{"method": 5}`, `{"method": "a.b", "params": {}}`,
		`{"method": "filesystem.copy", "params": ["/a", "/b"]}`,
		`{"params": []}`, `[1, 2]`, `"method"`, `null`, `{`, ``, "\n", `{"method": "test.test_input_pipes"}`,
	} {
		f.Add([]byte(s))
	}
	const boundary = "fuzz-7c1e9a0b3d"
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte(boundary)) {
			return // would end the part early: not a data part
		}
		var body bytes.Buffer
		body.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n")
		body.Write(data)
		body.WriteString("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nSQLite format 3\x00 file\r\n--" + boundary + "--\r\n")
		status, got := fuzzUpload(t, "multipart/form-data; boundary="+boundary, uploadAuths[0], body.Bytes())
		var v any
		valid := json.Unmarshal(data, &v) == nil
		obj, _ := v.(map[string]any)
		_, hasMethod := obj["method"]
		switch {
		case !valid:
			if status != 400 || !bytes.HasPrefix([]byte(got), []byte("Expecting value: line ")) {
				t.Fatalf("invalid JSON %q: %d %q", data, status, got)
			}
		case !hasMethod:
			if status != 422 || got != "" {
				t.Fatalf("no method in %q: %d %q", data, status, got)
			}
		case status == 200:
			if name, ok := obj["method"].(string); !ok || !bytes.Contains([]byte(name), []byte(".")) {
				t.Fatalf("a job started for %q", data)
			}
		}
	})
}
