package ftrack

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func postJSON(t *testing.T, url string, body any) any {
	t.Helper()
	raw, _ := json.Marshal(body)
	_, out := postRaw(t, url, raw)
	return out
}

func postRaw(t *testing.T, url string, raw []byte) (int, any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api", bytes.NewReader(raw))
	req.Header.Set("ftrack-user", "admin")
	req.Header.Set("ftrack-api-key", "1-longrunfakeapikey")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func put(t *testing.T, url string, body []byte) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", url, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// A multipart upload as the JavaScript client makes it: create the
// FileComponent and ask get_upload_metadata with parts, PUT each part to
// its signed URL, then complete_multipart_upload with the ETags and
// register the ComponentLocation in one batch.
func TestMultipartUpload(t *testing.T) {
	b, hs := serve(t)
	data := make([]byte, MinPartSize*2+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	const id = "0f5d2a4e-0000-4000-8000-000000000001"
	res := postJSON(t, hs.URL, []any{
		map[string]any{"action": "create", "entity_type": "FileComponent", "entity_data": map[string]any{"id": id, "name": "big", "file_type": ".bin", "size": len(data)}},
		map[string]any{"action": "get_upload_metadata", "component_id": id, "file_name": "big.bin", "file_size": len(data), "parts": 3},
	}).([]any)
	created := res[0].(map[string]any)["data"].(map[string]any)
	if created["__entity_type__"] != "FileComponent" || created["system_type"] != "file" || created["size"] != float64(len(data)) {
		t.Errorf("create answer %v", created)
	}
	if _, ok := created["container_id"]; ok {
		t.Errorf("the create answer lists nulls: %v", created)
	}
	md := res[1].(map[string]any)
	urls := md["urls"].([]any)
	uploadID, _ := md["upload_id"].(string)
	if md["component_id"] != id || uploadID == "" || len(urls) != 3 {
		t.Fatalf("metadata %v", md)
	}
	var parts []any
	for i := 2; i >= 0; i-- { // out of order, as the JS client pops them
		u := urls[i].(map[string]any)
		n := int(u["part_number"].(float64))
		chunk := data[(n-1)*MinPartSize : min(n*MinPartSize, len(data))]
		status, etag, body := put(t, u["signed_url"].(string), chunk)
		sum := md5.Sum(chunk)
		if status != 200 || etag != fmt.Sprintf(`"%x"`, sum) {
			t.Fatalf("part %d: %d %q %s", n, status, etag, body)
		}
		parts = append([]any{map[string]any{"part_number": n, "e_tag": strings.Trim(etag, `"`)}}, parts...)
	}
	if got := b.partsOf(id); len(got) != 3 {
		t.Errorf("parts received %v", got)
	}
	// A wrong ETag fails the completion, and the batch with it.
	bad := []any{map[string]any{"part_number": 1, "e_tag": "00"}, parts[1], parts[2]}
	_, out := postRaw(t, hs.URL, mustJSON([]any{map[string]any{"action": "complete_multipart_upload", "upload_id": uploadID, "component_id": id, "parts": bad}}))
	if exc, content := exception(t, out); exc != "ServerError" || !strings.Contains(content, "InvalidPart") {
		t.Errorf("bad e_tag: %s %s", exc, content)
	}
	res = postJSON(t, hs.URL, []any{
		map[string]any{"action": "complete_multipart_upload", "upload_id": uploadID, "component_id": id, "parts": parts},
		map[string]any{"action": "create", "entity_type": "ComponentLocation", "entity_data": map[string]any{"id": "cl-1",
			"component_id": id, "resource_identifier": id, "location_id": ServerLocationID}},
	}).([]any)
	done := res[0].(map[string]any)
	if done["action"] != "complete_multipart_upload" || done["component_id"] != id || !strings.Contains(done["url"].(string), "/component/get?") {
		t.Errorf("completion %v", done)
	}
	if got := b.partsOf(id); len(got) != 0 {
		t.Errorf("parts left %v", got)
	}
	status, got := get(t, done["url"].(string))
	if status != 200 || !bytes.Equal(got, data) {
		t.Fatalf("download of the completed upload: %d, %d bytes", status, len(got))
	}
	// The parts are the file: a range across a part boundary reads through.
	req, _ := http.NewRequest("GET", done["url"].(string), nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", MinPartSize-3, MinPartSize+2))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	span, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(span, data[MinPartSize-3:MinPartSize+3]) {
		t.Errorf("range across parts: %d %x", resp.StatusCode, span)
	}
	size, sum, _ := b.File(id)
	want := md5.Sum(data)
	if size != int64(len(data)) || sum != base64.StdEncoding.EncodeToString(want[:]) {
		t.Errorf("stored %d %s", size, sum)
	}

	// The computed url of the ComponentLocation and a JobComponent, and a
	// repeated entity as a reference.
	ans := postJSON(t, hs.URL, []any{
		map[string]any{"action": "create", "entity_type": "Job", "entity_data": map[string]any{"id": "job-1", "status": "running", "user_id": "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"}},
		map[string]any{"action": "create", "entity_type": "JobComponent", "entity_data": map[string]any{"job_id": "job-1", "component_id": id}},
		map[string]any{"action": "query", "expression": "select url, component.component_locations.component, component.component_locations.url from JobComponent where job_id is job-1"},
	})
	if _, ok := ans.([]any); !ok {
		t.Fatalf("%v", ans)
	}
	res = ans.([]any)
	row := res[2].(map[string]any)["data"].([]any)[0].(map[string]any)
	jcURL := row["url"].(map[string]any)
	if jcURL["name"] != "big.bin" || !strings.Contains(jcURL["value"].(string), "id="+id) {
		t.Errorf("JobComponent.url %v", jcURL)
	}
	cl := row["component"].(map[string]any)["component_locations"].([]any)[0].(map[string]any)
	if back := cl["component"].(map[string]any); len(back) != 2 || back["id"] != id || back["__entity_type__"] != "FileComponent" {
		t.Errorf("the component repeated inside its own location is not a reference: %v", back)
	}
	if status, got := get(t, cl["url"].(map[string]any)["value"].(string)); status != 200 || len(got) != len(data) {
		t.Errorf("ComponentLocation.url: %d", status)
	}

	// /component/remove removes the data, as ftrack_api's server accessor
	// asks it; the entities stay until the client deletes them.
	status, _ = get(t, hs.URL+"/component/remove?id="+id+"&username=admin&apiKey=wrong")
	if status != http.StatusUnauthorized {
		t.Errorf("remove with a wrong key: %d", status)
	}
	if status, _ = get(t, hs.URL+"/component/remove?id="+id+"&username=admin&apiKey=1-longrunfakeapikey"); status != 200 {
		t.Errorf("remove: %d", status)
	}
	if _, _, ok := b.File(id); ok {
		t.Errorf("the data stayed")
	}
	if status, _ = get(t, hs.URL+"/component/get?id="+id+"&username=admin&apiKey=1-longrunfakeapikey"); status != 404 {
		t.Errorf("download after remove: %d", status)
	}
	if status, _ = get(t, hs.URL+"/component/remove?id="+id+"&username=admin&apiKey=1-longrunfakeapikey"); status != 404 {
		t.Errorf("second remove: %d", status)
	}
}

// Deleting the component of an unfinished multipart upload (the JS
// client's clean-up) drops its parts; a part for a gone upload is refused.
func TestMultipartCleanup(t *testing.T) {
	b, hs := serve(t)
	const id = "0f5d2a4e-0000-4000-8000-000000000002"
	res := postJSON(t, hs.URL, []any{
		map[string]any{"action": "create", "entity_type": "FileComponent", "entity_data": map[string]any{"id": id, "name": "x", "size": 10}},
		map[string]any{"action": "get_upload_metadata", "component_id": id, "file_name": "x", "file_size": 10, "parts": 2},
	}).([]any)
	urls := res[1].(map[string]any)["urls"].([]any)
	if status, _, _ := put(t, urls[0].(map[string]any)["signed_url"].(string), []byte("01234")); status != 200 {
		t.Fatal(status)
	}
	tampered := strings.Replace(urls[1].(map[string]any)["signed_url"].(string), "/2?", "/1?", 1)
	if status, _, body := put(t, tampered, []byte("x")); status != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("a part URL for another part number: %d %s", status, body)
	}
	postJSON(t, hs.URL, []any{map[string]any{"action": "delete", "entity_type": "FileComponent", "entity_key": []any{id}}})
	if got := b.partsOf(id); len(got) != 0 {
		t.Errorf("parts left %v", got)
	}
	if status, _, body := put(t, urls[1].(map[string]any)["signed_url"].(string), []byte("56789")); status != 404 || !strings.Contains(body, "NoSuchUpload") {
		t.Errorf("part after clean-up: %d %s", status, body)
	}
	for _, bad := range []any{0, 10001, 1.5, "3"} {
		_, out := postRaw(t, hs.URL, mustJSON([]any{map[string]any{"action": "get_upload_metadata", "component_id": id, "file_name": "x", "file_size": 10, "parts": bad}}))
		if exc, _ := exception(t, out); exc != "ValidationError" {
			t.Errorf("parts %v: %v", bad, out)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
