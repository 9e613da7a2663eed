package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/longrun/longrun/fake/ftrack"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// ControlPrefix is where the control API lives. Every route takes and
// answers JSON; all but health and version ask for the header
// "Authorization: Bearer <Server.ControlToken()>" and answer 404 when the
// server was started without Options.Control.
//
//	GET    /_fake/health            {"status":"ok"}
//	GET    /_fake/version           the versions of each service the fake emulates
//	GET    /_fake/clock             the clock: now, speed, paused, pending timers, running jobs
//	POST   /_fake/clock             {"action":"advance","by":"90s"}
//	                                {"action":"run","limit":"24h","step":"1s"} (until no job runs)
//	                                {"action":"speed","speed":60} | {"action":"pause"} | {"action":"resume"}
//	GET    /_fake/faults            the scripted and named faults
//	POST   /_fake/faults            {"dialect":"cloudsigma","method":"GET","path":"/api/2.0/jobs/",
//	                                 "times":3,"status":503,"body":"...","headers":{"Retry-After":"1"},
//	                                 "latency":"2s","drop":false,"truncate_after":0}
//	                                or {"name":"truenas.drop-websocket","times":1}
//	DELETE /_fake/faults[?dialect=] clear all faults, or one dialect's
//	GET    /_fake/jobs              running jobs per dialect
//	POST   /_fake/jobs              {"dialect":"truenas","id":"12","outcome":"fail"|"abort"|"finish"}
//	GET    /_fake/requests[?dialect=&after=seq]  the request log
//	DELETE /_fake/requests          clear it
//	POST   /_fake/reset             back to the seeded state
//	GET    /_fake/seed              the seed document in force
//	POST   /_fake/seed              load a seed document (see SeedDocument) and reset to it
//
// Errors answer {"error": "..."} with 400 (bad request), 401 (token), 404
// (no such job, control off), 405, 409 (job not running) or 501 (the
// dialect has no such feature).
const ControlPrefix = "/_fake/"

// MaxControlBody is the largest control request body read.
const MaxControlBody = 1 << 20

// Limits of POST /_fake/clock.
const (
	// DefaultRunLimit bounds "run" when the request gives no limit.
	DefaultRunLimit = 24 * time.Hour
	// MaxRunLimit is the largest limit "run" accepts.
	MaxRunLimit = 366 * 24 * time.Hour
	// DefaultRunStep is how far "run" moves when no timer or job event is
	// pending, before it checks the backends' running jobs again.
	DefaultRunStep = time.Second
	// maxRunSteps bounds the iterations of one "run".
	maxRunSteps = 1_000_000
)

// JobCounter is a backend that reports how many of its jobs still run,
// for POST /_fake/clock {"action":"run"}.
type JobCounter interface {
	RunningJobs() int
}

// EventSource is a backend whose jobs move on the clock without timers
// (their state is computed from the time on each read); NextEvent is the
// next instant one of them changes, so "run" can jump straight there.
type EventSource interface {
	NextEvent() (time.Time, bool)
}

// JobForcer is a backend that can end one of its jobs on request
// (outcome sim.OutcomeFail, OutcomeAbort or OutcomeFinish). It returns
// errors wrapping sim.ErrNoJob, sim.ErrNotRunning or sim.ErrUnsupported.
type JobForcer interface {
	ForceJob(id, outcome string) error
}

// dialectBackends maps a dialect to the backend that runs its jobs.
var dialectBackends = map[string]string{
	DialectCloudSigma: "cloudsigma",
	DialectTrueNAS:    "truenas",
	DialectFreezer:    "freezer",
	DialectFtrack:     "ftrack",
}

// Duration is a time.Duration in JSON: a Go duration string ("90s",
// "1h30m") or a number of seconds.
type Duration time.Duration

// UnmarshalJSON reads "90s" or 90.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New(`a duration is a string such as "90s" or a number of seconds`)
	}
	if math.IsNaN(f) || math.Abs(f*float64(time.Second)) > math.MaxInt64/2 {
		return errors.New("duration out of range")
	}
	*d = Duration(f * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// ClockRequest is the body of POST /_fake/clock.
type ClockRequest struct {
	// Action is "advance", "run", "speed", "pause" or "resume".
	Action string `json:"action"`
	// By is how far "advance" moves.
	By Duration `json:"by,omitempty"`
	// Limit bounds "run" (DefaultRunLimit when zero).
	Limit Duration `json:"limit,omitempty"`
	// Step caps each of "run"'s moves (default: straight to the next timer
	// or job event, DefaultRunStep when there is none).
	Step Duration `json:"step,omitempty"`
	// Speed is "speed"'s fake seconds per wall second (0: stopped).
	Speed *float64 `json:"speed,omitempty"`
}

// ParseClockRequest reads and checks a POST /_fake/clock body.
func ParseClockRequest(body []byte) (ClockRequest, error) {
	var c ClockRequest
	if err := decodeStrict(bytes.NewReader(body), &c); err != nil {
		return c, err
	}
	switch c.Action {
	case "advance":
		if c.By <= 0 {
			return c, errors.New(`"advance" needs a positive "by"`)
		}
	case "run":
		if c.Limit < 0 || time.Duration(c.Limit) > MaxRunLimit {
			return c, fmt.Errorf(`"limit" must be between 0 and %s`, MaxRunLimit)
		}
		if c.Step < 0 {
			return c, errors.New(`"step" must not be negative`)
		}
	case "speed":
		if c.Speed == nil || *c.Speed < 0 || math.IsNaN(*c.Speed) || math.IsInf(*c.Speed, 0) || *c.Speed > 1e9 {
			return c, errors.New(`"speed" needs "speed" between 0 and 1e9`)
		}
	case "pause", "resume":
	default:
		return c, fmt.Errorf(`unknown action %q: use "advance", "run", "speed", "pause" or "resume"`, c.Action)
	}
	return c, nil
}

// FaultRequest is the body of POST /_fake/faults: either a scripted HTTP
// fault (the fields of sim.Fault) or a named one (Name, Times).
type FaultRequest struct {
	Dialect       string            `json:"dialect,omitempty"`
	Method        string            `json:"method,omitempty"`
	Path          string            `json:"path,omitempty"`
	Times         int               `json:"times,omitempty"`
	Status        int               `json:"status,omitempty"`
	Body          string            `json:"body,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Latency       Duration          `json:"latency,omitempty"`
	Drop          bool              `json:"drop,omitempty"`
	TruncateAfter int64             `json:"truncate_after,omitempty"`
	// Name arms a named fault (sim.FaultDropWebsocket, ...) instead.
	Name string `json:"name,omitempty"`
}

// NamedFaults lists the named faults POST /_fake/faults arms.
func NamedFaults() []string {
	return []string{sim.FaultDropWebsocket, sim.FaultDuplicateEvents, sim.FaultReorderEvents, sim.FaultSlowReplies}
}

// ParseFaultRequest reads and checks a POST /_fake/faults body.
func ParseFaultRequest(body []byte) (FaultRequest, error) {
	var f FaultRequest
	if err := decodeStrict(bytes.NewReader(body), &f); err != nil {
		return f, err
	}
	if f.Times < 0 {
		return f, errors.New(`"times" must not be negative (0: forever)`)
	}
	if f.Name != "" {
		for _, n := range NamedFaults() {
			if n == f.Name {
				return f, nil
			}
		}
		return f, fmt.Errorf("unknown named fault %q: use one of %s", f.Name, strings.Join(NamedFaults(), ", "))
	}
	if f.Dialect != "" && dialectPrefix(f.Dialect) == "" {
		return f, fmt.Errorf("unknown dialect %q: use one of %s", f.Dialect, strings.Join(Dialects(), ", "))
	}
	if f.Path != "" && !strings.HasPrefix(f.Path, "/") {
		return f, errors.New(`"path" is a path prefix starting with "/"`)
	}
	if strings.HasPrefix(f.Path, ControlPrefix) {
		return f, errors.New("the control API cannot be faulted")
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return f, errors.New(`"status" must be an HTTP status, 100 to 599`)
	}
	if f.Latency < 0 || f.TruncateAfter < 0 {
		return f, errors.New(`"latency" and "truncate_after" must not be negative`)
	}
	if f.Status == 0 && f.Latency == 0 && !f.Drop && f.TruncateAfter == 0 {
		return f, errors.New(`a fault needs an effect: "status", "latency", "drop" or "truncate_after"`)
	}
	for k := range f.Headers {
		if k == "" || strings.ContainsAny(k, " \r\n:") {
			return f, fmt.Errorf("bad header name %q", k)
		}
	}
	for _, v := range f.Headers {
		if strings.ContainsAny(v, "\r\n") {
			return f, errors.New("a header value must not hold a line break")
		}
	}
	return f, nil
}

// JobRequest is the body of POST /_fake/jobs.
type JobRequest struct {
	Dialect string `json:"dialect"`
	ID      string `json:"id"`
	// Outcome is "fail", "abort" or "finish".
	Outcome string `json:"outcome"`
}

// ParseJobRequest reads and checks a POST /_fake/jobs body.
func ParseJobRequest(body []byte) (JobRequest, error) {
	var j JobRequest
	if err := decodeStrict(bytes.NewReader(body), &j); err != nil {
		return j, err
	}
	if _, ok := dialectBackends[j.Dialect]; !ok {
		return j, fmt.Errorf(`unknown dialect %q for a job: use cloudsigma, truenas, freezer or ftrack`, j.Dialect)
	}
	if j.ID == "" {
		return j, errors.New(`"id" is required`)
	}
	switch j.Outcome {
	case sim.OutcomeFail, sim.OutcomeAbort, sim.OutcomeFinish:
	default:
		return j, fmt.Errorf(`unknown outcome %q: use "fail", "abort" or "finish"`, j.Outcome)
	}
	return j, nil
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func controlError(w http.ResponseWriter, status int, format string, args ...any) {
	writeControlJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// readControlBody reads a control request body, at most MaxControlBody.
func readControlBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxControlBody))
	if err != nil {
		controlError(w, http.StatusRequestEntityTooLarge, "request body over %d bytes or unreadable: %v", MaxControlBody, err)
		return nil, false
	}
	return body, true
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return ok && sim.SecretEqual(strings.TrimSpace(tok), s.token)
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	route := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, ControlPrefix), "/")
	switch route {
	case "health":
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeControlJSON(w, http.StatusOK, map[string]any{"status": "ok", "control": s.token != ""})
		return
	case "version":
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeControlJSON(w, http.StatusOK, s.versions())
		return
	}
	if s.token == "" {
		controlError(w, http.StatusNotFound, "the control API is off: start the fake with fake.Options{Control: true}")
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="longrun-fake"`)
		controlError(w, http.StatusUnauthorized, "the control API needs the header Authorization: Bearer <control token>")
		return
	}
	switch route {
	case "clock":
		s.controlClock(w, r)
	case "faults":
		s.controlFaults(w, r)
	case "jobs":
		s.controlJobs(w, r)
	case "requests":
		s.controlRequests(w, r)
	case "reset":
		if !allow(w, r, http.MethodPost) {
			return
		}
		if err := s.Reset(); err != nil {
			controlError(w, http.StatusInternalServerError, "reset: %v", err)
			return
		}
		writeControlJSON(w, http.StatusOK, map[string]any{"reset": true, "clock": s.clockState()})
	case "seed":
		s.controlSeed(w, r)
	default:
		controlError(w, http.StatusNotFound, "no control route %s%s", ControlPrefix, route)
	}
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	controlError(w, http.StatusMethodNotAllowed, "%s is not allowed here; use %s", r.Method, strings.Join(methods, " or "))
	return false
}

// versions is what GET /_fake/version answers.
func (s *Server) versions() map[string]any {
	fakeVersion := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		fakeVersion = bi.Main.Version
	}
	tn := string(truenas.DefaultVersion)
	if b, ok := s.set.Load().backend("truenas").(*truenas.Backend); ok {
		tn = string(b.Version())
	}
	return map[string]any{
		"longrun_fake": fakeVersion,
		"services": map[string]any{
			DialectCloudSigma: map[string]any{"api": "2.0", "emulating": "2.0"},
			DialectTrueNAS: map[string]any{"api": "JSON-RPC 2.0 over websocket", "emulating": tn,
				"versions": TrueNASVersions()},
			DialectFreezer:  map[string]any{"api": []string{"v1", "v2"}, "emulating": "v2"},
			DialectKeystone: map[string]any{"api": "v3", "emulating": "v3.14"},
			DialectFtrack:   map[string]any{"api": "4", "emulating": ftrack.Version},
		},
	}
}

// TrueNASVersions lists the middleware releases the TrueNAS backend can
// emulate (Options.TrueNASVersion), oldest first.
func TrueNASVersions() []string {
	var out []string
	for _, v := range truenas.Versions() {
		out = append(out, string(v))
	}
	return out
}

// parseTrueNASVersion reads Options.TrueNASVersion ("" is the backend's
// default).
func parseTrueNASVersion(v string) (truenas.Version, error) {
	if v == "" {
		return truenas.DefaultVersion, nil
	}
	tv, err := truenas.ParseVersion(v)
	if err != nil {
		return "", fmt.Errorf("fake: TrueNAS version %q is not emulated; use one of %s or newest", v, strings.Join(TrueNASVersions(), ", "))
	}
	return tv, nil
}

// ClockState is what GET /_fake/clock answers.
type ClockState struct {
	Now time.Time `json:"now"`
	// Speed is fake seconds per wall second; 0 when manual or paused.
	Speed float64 `json:"speed"`
	// Auto is true when every wait on the clock jumps it forward.
	Auto          bool           `json:"auto"`
	PendingTimers int            `json:"pending_timers"`
	RunningJobs   map[string]int `json:"running_jobs"`
}

func (s *Server) clockState() ClockState {
	c := s.env.Clock
	return ClockState{Now: c.Now(), Speed: c.Speed(), Auto: c.Auto(), PendingTimers: c.Pending(), RunningJobs: s.runningJobs()}
}

// runningJobs asks every backend with a JobCounter.
func (s *Server) runningJobs() map[string]int {
	out := map[string]int{}
	set := s.set.Load()
	for d, name := range dialectBackends {
		if jc, ok := set.backend(name).(JobCounter); ok {
			out[d] = jc.RunningJobs()
		}
	}
	return out
}

// nextEvent is the earliest NextEvent of the backends that have one.
func (s *Server) nextEvent() (time.Time, bool) {
	var next time.Time
	set := s.set.Load()
	for _, name := range dialectBackends {
		if es, ok := set.backend(name).(EventSource); ok {
			if t, ok := es.NextEvent(); ok && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next, !next.IsZero()
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// RunUntilDone moves the clock to each next timer or backend event (see
// EventSource) until no backend reports a running job or limit fake time
// has passed; it reports whether every job is done and how far the clock
// moved. A positive step caps each move; with none pending the clock moves
// by step (DefaultRunStep when zero), for jobs another goroutine is about
// to schedule.
func (s *Server) RunUntilDone(limit, step time.Duration) (bool, time.Duration) {
	if limit <= 0 {
		limit = DefaultRunLimit
	}
	c := s.env.Clock
	start := c.Now()
	end := start.Add(limit)
	for range maxRunSteps {
		if total(s.runningJobs()) == 0 {
			return true, c.Since(start)
		}
		now := c.Now()
		if !now.Before(end) {
			break
		}
		var next time.Time
		if t, ok := c.Next(); ok {
			next = t
		}
		if t, ok := s.nextEvent(); ok && t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
		if next.IsZero() || (step > 0 && next.After(now.Add(step))) {
			next = now.Add(max(step, DefaultRunStep))
			if step > 0 {
				next = now.Add(step)
			}
		}
		if next.After(end) {
			next = end
		}
		c.Set(next)
	}
	return total(s.runningJobs()) == 0, c.Since(start)
}

func (s *Server) controlClock(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method == http.MethodGet {
		writeControlJSON(w, http.StatusOK, s.clockState())
		return
	}
	body, ok := readControlBody(w, r)
	if !ok {
		return
	}
	req, err := ParseClockRequest(body)
	if err != nil {
		controlError(w, http.StatusBadRequest, "clock: %v", err)
		return
	}
	c := s.env.Clock
	out := map[string]any{}
	switch req.Action {
	case "advance":
		c.Advance(time.Duration(req.By))
	case "run":
		done, moved := s.RunUntilDone(time.Duration(req.Limit), time.Duration(req.Step))
		out["done"], out["advanced"] = done, Duration(moved)
	case "speed":
		c.SetSpeed(*req.Speed)
	case "pause":
		c.Pause()
	case "resume":
		out["resumed"] = c.Resume()
	}
	out["clock"] = s.clockState()
	writeControlJSON(w, http.StatusOK, out)
}

// faultView is a fault as GET /_fake/faults lists it.
type faultView struct {
	Dialect       string      `json:"dialect,omitempty"`
	Method        string      `json:"method,omitempty"`
	Path          string      `json:"path,omitempty"`
	Times         int         `json:"times"`
	Status        int         `json:"status,omitempty"`
	Body          string      `json:"body,omitempty"`
	Headers       http.Header `json:"headers,omitempty"`
	Latency       Duration    `json:"latency,omitempty"`
	Drop          bool        `json:"drop,omitempty"`
	TruncateAfter int64       `json:"truncate_after,omitempty"`
}

func (s *Server) faultList() map[string]any {
	rules, named := s.env.Faults.List()
	views := make([]faultView, 0, len(rules))
	for _, f := range rules {
		views = append(views, faultView{f.Dialect, f.Method, f.PathPrefix, f.Times, f.Status, f.Body, f.Header,
			Duration(f.Latency), f.Drop, f.TruncateAfter})
	}
	return map[string]any{"faults": views, "named": named}
}

func (s *Server) controlFaults(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeControlJSON(w, http.StatusOK, s.faultList())
		return
	case http.MethodDelete:
		d := r.URL.Query().Get("dialect")
		if d == "" {
			s.env.Faults.Reset()
		} else {
			if dialectPrefix(d) == "" {
				controlError(w, http.StatusBadRequest, "unknown dialect %q", d)
				return
			}
			s.env.Faults.RemoveDialect(d)
		}
		writeControlJSON(w, http.StatusOK, s.faultList())
		return
	}
	body, ok := readControlBody(w, r)
	if !ok {
		return
	}
	req, err := ParseFaultRequest(body)
	if err != nil {
		controlError(w, http.StatusBadRequest, "faults: %v", err)
		return
	}
	if req.Name != "" {
		times := req.Times
		if times == 0 {
			times = -1
		}
		s.env.Faults.Inject(req.Name, times)
	} else {
		f := sim.Fault{Dialect: req.Dialect, Method: strings.ToUpper(req.Method), PathPrefix: req.Path, Times: req.Times,
			Status: req.Status, Body: req.Body, Latency: time.Duration(req.Latency), Drop: req.Drop, TruncateAfter: req.TruncateAfter}
		if f.PathPrefix == "" {
			f.PathPrefix = dialectPrefix(req.Dialect)
		}
		if len(req.Headers) > 0 {
			f.Header = http.Header{}
			for k, v := range req.Headers {
				f.Header.Set(k, v)
			}
		}
		s.env.Faults.Add(f)
	}
	writeControlJSON(w, http.StatusCreated, s.faultList())
}

func (s *Server) controlJobs(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method == http.MethodGet {
		writeControlJSON(w, http.StatusOK, map[string]any{"running_jobs": s.runningJobs()})
		return
	}
	body, ok := readControlBody(w, r)
	if !ok {
		return
	}
	req, err := ParseJobRequest(body)
	if err != nil {
		controlError(w, http.StatusBadRequest, "jobs: %v", err)
		return
	}
	jf, ok := s.set.Load().backend(dialectBackends[req.Dialect]).(JobForcer)
	if !ok {
		controlError(w, http.StatusNotImplemented, "the %s backend cannot force a job's outcome", req.Dialect)
		return
	}
	if err := jf.ForceJob(req.ID, req.Outcome); err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, sim.ErrNoJob):
			status = http.StatusNotFound
		case errors.Is(err, sim.ErrNotRunning):
			status = http.StatusConflict
		case errors.Is(err, sim.ErrUnsupported):
			status = http.StatusNotImplemented
		}
		controlError(w, status, "jobs: %v", err)
		return
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"dialect": req.Dialect, "id": req.ID, "outcome": req.Outcome})
}

func (s *Server) controlRequests(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodDelete) {
		return
	}
	if r.Method == http.MethodDelete {
		s.log.clear()
		writeControlJSON(w, http.StatusOK, map[string]any{"requests": []RequestRecord{}})
		return
	}
	q := r.URL.Query()
	var after uint64
	if a := q.Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			controlError(w, http.StatusBadRequest, `"after" is a request sequence number`)
			return
		}
		after = n
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"requests": s.log.list(q.Get("dialect"), after)})
}

func (s *Server) controlSeed(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method == http.MethodGet {
		s.resetM.Lock()
		doc := s.seed
		s.resetM.Unlock()
		if doc == nil {
			doc = &SeedDocument{}
		}
		writeControlJSON(w, http.StatusOK, doc)
		return
	}
	body, ok := readControlBody(w, r)
	if !ok {
		return
	}
	if err := s.LoadSeed(body); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, sim.ErrUnsupported) {
			status = http.StatusNotImplemented
		}
		controlError(w, status, "%v", err)
		return
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"seeded": true, "users": len(s.env.Users())})
}

// DefaultTrueNASVersion is the release the TrueNAS backend emulates when
// Options.TrueNASVersion is empty.
const DefaultTrueNASVersion = string(truenas.DefaultVersion)
