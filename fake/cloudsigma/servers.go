package cloudsigma

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// serverBools are the boolean fields of a server definition.
var serverBools = []string{"context", "cpus_instead_of_cores", "enable_numa", "hv_relaxed", "hv_tsc"}

// applyServer reads a server definition into s. A running server takes
// only name, meta and tags and ignores the rest, as CloudSigma does.
func (b *Backend) applyServer(s *server, m map[string]any, u sim.User, create bool) error {
	name, hasName, err := str(m, "name")
	if err != nil {
		return err
	}
	meta, hasMeta, err := object(m, "meta")
	if err != nil {
		return err
	}
	tags, hasTags, err := refs(m, "tags")
	if err != nil {
		return err
	}
	cpu, hasCPU, err := num(m, "cpu")
	if err != nil {
		return err
	}
	mem, hasMem, err := num(m, "mem")
	if err != nil {
		return err
	}
	smp, hasSMP, err := num(m, "smp")
	if err != nil {
		return err
	}
	vnc, hasVNC, err := str(m, "vnc_password")
	if err != nil {
		return err
	}
	for _, f := range []struct {
		missing, bad bool
		field        string
	}{
		{create && !hasName, false, "name"},
		{create && !hasCPU, hasCPU && cpu <= 0, "cpu"},
		{create && !hasMem, hasMem && mem <= 0, "mem"},
		{false, hasSMP && smp <= 0, "smp"},
		{create && (!hasVNC || vnc == ""), false, "vnc_password"},
	} {
		switch {
		case f.missing:
			return &fieldError{f.field, "This field is required."}
		case f.bad:
			return &fieldError{f.field, "Ensure this value is greater than 0."}
		}
	}
	bools := map[string]bool{}
	for _, k := range serverBools {
		v, ok, err := boolean(m, k)
		if err != nil {
			return err
		}
		if ok {
			bools[k] = v
		}
	}
	var att []attach
	hasDrives := m["drives"] != nil
	if hasDrives {
		list, ok := m["drives"].([]any)
		if !ok {
			return &fieldError{"drives", "Expected a list."}
		}
		for i, x := range list {
			dm, ok := x.(map[string]any)
			if !ok {
				return &fieldError{"drives", "Expected a list of drive attachments."}
			}
			id := refUUID(dm["drive"])
			d := b.drives[id]
			if d == nil || (d.owner != u.ID && d.lib == nil) {
				return &fieldError{"drives", "Object with uuid " + id + " does not exist"}
			}
			if d.lib != nil && d.media != "cdrom" {
				return &permError{"Library drive " + id + " is not a CDROM: clone it to attach it"}
			}
			ch, _, err := str(dm, "dev_channel")
			if err != nil {
				return err
			}
			dev, _, err := str(dm, "device")
			if err != nil {
				return err
			}
			if dev == "" {
				dev = "virtio"
			}
			if dev != "virtio" && dev != "ide" && dev != "scsi" && dev != "sata" {
				return &fieldError{"drives", "Select a valid choice. " + dev + " is not one of the available choices."}
			}
			if ch == "" {
				ch = fmt.Sprintf("0:%d", i)
			}
			var bo any
			if n, ok, err := num(dm, "boot_order"); err != nil {
				return err
			} else if ok {
				bo = int(n)
			}
			att = append(att, attach{bo, ch, dev, id})
		}
	}
	var nics []nic
	hasNICs := m["nics"] != nil
	if hasNICs {
		list, ok := m["nics"].([]any)
		if !ok {
			return &fieldError{"nics", "Expected a list."}
		}
		for _, x := range list {
			nm, ok := x.(map[string]any)
			if !ok {
				return &fieldError{"nics", "Expected a list of nics."}
			}
			n := nic{model: "virtio", firewallPolicy: nm["firewall_policy"], ipv6: nm["ip_v6_conf"]}
			if v, ok, err := str(nm, "model"); err != nil {
				return err
			} else if ok && v != "" {
				n.model = v
			}
			if v, ok, err := str(nm, "mac"); err != nil {
				return err
			} else if ok {
				n.mac = v
			}
			if v, ok := nm["boot_order"]; ok && v != nil {
				bo, _, err := num(nm, "boot_order")
				if err != nil {
					return err
				}
				n.bootOrder = int(bo)
			}
			n.vlan = refUUID(nm["vlan"])
			if conf, ok, err := object(nm, "ip_v4_conf"); err != nil {
				return err
			} else if ok {
				c, _, err := str(conf, "conf")
				if err != nil {
					return err
				}
				if c != "dhcp" && c != "static" && c != "manual" {
					return &fieldError{"nics", "Select a valid choice. " + c + " is not one of the available choices."}
				}
				n.conf, n.ip = c, refUUID(conf["ip"])
				if c == "static" && net.ParseIP(n.ip) == nil {
					return &fieldError{"nics", "A static ip_v4_conf needs an ip."}
				}
			} else if n.vlan == "" {
				return &fieldError{"nics", "A nic needs an ip_v4_conf or a vlan."}
			}
			if n.mac == "" {
				n.mac = macFrom(b.newUUID("mac"))
			}
			nics = append(nics, n)
		}
	}
	simple := map[string]any{}
	for _, k := range []string{"cpu_type", "hypervisor", "cpu_model"} {
		if v, ok := m[k]; ok {
			if _, isStr := v.(string); !isStr && v != nil {
				return &fieldError{k, "Expected a string."}
			}
			simple[k] = v
		}
	}
	for _, k := range []string{"requirements", "pubkeys"} {
		if v, ok := m[k]; ok && v != nil {
			if _, isList := v.([]any); !isList {
				return &fieldError{k, "Expected a list."}
			}
			simple[k] = v
		}
	}
	// Everything is valid: apply.
	if hasName {
		s.name = name
	}
	if hasMeta {
		s.meta = meta
	}
	if hasTags {
		s.tags = tags
	}
	if s.status != "stopped" && !create {
		return nil
	}
	if hasCPU {
		s.cpu = int(cpu)
	}
	if hasMem {
		s.mem = mem
	}
	if hasSMP {
		s.smp = int(smp)
	}
	if hasVNC {
		s.vncPassword = vnc
	}
	for k, v := range bools {
		s.attrs[k] = v
	}
	for k, v := range simple {
		s.attrs[k] = v
	}
	if hasDrives {
		b.setDrivesLocked(s, att)
	}
	if hasNICs {
		s.nics = nics
	}
	return nil
}

func (b *Backend) serveServers(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	switch {
	case len(p) == 0 || (len(p) == 1 && p[0] == "detail"):
		if r.Method == http.MethodPost && len(p) == 0 {
			b.createServers(w, r, u)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET", "POST")
			return
		}
		l := &resListing{}
		for _, id := range b.serverOrder {
			if s := b.servers[id]; s != nil && s.owner == u.ID {
				l.add(s.uuid, s.name, s.tags, func() map[string]any { return b.serverDoc(s) })
			}
		}
		b.serveList(w, r, l, serverDocKeys, resFilters, resOrder, summary(p, serverTrim))
	case len(p) == 1:
		s, ok := b.servers[p[0]]
		if !ok || s.owner != u.ID {
			notExist(w, p[0])
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, b.serverDoc(s))
		case http.MethodPut:
			m, ok := readObject(w, r, true)
			if !ok {
				return
			}
			old := append([]attach(nil), s.drives...)
			if err := b.applyServer(s, m, u, false); err != nil {
				validationErr(w, err)
				return
			}
			b.notifyServerLocked(s)
			b.notifyAttachLocked(old, s.drives)
			writeJSON(w, http.StatusOK, b.serverDoc(s))
		case http.MethodDelete:
			b.deleteServerLocked(w, r, s)
		default:
			methodNotAllowed(w, r, "GET", "PUT", "DELETE")
		}
	case len(p) == 2 && p[1] == "runtime":
		// GET /servers/{uuid}/runtime/, as pycloudsigma's Server.runtime
		// reads it: the runtime object of a running server.
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET")
			return
		}
		s, ok := b.servers[p[0]]
		if !ok || s.owner != u.ID {
			notExist(w, p[0])
			return
		}
		rt := b.serverDoc(s)["runtime"]
		if rt == nil {
			writeErr(w, http.StatusNotFound, "notexist", "", "Server "+s.uuid+" is not running")
			return
		}
		writeJSON(w, http.StatusOK, rt)
	case len(p) == 2 && p[1] == "action":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, "POST")
			return
		}
		s, ok := b.servers[p[0]]
		if !ok || s.owner != u.ID {
			notExist(w, p[0])
			return
		}
		m, ok := readObject(w, r, false)
		if !ok {
			return
		}
		b.serverAction(w, r, s, m, u)
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

// notifyAttachLocked sends frames for drives whose mount changed.
func (b *Backend) notifyAttachLocked(before, after []attach) {
	seen := map[string]bool{}
	for _, list := range [][]attach{before, after} {
		for _, a := range list {
			if !seen[a.drive] {
				seen[a.drive] = true
				if d := b.drives[a.drive]; d != nil {
					b.notifyDriveLocked(d)
				}
			}
		}
	}
}

func (b *Backend) deleteServerLocked(w http.ResponseWriter, r *http.Request, s *server) {
	if s.status != "stopped" {
		writeErr(w, http.StatusForbidden, "permission", "", "Cannot delete server in status "+s.status)
		return
	}
	rec := r.URL.Query().Get("recurse")
	switch rec {
	case "", "all_drives", "disks", "cdroms":
	default:
		writeErr(w, http.StatusBadRequest, "validation", "recurse", "Select a valid choice. "+rec+" is not one of the available choices.")
		return
	}
	// Collect the victims first: deleting a drive detaches it, which
	// rewrites s.drives under the loop.
	var victims []string
	for _, a := range s.drives {
		d := b.drives[a.drive]
		if d == nil || d.lib != nil {
			continue
		}
		if rec == "all_drives" || (rec == "disks" && d.media == "disk") || (rec == "cdroms" && d.media == "cdrom") {
			if busy[b.driveStatus(d)] {
				writeErr(w, http.StatusForbidden, "permission", "", "Cannot delete drive "+d.uuid+" in status "+b.driveStatus(d))
				return
			}
			victims = append(victims, d.uuid)
		}
	}
	old := append([]attach(nil), s.drives...)
	b.setDrivesLocked(s, nil)
	delete(b.servers, s.uuid)
	b.forgetLocked()
	for _, id := range victims {
		b.deleteDriveLocked(id)
	}
	b.notifyGoneLocked("servers", s.owner, s.uuid)
	b.notifyAttachLocked(old, nil)
	noContent(w)
}

func (b *Backend) createServers(w http.ResponseWriter, r *http.Request, u sim.User) {
	objs, ok := readObjects(w, r, "server definitions")
	if !ok {
		return
	}
	var made []*server
	for _, o := range objs {
		s := newServer(b.newUUID("server"), "", u.ID, "", 0, 0)
		if err := b.applyServer(s, o, u, true); err != nil {
			for _, x := range made {
				b.setDrivesLocked(x, nil)
			}
			b.setDrivesLocked(s, nil)
			validationErr(w, err)
			return
		}
		made = append(made, s)
	}
	out := make([]any, 0, len(made))
	for _, s := range made {
		b.servers[s.uuid] = s
		b.serverOrder = append(b.serverOrder, s.uuid)
		out = append(out, b.serverDoc(s))
		b.notifyServerLocked(s)
		b.notifyAttachLocked(nil, s.drives)
	}
	if len(made) == 1 {
		w.Header().Set("Location", Prefix+"servers/"+made[0].uuid+"/")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"objects": out})
}

func actionResult(action, uuid string) map[string]any {
	return map[string]any{"action": action, "result": "success", "uuid": uuid}
}

func (b *Backend) serverAction(w http.ResponseWriter, r *http.Request, s *server, m map[string]any, u sim.User) {
	do := r.URL.Query().Get("do")
	refuse := func() {
		writeErr(w, http.StatusForbidden, "permission", "",
			fmt.Sprintf("Cannot %s server %s in status %s", do, s.uuid, s.status))
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	port := 40000 + int(b.seq%20000)
	switch do {
	case "start":
		if s.status != "stopped" {
			refuse()
			return
		}
		for _, a := range s.drives {
			if d := b.drives[a.drive]; d != nil {
				if st := b.driveStatus(d); busy[st] && st != "cloning_src" {
					writeErr(w, http.StatusForbidden, "permission", "",
						fmt.Sprintf("Cannot start server %s: drive %s is in status %s", s.uuid, d.uuid, st))
					return
				}
			}
		}
		b.transitionLocked(s, "starting", StartTime)
		writeJSON(w, http.StatusAccepted, actionResult(do, s.uuid))
	case "stop":
		if s.status != "running" && s.status != "starting" && s.status != "stopping" {
			refuse()
			return
		}
		b.transitionLocked(s, "stopping", StopTime)
		writeJSON(w, http.StatusAccepted, actionResult(do, s.uuid))
	case "shutdown":
		if s.status != "running" {
			refuse()
			return
		}
		b.transitionLocked(s, "stopping", ShutdownTime)
		writeJSON(w, http.StatusAccepted, actionResult(do, s.uuid))
	case "open_vnc", "open_console":
		if s.status != "running" {
			refuse()
			return
		}
		res := actionResult(do, s.uuid)
		if do == "open_vnc" {
			s.vnc = true
			res["vnc_url"] = fmt.Sprintf("vnc://%s:%d", host, port)
		} else {
			s.console = true
			res["console_url"] = fmt.Sprintf("csconsole://%s:%d", host, port)
		}
		writeJSON(w, http.StatusAccepted, res)
	case "close_vnc", "close_console":
		if s.status != "running" {
			refuse()
			return
		}
		if do == "close_vnc" {
			s.vnc = false
		} else {
			s.console = false
		}
		writeJSON(w, http.StatusAccepted, actionResult(do, s.uuid))
	case "clone":
		c, code, msg := b.cloneServerLocked(s, m, u)
		if c == nil {
			writeErr(w, code, map[int]string{400: "validation", 403: "permission"}[code], "", msg)
			return
		}
		writeJSON(w, http.StatusAccepted, b.serverDoc(c))
	default:
		writeErr(w, http.StatusBadRequest, "validation", "do", fmt.Sprintf("Invalid action %q for servers", do))
	}
}

// transitionLocked puts s into the transient status to, which settles
// after d of fake time.
func (b *Backend) transitionLocked(s *server, to string, d time.Duration) {
	s.status = to
	s.gen++
	b.schedule(b.now().Add(d), evServer, s.uuid, s.gen)
	b.notifyServerLocked(s)
	for _, a := range s.drives {
		if dr := b.drives[a.drive]; dr != nil {
			b.notifyDriveLocked(dr)
		}
	}
}

func (b *Backend) cloneServerLocked(src *server, m map[string]any, u sim.User) (*server, int, string) {
	for _, a := range src.drives {
		if d := b.drives[a.drive]; d != nil && d.media == "disk" {
			switch st := b.driveStatus(d); st {
			case "creating", "cloning_dst", "uploading", "unavailable", "resizing":
				return nil, http.StatusForbidden, fmt.Sprintf("Cannot clone drive %s in status %s", d.uuid, st)
			}
		}
	}
	name, _, err := str(m, "name")
	if err != nil {
		return nil, http.StatusBadRequest, err.Error()
	}
	rnd, _, err := boolean(m, "random_vnc_password")
	if err != nil {
		return nil, http.StatusBadRequest, err.Error()
	}
	now := b.now()
	s := newServer(b.newUUID("server"), src.name, u.ID, src.vncPassword, src.cpu, src.mem)
	s.smp = src.smp
	for k, v := range src.meta {
		s.meta[k] = v
	}
	for k, v := range src.attrs {
		s.attrs[k] = v
	}
	s.tags = append([]string(nil), src.tags...)
	if name != "" {
		s.name = name
	}
	if rnd {
		s.vncPassword = b.newUUID("vnc")[:8]
	}
	root := &job{uuid: b.newUUID("job"), operation: "server_clone", state: "started", owner: u.ID,
		created: now, modified: now, start: now, duration: 5 * time.Second,
		resources: []string{Prefix + "servers/" + src.uuid + "/", Prefix + "servers/" + s.uuid + "/"}}
	b.addJobLocked(root)
	var att []attach
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
		att = append(att, attach{a.bootOrder, a.devChannel, a.device, id})
	}
	if len(root.children) == 0 {
		// Nothing to copy: the job runs its 5 s alone.
		b.schedule(now.Add(root.duration), evJobDone, root.uuid, 0)
	}
	for _, n := range src.nics {
		c := nic{conf: "dhcp", model: n.model, mac: macFrom(b.newUUID("mac")), vlan: n.vlan, bootOrder: n.bootOrder,
			firewallPolicy: n.firewallPolicy, ipv6: n.ipv6}
		if n.vlan != "" {
			c.conf = ""
		}
		s.nics = append(s.nics, c)
	}
	s.jobs = []string{root.uuid}
	src.jobs = append(src.jobs, root.uuid)
	s.drives = att
	b.addServerLocked(s)
	b.notifyJobLocked(root)
	b.notifyServerLocked(s)
	b.notifyServerLocked(src)
	return s, 0, ""
}

func macFrom(u string) string {
	return "22:" + u[0:2] + ":" + u[2:4] + ":" + u[4:6] + ":" + u[6:8] + ":" + u[9:11]
}
