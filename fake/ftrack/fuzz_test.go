package ftrack

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/sim"
)

// FuzzServeAPI posts arbitrary bodies to POST /api: the answer is a JSON
// list of results or an error object in the server's shape, never a
// panic, and the reader refuses more operations than the limit.
func FuzzServeAPI(f *testing.F) {
	for _, s := range []string{
		`[{"action":"query_server_information"},{"action":"query_schemas"}]`,
		`[{"action":"create","entity_type":"Job","entity_data":{"status":"running","user_id":"5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"}}]`,
		`[{"action":"query","expression":"select id, user.username from Job where (status is running or not status in (done)) order by created_at desc limit 5"}]`,
		`[{"action":"get_upload_metadata","component_id":"c","file_name":"a.bin","file_size":20000000,"parts":3}]`,
		`[{"action":"complete_multipart_upload","component_id":"c","upload_id":"u","parts":[{"part_number":1,"e_tag":"x"}]}]`,
		`[{"action":"query","expression":"Job where ((((((((status is done))))))))"}]`,
		`[{"action":"delete","entity_type":"FileComponent","entity_key":["c"]}]`,
		`[1]`, `{}`, `[]`, `[{}] trailing`, `[{"action":"query"},`, "", `[{"action":"create","entity_type":"User","entity_data":{"metadata":[]}}]`,
	} {
		f.Add([]byte(s))
	}
	b := New(sim.NewEnv(nil, nil, nil))
	f.Cleanup(b.Close)
	b.SetLimits(Limits{MaxOperations: 8, MaxResults: 100})
	mux := http.NewServeMux()
	b.Register(mux)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api", bytes.NewReader(body))
		req.Header.Set("ftrack-user", "admin")
		req.Header.Set("ftrack-api-key", "1-longrunfakeapikey")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var out any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not JSON: %v: %q", err, rec.Body.String())
		}
		switch x := out.(type) {
		case []any:
			ops, aerr := readOperations(bytes.NewReader(body), 8)
			if aerr != nil || len(ops) != len(x) {
				t.Fatalf("%d results for %d operations (%v)", len(x), len(ops), aerr)
			}
		case map[string]any:
			if e, _ := x["exception"].(string); e == "" {
				t.Fatalf("error without exception: %v", x)
			}
			if c, _ := x["content"].(string); c == "" {
				t.Fatalf("error without content: %v", x)
			}
		default:
			t.Fatalf("answer %T", out)
		}
	})
}

// FuzzUploadPUT sends arbitrary bodies, lengths and digests to a signed
// single upload URL and to a part URL: an S3 answer (200 with an ETag, or
// an XML error), never a panic, and bytes are stored only when they are
// exactly what was promised.
func FuzzUploadPUT(f *testing.F) {
	f.Add([]byte("hello"), int64(5), "XUFAKrxLKna5cZ2REBfFkg==", false, 1)
	f.Add([]byte("hello"), int64(4), "", false, 1)
	f.Add([]byte("hello world"), int64(-1), "wrong", false, 1)
	f.Add([]byte("part"), int64(4), "", true, 2)
	f.Add([]byte(""), int64(0), "", true, 0)
	f.Fuzz(func(t *testing.T, body []byte, length int64, md5h string, multipart bool, part int) {
		b := New(sim.NewEnv(nil, nil, nil))
		defer b.Close()
		mux := http.NewServeMux()
		b.Register(mux)
		op := map[string]any{"action": "get_upload_metadata", "component_id": "c1", "file_name": "f.txt", "file_size": 5.0}
		if multipart {
			op["parts"] = 2.0
		}
		tx := &txn{limits: DefaultLimits}
		res, aerr := b.uploadMetadata(tx, op, "http://fake")
		if aerr != nil {
			t.Fatal(aerr)
		}
		md := res.(map[string]any)
		target := ""
		if multipart {
			urls := md["urls"].([]any)
			target = urls[0].(map[string]any)["signed_url"].(string)
			target = strings.Replace(target, "/1?", "/"+itoa(part)+"?", 1)
		} else {
			target = md["url"].(string)
		}
		req := httptest.NewRequest("PUT", strings.TrimPrefix(target, "http://fake"), bytes.NewReader(body))
		req.ContentLength = length
		if md5h != "" {
			req.Header.Set("Content-MD5", md5h)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		switch {
		case rec.Code == 200:
			if rec.Header().Get("ETag") == "" {
				t.Fatal("200 without ETag")
			}
			if !multipart {
				size, _, ok := b.File("c1")
				if !ok || size != 5 || len(body) != 5 {
					t.Fatalf("stored %d bytes (%v) from a body of %d", size, ok, len(body))
				}
			}
		case rec.Code >= 400:
			if !strings.Contains(rec.Body.String(), "<Error><Code>") {
				t.Fatalf("%d without an S3 error: %q", rec.Code, rec.Body.String())
			}
			if _, _, ok := b.File("c1"); ok {
				t.Fatal("bytes stored after an error")
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
