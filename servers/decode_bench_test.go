package servers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/longrun/longrun/servers"
)

// serverDoc is a full server object as /servers/{uuid}/ and the clone
// action answer it: drives attached drives, nics NICs (a static IPv4 and
// a VLAN on the odd ones), meta, tags, a job, and members longrun does not
// model (auto_start, a running server's runtime).
func serverDoc(drives, nics int) []byte {
	var b strings.Builder
	b.WriteString(`{"auto_start":false,"context":true,"cpu":2000,"cpu_model":null,"cpu_type":"amd","cpus_instead_of_cores":false,"drives":[`)
	for i := range drives {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"boot_order":%d,"dev_channel":"0:%d","device":"virtio","drive":{"resource_uri":"/api/2.0/drives/756f5728-2123-4381-bc7c-f73dc2a3%04d/","uuid":"756f5728-2123-4381-bc7c-f73dc2a3%04d"},"runtime":{"io":{"bytes_read":1024,"bytes_written":2048,"count_flush":0,"count_read":3,"count_write":4,"total_time_ns_flush":0,"total_time_ns_read":1000,"total_time_ns_write":2000}}}`, i+1, i, i, i)
	}
	b.WriteString(`],"enable_numa":false,"grantees":[],"hv_relaxed":false,"hv_tsc":false,"hypervisor":"kvm","jobs":[{"resource_uri":"/api/2.0/jobs/559a2a76-df4a-4c0d-8449-979576b2c354/","uuid":"559a2a76-df4a-4c0d-8449-979576b2c354"}],"mem":4294967296,"meta":{"description":"web front end","ssh_public_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0nVgEUyZqQ user@example.com","base64_fields":"cloudinit-user-data"},"name":"web-1","nics":[`)
	for i := range nics {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%2 == 0 {
			fmt.Fprintf(&b, `{"boot_order":null,"firewall_policy":null,"ip_v4_conf":{"conf":"static","ip":{"resource_uri":"/api/2.0/ips/31.171.246.%d/","uuid":"31.171.246.%d"}},"ip_v6_conf":null,"mac":"22:a7:b4:5b:7c:%02x","model":"virtio","runtime":{"interface_type":"public","io":{"bytes_recv":1000,"bytes_sent":2000,"packets_recv":10,"packets_sent":20},"ip_v4":{"resource_uri":"/api/2.0/ips/31.171.246.%d/","uuid":"31.171.246.%d"},"ip_v6":null},"vlan":null}`, i, i, i, i, i)
		} else {
			fmt.Fprintf(&b, `{"boot_order":null,"firewall_policy":{"resource_uri":"/api/2.0/fwpolicies/2d8a4a7e-1c4f-4b1e-8a4c-6f7d2e9c%04d/","uuid":"2d8a4a7e-1c4f-4b1e-8a4c-6f7d2e9c%04d"},"ip_v4_conf":null,"ip_v6_conf":null,"mac":"22:a7:b4:5b:7c:%02x","model":"virtio","runtime":null,"vlan":{"resource_uri":"/api/2.0/vlans/5bc05e7e-6555-4f40-add8-3b8e9%07d/","uuid":"5bc05e7e-6555-4f40-add8-3b8e9%07d"}}`, i, i, i, i, i)
		}
	}
	b.WriteString(`],"owner":{"resource_uri":"/api/2.0/user/c2fc9982-cf2e-434a-bf63-e22a27b39f00/","uuid":"c2fc9982-cf2e-434a-bf63-e22a27b39f00"},"permissions":[],"pubkeys":[],"requirements":[],"resource_uri":"/api/2.0/servers/2d69b07c-c7a3-4e25-88d2-c7055217e1fb/","runtime":{"active_since":"2014-06-05T09:50:06+00:00","nics":[{"interface_type":"public","ip_v4":{"resource_uri":"/api/2.0/ips/31.171.246.0/","uuid":"31.171.246.0"},"mac":"22:a7:b4:5b:7c:00"}]},"smp":2,"status":"running","tags":[{"resource_uri":"/api/2.0/tags/e8f7b5a0-2b1c-4d3e-9f8a-7b6c5d4e3f2a/","uuid":"e8f7b5a0-2b1c-4d3e-9f8a-7b6c5d4e3f2a"}],"uuid":"2d69b07c-c7a3-4e25-88d2-c7055217e1fb","vnc_password":"QR5coR4V"}`)
	return []byte(b.String())
}

// BenchmarkDecodeServer decodes one full server (json.Unmarshal into a
// servers.Server, as the client does with every server answer): "clone"
// is dumps/response_server_clone (no drives or NICs), "4drives-2nics" and
// "16drives-4nics" are running servers with attached drives and NICs.
func BenchmarkDecodeServer(b *testing.B) {
	for _, c := range []struct {
		name string
		doc  []byte
	}{
		{"clone", []byte(docServerClone)},
		{"4drives-2nics", serverDoc(4, 2)},
		{"16drives-4nics", serverDoc(16, 4)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			b.ReportAllocs()
			for b.Loop() {
				var s servers.Server
				if err := json.Unmarshal(c.doc, &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
