// Package freezer is the fake's OpenStack Freezer API: /v1/jobs and
// /v2/{project_id}/jobs as freezer-api 13 with its SQL backend serves them
// (status codes, falcon error bodies, jsonschema validation messages, user
// and project scoping, start/stop/abort events), with the paste pipeline
// in front of it as freezer-paste.ini builds it (keystonemiddleware's 401,
// oslo.middleware's /healthcheck, falcon's content negotiation and Python's
// json.loads and int() on bodies and parameters), a minimal Keystone v3
// (/v3, POST /v3/auth/tokens) and a simulated Freezer scheduler agent on
// the fake clock that runs started jobs through the agent's status and
// result sequence, recurring jobs included.
package freezer

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/longrun/longrun/fake/internal/pyjson"
	"github.com/longrun/longrun/fake/sim"
)

// Agent timings on the fake clock.
const (
	// PickupDelay is how long the agent takes to see an event.
	PickupDelay = time.Second
	// StartDelay is how long after scheduling a job first runs (the agent
	// schedules "now + 2 seconds").
	StartDelay = 2 * time.Second
	// DefaultActionDuration is how long each action runs.
	DefaultActionDuration = 5 * time.Second
)

// Backend is the fake Freezer API with its Keystone and agent.
type Backend struct {
	env *sim.Env

	mu      sync.Mutex
	jobs    map[string]*job
	order   []string // insertion order, as the SQL table lists
	tokens  map[string]token
	results map[string]Result // job id -> scripted result of its next runs

	gone       map[string]bool // table/id of soft-deleted rows: their ids stay taken
	clients    []*client
	actionRows []*action
	actionByID map[string]*action // the live rows of actionRows by id
	sessions   []*session
	backups    []*backup
	duration   time.Duration
	tokenLife  time.Duration // 0: TokenLifetime
	pid        int64
	closed     bool
	auto       bool
}

type job struct {
	id, user    string
	project     *string // nil: created through v1 (null in documents)
	doc         map[string]any
	sh          *shape // the key order of doc's values, as they were sent
	agent       agentState
	timer       *sim.Timer
	pickupTimer *sim.Timer
}

type agentState int

const (
	agentStopped agentState = iota
	agentScheduled
	agentRunning
)

// New returns a Backend on env.
func New(env *sim.Env) *Backend {
	return &Backend{env: env, jobs: map[string]*job{}, tokens: map[string]token{},
		gone: map[string]bool{}, actionByID: map[string]*action{}, results: map[string]Result{}, duration: DefaultActionDuration, pid: 4100}
}

// Register mounts /v1/, /v2/, /v3 and /healthcheck on mux.
func (b *Backend) Register(mux *http.ServeMux) {
	mux.HandleFunc("/{$}", b.versions)
	mux.HandleFunc("/v1", b.serveAPI)
	mux.HandleFunc("/v2", b.serveAPI)
	mux.HandleFunc("/v1/", b.serveAPI)
	mux.HandleFunc("/v2/", b.serveAPI)
	mux.HandleFunc("/v3", b.keystoneVersion)
	mux.HandleFunc("/healthcheck", healthcheck)
	mux.HandleFunc("/healthcheck/", healthcheck)
	mux.HandleFunc("/v3/", func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimSuffix(r.URL.Path, "/") {
		case "/v3":
			b.keystoneVersion(w, r)
		case "/v3/auth/tokens":
			b.keystoneTokens(w, r)
		default:
			keystoneError(w, http.StatusNotFound, "Not Found", "The resource could not be found.")
		}
	})
}

// Close stops the agent's timers.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, j := range b.jobs {
		j.stopTimers()
	}
}

// SetResult scripts the result of job id's next runs (success, fail or
// aborted); the default is success.
func (b *Backend) SetResult(id string, r Result) {
	b.mu.Lock()
	b.results[id] = r
	b.mu.Unlock()
}

// SetAutostart makes the agent start every new job it sees, as the real
// freezer-scheduler does with a job that has no event and is not stopped
// (Job.create in scheduler_job.py). Off by default, so a job runs only
// when a start event asks.
func (b *Backend) SetAutostart(on bool) {
	b.mu.Lock()
	b.auto = on
	b.mu.Unlock()
}

// SetActionDuration sets how long each action of a run lasts on the fake
// clock (default DefaultActionDuration).
func (b *Backend) SetActionDuration(d time.Duration) {
	b.mu.Lock()
	b.duration = d
	b.mu.Unlock()
}

// Job returns a copy of a stored job document, for tests.
func (b *Backend) Job(id string) (map[string]any, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j, ok := b.jobs[id]
	if !ok {
		return nil, false
	}
	return pyjson.Clone(j.doc).(map[string]any), true
}

func (j *job) stopTimers() {
	if j.timer != nil {
		j.timer.Stop()
		j.timer = nil
	}
	if j.pickupTimer != nil {
		j.pickupTimer.Stop()
		j.pickupTimer = nil
	}
}

func hexID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeJSON writes v as the falcon app does: application/json.
func writeJSON(w http.ResponseWriter, code int, v any) {
	data := pyDumps(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// falconError writes {"title", "description"} (description omitted when
// empty), as falcon renders an HTTPError.
func falconError(w http.ResponseWriter, code int, title, desc string) {
	body := obj{{"title", title}}
	if desc != "" {
		body = append(body, kv{"description", desc})
	}
	w.Header().Set("Vary", "Accept")
	writeJSON(w, code, body)
}

func badRequest(w http.ResponseWriter, desc string) {
	falconError(w, http.StatusBadRequest, "Bad request format", desc)
}

func serverError(w http.ResponseWriter) {
	falconError(w, http.StatusInternalServerError, "500 Internal Server Error", "")
}

// statusSyntaxError is the 753 falcon answers malformed JSON with.
const statusSyntaxError = 753

// readBody reads a JSON body as freezer-api's json_body does: no body is
// {}; bad JSON is 753 "Malformed JSON". ok is false when an answer was sent.
func readBody(w http.ResponseWriter, r *http.Request) (any, bool) {
	v, _, ok := readShaped(w, r)
	return v, ok
}

// readShaped is readBody with the body's key order.
func readShaped(w http.ResponseWriter, r *http.Request) (any, *shape, bool) {
	data, ok := readRaw(w, r)
	if !ok {
		return nil, nil, false
	}
	if len(data) == 0 {
		return map[string]any{}, nil, true
	}
	return decode(data), shapeOf(data), true
}

// readRaw reads a body and answers 753 when it is not JSON; an empty body
// is returned as empty. As json_body does, a request without a
// Content-Length (a chunked body) has no body, and the bytes must be UTF-8
// (oslo's jsonutils.loads decodes them strictly before parsing).
func readRaw(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength <= 0 {
		// Read and dropped, so the client can finish sending it.
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 8<<20))
		return nil, true
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		badRequest(w, "Empty request body. A valid JSON document is required.")
		return nil, false
	}
	if len(data) > 0 && (!utf8.Valid(data) || decode(data) == errSentinel) {
		w.Header().Set("Vary", "Accept")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(statusSyntaxError)
		_, _ = w.Write([]byte(`{"title": "Malformed JSON"}`))
		return nil, false
	}
	return data, true
}

type sentinel struct{}

var errSentinel any = sentinel{}

// decode parses one JSON document with numbers kept exact, or returns
// errSentinel.
func decode(data []byte) any {
	dec := json.NewDecoder(bytes.NewReader(pyLiterals(data)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return errSentinel
	}
	if _, err := dec.Token(); err != io.EOF {
		return errSentinel
	}
	return fixNumbers(v)
}

// firstKey is the first key of a JSON object in document order, as
// Python's next(iter(doc.items())) sees it.
func firstKey(data []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	t, err := dec.Token()
	if err != nil {
		return "", false
	}
	k, ok := t.(string)
	return k, ok
}

// scope is who is asking and through which API.
type scope struct {
	user    sim.User
	project *string // the v2 path's project; nil on v1
}

func (s scope) sees(j *job) bool {
	if j.user != s.user.ID {
		return false
	}
	if s.project == nil {
		return true
	}
	return j.project != nil && *j.project == *s.project
}

func (b *Backend) serveAPI(w http.ResponseWriter, r *http.Request) {
	u, ok := b.authenticate(r)
	if !ok {
		// keystonemiddleware's auth_token refuses the request before
		// freezer-api's context middleware sees it: no request id.
		apiUnauthorized(w, r)
		return
	}
	// freezer-api's context middleware (after auth_token in its paste
	// pipeline) names every request it lets through: the caller's
	// X-Openstack-Request-ID when it sends one (RequestContext keeps it),
	// prefixed "req-" unless it has that already, else a new one.
	rid := r.Header.Get("X-Openstack-Request-Id")
	if rid == "" {
		id := hexID()
		rid = "req-" + id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
	} else if !strings.HasPrefix(rid, "req-") {
		rid = "req-" + rid
	}
	w.Header().Set("X-Openstack-Request-Id", rid)
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method == "WEBSOCKET" {
		// falcon's WSGI app refuses its meta method before middleware
		// and routing.
		falconError(w, http.StatusBadRequest, "400 Bad Request", "")
		return
	}
	if !acceptsJSON(r) {
		notAcceptable(w, r)
		return
	}
	sc := scope{user: u}
	switch {
	case parts[0] == "v1" || (parts[0] == "v2" && len(parts) == 1):
		if len(parts) == 1 {
			b.homeDoc(w, r, parts[0])
			return
		}
		parts = parts[1:]
	case parts[0] == "v2":
		p := parts[1]
		sc.project = &p
		parts = parts[2:]
	default:
		falconError(w, http.StatusNotFound, "404 Not Found", "")
		return
	}
	if len(parts) == 0 || routeAllow(parts) == "" {
		falconError(w, http.StatusNotFound, "404 Not Found", "")
		return
	}
	if !knownMethod(w, r) {
		return
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Allow", routeAllow(parts))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		return
	}
	switch parts[0] {
	case "clients":
		b.serveClients(w, r, sc, parts)
		return
	case "actions":
		b.serveActions(w, r, sc, parts)
		return
	case "sessions":
		b.serveSessions(w, r, sc, parts)
		return
	case "backups":
		b.serveBackups(w, r, sc, parts)
		return
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		b.list(w, r, sc)
	case len(parts) == 1 && r.Method == http.MethodPost:
		b.create(w, r, sc)
	case len(parts) == 2 && r.Method == http.MethodGet:
		b.get(w, sc, parts[1])
	case len(parts) == 2 && r.Method == http.MethodDelete:
		b.delete(w, sc, parts[1])
	case len(parts) == 2 && r.Method == http.MethodPatch:
		b.patch(w, r, sc, parts[1])
	case len(parts) == 2 && r.Method == http.MethodPost:
		b.replace(w, r, sc, parts[1])
	case len(parts) == 3 && r.Method == http.MethodPost:
		b.event(w, r, sc, parts[1])
	default:
		methodNotAllowed(w, r, parts)
	}
}

// routeAllow is the methods a route answers, as falcon lists them in
// Allow (without OPTIONS); "" for no route.
func routeAllow(parts []string) string {
	coll := map[string]string{"jobs": "GET, POST", "clients": "GET, POST", "actions": "GET, POST", "sessions": "GET, POST", "backups": "GET, POST"}
	item := map[string]string{"jobs": "DELETE, GET, PATCH, POST", "clients": "DELETE, GET", "actions": "DELETE, GET, PATCH, POST", "sessions": "DELETE, GET, PATCH, POST", "backups": "DELETE, GET"}
	switch {
	case len(parts) == 1:
		return coll[parts[0]]
	case len(parts) == 2:
		return item[parts[0]]
	case len(parts) == 3 && parts[0] == "jobs" && parts[2] == "event":
		return "POST"
	case len(parts) == 3 && parts[0] == "sessions" && parts[2] == "action":
		return "POST"
	case len(parts) == 4 && parts[0] == "sessions" && parts[2] == "jobs":
		return "DELETE, PUT"
	}
	return ""
}

// methodNotAllowed is falcon's 405 for a route without the method.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, parts []string) {
	w.Header().Set("Allow", routeAllow(parts)+", OPTIONS")
	falconError(w, http.StatusMethodNotAllowed, "405 Method Not Allowed", "")
}

// render is the document GET returns, in the SQL backend's shape.
func (j *job) render() map[string]any {
	out := pyjson.Clone(j.doc).(map[string]any)
	out["job_id"] = j.id
	out["user_id"] = j.user
	if j.project == nil {
		out["project_id"] = nil
	} else {
		out["project_id"] = *j.project
	}
	return out
}

// jobOrder is a rendered job in the SQL backend's key order (get_job
// builds job_id, project_id, user_id, job_schedule, client_id, session_id,
// session_tag, description, job_actions).
func jobOrder(m map[string]any) obj {
	out := make(obj, 0, len(topOrder))
	for _, k := range topOrder {
		if v, ok := m[k]; ok {
			out = append(out, kv{k, v})
		}
	}
	return out
}

// ordered is a rendered job in the server's key order, its values in the
// order they were sent.
func (j *job) ordered(m map[string]any) obj {
	out := jobOrder(m)
	for i := range out {
		out[i].v = ordered(out[i].v, j.sh.kid(out[i].k))
	}
	return out
}

// stored keeps the columns the SQL backend stores, with its defaults.
func stored(doc map[string]any) map[string]any {
	out := map[string]any{
		"job_schedule": doc["job_schedule"],
		"client_id":    orDefault(doc, "client_id", ""),
		"session_id":   orDefault(doc, "session_id", ""),
		"session_tag":  orDefault(doc, "session_tag", json.Number("0")),
		"description":  orDefault(doc, "description", ""),
		"job_actions":  orDefault(doc, "job_actions", ""),
	}
	return pyjson.Clone(out).(map[string]any)
}

func orDefault(doc map[string]any, k string, def any) any {
	if v, ok := doc[k]; ok {
		return v
	}
	return def
}

func (b *Backend) list(w http.ResponseWriter, r *http.Request, sc scope) {
	offset, limit, big, ok := listParams(w, r, defaultLimit)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	search, valid := searchOption(body)
	if !valid {
		serverError(w)
		return
	}
	if search == nil && big {
		tooBig(w)
		return
	}
	b.mu.Lock()
	docs := []obj{}
	if search == nil {
		// LIMIT/OFFSET in SQL (a negative limit is no limit in SQLite):
		// only the page is rendered.
		start, n := max(offset, 0), 0
		for _, id := range b.order {
			if limit >= 0 && len(docs) >= limit {
				break
			}
			if j := b.jobs[id]; j != nil && sc.sees(j) {
				if n >= start {
					docs = append(docs, j.ordered(j.render()))
				}
				n++
			}
		}
	} else {
		var seen []*job
		for _, id := range b.order {
			if j := b.jobs[id]; j != nil && sc.sees(j) {
				seen = append(seen, j)
			}
		}
		all := make([]map[string]any, len(seen))
		for i, j := range seen {
			all[i] = j.render()
		}
		for _, i := range searchIndex(all, search, offset, limit, topOrder) {
			docs = append(docs, seen[i].ordered(all[i]))
		}
	}
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, obj{{"jobs", docs}})
}

func (b *Backend) get(w http.ResponseWriter, sc scope, id string) {
	b.mu.Lock()
	j := b.jobs[id]
	if j == nil || !sc.sees(j) {
		b.mu.Unlock()
		// freezer-api answers an unknown job with an empty 404.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	doc := j.ordered(j.render())
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

func (b *Backend) delete(w http.ResponseWriter, sc scope, id string) {
	b.mu.Lock()
	j := b.jobs[id]
	if j == nil || !sc.sees(j) {
		b.mu.Unlock()
		if sc.project == nil {
			falconError(w, http.StatusNotFound, "Not Found", "No Job found with ID:"+id)
			return
		}
		w.WriteHeader(http.StatusNoContent) // v2 deletes without looking
		return
	}
	j.stopTimers()
	delete(b.jobs, id)
	b.gone["jobs/"+id] = true
	for i, o := range b.order {
		if o == id {
			b.order = append(b.order[:i], b.order[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// prepare does what freezer-api does to a body before validation: expand
// action_defaults, default job_schedule to {}, and register the actions
// (action_id, user_id, and project_id on v2). It returns an HTTP status and
// message when the server would refuse.
func (b *Backend) prepare(body any, sh *shape, sc scope) (map[string]any, int, string) {
	doc, ok := body.(map[string]any)
	if !ok {
		return nil, http.StatusInternalServerError, ""
	}
	if defs, ok := doc["action_defaults"]; ok && defs != nil {
		delete(doc, "action_defaults")
		dm, ok := defs.(map[string]any)
		if !ok {
			return nil, http.StatusBadRequest, "action_defaults shouldbe a dictionary"
		}
		acts, ok := doc["job_actions"].([]any)
		if !ok {
			return nil, http.StatusInternalServerError, ""
		}
		// The defaults' keys, in the order they were sent.
		order := sortedKeys(dm)
		if dsh := sh.kid("action_defaults"); dsh != nil {
			order = dsh.keys
		}
		for i, a := range acts {
			am, ok := a.(map[string]any)
			if !ok {
				return nil, http.StatusInternalServerError, ""
			}
			fa, ok := am["freezer_action"].(map[string]any)
			if !ok {
				return nil, http.StatusBadRequest, "Missing request body"
			}
			fsh := sh.kid("job_actions").elem(i).kid("freezer_action")
			for _, k := range order {
				if v, ok := dm[k]; ok && fa[k] == nil {
					fa[k] = v
					fsh.add(k) // a new key goes last, as in a Python dict
				}
			}
		}
	}
	if _, ok := doc["job_schedule"]; !ok {
		doc["job_schedule"] = map[string]any{}
	}
	if raw, present := doc["job_actions"]; present {
		if m, ok := raw.(map[string]any); ok && len(m) == 0 {
			// Iterating an empty dict registers nothing: stored as {}.
			return doc, 0, ""
		}
		acts, ok := raw.([]any)
		if !ok {
			return nil, http.StatusInternalServerError, ""
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, a := range acts {
			am, ok := a.(map[string]any)
			if !ok {
				return nil, http.StatusInternalServerError, ""
			}
			aid, _ := am["action_id"].(string)
			if aid != "" {
				if old := b.findActionLocked(sc, aid); old != nil {
					if m, _ := old.meta.(map[string]any); sameAction(m, am["freezer_action"]) {
						continue
					}
					am["action_id"] = ""
					return nil, http.StatusBadRequest, `'' does not match '^[\\w-]+$'`
				}
			}
			if _, ok := am["action_id"]; !ok {
				am["action_id"] = hexID()
			}
			am["user_id"] = sc.user.ID
			if sc.project != nil {
				am["project_id"] = *sc.project
			}
			if m := checkObject(am, actionRules, false); m != "" {
				return nil, http.StatusBadRequest, m
			}
			fa, ok := am["freezer_action"]
			if !ok {
				return nil, http.StatusBadRequest, "'freezer_action' is a required property"
			}
			if fm, _ := fa.(map[string]any); fm["action"] == nil {
				return nil, statusNoAction, ""
			}
			id, _ := am["action_id"].(string)
			if code, msg := b.addActionLocked(sc, id, am, sh.kid("job_actions").elem(i)); code != 0 {
				return nil, code, msg
			}
		}
	}
	return doc, 0, ""
}

// actionRules is freezer-api's action_schema properties (freezer_action's
// keys and action_id, user_id, project_id, checked on the action itself).
var actionRules = append(append([]rule(nil), freezerActionRules...),
	rule{name: "action_id", typ: "string", re: idRE, pysrc: pyID},
	rule{name: "user_id", typ: "string", re: idRE, pysrc: pyID},
	rule{name: "project_id", typ: "string", re: idRE, pysrc: pyID},
)

func sameAction(stored map[string]any, fa any) bool {
	m, _ := fa.(map[string]any)
	for k, v := range stored {
		if k != "_version" && k != "user_id" && !pyEqual(v, m[k]) {
			return false
		}
	}
	for k, v := range m {
		if k != "_version" && k != "user_id" && !pyEqual(v, stored[k]) {
			return false
		}
	}
	return true
}

// statusNoAction marks an action without "action", which the real server
// fails to insert into its actions table (NOT NULL).
const statusNoAction = -500

func answer(w http.ResponseWriter, code int, msg string) {
	if code == statusNoAction {
		falconError(w, http.StatusInternalServerError, "Internal Storage Error",
			"Mysql operation failed (sqlite3.IntegrityError) NOT NULL constraint failed: actions.action")
		return
	}
	if code == http.StatusInternalServerError && msg != "" {
		falconError(w, code, "Internal Storage Error", msg)
		return
	}
	if code == http.StatusInternalServerError {
		serverError(w)
		return
	}
	badRequest(w, msg)
}

// readJob reads a job body and prepares it as freezer-api does for create,
// patch and replace; false when it has answered.
func (b *Backend) readJob(w http.ResponseWriter, r *http.Request, sc scope) (map[string]any, *shape, bool) {
	body, sh, ok := readShaped(w, r)
	if !ok {
		return nil, nil, false
	}
	doc, code, msg := b.prepare(body, sh, sc)
	if code != 0 {
		answer(w, code, msg)
		return nil, nil, false
	}
	// The keys the server adds to each action: ActionDoc.create's
	// user_id, project_id (v2) and action_id.
	if acts, ok := doc["job_actions"].([]any); ok {
		for i := range acts {
			ash := sh.kid("job_actions").elem(i)
			if sc.project != nil {
				ash = ash.add("user_id", "project_id", "action_id")
			} else {
				ash = ash.add("user_id", "action_id")
			}
			if sh != nil && sh.kid("job_actions") != nil && i < len(sh.kid("job_actions").elems) {
				sh.kid("job_actions").elems[i] = ash
			}
		}
	}
	return doc, sh, true
}

// validOwned gives a full document its owner and id, and checks it
// against job_schema; false when it has answered 400.
func validOwned(w http.ResponseWriter, doc map[string]any, sc scope, id string) bool {
	doc["user_id"] = sc.user.ID
	doc["job_id"] = id
	if sc.project != nil {
		doc["project_id"] = *sc.project
	}
	if m := validateJob(doc, true); m != "" {
		badRequest(w, m)
		return false
	}
	return true
}

func (b *Backend) create(w http.ResponseWriter, r *http.Request, sc scope) {
	doc, sh, ok := b.readJob(w, r, sc)
	if !ok {
		return
	}
	sh = sh.put("job_schedule", sh.kid("job_schedule").add("time_created", "time_started", "time_ended"))
	sched, ok := doc["job_schedule"].(map[string]any)
	if !ok {
		serverError(w)
		return
	}
	now := b.env.Clock.Now().Unix()
	sched["time_created"] = json.Number(strconv.FormatInt(now, 10))
	sched["time_started"] = json.Number("-1")
	sched["time_ended"] = json.Number("-1")
	id := hexID()
	if !validOwned(w, doc, sc, id) {
		return
	}
	b.mu.Lock()
	j := &job{id: id, user: sc.user.ID, project: sc.project, doc: stored(doc), sh: sh}
	b.jobs[id] = j
	b.order = append(b.order, id)
	b.autostartLocked(j)
	b.mu.Unlock()
	writeJSON(w, http.StatusCreated, obj{{"job_id", id}})
}

func (b *Backend) patch(w http.ResponseWriter, r *http.Request, sc scope, id string) {
	doc, sh, ok := b.readJob(w, r, sc)
	if !ok {
		return
	}
	delete(doc, "user_id")
	delete(doc, "job_id")
	if m := validateJob(doc, false); m != "" {
		badRequest(w, m)
		return
	}
	// The schema allows _version and session_name, but the jobs table has
	// no such columns and the update fails.
	for _, k := range []string{"_version", "session_name"} {
		if _, ok := doc[k]; ok {
			falconError(w, http.StatusInternalServerError, "Internal Storage Error", "sql operation failed Invalid expression type: '"+k+"'")
			return
		}
	}
	b.mu.Lock()
	j := b.jobs[id]
	if j == nil || !sc.sees(j) {
		b.mu.Unlock()
		falconError(w, http.StatusNotFound, "Not Found", "Tuple not registered with ID "+id+" in Table<class 'freezer_api.db.sqlalchemy.models.Job'> ")
		return
	}
	for k, v := range doc {
		switch k {
		case "job_schedule", "client_id", "session_id", "session_tag", "description", "job_actions":
			j.doc[k] = pyjson.Clone(v)
			j.sh = j.sh.put(k, sh.kid(k).clone())
		case "project_id":
			if s, ok := v.(string); ok {
				j.project = &s
			}
		}
	}
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, obj{{"job_id", id}, {"version", 0}})
}

func (b *Backend) replace(w http.ResponseWriter, r *http.Request, sc scope, id string) {
	doc, sh, ok := b.readJob(w, r, sc)
	if !ok {
		return
	}
	if !validOwned(w, doc, sc, id) {
		return
	}
	b.mu.Lock()
	if j := b.jobs[id]; j != nil || b.gone["jobs/"+id] {
		if j == nil || !sc.sees(j) {
			b.mu.Unlock()
			falconError(w, http.StatusInternalServerError, "Internal Storage Error", "Mysql operation failed (sqlite3.IntegrityError) UNIQUE constraint failed: jobs.id")
			return
		}
		j.doc, j.sh = stored(doc), sh
	} else {
		b.jobs[id] = &job{id: id, user: sc.user.ID, project: sc.project, doc: stored(doc), sh: sh}
		b.order = append(b.order, id)
	}
	b.mu.Unlock()
	writeJSON(w, http.StatusCreated, obj{{"job_id", id}, {"version", id}})
}

func (b *Backend) event(w http.ResponseWriter, r *http.Request, sc scope, id string) {
	data, ok := readRaw(w, r)
	if !ok {
		return
	}
	ev, ok := firstKey(data)
	if !ok {
		badRequest(w, "Bad event request format")
		return
	}
	if ev != "start" && ev != "stop" && ev != "abort" {
		badRequest(w, "Bad Action Method")
		return
	}
	b.mu.Lock()
	j := b.jobs[id]
	if j == nil || !sc.sees(j) {
		b.mu.Unlock()
		// The server builds the event on an empty document and fails to
		// store it.
		badRequest(w, "'job_actions' is a required property")
		return
	}
	sched, ok := j.doc["job_schedule"].(map[string]any)
	if !ok {
		sched = map[string]any{}
		j.doc["job_schedule"] = sched
	}
	result := ev + " already requested"
	if sched["event"] != ev && sc.project == nil {
		// The SQL backend writes the event back with the whole document,
		// whose project_id is null on v1, and its schema refuses that.
		b.mu.Unlock()
		badRequest(w, "None is not of type 'string'")
		return
	}
	if sched["event"] != ev {
		// Job.start/stop/abort assign into the stored dict: a key it
		// lacked goes last, event first, then status and result.
		sched["event"] = ev
		keys := []string{"event"}
		if ev == "start" {
			sched["status"] = ""
			sched["result"] = ""
			keys = append(keys, "status", "result")
		}
		j.sh = j.sh.put("job_schedule", j.sh.kid("job_schedule").add(keys...))
		result = "success"
		b.pickupLocked(j)
	}
	b.mu.Unlock()
	writeJSON(w, http.StatusAccepted, obj{{"result", result}})
}

// homeDoc is the json-home document freezer-api serves at /v1 and /v2.
func (b *Backend) homeDoc(w http.ResponseWriter, r *http.Request, version string) {
	if !knownMethod(w, r) {
		return
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Allow", "GET")
		w.WriteHeader(http.StatusOK)
		return
	}
	if r.Method != http.MethodGet { // no on_head: HEAD is a 405 too
		w.Header().Set("Allow", "GET, OPTIONS")
		falconError(w, http.StatusMethodNotAllowed, "405 Method Not Allowed", "")
		return
	}
	vars := `
                "backup_id": "param/backup_id"`
	tmpl := "/v1/backups/{backup_id}"
	if version == "v2" {
		vars = `
                "project_id": "param/project_id",
                "backup_id": "param/backup_id"`
		tmpl = "/v2/{project_id}/backups/{backup_id}"
	}
	doc := `{
    "resources": {
        "rel/backups": {
            "href-template": "` + tmpl + `",
            "href-vars": {` + vars + `
            },
            "hints": {
                "allow": [
                    "GET"
                ],
                "formats": {
                    "application/json": {}
                }
            }
        }
    }
}`
	w.Header().Set("Content-Type", "application/json-home")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(doc))
}

// versions is the version document freezer-api's VersionNegotiator
// answers at / (300 Multiple Choices). freezer-api 13 lists v1 alone when
// enable_v1_api is set and v2 alone otherwise; the fake serves both and
// lists both.
func (b *Backend) versions(w http.ResponseWriter, r *http.Request) {
	if !acceptsJSON(r) {
		notAcceptable(w, r)
		return
	}
	base := baseURL(r) + "/"
	doc := obj{{"versions", []obj{
		{{"id", "v2"}, {"status", "CURRENT"}, {"updated", "2018-02-21T13:30:00"}, {"links", []obj{{{"href", base + "v2/"}, {"rel", "self"}}}}},
		{{"id", "v1"}, {"status", "DEPRECATED"}, {"updated", "2018-02-21T13:30:00"}, {"links", []obj{{{"href", base + "v1/"}, {"rel", "self"}}}}},
	}}}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusMultipleChoices)
	_, _ = w.Write(pyDumps(doc))
}
