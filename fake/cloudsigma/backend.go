// Package cloudsigma is the fake's CloudSigma API 2.0 backend: /drives/,
// /servers/ and /jobs/ under /api/2.0/, with HTTP Basic auth against the
// seeded users (email and password), CloudSigma's list meta and paging
// (limit 20 by default, limit=0 for all), GET filters (comma ORs, \,
// escapes; /jobs/ filters on state only, as its schema documents, unless
// SetStrictJobFilters(false)), fields= and order_by=, its error lists and
// status codes, drive and server clones whose jobs progress on the fake
// clock, and the 3-day job history.
//
// Every seeded user owns a server "web-1" with three disks and a cdrom,
// and an unattached disk "scratch". A drive clone's job reaches progress
// 100 after one fake minute per GiB (at least one minute, at most an
// hour); a server clone's job has one child job per cloned disk.
package cloudsigma

import (
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

// Prefix is where the backend is mounted.
const Prefix = "/api/2.0/"

// JobHistory is how long CloudSigma keeps a finished job.
const JobHistory = 72 * time.Hour

// GiB is 1<<30 bytes.
const GiB = int64(1) << 30

// Backend is the fake CloudSigma. It is safe for concurrent use.
type Backend struct {
	env *sim.Env

	mu          sync.Mutex
	seq         uint64
	drives      map[string]*drive
	driveOrder  []string
	servers     map[string]*server
	serverOrder []string
	jobs        map[string]*job
	jobOrder    []string
	overrides   map[string]json.RawMessage
	strictJobs  bool
	seeded      map[string]bool
}

type drive struct {
	uuid, name, media, status, storageType, owner string
	size                                          int64
	allowMultimount                               bool
	affinities, tags, jobs                        []string
	meta                                          map[string]any
	restStatus                                    string // status after cloning_src / creating
	readyAt                                       time.Time
	srcCount                                      int // running clones from this drive
}

type attach struct {
	bootOrder          int
	devChannel, device string
	drive              string
}

type nic struct {
	conf, ip, model, mac string
}

type server struct {
	uuid, name, status, vncPassword, owner string
	cpu, smp                               int
	mem                                    int64
	drives                                 []attach
	nics                                   []nic
	jobs                                   []string
	meta                                   map[string]any
}

type job struct {
	uuid, operation, state, owner, message string
	parent                                 string
	children                               []string
	resources                              []string
	created, modified, start, finished     time.Time
	duration                               time.Duration
	progress                               int
	frozen                                 bool
	src, dst                               string // drive uuids of a drive clone
}

// New returns a backend seeded for every user of env.
func New(env *sim.Env) *Backend {
	b := &Backend{env: env, drives: map[string]*drive{}, servers: map[string]*server{}, jobs: map[string]*job{},
		overrides: map[string]json.RawMessage{}, seeded: map[string]bool{}, strictJobs: true}
	b.mu.Lock()
	for _, u := range env.Users() {
		b.seedLocked(u)
	}
	b.mu.Unlock()
	return b
}

// Register mounts the backend on mux under /api/2.0/.
func (b *Backend) Register(mux *http.ServeMux) { mux.Handle(Prefix, b) }

// SetStrictJobFilters sets whether /jobs/ refuses the uuid= and
// operation= filters with a 400 validation error. CloudSigma's jobs schema
// (dumps/response_jobs_schema) lists only state as filterable, so the fake
// refuses them by default, as Tastypie does for a field that does not
// allow filtering; pass false to accept them.
func (b *Backend) SetStrictJobFilters(on bool) {
	b.mu.Lock()
	b.strictJobs = on
	b.mu.Unlock()
}

func (b *Backend) now() time.Time { return b.env.Clock.Now().UTC() }

// newUUID returns a deterministic, version-4 shaped uuid.
func (b *Backend) newUUID(salt string) string {
	b.seq++
	h := sha1.Sum(fmt.Appendf(nil, "%s/%d", salt, b.seq))
	h[6] = (h[6] & 0x0f) | 0x40
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (b *Backend) seedLocked(u sim.User) {
	if b.seeded[u.ID] {
		return
	}
	b.seeded[u.ID] = true
	now := b.now()
	mk := func(name, media string, size int64) *drive {
		d := &drive{uuid: b.newUUID("seed-drive/" + u.ID), name: name, media: media, size: size,
			status: "unmounted", storageType: "dssd", owner: u.ID, meta: map[string]any{}}
		b.drives[d.uuid] = d
		b.driveOrder = append(b.driveOrder, d.uuid)
		return d
	}
	boot := mk("debian-12-boot", "disk", 10*GiB)
	data := mk("web-data", "disk", 20*GiB)
	logs := mk("web-logs", "disk", 5*GiB)
	iso := mk("tools.iso", "cdrom", GiB)
	mk("scratch", "disk", 2*GiB)
	s := &server{uuid: b.newUUID("seed-server/" + u.ID), name: "web-1", status: "stopped", vncPassword: "seedvnc1",
		owner: u.ID, cpu: 2000, smp: 1, mem: 2 * GiB, meta: map[string]any{"description": "seeded by longrun fake"},
		drives: []attach{
			{1, "0:0", "virtio", boot.uuid}, {2, "0:1", "virtio", data.uuid},
			{3, "0:2", "virtio", logs.uuid}, {4, "1:0", "ide", iso.uuid},
		},
		nics: []nic{{conf: "static", ip: "31.171.246.37", model: "virtio", mac: "22:a7:b4:5b:7c:01"}}}
	b.servers[s.uuid] = s
	b.serverOrder = append(b.serverOrder, s.uuid)
	_ = now
}

// AddServerWithDisks creates, for the user with the given email, a
// stopped server named name with n disks of size bytes each (and no
// cdrom), and returns its uuid. Tests use it for wide server clones.
func (b *Backend) AddServerWithDisks(email, name string, n int, size int64) (string, error) {
	u, ok := b.env.Lookup(func(u sim.User) bool { return u.Email == email })
	if !ok {
		return "", fmt.Errorf("fake cloudsigma: no user %q", email)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &server{uuid: b.newUUID("server"), name: name, status: "stopped", vncPassword: "wide", owner: u.ID,
		cpu: 1000, smp: 1, mem: GiB, meta: map[string]any{}}
	for i := range n {
		d := &drive{uuid: b.newUUID("drive"), name: fmt.Sprintf("%s-disk-%d", name, i), media: "disk", size: size,
			status: "unmounted", storageType: "dssd", owner: u.ID, meta: map[string]any{}}
		b.drives[d.uuid] = d
		b.driveOrder = append(b.driveOrder, d.uuid)
		s.drives = append(s.drives, attach{i + 1, fmt.Sprintf("%d:%d", i/4, i%4), "virtio", d.uuid})
	}
	b.servers[s.uuid] = s
	b.serverOrder = append(b.serverOrder, s.uuid)
	return s.uuid, nil
}

// FailJob puts job uuid (a root or a child) into state (for example
// "failed", or any word CloudSigma might use) with an optional message in
// its data.error_message, and stops its progress there.
func (b *Backend) FailJob(uuid, state, message string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
	j, ok := b.jobs[uuid]
	if !ok {
		return fmt.Errorf("fake cloudsigma: no job %s", uuid)
	}
	j.state, j.message, j.frozen = state, message, true
	j.modified = b.now()
	return nil
}

// SetJobDocument makes the backend serve doc, verbatim, as job uuid's
// document: on /jobs/{uuid}/, in lists, and nested as a child. A nil doc
// removes the override. uuid need not name a real job. Tests use it for
// cyclic or absurdly deep trees.
func (b *Backend) SetJobDocument(uuid string, doc []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if doc == nil {
		delete(b.overrides, uuid)
		return
	}
	b.overrides[uuid] = append(json.RawMessage(nil), doc...)
}

// JobInfo is a job as the backend holds it.
type JobInfo struct {
	UUID, Operation, State string
	Progress               int
	Children               []string
	Finished               time.Time
}

// Job returns job uuid's current state.
func (b *Backend) Job(uuid string) (JobInfo, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
	j, ok := b.jobs[uuid]
	if !ok {
		return JobInfo{}, false
	}
	return JobInfo{j.uuid, j.operation, j.state, j.progress, append([]string(nil), j.children...), j.finished}, true
}

// DriveStatus returns drive uuid's status.
func (b *Backend) DriveStatus(uuid string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
	d, ok := b.drives[uuid]
	if !ok {
		return "", false
	}
	return d.status, true
}

// cloneDuration is how long a drive clone takes: a fake minute per GiB,
// at least one minute and at most an hour.
func cloneDuration(size int64) time.Duration {
	d := time.Duration(size / GiB * int64(time.Minute))
	return min(max(d, time.Minute), time.Hour)
}

// tickLocked brings every job and drive up to the clock's now.
func (b *Backend) tickLocked() {
	now := b.now()
	for _, id := range b.driveOrder {
		d := b.drives[id]
		if d != nil && d.status == "creating" && !now.Before(d.readyAt) {
			d.status = "unmounted"
		}
	}
	// Leaves first: drive clones.
	for _, id := range b.jobOrder {
		j := b.jobs[id]
		if j == nil || j.frozen || !j.finished.IsZero() || j.duration <= 0 || len(j.children) > 0 {
			continue
		}
		el := now.Sub(j.start)
		p := min(int(el*100/j.duration), 100)
		if p < 0 {
			p = 0
		}
		if p != j.progress {
			j.progress = p
			j.modified = j.start.Add(j.duration * time.Duration(p) / 100)
		}
		if p >= 100 {
			j.state = "success"
			j.finished = j.modified
			b.finishCloneLocked(j)
		}
	}
	// Then parents (server clones): the mean of their children.
	for _, id := range b.jobOrder {
		j := b.jobs[id]
		if j == nil || j.frozen || !j.finished.IsZero() || len(j.children) == 0 {
			continue
		}
		sum, all := 0, true
		last := j.modified
		for _, c := range j.children {
			cj := b.jobs[c]
			if cj == nil {
				sum += 100
				continue
			}
			sum += cj.progress
			if cj.state != "success" {
				all = false
			}
			if cj.modified.After(last) {
				last = cj.modified
			}
		}
		p := sum / len(j.children)
		if p != j.progress {
			j.progress, j.modified = p, last
		}
		if all {
			j.progress, j.state, j.modified, j.finished = 100, "success", last, last
		}
	}
	// The 3-day history: finished root jobs older than that go, children
	// with them.
	var gone []string
	for _, id := range b.jobOrder {
		j := b.jobs[id]
		if j == nil || j.parent != "" || j.finished.IsZero() || now.Sub(j.finished) <= JobHistory {
			continue
		}
		gone = append(gone, id)
		gone = append(gone, j.children...)
	}
	if len(gone) > 0 {
		dead := map[string]bool{}
		for _, id := range gone {
			dead[id] = true
			delete(b.jobs, id)
		}
		keep := b.jobOrder[:0]
		for _, id := range b.jobOrder {
			if !dead[id] {
				keep = append(keep, id)
			}
		}
		b.jobOrder = keep
		for _, d := range b.drives {
			d.jobs = dropDead(d.jobs, dead)
		}
		for _, s := range b.servers {
			s.jobs = dropDead(s.jobs, dead)
		}
	}
}

func dropDead(ids []string, dead map[string]bool) []string {
	out := ids[:0]
	for _, id := range ids {
		if !dead[id] {
			out = append(out, id)
		}
	}
	return out
}

func (b *Backend) finishCloneLocked(j *job) {
	if d := b.drives[j.dst]; d != nil && d.status == "cloning_dst" {
		d.status = "unmounted"
	}
	if s := b.drives[j.src]; s != nil {
		s.srcCount--
		if s.srcCount <= 0 && s.status == "cloning_src" {
			s.status = s.restStatus
			if s.status == "" {
				s.status = "unmounted"
			}
		}
	}
}

// apiError is one entry of a CloudSigma error list.
type apiError struct {
	Point   *string `json:"error_point"`
	Type    string  `json:"error_type"`
	Message string  `json:"error_message"`
}

func writeErr(w http.ResponseWriter, status int, typ, point, msg string) {
	e := apiError{Type: typ, Message: msg}
	if point != "" {
		e.Point = &point
	}
	writeJSON(w, status, []apiError{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`[{"error_point": null, "error_type": "backend", "error_message": "encoding failed"}]`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func notExist(w http.ResponseWriter, uuid string) {
	writeErr(w, http.StatusNotFound, "notexist", "", "Object with uuid "+uuid+" does not exist")
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed ...string) {
	w.Header().Set("Allow", strings.Join(allowed, ","))
	writeErr(w, http.StatusMethodNotAllowed, "permission", "", "Method "+r.Method+" is not allowed on "+r.URL.Path)
}

// ServeHTTP serves /api/2.0/.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, ok := b.auth(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="users"`)
		writeErr(w, http.StatusUnauthorized, "permission", "", "Authentication credentials were not provided or are incorrect")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	if !strings.HasSuffix(r.URL.Path, "/") {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			u := *r.URL
			u.Path += "/"
			http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
			return
		}
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path+" (CloudSigma URLs end in /)")
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
	switch parts[0] {
	case "drives":
		b.serveDrives(w, r, user, parts[1:])
	case "servers":
		b.serveServers(w, r, user, parts[1:])
	case "jobs":
		b.serveJobs(w, r, user, parts[1:])
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such resource "+parts[0])
	}
}

func (b *Backend) auth(r *http.Request) (sim.User, bool) {
	email, pass, ok := r.BasicAuth()
	if !ok {
		return sim.User{}, false
	}
	return b.env.Lookup(func(u sim.User) bool {
		return u.Email != "" && u.Email == email && sim.SecretEqual(u.Password, pass)
	})
}

func (b *Backend) serveJobs(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET")
		return
	}
	switch {
	case len(p) == 0 || (len(p) == 1 && p[0] == "detail"):
		var docs []doc
		seen := map[string]bool{}
		for _, id := range b.jobOrder {
			j := b.jobs[id]
			if j.owner != u.ID {
				continue
			}
			seen[id] = true
			docs = append(docs, b.jobListDoc(j))
		}
		for id, raw := range b.overrides {
			if !seen[id] && b.jobs[id] == nil {
				docs = append(docs, overrideDoc(id, raw))
			}
		}
		allowed := map[string]bool{"state": true, "uuid": !b.strictJobs, "operation": !b.strictJobs}
		b.serveList(w, r, docs, allowed, map[string]bool{"last_modified": true, "created": true}, nil)
	case len(p) == 1:
		id := p[0]
		if raw, ok := b.overrides[id]; ok {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write(raw)
			return
		}
		j, ok := b.jobs[id]
		if !ok || j.owner != u.ID {
			notExist(w, id)
			return
		}
		writeJSON(w, http.StatusOK, b.jobDoc(j, 0))
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

// doc is one object of a list: its full document (for filters) and its
// encoded form.
type doc struct {
	fields map[string]any
	raw    json.RawMessage // when set, served instead of fields
}

func overrideDoc(id string, raw json.RawMessage) doc {
	return doc{fields: map[string]any{"uuid": id}, raw: raw}
}

func (b *Backend) jobListDoc(j *job) doc {
	if raw, ok := b.overrides[j.uuid]; ok {
		d := overrideDoc(j.uuid, raw)
		d.fields["state"], d.fields["operation"] = j.state, j.operation
		d.fields["last_modified"], d.fields["created"] = fmtTime(j.modified), fmtTime(j.created)
		return d
	}
	return doc{fields: b.jobDoc(j, 0)}
}

func fmtTime(t time.Time) string { return t.UTC().Format(jobs.CloudSigmaTimeLayout) }

func (b *Backend) jobDoc(j *job, depth int) map[string]any {
	children := []any{}
	for _, c := range j.children {
		if raw, ok := b.overrides[c]; ok {
			children = append(children, raw)
			continue
		}
		if cj := b.jobs[c]; cj != nil && depth < 32 {
			children = append(children, b.jobDoc(cj, depth+1))
		}
	}
	data := map[string]any{"progress": j.progress}
	if j.message != "" {
		data["error_message"] = j.message
	}
	return map[string]any{
		"children": children, "created": fmtTime(j.created), "data": data,
		"last_modified": fmtTime(j.modified), "operation": j.operation,
		"resource_uri": Prefix + "jobs/" + j.uuid + "/", "resources": append([]string{}, j.resources...),
		"state": j.state, "uuid": j.uuid,
	}
}

var errBadRequest = errors.New("bad request")
