package cloudsigma

import (
	"fmt"
	"net/http"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

func (b *Backend) driveDoc(d *drive) map[string]any {
	var mounted []string
	for _, id := range b.serverOrder {
		s := b.servers[id]
		for _, a := range s.drives {
			if a.drive == d.uuid {
				mounted = append(mounted, s.uuid)
				break
			}
		}
	}
	affinities := append([]string{}, d.affinities...)
	return map[string]any{
		"affinities": affinities, "allow_multimount": d.allowMultimount, "grantees": []any{},
		"jobs": refList("jobs", d.jobs), "licenses": []any{}, "media": d.media, "meta": d.meta,
		"mounted_on": refList("servers", mounted), "name": d.name, "owner": refURI("user", d.owner),
		"permissions": []any{}, "resource_uri": Prefix + "drives/" + d.uuid + "/",
		"runtime": map[string]any{"is_snapshotable": true, "snapshots_allocated_size": 0, "storage_type": d.storageType},
		"size":    d.size, "snapshots": []any{}, "status": d.status, "storage_type": d.storageType,
		"tags": refList("tags", d.tags), "uuid": d.uuid,
	}
}

func (b *Backend) serverDoc(s *server) map[string]any {
	drives := make([]any, 0, len(s.drives))
	for _, a := range s.drives {
		drives = append(drives, map[string]any{
			"boot_order": a.bootOrder, "dev_channel": a.devChannel, "device": a.device,
			"drive": refURI("drives", a.drive), "runtime": nil,
		})
	}
	nics := make([]any, 0, len(s.nics))
	for _, n := range s.nics {
		conf := map[string]any{"conf": n.conf, "ip": nil}
		if n.ip != "" {
			conf["ip"] = refURI("ips", n.ip)
		}
		nics = append(nics, map[string]any{
			"boot_order": nil, "firewall_policy": nil, "ip_v4_conf": conf, "ip_v6_conf": nil,
			"mac": n.mac, "model": n.model, "runtime": nil, "vlan": nil,
		})
	}
	return map[string]any{
		"context": true, "cpu": s.cpu, "cpu_model": nil, "cpu_type": "amd", "cpus_instead_of_cores": false,
		"drives": drives, "enable_numa": false, "grantees": []any{}, "hv_relaxed": false, "hv_tsc": false,
		"hypervisor": "kvm", "jobs": refList("jobs", s.jobs), "mem": s.mem, "meta": s.meta, "name": s.name,
		"nics": nics, "owner": refURI("user", s.owner), "permissions": []any{}, "pubkeys": []any{},
		"requirements": []any{}, "resource_uri": Prefix + "servers/" + s.uuid + "/", "runtime": nil,
		"smp": s.smp, "status": s.status, "tags": []any{}, "uuid": s.uuid, "vnc_password": s.vncPassword,
	}
}

var (
	driveTrim  = []string{"owner", "resource_uri", "status", "uuid"}
	serverTrim = []string{"name", "owner", "resource_uri", "runtime", "status", "uuid"}
	resFilters = map[string]bool{"name": true, "name__contains": true, "tag": true, "uuid": true}
	resOrder   = map[string]bool{"uuid": true, "name": true}
)

func (b *Backend) serveDrives(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	switch {
	case len(p) == 0 || (len(p) == 1 && p[0] == "detail"):
		if r.Method == http.MethodPost && len(p) == 0 {
			b.createDrives(w, r, u)
			return
		}
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET", "POST")
			return
		}
		var docs []doc
		for _, id := range b.driveOrder {
			if d := b.drives[id]; d.owner == u.ID {
				docs = append(docs, doc{fields: b.driveDoc(d)})
			}
		}
		var trim []string
		if len(p) == 0 {
			trim = driveTrim
		}
		b.serveList(w, r, docs, resFilters, resOrder, trim)
	case len(p) == 1:
		d, ok := b.drives[p[0]]
		if !ok || d.owner != u.ID {
			notExist(w, p[0])
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, b.driveDoc(d))
		case http.MethodPut:
			m, err := readBody(r)
			if err != nil || m == nil {
				writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not a JSON object")
				return
			}
			if s, ok := str(m, "name"); ok {
				d.name = s
			}
			if s, ok := str(m, "media"); ok {
				if s != "disk" && s != "cdrom" {
					writeErr(w, http.StatusBadRequest, "validation", "media", "Select a valid choice. "+s+" is not one of the available choices.")
					return
				}
				d.media = s
			}
			if mm, ok := m["meta"].(map[string]any); ok {
				d.meta = mm
			}
			if v, ok := m["allow_multimount"].(bool); ok {
				d.allowMultimount = v
			}
			writeJSON(w, http.StatusOK, b.driveDoc(d))
		case http.MethodDelete:
			if d.status == "cloning_src" || d.status == "cloning_dst" || d.status == "creating" {
				writeErr(w, http.StatusForbidden, "permission", "", "Cannot delete drive "+d.uuid+" in status "+d.status)
				return
			}
			b.deleteDriveLocked(d.uuid)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNoContent)
		default:
			methodNotAllowed(w, r, "GET", "PUT", "DELETE")
		}
	case len(p) == 2 && p[1] == "action":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, "POST")
			return
		}
		src, ok := b.drives[p[0]]
		if !ok || src.owner != u.ID {
			notExist(w, p[0])
			return
		}
		switch do := r.URL.Query().Get("do"); do {
		case "clone":
			m, err := readBody(r)
			if err != nil {
				writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not valid JSON: "+err.Error())
				return
			}
			if m == nil {
				m = map[string]any{}
			}
			d, code, msg := b.cloneDriveLocked(src, m, "", u)
			if d == nil {
				writeErr(w, code, map[int]string{400: "validation", 403: "permission"}[code], "", msg)
				return
			}
			writeJSON(w, http.StatusAccepted, map[string]any{"objects": []any{b.driveDoc(d)}})
		default:
			writeErr(w, http.StatusBadRequest, "validation", "do", fmt.Sprintf("Invalid action %q for drives", do))
		}
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

func (b *Backend) deleteDriveLocked(id string) {
	delete(b.drives, id)
	keep := b.driveOrder[:0]
	for _, x := range b.driveOrder {
		if x != id {
			keep = append(keep, x)
		}
	}
	b.driveOrder = keep
	for _, s := range b.servers {
		att := s.drives[:0]
		for _, a := range s.drives {
			if a.drive != id {
				att = append(att, a)
			}
		}
		s.drives = att
	}
}

func (b *Backend) createDrives(w http.ResponseWriter, r *http.Request, u sim.User) {
	m, err := readBody(r)
	if err != nil || m == nil {
		writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not a JSON object")
		return
	}
	objs, err := objectsOf(m)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "validation", "objects", "objects must be a list of drive definitions")
		return
	}
	var made []*drive
	for _, o := range objs {
		name, _ := str(o, "name")
		size, _ := num(o, "size")
		media, _ := str(o, "media")
		switch {
		case name == "":
			writeErr(w, http.StatusBadRequest, "validation", "name", "This field is required.")
			return
		case size <= 0:
			writeErr(w, http.StatusBadRequest, "validation", "size", "This field is required.")
			return
		case media != "disk" && media != "cdrom":
			writeErr(w, http.StatusBadRequest, "validation", "media", "Select a valid choice. "+media+" is not one of the available choices.")
			return
		}
		st, _ := str(o, "storage_type")
		if st == "" {
			st = "dssd"
		}
		meta, _ := o["meta"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
		}
		am, _ := o["allow_multimount"].(bool)
		d := &drive{uuid: b.newUUID("drive"), name: name, size: roundSize(size), media: media, status: "creating",
			storageType: st, owner: u.ID, meta: meta, allowMultimount: am, readyAt: b.now().Add(10 * time.Second)}
		made = append(made, d)
	}
	out := make([]any, 0, len(made))
	for _, d := range made {
		b.drives[d.uuid] = d
		b.driveOrder = append(b.driveOrder, d.uuid)
		out = append(out, b.driveDoc(d))
	}
	if len(made) == 1 {
		w.Header().Set("Location", Prefix+"drives/"+made[0].uuid+"/")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"objects": out})
}

// cloneDriveLocked clones src; parent is the server clone job, if any.
func (b *Backend) cloneDriveLocked(src *drive, m map[string]any, parent string, u sim.User) (*drive, int, string) {
	switch src.status {
	case "creating", "cloning_dst", "uploading", "unavailable":
		return nil, http.StatusForbidden, fmt.Sprintf("Cannot clone drive %s in status %s", src.uuid, src.status)
	}
	d := &drive{uuid: b.newUUID("drive"), name: src.name, size: src.size, media: src.media, status: "cloning_dst",
		storageType: src.storageType, owner: u.ID, meta: map[string]any{}, affinities: append([]string(nil), src.affinities...)}
	for k, v := range src.meta {
		d.meta[k] = v
	}
	if s, ok := str(m, "name"); ok && s != "" {
		d.name = s
	}
	if s, ok := str(m, "media"); ok && s != "" {
		d.media = s
	}
	if s, ok := str(m, "storage_type"); ok && s != "" {
		d.storageType = s
	}
	if n, ok := num(m, "size"); ok && n != 0 {
		if n < src.size {
			return nil, http.StatusBadRequest, "Size of the cloned drive can only be bigger or the same"
		}
		d.size = roundSize(n)
	}
	now := b.now()
	j := &job{uuid: b.newUUID("job"), operation: "drive_clone", state: "started", owner: u.ID, parent: parent,
		created: now, modified: now, start: now, duration: cloneDuration(d.size), src: src.uuid, dst: d.uuid,
		resources: []string{Prefix + "drives/" + src.uuid + "/", Prefix + "drives/" + d.uuid + "/"}}
	b.jobs[j.uuid] = j
	b.jobOrder = append(b.jobOrder, j.uuid)
	d.jobs = []string{j.uuid}
	src.jobs = append(src.jobs, j.uuid)
	if src.status != "cloning_src" {
		src.restStatus = src.status
		src.status = "cloning_src"
	}
	src.srcCount++
	b.drives[d.uuid] = d
	b.driveOrder = append(b.driveOrder, d.uuid)
	return d, 0, ""
}

func (b *Backend) serveServers(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	switch {
	case len(p) == 0 || (len(p) == 1 && p[0] == "detail"):
		if r.Method == http.MethodPost && len(p) == 0 {
			b.createServers(w, r, u)
			return
		}
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET", "POST")
			return
		}
		var docs []doc
		for _, id := range b.serverOrder {
			if s := b.servers[id]; s.owner == u.ID {
				docs = append(docs, doc{fields: b.serverDoc(s)})
			}
		}
		var trim []string
		if len(p) == 0 {
			trim = serverTrim
		}
		b.serveList(w, r, docs, resFilters, resOrder, trim)
	case len(p) == 1:
		s, ok := b.servers[p[0]]
		if !ok || s.owner != u.ID {
			notExist(w, p[0])
			return
		}
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, b.serverDoc(s))
		case http.MethodPut:
			m, err := readBody(r)
			if err != nil || m == nil {
				writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not a JSON object")
				return
			}
			if v, ok := str(m, "name"); ok {
				s.name = v
			}
			if v, ok := num(m, "cpu"); ok {
				s.cpu = int(v)
			}
			if v, ok := num(m, "mem"); ok {
				s.mem = v
			}
			if v, ok := str(m, "vnc_password"); ok {
				s.vncPassword = v
			}
			if mm, ok := m["meta"].(map[string]any); ok {
				s.meta = mm
			}
			if list, ok := m["drives"].([]any); ok {
				var att []attach
				for i, x := range list {
					dm, _ := x.(map[string]any)
					id := refUUID(dm["drive"])
					if _, ok := b.drives[id]; !ok {
						writeErr(w, http.StatusBadRequest, "validation", "drives", "Object with uuid "+id+" does not exist")
						return
					}
					bo, _ := num(dm, "boot_order")
					ch, _ := str(dm, "dev_channel")
					dev, _ := str(dm, "device")
					if ch == "" {
						ch = fmt.Sprintf("0:%d", i)
					}
					att = append(att, attach{int(bo), ch, dev, id})
				}
				s.drives = att
			}
			writeJSON(w, http.StatusOK, b.serverDoc(s))
		case http.MethodDelete:
			if s.status != "stopped" {
				writeErr(w, http.StatusForbidden, "permission", "", "Cannot delete server in status "+s.status)
				return
			}
			rec := r.URL.Query().Get("recurse")
			for _, a := range s.drives {
				d := b.drives[a.drive]
				if d == nil {
					continue
				}
				if rec == "all_drives" || (rec == "disks" && d.media == "disk") || (rec == "cdroms" && d.media == "cdrom") {
					b.deleteDriveLocked(d.uuid)
				}
			}
			delete(b.servers, s.uuid)
			keep := b.serverOrder[:0]
			for _, x := range b.serverOrder {
				if x != s.uuid {
					keep = append(keep, x)
				}
			}
			b.serverOrder = keep
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNoContent)
		default:
			methodNotAllowed(w, r, "GET", "PUT", "DELETE")
		}
	case len(p) == 2 && p[1] == "action":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, "POST")
			return
		}
		src, ok := b.servers[p[0]]
		if !ok || src.owner != u.ID {
			notExist(w, p[0])
			return
		}
		switch do := r.URL.Query().Get("do"); do {
		case "clone":
			m, err := readBody(r)
			if err != nil {
				writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not valid JSON: "+err.Error())
				return
			}
			if m == nil {
				m = map[string]any{}
			}
			s, code, msg := b.cloneServerLocked(src, m, u)
			if s == nil {
				writeErr(w, code, "permission", "", msg)
				return
			}
			writeJSON(w, http.StatusAccepted, b.serverDoc(s))
		default:
			writeErr(w, http.StatusBadRequest, "validation", "do", fmt.Sprintf("Invalid action %q for servers", do))
		}
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

func (b *Backend) createServers(w http.ResponseWriter, r *http.Request, u sim.User) {
	m, err := readBody(r)
	if err != nil || m == nil {
		writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not a JSON object")
		return
	}
	objs, err := objectsOf(m)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "validation", "objects", "objects must be a list of server definitions")
		return
	}
	var made []*server
	for _, o := range objs {
		name, _ := str(o, "name")
		cpu, _ := num(o, "cpu")
		mem, _ := num(o, "mem")
		vnc, _ := str(o, "vnc_password")
		for _, f := range []struct {
			ok    bool
			field string
		}{{name != "", "name"}, {cpu > 0, "cpu"}, {mem > 0, "mem"}, {vnc != "", "vnc_password"}} {
			if !f.ok {
				writeErr(w, http.StatusBadRequest, "validation", f.field, "This field is required.")
				return
			}
		}
		smp, _ := num(o, "smp")
		made = append(made, &server{uuid: b.newUUID("server"), name: name, cpu: int(cpu), mem: mem, smp: max(int(smp), 1),
			vncPassword: vnc, status: "stopped", owner: u.ID, meta: map[string]any{}})
	}
	out := make([]any, 0, len(made))
	for _, s := range made {
		b.servers[s.uuid] = s
		b.serverOrder = append(b.serverOrder, s.uuid)
		out = append(out, b.serverDoc(s))
	}
	if len(made) == 1 {
		w.Header().Set("Location", Prefix+"servers/"+made[0].uuid+"/")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"objects": out})
}

func (b *Backend) cloneServerLocked(src *server, m map[string]any, u sim.User) (*server, int, string) {
	for _, a := range src.drives {
		if d := b.drives[a.drive]; d != nil && d.media == "disk" {
			switch d.status {
			case "creating", "cloning_dst", "uploading", "unavailable":
				return nil, http.StatusForbidden, fmt.Sprintf("Cannot clone drive %s in status %s", d.uuid, d.status)
			}
		}
	}
	now := b.now()
	s := &server{uuid: b.newUUID("server"), name: src.name, status: "stopped", vncPassword: src.vncPassword,
		owner: u.ID, cpu: src.cpu, smp: src.smp, mem: src.mem, meta: map[string]any{}}
	for k, v := range src.meta {
		s.meta[k] = v
	}
	if v, ok := str(m, "name"); ok && v != "" {
		s.name = v
	}
	if v, _ := m["random_vnc_password"].(bool); v {
		s.vncPassword = b.newUUID("vnc")[:8]
	}
	root := &job{uuid: b.newUUID("job"), operation: "server_clone", state: "started", owner: u.ID,
		created: now, modified: now, start: now, duration: 5 * time.Second,
		resources: []string{Prefix + "servers/" + src.uuid + "/", Prefix + "servers/" + s.uuid + "/"}}
	b.jobs[root.uuid] = root
	b.jobOrder = append(b.jobOrder, root.uuid)
	for _, a := range src.drives {
		d := b.drives[a.drive]
		if d == nil {
			continue
		}
		id := d.uuid
		if d.media == "disk" {
			nd, _, _ := b.cloneDriveLocked(d, map[string]any{}, root.uuid, u)
			if nd == nil {
				continue
			}
			id = nd.uuid
			root.children = append(root.children, nd.jobs[0])
		}
		s.drives = append(s.drives, attach{a.bootOrder, a.devChannel, a.device, id})
	}
	for _, n := range src.nics {
		s.nics = append(s.nics, nic{conf: "dhcp", model: n.model, mac: macFrom(b.newUUID("mac"))})
	}
	s.jobs = []string{root.uuid}
	src.jobs = append(src.jobs, root.uuid)
	b.servers[s.uuid] = s
	b.serverOrder = append(b.serverOrder, s.uuid)
	return s, 0, ""
}

func macFrom(u string) string {
	return "22:" + u[0:2] + ":" + u[2:4] + ":" + u[4:6] + ":" + u[6:8] + ":" + u[9:11]
}

// roundSize rounds a requested drive size up to a multiple of 16 KiB, as
// CloudSigma's documented clone answer does (1207959631 requested, 1207975936
// served: dumps/request_drive_clone, dumps/response_drive_clone).
func roundSize(n int64) int64 {
	const unit = 16 << 10
	return (n + unit - 1) / unit * unit
}
