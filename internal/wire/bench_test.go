package wire

import (
	"encoding/json"
	"testing"
)

type benchObj struct {
	UUID        string          `json:"uuid"`
	Name        string          `json:"name"`
	Size        int64           `json:"size"`
	Status      string          `json:"status"`
	Permissions []string        `json:"permissions"`
	Runtime     json.RawMessage `json:"runtime"`
	ResourceURI string          `json:"resource_uri"`
}

// BenchmarkDecode decodes one flat object of strings, a number, a list
// and raw members, two of them unknown.
func BenchmarkDecode(b *testing.B) {
	doc := []byte(`{"uuid":"03cb7ca7-ca07-4380-9071-c19260fbec59","name":"test_drive_y","size":1207975936,"status":"cloning_src","permissions":["a","b"],"runtime":{"is_snapshotable":true,"snapshots_allocated_size":0},"resource_uri":"/api/2.0/drives/03cb7ca7-ca07-4380-9071-c19260fbec59/","media":"disk","affinities":["ssd"]}`)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		var v benchObj
		if _, _, err := Decode(doc, &v); err != nil {
			b.Fatal(err)
		}
	}
}
