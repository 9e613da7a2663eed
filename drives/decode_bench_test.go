package drives_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/longrun/longrun/drives"
)

// driveDoc is a full drive object as /drives/{uuid}/ answers it, with
// jobs references in its jobs list (a drive being cloned from again and
// again) and a server it is mounted on.
func driveDoc(jobs int) []byte {
	var b strings.Builder
	b.WriteString(`{"affinities":["ssd"],"allow_multimount":false,"grantees":[],"jobs":[`)
	for i := range jobs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"resource_uri":"/api/2.0/jobs/8b00acbb-889b-44a5-8a8d-dc3617a6%04d/","uuid":"8b00acbb-889b-44a5-8a8d-dc3617a6%04d"}`, i, i)
	}
	b.WriteString(`],"licenses":[],"media":"disk","meta":{"description":"base image","install_notes":"none"},"mounted_on":[{"resource_uri":"/api/2.0/servers/2d69b07c-c7a3-4e25-88d2-c7055217e1fb/","uuid":"2d69b07c-c7a3-4e25-88d2-c7055217e1fb"}],"name":"test_drive_y","owner":{"resource_uri":"/api/2.0/user/c2fc9982-cf2e-434a-bf63-e22a27b39f00/","uuid":"c2fc9982-cf2e-434a-bf63-e22a27b39f00"},"permissions":[],"resource_uri":"/api/2.0/drives/03cb7ca7-ca07-4380-9071-c19260fbec59/","runtime":{"is_snapshotable":true,"snapshots_allocated_size":0,"storage_type":"dssd"},"size":1207975936,"snapshots":[],"status":"cloning_src","storage_type":"dssd","tags":[],"uuid":"03cb7ca7-ca07-4380-9071-c19260fbec59"}`)
	return []byte(b.String())
}

// BenchmarkDecodeDrive decodes one full drive (json.Unmarshal into a
// drives.Drive, as the client does with every drive answer), with 1 and
// 100 references in its jobs list.
func BenchmarkDecodeDrive(b *testing.B) {
	for _, n := range []int{1, 100} {
		doc := driveDoc(n)
		b.Run(fmt.Sprintf("jobs-%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				var d drives.Drive
				if err := json.Unmarshal(doc, &d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
