// Package cloudsigma is the fake's CloudSigma API 2.0 backend under
// /api/2.0/: drives, servers and jobs as a clone story touches them, with
// HTTP Basic auth against the seeded users (email and password) or their
// login sessions (do=login's sessionid cookie, with X-CSRFToken on every
// request but GET, HEAD and OPTIONS: session.go),
// CloudSigma's list meta and paging (limit 20 by default, limit=0 for
// all), GET filters (comma ORs, \, escapes; /jobs/ filters on state only,
// as its schema documents, unless SetStrictJobFilters(false)), fields= and
// order_by=, the schema documents, its error lists and status codes, an
// X-REQUEST-ID header on every answer, and the async websocket.
//
// Drives: create (one, {"objects": [...]} or a bare list), edit (PUT,
// size included: the drive goes "resizing"), the resize and clone
// actions, delete (one, or a list), "mounted" while attached to a server.
// Servers: create with drives, nics, meta and tags, edit (PUT of every
// writable field; a running server takes only name, meta and tags), the
// start, stop, shutdown, open_vnc, close_vnc, open_console,
// close_console and clone actions, and deletes with ?recurse=disks,
// all_drives or cdroms. Numbers may be sent as strings, as CloudSigma
// accepts them. The drives library (/libdrives/: read, cloned, a CDROM
// attached as is; libdrives.go), snapshots (/snapshots/: create, edit,
// delete, clone to a drive; snapshots.go) and tags (/tags/, one relation
// with the tagged drives' and servers' "tags"; tags.go) are served too;
// other resources of the API answer 404 notexist.
//
// Time is the fake clock's: a drive is "creating" for 10 s and "resizing"
// for 10 s; a server is "starting" for 5 s, "stopping" for 5 s after stop
// and 10 s after an ACPI shutdown. A drive clone's job reaches progress
// 100 after one fake minute per GiB (at least one minute, at most an
// hour); a server clone's job has one child job per cloned disk. Finished
// jobs are kept for 3 days. Nothing is ticked per request: every timed
// change sits in one queue ordered by its instant, and a request (or,
// while a websocket listens, a clock timer) applies only the changes that
// are due. A list filters and orders on single fields and encodes only
// the page it answers, and the pages of one /jobs/ listing share one
// filtering pass while no job changes; so no request costs an encoding
// of every object (BenchmarkServerClones, cloudsigma's
// BenchmarkWatcherClones: 100,000 clones).
//
// The async websocket (CloudSigma's async.rst): POST
// /api/2.0/accounts/action/?do=authenticate_asynchronous answers {} with
// a cookie async_auth valid for 2 fake minutes; GET /api/2.0/websocket
// upgrades with that cookie and sends a JSON text frame
// {"resource_type", "resource_uri", "object"} each time one of the user's
// drives, servers or jobs changes ("object" is absent when the resource
// was deleted). GET /api/2.0/locations/ names that websocket as the
// fake's websocket_url (the real locations name
// wss://direct.<location>.cloudsigma.com/websocket, another host; the fake
// keeps /websocket at its root free for TrueNAS's legacy protocol).
//
// GET /api/2.0/servers/{uuid}/runtime/ answers a running server's runtime
// object, as pycloudsigma's Server.runtime reads it.
//
// Every seeded user owns a server "web-1" with three disks and a cdrom,
// and an unattached disk "scratch".
package cloudsigma

import (
	"container/heap"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// Prefix is where the backend is mounted.
const Prefix = "/api/2.0/"

// TimeLayout is how CloudSigma writes timestamps, such as
// 2014-06-05T09:45:12.941760+00:00.
const TimeLayout = "2006-01-02T15:04:05.000000-07:00"

// JobHistory is how long CloudSigma keeps a finished job.
const JobHistory = 72 * time.Hour

// GiB is 1<<30 bytes.
const GiB = int64(1) << 30

// Timings of the fake's state changes, in fake time.
const (
	CreateTime   = 10 * time.Second // a new drive is "creating"
	ResizeTime   = 10 * time.Second // a resized drive is "resizing"
	StartTime    = 5 * time.Second  // a started server is "starting"
	StopTime     = 5 * time.Second  // a stopped server is "stopping"
	ShutdownTime = 10 * time.Second // an ACPI shutdown takes this long
)

// Backend is the fake CloudSigma. It is safe for concurrent use.
type Backend struct {
	env *sim.Env

	mu          sync.Mutex
	seq         uint64
	reqSeq      uint64
	drives      map[string]*drive
	driveOrder  []string // ids in creation order; deleted ones stay until compactOrderLocked
	servers     map[string]*server
	serverOrder []string            // as driveOrder
	ordersGone  int                 // deleted drives and servers still in driveOrder or serverOrder
	mounts      map[string][]string // drive uuid -> servers it is attached to
	jobs        map[string]*job
	jobOrder    []*job // in creation order; expired jobs stay until compactJobsLocked
	jobsGone    int    // expired jobs still in jobOrder
	// jobsRev counts the changes a /jobs/ filter can see (a job added,
	// expired or overridden, a job's state); listCache holds filtered
	// listings of jobOrder made at listRev.
	jobsRev    uint64
	listRev    uint64
	listCache  map[string][]int32
	overrides  map[string]json.RawMessage
	strictJobs bool
	seeded     map[string]bool

	queue   eventQueue
	queued  int              // changes in queue (an event may hold several)
	lastAt  map[int64]*event // the event last scheduled for each instant in queue
	timer   *sim.Timer
	timerAt time.Time

	// batch, while not nil, collects the frames of one instant's changes
	// (each resource to its last place in batchOrder) for flushLocked to send
	// once each.
	batch      map[noteKey]int
	batchOrder []note

	async    map[string]asyncCookie
	sessions map[string]session // sessionid -> login session (session.go)

	snaps     map[string]*snapshot // snapshots.go
	snapOrder []string
	tags      map[string]*tag // tags.go
	tagOrder  []string
	subs      map[*subscriber]bool
	closed    bool
	subsWG    sync.WaitGroup
	lastErr   error
}

type drive struct {
	uuid, name, media, storageType, owner string
	// status is a transient status (creating, resizing, cloning_src,
	// cloning_dst, ...) or empty: then the drive is mounted when attached
	// to a server and unmounted otherwise.
	status          string
	size            int64
	allowMultimount bool
	affinities      []string
	tags, jobs      []string
	meta            map[string]any
	srcCount        int      // running clones from this drive
	gen             int      // bumps on every transient status, so stale events are ignored
	lib             *libInfo // a library drive's own fields; nil for an owned drive
	snaps           []string // uuids of the drive's snapshots (snapshots.go)
}

type attach struct {
	bootOrder          any // int or nil
	devChannel, device string
	drive              string
}

type nic struct {
	conf, ip, model, mac, vlan string
	bootOrder                  any
	firewallPolicy             any
	ipv6                       any
}

type server struct {
	uuid, name, status, vncPassword, owner string
	cpu, smp                               int
	mem                                    int64
	drives                                 []attach
	nics                                   []nic
	jobs, tags                             []string
	meta                                   map[string]any
	attrs                                  map[string]any // the other writable fields, as served
	activeSince                            time.Time
	gen                                    int
	vnc, console                           bool
}

type job struct {
	uuid, operation, state, owner, message string
	parent                                 string
	children                               []string
	resources                              []string
	created, start, finished, modified     time.Time
	duration                               time.Duration
	progress                               int // once frozen or finished
	frozen                                 bool
	src, dst                               string // drive uuids of a drive clone
	gone                                   bool   // expired: no longer in Backend.jobs
	// enc is a leaf's encoded document while encKey still describes it
	// (appendJob).
	enc    []byte
	encKey encKey
}

// New returns a backend seeded for every user of env.
func New(env *sim.Env) *Backend {
	b := &Backend{env: env, drives: map[string]*drive{}, servers: map[string]*server{}, jobs: map[string]*job{},
		mounts: map[string][]string{}, overrides: map[string]json.RawMessage{}, seeded: map[string]bool{},
		strictJobs: true, async: map[string]asyncCookie{}, subs: map[*subscriber]bool{}}
	b.mu.Lock()
	for _, u := range env.Users() {
		b.seedLocked(u)
	}
	b.seedLibraryLocked() // after the users: their seeded uuids stay as they were
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

func newServer(uuid, name, owner, vnc string, cpu int, mem int64) *server {
	return &server{uuid: uuid, name: name, status: "stopped", vncPassword: vnc, owner: owner, cpu: cpu, smp: 1, mem: mem,
		meta: map[string]any{}, attrs: defaultServerAttrs()}
}

func defaultServerAttrs() map[string]any {
	return map[string]any{
		"context": true, "cpu_model": nil, "cpu_type": "amd", "cpus_instead_of_cores": false, "enable_numa": false,
		"hv_relaxed": false, "hv_tsc": false, "hypervisor": "kvm", "requirements": []any{}, "pubkeys": []any{},
	}
}

func (b *Backend) addDriveLocked(d *drive) {
	if d.meta == nil {
		d.meta = map[string]any{}
	}
	b.drives[d.uuid] = d
	b.driveOrder = append(b.driveOrder, d.uuid)
}

func (b *Backend) addServerLocked(s *server) {
	b.servers[s.uuid] = s
	b.serverOrder = append(b.serverOrder, s.uuid)
	b.setDrivesLocked(s, s.drives)
}

// setDrivesLocked replaces s's attachments and keeps the mount index true.
func (b *Backend) setDrivesLocked(s *server, att []attach) {
	for _, a := range s.drives {
		b.mounts[a.drive] = without(b.mounts[a.drive], s.uuid)
		if len(b.mounts[a.drive]) == 0 {
			delete(b.mounts, a.drive)
		}
	}
	s.drives = att
	for _, a := range att {
		if !contains(b.mounts[a.drive], s.uuid) {
			b.mounts[a.drive] = append(b.mounts[a.drive], s.uuid)
		}
	}
}

// forgetLocked notes that a drive or server left its map; its id leaves
// driveOrder or serverOrder when the deleted ids are half of them, so
// deleting n objects costs O(n), not O(n) each.
func (b *Backend) forgetLocked() {
	b.ordersGone++
	if b.ordersGone*2 < len(b.driveOrder)+len(b.serverOrder) {
		return
	}
	b.driveOrder = slices.DeleteFunc(b.driveOrder, func(id string) bool { return b.drives[id] == nil })
	b.serverOrder = slices.DeleteFunc(b.serverOrder, func(id string) bool { return b.servers[id] == nil })
	b.ordersGone = 0
}

func without(ids []string, id string) []string {
	out := ids[:0:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (b *Backend) seedLocked(u sim.User) {
	if b.seeded[u.ID] {
		return
	}
	b.seeded[u.ID] = true
	mk := func(name, media string, size int64) *drive {
		d := &drive{uuid: b.newUUID("seed-drive/" + u.ID), name: name, media: media, size: size,
			storageType: "dssd", owner: u.ID}
		b.addDriveLocked(d)
		return d
	}
	boot := mk("debian-12-boot", "disk", 10*GiB)
	data := mk("web-data", "disk", 20*GiB)
	logs := mk("web-logs", "disk", 5*GiB)
	iso := mk("tools.iso", "cdrom", GiB)
	mk("scratch", "disk", 2*GiB)
	s := newServer(b.newUUID("seed-server/"+u.ID), "web-1", u.ID, "seedvnc1", 2000, 2*GiB)
	s.meta = map[string]any{"description": "seeded by longrun fake"}
	s.drives = []attach{
		{1, "0:0", "virtio", boot.uuid}, {2, "0:1", "virtio", data.uuid},
		{3, "0:2", "virtio", logs.uuid}, {4, "1:0", "ide", iso.uuid},
	}
	s.nics = []nic{{conf: "static", ip: "31.171.246.37", model: "virtio", mac: "22:a7:b4:5b:7c:01"}}
	b.addServerLocked(s)
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
	s := newServer(b.newUUID("server"), name, u.ID, "wide", 1000, GiB)
	for i := range n {
		d := &drive{uuid: b.newUUID("drive"), name: fmt.Sprintf("%s-disk-%d", name, i), media: "disk", size: size,
			storageType: "dssd", owner: u.ID}
		b.addDriveLocked(d)
		s.drives = append(s.drives, attach{i + 1, fmt.Sprintf("%d:%d", i/4, i%4), "virtio", d.uuid})
	}
	b.addServerLocked(s)
	return s.uuid, nil
}

// FailJob puts job uuid (a root or a child) into state (for example
// "failed", or any word CloudSigma might use) with an optional message in
// its data.error_message, and stops its progress there.
func (b *Backend) FailJob(uuid, state, message string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	j, ok := b.jobs[uuid]
	if !ok {
		return fmt.Errorf("fake cloudsigma: no job %s", uuid)
	}
	j.progress = b.progressLocked(j, b.now(), 0)
	j.state, j.message, j.frozen = state, message, true
	b.jobsRev++
	j.modified = b.now()
	b.notifyJobLocked(j)
	return nil
}

// SetJobDocument makes the backend serve doc, verbatim, as job uuid's
// document: on /jobs/{uuid}/, in lists, and nested as a child. A nil doc
// removes the override. uuid need not name a real job. Tests use it for
// cyclic or absurdly deep trees.
func (b *Backend) SetJobDocument(uuid string, doc []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jobsRev++
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
	b.advanceLocked()
	j, ok := b.jobs[uuid]
	if !ok {
		return JobInfo{}, false
	}
	return JobInfo{j.uuid, j.operation, j.state, b.progressLocked(j, b.now(), 0),
		append([]string(nil), j.children...), j.finished}, true
}

// DriveStatus returns drive uuid's status.
func (b *Backend) DriveStatus(uuid string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	d, ok := b.drives[uuid]
	if !ok {
		return "", false
	}
	return b.driveStatus(d), true
}

// ServerStatus returns server uuid's status.
func (b *Backend) ServerStatus(uuid string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	s, ok := b.servers[uuid]
	if !ok {
		return "", false
	}
	return s.status, true
}

// Counts returns how many drives, servers and jobs the backend holds.
func (b *Backend) Counts() (drives, servers, jobs int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked()
	return len(b.drives), len(b.servers), len(b.jobs)
}

// Queued returns how many timed changes wait in the backend's queue.
func (b *Backend) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.queued
}

func (b *Backend) driveStatus(d *drive) string {
	if d.status != "" {
		return d.status
	}
	if len(b.mounts[d.uuid]) > 0 {
		return "mounted"
	}
	return "unmounted"
}

// cloneDuration is how long a drive clone takes: a fake minute per GiB,
// at least one minute and at most an hour.
func cloneDuration(size int64) time.Duration {
	d := time.Duration(size / GiB * int64(time.Minute))
	return min(max(d, time.Minute), time.Hour)
}

// progressLocked is job j's progress at now: a running leaf's from the
// clock, a parent's the mean of its children's.
func (b *Backend) progressLocked(j *job, now time.Time, depth int) int {
	if j.frozen || !j.finished.IsZero() {
		return j.progress
	}
	if len(j.children) > 0 && depth < 32 {
		sum := 0
		for _, c := range j.children {
			if cj := b.jobs[c]; cj != nil {
				sum += b.progressLocked(cj, now, depth+1)
			} else {
				sum += 100
			}
		}
		return sum / len(j.children)
	}
	if j.duration <= 0 {
		return j.progress
	}
	p := int(now.Sub(j.start) * 100 / j.duration)
	return min(max(p, 0), 100)
}

// modifiedLocked is when job j last changed, as of now.
func (b *Backend) modifiedLocked(j *job, now time.Time, depth int) time.Time {
	if j.frozen || !j.finished.IsZero() {
		return j.modified
	}
	if len(j.children) > 0 && depth < 32 {
		last := j.modified
		for _, c := range j.children {
			if cj := b.jobs[c]; cj != nil {
				if m := b.modifiedLocked(cj, now, depth+1); m.After(last) {
					last = m
				}
			}
		}
		return last
	}
	if j.duration <= 0 {
		return j.modified
	}
	p := b.progressLocked(j, now, depth)
	if p == 0 {
		return j.created
	}
	return j.start.Add(j.duration * time.Duration(p) / 100)
}

// finishLeafLocked ends a drive clone at its instant.
func (b *Backend) finishLeafLocked(j *job, at time.Time) {
	if j.frozen || !j.finished.IsZero() {
		return
	}
	j.progress, j.state, j.modified, j.finished = 100, "success", at, at
	b.jobsRev++
	if d := b.drives[j.dst]; d != nil && d.status == "cloning_dst" {
		d.status = ""
		d.gen++
		b.notifyDriveLocked(d)
	}
	if s := b.drives[j.src]; s != nil && s.lib == nil {
		s.srcCount--
		if s.srcCount <= 0 && s.status == "cloning_src" {
			s.status = ""
			s.gen++
			b.notifyDriveLocked(s)
		}
	}
	b.notifyJobLocked(j)
	if p := b.jobs[j.parent]; p != nil && !p.frozen && p.finished.IsZero() {
		all := true
		for _, c := range p.children {
			if cj := b.jobs[c]; cj != nil && cj.state != "success" {
				all = false
			}
		}
		if all {
			p.progress, p.state, p.modified, p.finished = 100, "success", at, at
			b.schedule(at.Add(JobHistory), evExpire, p.uuid, 0)
		}
		b.notifyJobLocked(p)
	} else if j.parent == "" {
		b.schedule(at.Add(JobHistory), evExpire, j.uuid, 0)
	}
}

// expireLocked drops root job id and its children (the 3-day history).
func (b *Backend) expireLocked(id string) {
	j := b.jobs[id]
	if j == nil || j.finished.IsZero() {
		return
	}
	res := append(append([]string(nil), j.resources...), b.childResources(j)...)
	dead := map[string]bool{id: true}
	for _, c := range j.children {
		dead[c] = true
	}
	b.jobsRev++
	for x := range dead {
		if dj := b.jobs[x]; dj != nil {
			dj.gone = true
			b.jobsGone++
		}
		delete(b.jobs, x)
	}
	b.compactJobsLocked()
	for _, c := range res {
		kind, uuid := splitURI(c)
		switch kind {
		case "drives":
			if d := b.drives[uuid]; d != nil {
				d.jobs = dropDead(d.jobs, dead)
			}
		case "servers":
			if s := b.servers[uuid]; s != nil {
				s.jobs = dropDead(s.jobs, dead)
			}
		}
	}
}

// addJobLocked adds a new job.
func (b *Backend) addJobLocked(j *job) {
	b.jobs[j.uuid] = j
	b.jobOrder = append(b.jobOrder, j)
	b.jobsRev++
}

// compactJobsLocked drops expired jobs from jobOrder once they are half
// of it, so that expiring n jobs costs O(n), not O(n) each.
func (b *Backend) compactJobsLocked() {
	if b.jobsGone*2 < len(b.jobOrder) {
		return
	}
	live := b.jobOrder[:0]
	for _, j := range b.jobOrder {
		if !j.gone {
			live = append(live, j)
		}
	}
	clear(b.jobOrder[len(live):])
	b.jobOrder, b.jobsGone = live, 0
}

func (b *Backend) childResources(j *job) []string {
	var out []string
	for _, c := range j.children {
		if cj := b.jobs[c]; cj != nil {
			out = append(out, cj.resources...)
		}
	}
	return out
}

func splitURI(u string) (kind, uuid string) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(u, Prefix), "/"), "/")
	if len(parts) != 2 {
		return "", ""
	}
	return parts[0], parts[1]
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

// encodingFailed is the answer to a request whose document does not
// encode (a SetJobDocument override that is not JSON).
const encodingFailed = `[{"error_point": null, "error_type": "backend", "error_message": "encoding failed"}]`

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(encodingFailed)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func noContent(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNoContent)
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
	b.mu.Lock()
	b.reqSeq++
	n := b.reqSeq
	b.mu.Unlock()
	w.Header().Set("X-REQUEST-ID", requestID(n))
	rest := strings.TrimPrefix(r.URL.Path, Prefix)
	if rest == "websocket" || rest == "websocket/" {
		b.serveWebsocket(w, r)
		return
	}
	if isLogin(r, rest) {
		b.serveLogin(w, r)
		return
	}
	user, ok := b.auth(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="users"`)
		writeErr(w, http.StatusUnauthorized, "permission", "", "Authentication credentials were not provided or are incorrect")
		return
	}
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
	b.advanceLocked()
	if len(parts) == 2 && parts[1] == "schema" && (parts[0] == "drives" || parts[0] == "servers" || parts[0] == "jobs" || parts[0] == "libdrives" || parts[0] == "snapshots" || parts[0] == "tags") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, r, "GET")
			return
		}
		writeJSON(w, http.StatusOK, schemaOf(parts[0]))
		return
	}
	switch parts[0] {
	case "drives":
		b.serveDrives(w, r, user, parts[1:])
	case "servers":
		b.serveServers(w, r, user, parts[1:])
	case "jobs":
		b.serveJobs(w, r, user, parts[1:])
	case "libdrives":
		b.serveLibdrives(w, r, user, parts[1:])
	case "snapshots":
		b.serveSnapshots(w, r, user, parts[1:])
	case "tags":
		b.serveTags(w, r, user, parts[1:])
	case "accounts":
		b.serveAccounts(w, r, user, parts[1:])
	case "locations":
		b.serveLocations(w, r, parts[1:])
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such resource "+parts[0])
	}
	b.armLocked()
}

// requestID is the X-REQUEST-ID of the n-th request: uuid shaped, like
// every CloudSigma id, and distinct per request.
func requestID(n uint64) string {
	h := sha1.Sum(fmt.Appendf(nil, "request/%d", n))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (b *Backend) auth(r *http.Request) (sim.User, bool) {
	email, pass, ok := r.BasicAuth()
	if !ok {
		return b.sessionUser(r)
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
		l := &jobListing{b: b, now: b.now(), owner: u.ID, order: b.jobOrder}
		for id := range b.overrides {
			if b.jobs[id] == nil {
				l.over = append(l.over, id)
			}
		}
		sort.Strings(l.over)
		allowed := map[string]bool{"state": true, "uuid": !b.strictJobs, "operation": !b.strictJobs}
		b.serveList(w, r, l, jobDocKeys, allowed, map[string]bool{"last_modified": true, "created": true}, nil)
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
		body, err := b.encodeJob(j)
		if err != nil {
			body = nil
		}
		writeRaw(w, http.StatusOK, body)
	default:
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
	}
}

// jobDocKeys are the fields of a job's document.
var jobDocKeys = map[string]bool{"children": true, "created": true, "data": true, "last_modified": true,
	"operation": true, "resource_uri": true, "resources": true, "state": true, "uuid": true}

// jobListing is the listing of /jobs/: the jobs of jobOrder that owner
// owns, then the overrides that name no job (over, sorted). A job with
// an override is served as the override, and filtered on its own fields.
type jobListing struct {
	b     *Backend
	now   time.Time
	owner string
	order []*job
	over  []string
}

func (l *jobListing) cached(key string) ([]int32, bool) {
	b := l.b
	if b.listRev != b.jobsRev {
		return nil, false
	}
	idx, ok := b.listCache[l.owner+"\x00"+key]
	return idx, ok
}

func (l *jobListing) keep(key string, idx []int32) {
	b := l.b
	if b.listCache == nil || b.listRev != b.jobsRev || len(b.listCache) >= 8 {
		b.listCache, b.listRev = map[string][]int32{}, b.jobsRev
	}
	b.listCache[l.owner+"\x00"+key] = idx
}

func (l *jobListing) len() int { return len(l.order) + len(l.over) }

func (l *jobListing) visible(i int) bool {
	if i >= len(l.order) {
		return true
	}
	j := l.order[i]
	return !j.gone && j.owner == l.owner
}

func (l *jobListing) text(i int, name string) string {
	if i >= len(l.order) {
		if name == "uuid" {
			return l.over[i-len(l.order)]
		}
		return fmt.Sprint(nil)
	}
	j := l.order[i]
	switch name {
	case "uuid":
		return j.uuid
	case "state":
		return j.state
	case "operation":
		return j.operation
	case "created":
		return fmtTime(j.created)
	case "last_modified":
		return fmtTime(l.b.modifiedLocked(j, l.now, 0))
	}
	if _, ok := l.b.overrides[j.uuid]; ok {
		return fmt.Sprint(nil)
	}
	return fmt.Sprint(l.b.jobDoc(j, 0)[name])
}

func (l *jobListing) value(i int, name string) any {
	if i >= len(l.order) {
		if name == "uuid" {
			return l.over[i-len(l.order)]
		}
		return nil
	}
	return l.b.jobDoc(l.order[i], 0)[name]
}

func (l *jobListing) appendObject(buf []byte, i int, fields []string) ([]byte, error) {
	if i >= len(l.order) {
		return appendRaw(buf, l.b.overrides[l.over[i-len(l.order)]])
	}
	j := l.order[i]
	if len(l.b.overrides) > 0 {
		if raw, ok := l.b.overrides[j.uuid]; ok {
			return appendRaw(buf, raw)
		}
	}
	if len(fields) > 0 {
		return appendDoc(buf, l.b.jobDoc(j, 0), fields)
	}
	return l.b.appendJob(buf, j, l.now, 0)
}

func fmtTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

func (b *Backend) jobDoc(j *job, depth int) map[string]any {
	now := b.now()
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
	data := map[string]any{"progress": b.progressLocked(j, now, depth)}
	if j.message != "" {
		data["error_message"] = j.message
	}
	return map[string]any{
		"children": children, "created": fmtTime(j.created), "data": data,
		"last_modified": fmtTime(b.modifiedLocked(j, now, depth)), "operation": j.operation,
		"resource_uri": Prefix + "jobs/" + j.uuid + "/", "resources": append([]string{}, j.resources...),
		"state": j.state, "uuid": j.uuid,
	}
}

var errBadRequest = errors.New("bad request")

// The timed changes.
const (
	evJobDone   = iota // a drive clone ends
	evJobStep          // a drive clone's progress passes a tenth (a websocket frame)
	evDriveDone        // creating or resizing ends
	evServer           // starting -> running, stopping -> stopped
	evExpire           // a finished root job leaves the history
)

// event is one timed change, or several of one kind and gen due at one
// instant (id, then more): changes scheduled one after another for the
// same instant, with nothing else scheduled for it in between, share one
// event, so 100,000 clones started at one instant queue a handful of
// events, not 200,000, and are applied in the order they were scheduled.
type event struct {
	at     time.Time
	seq    uint64
	kind   int
	id     string
	gen    int
	more   []string
	popped bool
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

func (b *Backend) schedule(at time.Time, kind int, id string, gen int) {
	b.queued++
	key := at.UnixNano()
	if e := b.lastAt[key]; e != nil && !e.popped && e.kind == kind && e.gen == gen {
		e.more = append(e.more, id)
		return
	}
	b.seq++
	e := &event{at: at, seq: b.seq, kind: kind, id: id, gen: gen}
	heap.Push(&b.queue, e)
	if b.lastAt == nil {
		b.lastAt = map[int64]*event{}
	}
	b.lastAt[key] = e
}

// advanceLocked applies every queued change that is due, each at its own
// instant, and nothing else.
//
// Changes due at one instant are published together: a resource that
// several of them touch (a server clone's job, as each of its disks
// moves on) gets one frame for that instant, with its state after all.
func (b *Backend) advanceLocked() {
	now := b.now()
	for len(b.queue) > 0 && !b.queue[0].at.After(now) {
		at := b.queue[0].at
		b.batch = map[noteKey]int{}
		for len(b.queue) > 0 && b.queue[0].at.Equal(at) {
			e := heap.Pop(&b.queue).(*event)
			e.popped = true
			b.queued -= 1 + len(e.more)
			b.applyLocked(e)
			one := *e
			for _, id := range e.more {
				one.id = id
				b.applyLocked(&one)
			}
		}
		delete(b.lastAt, at.UnixNano())
		b.flushLocked()
	}
}

func (b *Backend) applyLocked(e *event) {
	switch e.kind {
	case evJobDone:
		if j := b.jobs[e.id]; j != nil {
			b.finishLeafLocked(j, e.at)
		}
	case evJobStep:
		// e.gen is the tenth reached; the next tenth is queued only now,
		// so the queue holds two changes per running clone, not ten.
		if j := b.jobs[e.id]; j != nil && !j.frozen && j.finished.IsZero() {
			b.notifyJobLocked(j)
			if p := b.jobs[j.parent]; p != nil {
				b.notifyJobLocked(p)
			}
			if e.gen < 9 {
				b.schedule(j.start.Add(j.duration*time.Duration(e.gen+1)/10), evJobStep, j.uuid, e.gen+1)
			}
		}
	case evDriveDone:
		if d := b.drives[e.id]; d != nil && d.gen == e.gen && (d.status == "creating" || d.status == "resizing") {
			d.status = ""
			d.gen++
			b.notifyDriveLocked(d)
		}
	case evServer:
		s := b.servers[e.id]
		if s == nil || s.gen != e.gen {
			return
		}
		switch s.status {
		case "starting":
			s.status, s.activeSince = "running", e.at
		case "stopping":
			s.status, s.vnc, s.console = "stopped", false, false
		default:
			return
		}
		s.gen++
		b.notifyServerLocked(s)
		for _, a := range s.drives {
			if d := b.drives[a.drive]; d != nil {
				b.notifyDriveLocked(d)
			}
		}
	case evExpire:
		b.expireLocked(e.id)
	}
}

// armLocked keeps one clock timer on the next queued change while a
// websocket listens, so frames flow without requests. Without listeners
// the fake sets no timer at all: changes wait for the next request.
func (b *Backend) armLocked() {
	if len(b.subs) == 0 || len(b.queue) == 0 || b.closed {
		return
	}
	next := b.queue[0].at
	if b.timer != nil {
		if !b.timerAt.After(next) {
			return
		}
		b.timer.Stop()
	}
	b.timerAt = next
	b.timer = b.env.Clock.AfterFunc(next.Sub(b.now()), func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.timer = nil
		b.advanceLocked()
		b.armLocked()
	})
}
