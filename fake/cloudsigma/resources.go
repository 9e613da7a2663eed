package cloudsigma

import (
	"fmt"
	"net/http"

	"github.com/longrun/longrun/fake/sim"
)

func (b *Backend) driveDoc(d *drive) map[string]any {
	status := b.driveStatus(d)
	var snap any = true
	if status == "creating" || status == "cloning_dst" {
		snap = nil // dumps/response_drive_create_minimal, response_drive_clone
	}
	var owner any
	if d.owner != "" {
		owner = refURI("user", d.owner)
	}
	return map[string]any{
		"affinities": append([]string{}, d.affinities...), "allow_multimount": d.allowMultimount, "grantees": []any{},
		"jobs": refList("jobs", d.jobs), "licenses": []any{}, "media": d.media, "meta": d.meta,
		"mounted_on": refList("servers", b.mounts[d.uuid]), "name": d.name, "owner": owner,
		"permissions": []any{}, "resource_uri": Prefix + "drives/" + d.uuid + "/",
		"runtime": map[string]any{"is_snapshotable": snap, "snapshots_allocated_size": 0, "storage_type": d.storageType},
		"size":    d.size, "snapshots": refList("snapshots", d.snaps), "status": status, "storage_type": d.storageType,
		"tags": refList("tags", d.tags), "uuid": d.uuid,
	}
}

func running(s *server) bool { return s.status == "running" || s.status == "stopping" }

func (b *Backend) serverDoc(s *server) map[string]any {
	live := running(s)
	zeroDriveIO := map[string]any{"bytes_read": 0, "bytes_written": 0, "count_flush": 0, "count_read": 0,
		"count_written": 0, "total_time_ns_flush": 0, "total_time_ns_read": 0, "total_time_ns_write": 0}
	drives := make([]any, 0, len(s.drives))
	for _, a := range s.drives {
		var rt any
		if live {
			rt = map[string]any{"io": zeroDriveIO}
		}
		drives = append(drives, map[string]any{
			"boot_order": a.bootOrder, "dev_channel": a.devChannel, "device": a.device,
			"drive": refURI("drives", a.drive), "runtime": rt,
		})
	}
	nics := make([]any, 0, len(s.nics))
	var nicRT []any
	for i, n := range s.nics {
		var conf any
		if n.vlan == "" {
			c := map[string]any{"conf": n.conf, "ip": nil}
			if n.ip != "" {
				c["ip"] = refURI("ips", n.ip)
			}
			conf = c
		}
		var vlan any
		if n.vlan != "" {
			vlan = refURI("vlans", n.vlan)
		}
		var rt any
		if live {
			r := map[string]any{"interface_type": "public", "ip_v4": nil, "ip_v6": nil,
				"io": map[string]any{"bytes_recv": 0, "bytes_sent": 0, "packets_recv": 0, "packets_sent": 0}}
			switch {
			case n.vlan != "":
				r["interface_type"] = "private"
			case n.ip != "":
				r["ip_v4"] = refURI("ips", n.ip)
			case n.conf == "dhcp":
				ip := fmt.Sprintf("10.%d.%d.%d", len(s.uuid)%200, i+1, (len(n.mac)*7+i)%250+2)
				r["ip_v4"] = refURI("ips", ip)
			}
			rt = r
			withMAC := map[string]any{"mac": n.mac}
			for k, v := range r {
				withMAC[k] = v
			}
			nicRT = append(nicRT, withMAC)
		}
		nics = append(nics, map[string]any{
			"boot_order": n.bootOrder, "firewall_policy": n.firewallPolicy, "ip_v4_conf": conf, "ip_v6_conf": n.ipv6,
			"mac": n.mac, "model": n.model, "runtime": rt, "vlan": vlan,
		})
	}
	var rt any
	if live {
		if nicRT == nil {
			nicRT = []any{}
		}
		rt = map[string]any{"active_since": s.activeSince.UTC().Format("2006-01-02T15:04:05-07:00"), "nics": nicRT}
	}
	out := map[string]any{
		"cpu": s.cpu, "drives": drives, "grantees": []any{}, "jobs": refList("jobs", s.jobs), "mem": s.mem,
		"meta": s.meta, "name": s.name, "nics": nics, "owner": refURI("user", s.owner), "permissions": []any{},
		"resource_uri": Prefix + "servers/" + s.uuid + "/", "runtime": rt, "smp": s.smp, "status": s.status,
		"tags": refList("tags", s.tags), "uuid": s.uuid, "vnc_password": s.vncPassword,
	}
	for k, v := range s.attrs {
		out[k] = v
	}
	return out
}

// resListing is a listing of drives or servers: filters and ordering
// read their uuid, name and tags; only the page's documents are built.
type resListing struct {
	uuids, names []string
	tags         [][]string
	docs         []func() map[string]any
}

func (l *resListing) add(uuid, name string, tags []string, doc func() map[string]any) {
	l.uuids, l.names = append(l.uuids, uuid), append(l.names, name)
	l.tags, l.docs = append(l.tags, tags), append(l.docs, doc)
}

func (l *resListing) len() int { return len(l.uuids) }

func (l *resListing) text(i int, name string) string {
	switch name {
	case "uuid":
		return l.uuids[i]
	case "name":
		return l.names[i]
	}
	return fmt.Sprint(l.docs[i]()[name])
}

func (l *resListing) value(i int, name string) any {
	if name == "tags" {
		return refList("tags", l.tags[i])
	}
	return l.docs[i]()[name]
}

func (l *resListing) appendObject(buf []byte, i int, fields []string) ([]byte, error) {
	return appendDoc(buf, l.docs[i](), fields)
}

// The fields of a drive's and a server's document.
var (
	driveDocKeys = setOf("affinities", "allow_multimount", "grantees", "jobs", "licenses", "media", "meta",
		"mounted_on", "name", "owner", "permissions", "resource_uri", "runtime", "size", "snapshots", "status",
		"storage_type", "tags", "uuid")
	serverDocKeys = setOf("context", "cpu", "cpu_model", "cpu_type", "cpus_instead_of_cores", "drives",
		"enable_numa", "grantees", "hv_relaxed", "hv_tsc", "hypervisor", "jobs", "mem", "meta", "name", "nics",
		"owner", "permissions", "pubkeys", "requirements", "resource_uri", "runtime", "smp", "status", "tags",
		"uuid", "vnc_password")
)

func setOf(keys ...string) map[string]bool {
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = true
	}
	return out
}

// summary is the fields a list keeps: trim for list/, all for detail/.
func summary(p, trim []string) []string {
	if len(p) == 0 {
		return trim
	}
	return nil
}

var (
	driveTrim  = []string{"owner", "resource_uri", "status", "uuid"}
	serverTrim = []string{"name", "owner", "resource_uri", "runtime", "status", "uuid"}
	resFilters = map[string]bool{"name": true, "name__contains": true, "tag": true, "uuid": true}
	resOrder   = map[string]bool{"uuid": true, "name": true}
)

// busy are the drive statuses in which a drive can be neither cloned,
// resized, attached to a starting server nor deleted.
var busy = map[string]bool{"creating": true, "cloning_dst": true, "cloning_src": true, "resizing": true,
	"uploading": true, "unavailable": true, "copying": true}

func (b *Backend) serveDrives(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	switch {
	case len(p) == 0 || (len(p) == 1 && p[0] == "detail"):
		if r.Method == http.MethodPost && len(p) == 0 {
			b.createDrives(w, r, u)
			return
		}
		if r.Method == http.MethodDelete && len(p) == 0 {
			b.deleteDrives(w, r, u)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET", "POST", "DELETE")
			return
		}
		l := &resListing{}
		for _, id := range b.driveOrder {
			if d := b.drives[id]; d != nil && d.owner == u.ID {
				l.add(d.uuid, d.name, d.tags, func() map[string]any { return b.driveDoc(d) })
			}
		}
		b.serveList(w, r, l, driveDocKeys, resFilters, resOrder, summary(p, driveTrim))
	case len(p) == 1:
		d, ok := b.drives[p[0]]
		if !ok || (d.owner != u.ID && d.lib == nil) {
			notExist(w, p[0])
			return
		}
		if d.lib != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeErr(w, http.StatusForbidden, "permission", "", "Library drive "+d.uuid+" cannot be changed: clone it")
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, b.driveDoc(d))
		case http.MethodPut:
			body, err := readBody(r)
			m, merr := objectOf(body)
			if err != nil || merr != nil || body == nil {
				writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not a JSON object")
				return
			}
			if code, typ, point, msg := b.editDriveLocked(d, m, false); code != 0 {
				writeErr(w, code, typ, point, msg)
				return
			}
			writeJSON(w, http.StatusOK, b.driveDoc(d))
		case http.MethodDelete:
			if code, msg := b.canDeleteDrive(d); code != 0 {
				writeErr(w, code, "permission", "", msg)
				return
			}
			b.deleteDriveLocked(d.uuid)
			noContent(w)
		default:
			methodNotAllowed(w, r, "GET", "PUT", "DELETE")
		}
	case len(p) == 2 && p[1] == "action":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, "POST")
			return
		}
		src, ok := b.drives[p[0]]
		if !ok || (src.owner != u.ID && src.lib == nil) {
			notExist(w, p[0])
			return
		}
		m, ok := readObject(w, r, false)
		if !ok {
			return
		}
		if do := r.URL.Query().Get("do"); src.lib != nil && do != "clone" {
			writeErr(w, http.StatusForbidden, "permission", "", "Library drive "+src.uuid+" cannot be changed: clone it")
			return
		}
		switch do := r.URL.Query().Get("do"); do {
		case "clone":
			d, code, msg := b.cloneDriveLocked(src, m, "", u)
			if d == nil {
				writeErr(w, code, map[int]string{400: "validation", 403: "permission"}[code], "", msg)
				return
			}
			writeJSON(w, http.StatusAccepted, map[string]any{"objects": []any{b.driveDoc(d)}})
		case "resize":
			if code, typ, point, msg := b.editDriveLocked(src, m, true); code != 0 {
				writeErr(w, code, typ, point, msg)
				return
			}
			writeJSON(w, http.StatusAccepted, map[string]any{"objects": []any{b.driveDoc(src)}})
		default:
			writeErr(w, http.StatusBadRequest, "validation", "do", fmt.Sprintf("Invalid action %q for drives", do))
		}
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

// onRunning reports whether drive id is attached to a running server.
func (b *Backend) onRunning(id string) bool {
	for _, sid := range b.mounts[id] {
		if s := b.servers[sid]; s != nil && s.status != "stopped" {
			return true
		}
	}
	return false
}

// editDriveLocked applies a PUT (strict false) or the resize action
// (strict true): on a drive of a running server a PUT ignores all but
// name, meta, tags and allow_multimount, where resize refuses a change
// it cannot apply. A new size puts the drive into "resizing".
func (b *Backend) editDriveLocked(d *drive, m map[string]any, strict bool) (code int, typ, point, msg string) {
	name, hasName, err1 := str(m, "name")
	media, hasMedia, err2 := str(m, "media")
	size, hasSize, err3 := num(m, "size")
	meta, hasMeta, err4 := object(m, "meta")
	am, hasAM, err5 := boolean(m, "allow_multimount")
	tags, hasTags, err6 := refs(m, "tags")
	for _, err := range []error{err1, err2, err3, err4, err5, err6} {
		if fe, ok := err.(*fieldError); ok {
			return http.StatusBadRequest, "validation", fe.point, fe.msg
		}
	}
	if hasMedia && media != "disk" && media != "cdrom" {
		return http.StatusBadRequest, "validation", "media", "Select a valid choice. " + media + " is not one of the available choices."
	}
	if hasSize && size <= 0 {
		return http.StatusBadRequest, "validation", "size", "Ensure this value is greater than 0."
	}
	resize := hasSize && roundSize(size) != d.size
	live := b.onRunning(d.uuid)
	if strict {
		if live && (resize || (hasMedia && media != d.media)) {
			return http.StatusForbidden, "permission", "", "Cannot resize drive " + d.uuid + " mounted on a running server"
		}
		if busy[d.status] && d.status != "creating" {
			return http.StatusForbidden, "permission", "", "Cannot resize drive " + d.uuid + " in status " + d.status
		}
	}
	if hasName {
		d.name = name
	}
	if hasMeta {
		d.meta = meta
	}
	if hasAM {
		d.allowMultimount = am
	}
	if hasTags {
		d.tags = tags
	}
	if !live && (d.status == "" || d.status == "creating") {
		if hasMedia {
			d.media = media
		}
		if resize {
			d.size = roundSize(size)
			d.status = "resizing"
			d.gen++
			b.schedule(b.now().Add(ResizeTime), evDriveDone, d.uuid, d.gen)
		}
	}
	b.notifyDriveLocked(d)
	return 0, "", "", ""
}

// canDeleteDrive refuses the DELETE of drive d when it is busy or in use
// by a running server. The documentation deletes "a single mounted or
// unmounted drive", and pycloudsigma's websocket acceptance test deletes
// a drive attached to a stopped server: that drive is detached.
func (b *Backend) canDeleteDrive(d *drive) (int, string) {
	if st := b.driveStatus(d); st == "mounted" {
		if b.onRunning(d.uuid) {
			return http.StatusForbidden, "Cannot delete drive " + d.uuid + ": it is mounted on a running server"
		}
	} else if busy[st] {
		return http.StatusForbidden, "Cannot delete drive " + d.uuid + " in status " + st
	}
	return 0, ""
}

func (b *Backend) deleteDrives(w http.ResponseWriter, r *http.Request, u sim.User) {
	objs, ok := readObjects(w, r, "drives")
	if !ok {
		return
	}
	var del []*drive
	for _, o := range objs {
		id := refUUID(o)
		d := b.drives[id]
		if d == nil || d.owner != u.ID {
			notExist(w, id)
			return
		}
		if code, msg := b.canDeleteDrive(d); code != 0 {
			writeErr(w, code, "permission", "", msg)
			return
		}
		del = append(del, d)
	}
	for _, d := range del {
		b.deleteDriveLocked(d.uuid)
	}
	noContent(w)
}

func (b *Backend) deleteDriveLocked(id string) {
	d := b.drives[id]
	if d == nil {
		return
	}
	delete(b.drives, id)
	b.forgetLocked()
	for _, sid := range append([]string(nil), d.snaps...) {
		b.deleteSnapshotLocked(sid)
	}
	for _, sid := range append([]string(nil), b.mounts[id]...) {
		if s := b.servers[sid]; s != nil {
			var att []attach
			for _, a := range s.drives {
				if a.drive != id {
					att = append(att, a)
				}
			}
			b.setDrivesLocked(s, att)
			b.notifyServerLocked(s)
		}
	}
	delete(b.mounts, id)
	b.notifyGoneLocked("drives", d.owner, id)
}

func (b *Backend) createDrives(w http.ResponseWriter, r *http.Request, u sim.User) {
	objs, ok := readObjects(w, r, "drive definitions")
	if !ok {
		return
	}
	var made []*drive
	for _, o := range objs {
		name, hasName, err1 := str(o, "name")
		size, hasSize, err2 := num(o, "size")
		media, hasMedia, err3 := str(o, "media")
		st, _, err4 := str(o, "storage_type")
		meta, _, err5 := object(o, "meta")
		am, _, err6 := boolean(o, "allow_multimount")
		tags, _, err7 := refs(o, "tags")
		aff, _, err8 := refs(o, "affinities")
		for _, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8} {
			if err != nil {
				validationErr(w, err)
				return
			}
		}
		switch {
		case !hasName:
			writeErr(w, http.StatusBadRequest, "validation", "name", "This field is required.")
			return
		case !hasSize:
			writeErr(w, http.StatusBadRequest, "validation", "size", "This field is required.")
			return
		case size <= 0:
			writeErr(w, http.StatusBadRequest, "validation", "size", "Ensure this value is greater than 0.")
			return
		case !hasMedia:
			writeErr(w, http.StatusBadRequest, "validation", "media", "This field is required.")
			return
		case media != "disk" && media != "cdrom":
			writeErr(w, http.StatusBadRequest, "validation", "media", "Select a valid choice. "+media+" is not one of the available choices.")
			return
		}
		if st == "" {
			st = "dssd"
		}
		d := &drive{uuid: b.newUUID("drive"), name: name, size: roundSize(size), media: media, status: "creating",
			storageType: st, owner: u.ID, meta: meta, allowMultimount: am, tags: tags, affinities: aff}
		made = append(made, d)
	}
	out := make([]any, 0, len(made))
	for _, d := range made {
		b.addDriveLocked(d)
		d.gen++
		b.schedule(b.now().Add(CreateTime), evDriveDone, d.uuid, d.gen)
		out = append(out, b.driveDoc(d))
		b.notifyDriveLocked(d)
	}
	if len(made) == 1 {
		w.Header().Set("Location", Prefix+"drives/"+made[0].uuid+"/")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"objects": out})
}

// cloneDriveLocked clones src; parent is the server clone job, if any.
func (b *Backend) cloneDriveLocked(src *drive, m map[string]any, parent string, u sim.User) (*drive, int, string) {
	switch st := b.driveStatus(src); st {
	case "creating", "cloning_dst", "uploading", "unavailable", "resizing":
		return nil, http.StatusForbidden, fmt.Sprintf("Cannot clone drive %s in status %s", src.uuid, st)
	}
	d := &drive{uuid: b.newUUID("drive"), name: src.name, size: src.size, media: src.media, status: "cloning_dst",
		storageType: src.storageType, owner: u.ID, meta: map[string]any{}, affinities: append([]string(nil), src.affinities...)}
	for k, v := range src.meta {
		d.meta[k] = v
	}
	name, _, err1 := str(m, "name")
	media, _, err2 := str(m, "media")
	st, _, err3 := str(m, "storage_type")
	n, _, err4 := num(m, "size")
	aff, hasAff, err5 := refs(m, "affinities")
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return nil, http.StatusBadRequest, err.Error()
		}
	}
	if name != "" {
		d.name = name
	}
	if media != "" {
		if media != "disk" && media != "cdrom" {
			return nil, http.StatusBadRequest, "Select a valid choice. " + media + " is not one of the available choices."
		}
		d.media = media
	}
	if st != "" {
		d.storageType = st
	}
	if hasAff {
		d.affinities = aff
	}
	if n != 0 {
		if n < src.size {
			return nil, http.StatusBadRequest, "Size of the cloned drive can only be bigger or the same"
		}
		d.size = roundSize(n)
	}
	now := b.now()
	j := &job{uuid: b.newUUID("job"), operation: "drive_clone", state: "started", owner: u.ID, parent: parent,
		created: now, modified: now, start: now, duration: cloneDuration(d.size), src: src.uuid, dst: d.uuid,
		resources: []string{Prefix + "drives/" + src.uuid + "/", Prefix + "drives/" + d.uuid + "/"}}
	b.addJobLocked(j)
	b.schedule(j.start.Add(j.duration/10), evJobStep, j.uuid, 1)
	b.schedule(j.start.Add(j.duration), evJobDone, j.uuid, 0)
	d.jobs = []string{j.uuid}
	b.addDriveLocked(d)
	b.notifyJobLocked(j)
	b.notifyDriveLocked(d)
	if src.lib != nil {
		// A library drive is everyone's: its status and jobs stay its own.
		return d, 0, ""
	}
	src.jobs = append(src.jobs, j.uuid)
	if src.status != "cloning_src" {
		src.status = "cloning_src"
		src.gen++
	}
	src.srcCount++
	b.notifyDriveLocked(src)
	return d, 0, ""
}

// roundSize rounds a requested drive size up to a multiple of 16 KiB, as
// CloudSigma's documented clone answer does (1207959631 requested, 1207975936
// served: dumps/request_drive_clone, dumps/response_drive_clone).
func roundSize(n int64) int64 {
	const unit = 16 << 10
	if n > (1<<62)-unit {
		return n
	}
	return (n + unit - 1) / unit * unit
}
