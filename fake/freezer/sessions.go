package freezer

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/longrun/longrun/fake/internal/pyjson"
)

// Sessions, as freezer-api 13 keeps them: a session groups jobs that start
// together. A scheduler posts {"start": {"job_id", "current_tag"}} before
// it runs a session's job and {"end": {"job_id", "result"}} after; the
// first start of a round moves the session's tag on and marks it running,
// and the session completes when every job has ended.

var sessionRules = []rule{
	{name: "schedule", typ: "object", nested: func(v any) string { return checkObject(v, scheduleRules, true) }},
	{name: "session_id", typ: "string", re: idRE, pysrc: pyID},
	{name: "user_id", typ: "string", re: idRE, pysrc: pyID},
	{name: "project_id", typ: "string", re: idRE, pysrc: pyID},
	{name: "session_tag", typ: "integer"},
	{name: "time_started", typ: "integer"},
	{name: "time_ended", typ: "integer"},
}

// sessionColumns are the session table's plain columns, in get_session's
// order.
var sessionColumns = []string{"description", "session_tag", "result", "hold_off", "status", "time_ended", "time_started", "time_end", "time_start"}

// validSession checks a session against session_schema (full) or
// session_patch_schema.
func validSession(doc map[string]any, full bool) string {
	return validDoc(doc, sessionRules, false, full, "session_id", "session_tag", "user_id", "schedule")
}

func (s *session) col(k string) any {
	for _, e := range s.cols {
		if e.k == k {
			return e.v
		}
	}
	return nil
}

// get is get_session's document.
func (s *session) get() obj {
	return s.doc(obj{{"project_id", strPtrValue(s.project)}, {"session_id", s.id}, {"user_id", s.user}}, sessionColumns)
}

// listed is search_session's document: the request's ids, the columns in
// another order.
func (s *session) listed(sc scope) (map[string]any, obj) {
	o := s.doc(obj{{"project_id", strPtrValue(sc.project)}, {"user_id", sc.user.ID}, {"session_id", s.id}},
		[]string{"description", "session_tag", "result", "hold_off", "status", "time_ended", "time_end", "time_started", "time_start"})
	return toMap(o).(map[string]any), o
}

// doc appends the columns in order, the schedule and the jobs to head.
func (s *session) doc(head obj, columns []string) obj {
	for _, k := range columns {
		head = append(head, kv{k, s.col(k)})
	}
	head = append(head, kv{"schedule", ordered(s.schedule, s.sh)})
	if s.jobs != nil {
		head = append(head, kv{"jobs", s.jobs})
	} else if s.jobsNull {
		head = append(head, kv{"jobs", nil})
	}
	return head
}

// toMap turns ordered documents into plain maps (for search).
func toMap(v any) any {
	switch x := v.(type) {
	case obj:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.k] = toMap(e.v)
		}
		return m
	case []obj:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = toMap(e)
		}
		return l
	}
	return v
}

func (b *Backend) findSessionLocked(sc scope, id string) *session {
	for _, s := range b.sessions {
		if s.id == id && sc.owns(s.user, s.project) {
			return s
		}
	}
	return nil
}

func (b *Backend) serveSessions(w http.ResponseWriter, r *http.Request, sc scope, parts []string) {
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		serveOwned(b, w, r, "sessions", &b.sessions, func(s *session) bool { return sc.owns(s.user, s.project) },
			func(s *session) (map[string]any, obj) { return s.listed(sc) })
	case len(parts) == 1 && r.Method == http.MethodPost:
		doc, sh, ok := requireBody(w, r)
		if !ok {
			return
		}
		id := hexID()
		doc["user_id"] = sc.user.ID
		doc["session_id"] = id
		doc["session_tag"] = orDefault(doc, "session_tag", json.Number("0"))
		doc["status"] = "active"
		doc["last_start"] = ""
		doc["jobs"] = []any{}
		doc["hold_off"] = orDefault(doc, "hold_off", json.Number("30"))
		if m := validSession(doc, true); m != "" {
			badRequest(w, m)
			return
		}
		s := &session{id: id, user: sc.user.ID, project: sc.project, schedule: doc["schedule"], sh: sh.kid("schedule")}
		s.cols = obj{{"description", doc["description"]}, {"session_tag", doc["session_tag"]}, {"result", doc["result"]},
			{"hold_off", doc["hold_off"]}, {"status", "active"},
			{"time_ended", orDefault(doc, "time_ended", json.Number("-1"))}, {"time_started", orDefault(doc, "time_started", json.Number("-1"))},
			{"time_end", orDefault(doc, "time_end", json.Number("-1"))}, {"time_start", orDefault(doc, "time_start", json.Number("-1"))}}
		b.mu.Lock()
		b.sessions = append(b.sessions, s)
		b.mu.Unlock()
		writeJSON(w, http.StatusCreated, obj{{"session_id", id}})
	case len(parts) == 2 && r.Method == http.MethodGet:
		getOne(b, w, func() (any, bool) {
			if s := b.findSessionLocked(sc, parts[1]); s != nil {
				return s.get(), true
			}
			return nil, false
		})
	case len(parts) == 2 && r.Method == http.MethodDelete:
		deleteOwned(b, w, sc, &b.sessions, func(s *session) bool { return s.id == parts[1] && sc.owns(s.user, s.project) },
			func() { b.gone["sessions/"+parts[1]] = true }, "session", parts[1])
	case len(parts) == 2 && r.Method == http.MethodPatch:
		body, sh, ok := readShaped(w, r)
		if !ok {
			return
		}
		doc, ok := body.(map[string]any)
		if !ok {
			serverError(w)
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if code, msg := b.updateSessionLocked(sc, parts[1], doc, sh); code != 0 {
			sessionAnswer(w, code, msg)
			return
		}
		writeJSON(w, http.StatusOK, obj{{"session_id", parts[1]}, {"version", 0}})
	case len(parts) == 2 && r.Method == http.MethodPost:
		doc, sh, ok := requireBody(w, r)
		if !ok {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if code, msg := b.replaceSessionLocked(sc, parts[1], doc, sh); code != 0 {
			sessionAnswer(w, code, msg)
			return
		}
		writeJSON(w, http.StatusCreated, obj{{"session_id", parts[1]}, {"version", parts[1]}})
	case len(parts) == 3 && parts[2] == "action" && r.Method == http.MethodPost:
		b.sessionAction(w, r, sc, parts[1])
	case len(parts) == 4 && parts[2] == "jobs" && r.Method == http.MethodPut:
		b.sessionAddJob(w, sc, parts[1], parts[3])
	case len(parts) == 4 && parts[2] == "jobs" && r.Method == http.MethodDelete:
		b.sessionRemoveJob(w, sc, parts[1], parts[3])
	default:
		methodNotAllowed(w, r, parts)
	}
}

func sessionAnswer(w http.ResponseWriter, code int, msg string) {
	switch code {
	case http.StatusNotFound:
		falconError(w, code, "Not Found", msg)
	case http.StatusBadRequest:
		badRequest(w, msg)
	default:
		falconError(w, code, "Internal Storage Error", msg)
	}
}

// updateSessionLocked is update_session: validate the patch, merge its
// jobs into the stored ones, set the other columns.
func (b *Backend) updateSessionLocked(sc scope, id string, patch map[string]any, sh *shape) (int, string) {
	delete(patch, "user_id")
	delete(patch, "session_id")
	if m := validSession(patch, false); m != "" {
		return http.StatusBadRequest, m
	}
	s := b.findSessionLocked(sc, id)
	if s == nil {
		return http.StatusNotFound, "Session not register with ID " + id
	}
	for _, k := range sortedKeys(patch) {
		v := patch[k]
		switch k {
		case "jobs":
			s.mergeJobs(v)
		case "schedule":
			s.schedule = pyjson.Clone(v)
			s.sh = sh.kid("schedule").clone()
		case "project_id":
			if p, ok := v.(string); ok {
				s.project = &p
			}
		default:
			if !slices.Contains(sessionColumns, k) {
				return http.StatusInternalServerError, "sql operation failed Invalid expression type: '" + k + "'"
			}
			s.cols.set(k, pyjson.Clone(v))
		}
	}
	return 0, ""
}

// mergeJobs stores the patch's jobs first, then the stored ones it does
// not name (jobinpatch.update(jobintable) in update_session).
func (s *session) mergeJobs(v any) {
	var in obj
	switch x := v.(type) {
	case obj:
		in = x
	case map[string]any:
		for _, k := range sortedKeys(x) {
			in = append(in, kv{k, x[k]})
		}
	default:
		s.jobs = nil
		return
	}
	out := append(obj{}, in...)
	for _, e := range s.jobs {
		if !slices.ContainsFunc(in, func(p kv) bool { return p.k == e.k }) {
			out = append(out, e)
		}
	}
	s.jobs = out
}

// replaceSessionLocked is replace_session: a full document, the columns
// it gives set (a new row when the id is unknown).
func (b *Backend) replaceSessionLocked(sc scope, id string, doc map[string]any, sh *shape) (int, string) {
	doc["user_id"] = sc.user.ID
	doc["session_id"] = id
	if m := validSession(doc, true); m != "" {
		return http.StatusBadRequest, m
	}
	s := b.findSessionLocked(sc, id)
	if s == nil {
		for _, o := range b.sessions {
			if o.id == id || b.gone["sessions/"+id] {
				return http.StatusInternalServerError, "Mysql operation failed (sqlite3.IntegrityError) UNIQUE constraint failed: sessions.id"
			}
		}
		// A new row takes the table's defaults (models.Session).
		s = &session{id: id, user: sc.user.ID, project: sc.project}
		defaults := map[string]any{"session_tag": json.Number("0"), "hold_off": json.Number("30"), "time_ended": json.Number("-1"),
			"time_started": json.Number("-1"), "time_end": json.Number("-1"), "time_start": json.Number("-1")}
		for _, k := range sessionColumns {
			s.cols = append(s.cols, kv{k, defaults[k]})
		}
		b.sessions = append(b.sessions, s)
	}
	if v, ok := doc["schedule"]; ok && v != nil {
		s.schedule = pyjson.Clone(v)
		s.sh = sh.kid("schedule").clone()
	}
	// replace_session writes json_encode(doc.get('jobs')): "null" when
	// the document has none.
	s.jobs, s.jobsNull = nil, true
	if v, ok := doc["jobs"]; ok && v != nil {
		s.mergeJobs(v)
		s.jobsNull = s.jobs == nil
	}
	for _, k := range sessionColumns {
		if v, ok := doc[k]; ok && v != nil {
			s.cols.set(k, pyjson.Clone(v))
		}
	}
	return 0, ""
}

// sessionDoc is the session as a patch document (what the API's Session
// class updates and writes back).
func (s *session) patchDoc() map[string]any {
	m := toMap(s.get()).(map[string]any)
	if s.jobs != nil {
		m["jobs"] = s.jobs
	}
	return m
}

func (b *Backend) sessionAction(w http.ResponseWriter, r *http.Request, sc scope, id string) {
	data, ok := readRaw(w, r)
	if !ok {
		return
	}
	act, ok := firstKey(data)
	if !ok {
		badRequest(w, "Bad action request format")
		return
	}
	params, _ := decode(data).(map[string]any)[act].(map[string]any)
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.findSessionLocked(sc, id)
	if act != "start" && act != "end" {
		w.Header().Set("Allow", "GET, POST, HEAD, PATCH, DELETE")
		falconError(w, http.StatusMethodNotAllowed, "Bad Method", "Bad Action Method")
		return
	}
	jobID, hasJob := params["job_id"]
	arg, hasArg := params["current_tag"]
	if act == "end" {
		arg, hasArg = params["result"]
	}
	if !hasJob || !hasArg {
		plainServerError(w)
		return
	}
	jid, _ := jobID.(string)
	now := b.env.Clock.Now().Unix()
	var entry obj
	if s != nil {
		for _, e := range s.jobs {
			if e.k == jid {
				entry, _ = e.v.(obj)
			}
		}
	}
	tag := int64(0)
	if s != nil {
		tag = asInt(s.col("session_tag"))
	}
	result, update := "", false
	if act == "start" {
		jobTag, ok := pyInt(arg)
		if !ok {
			plainServerError(w)
			return
		}
		var since int64 = now + 1
		holdOff := int64(60)
		if s != nil {
			since = now - asInt(s.col("time_start"))
			holdOff = asInt(s.col("hold_off"))
		}
		switch {
		case jobTag > tag:
			badRequest(w, "requested tag value too high. Session Tag: "+strconv.FormatInt(tag, 10)+" Job Tag: "+strconv.FormatInt(jobTag, 10))
			return
		case since <= holdOff && jobTag < tag:
			result, update = "success", true
		case since <= holdOff:
			result = "hold-off"
		case tag == jobTag:
			result, update = "success", true
		default:
			result = "out-of-sync"
		}
		if update && entry == nil {
			badRequest(w, "job_id not found in session")
			return
		}
		if update && sc.project == nil {
			badRequest(w, "None is not of type 'string'")
			return
		}
		if update {
			if since > holdOff {
				tag++
				s.cols.set("session_tag", json.Number(strconv.FormatInt(tag, 10)))
				s.cols.set("time_start", json.Number(strconv.FormatInt(now, 10)))
				s.cols.set("status", "running")
				s.cols.set("result", "")
			}
			entry.set("status", "running")
			entry.set("result", "")
			entry.set("time_started", json.Number(strconv.FormatInt(now, 10)))
			s.setJob(jid, entry)
			b.runSessionJobLocked(jid)
		}
	} else {
		if entry == nil {
			badRequest(w, "job_id not found in session")
			return
		}
		if sc.project == nil {
			badRequest(w, "None is not of type 'string'")
			return
		}
		b.endSessionJobLocked(s, jid, arg, now)
		result = "success"
	}
	writeJSON(w, http.StatusAccepted, obj{{"result", result}, {"session_tag", tag}})
}

func (s *session) setJob(id string, entry obj) {
	for i := range s.jobs {
		if s.jobs[i].k == id {
			s.jobs[i].v = entry
		}
	}
}

// endSessionJobLocked is Session.end: the job is completed with result,
// and the session completes when every job has.
func (b *Backend) endSessionJobLocked(s *session, jid string, result any, now int64) {
	var entry obj
	for _, e := range s.jobs {
		if e.k == jid {
			entry, _ = e.v.(obj)
		}
	}
	if entry == nil {
		return
	}
	entry.set("status", "completed")
	entry.set("result", result)
	entry.set("time_ended", json.Number(strconv.FormatInt(now, 10)))
	s.setJob(jid, entry)
	overall := "success"
	for _, e := range s.jobs {
		je, _ := e.v.(obj)
		var st, res any
		for _, f := range je {
			switch f.k {
			case "status":
				st = f.v
			case "result":
				res = f.v
			}
		}
		if st != "completed" {
			overall = "running"
			break
		}
		if res != "success" {
			overall = "fail"
			break
		}
	}
	if s.col("status") != "completed" && overall != "running" {
		s.cols.set("time_end", json.Number(strconv.FormatInt(now, 10)))
		s.cols.set("result", overall)
		s.cols.set("status", "completed")
	}
}

func (b *Backend) sessionAddJob(w http.ResponseWriter, sc scope, sid, jid string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j := b.jobs[jid]
	if j == nil || !sc.sees(j) {
		serverError(w) // job_doc['client_id'] on an empty document
		return
	}
	sched, _ := j.doc["job_schedule"].(map[string]any)
	get := func(k string, def any) any {
		if v, ok := sched[k]; ok {
			return v
		}
		return def
	}
	entry := obj{{"client_id", j.doc["client_id"]}, {"status", get("status", "")}, {"result", get("result", "")},
		{"time_started", get("time_started", "")}, {"time_ended", get("time_ended", "")}}
	if code, msg := b.updateSessionLocked(sc, sid, map[string]any{"jobs": obj{{jid, entry}}}, nil); code != 0 {
		sessionAnswer(w, code, msg)
		return
	}
	s := b.findSessionLocked(sc, sid)
	j.doc["session_id"] = sid
	j.doc["session_tag"] = s.col("session_tag")
	j.doc["job_schedule"] = pyjson.Clone(s.schedule)
	j.sh = j.sh.put("job_schedule", s.sh.clone())
	w.WriteHeader(http.StatusNoContent)
}

func (b *Backend) sessionRemoveJob(w http.ResponseWriter, sc scope, sid, jid string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.findSessionLocked(sc, sid)
	if s == nil || s.jobs == nil {
		serverError(w) // session_doc['jobs'] on a document without
		return
	}
	if sc.project == nil {
		badRequest(w, "None is not of type 'string'")
		return
	}
	s.jobs = slices.DeleteFunc(slices.Clone(s.jobs), func(e kv) bool { return e.k == jid })
	j := b.jobs[jid]
	if j == nil || !sc.sees(j) {
		falconError(w, http.StatusNotFound, "Not Found", "Tuple not registered with ID "+jid+" in Table<class 'freezer_api.db.sqlalchemy.models.Job'> ")
		return
	}
	j.doc["session_id"] = ""
	j.doc["session_tag"] = json.Number("0")
	j.doc["job_schedule"] = map[string]any{"event": "stop"}
	j.stopTimers()
	j.agent = agentStopped
	w.WriteHeader(http.StatusNoContent)
}

// plainServerError is what the WSGI server answers for an exception the
// falcon app does not turn into an HTTP error.
func plainServerError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("Internal Server Error\n"))
}

// asInt reads a stored integer column (0 when it is not one).
func asInt(v any) int64 {
	n, _ := pyInt(v)
	return n
}

// pyInt is Python's int() on a decoded JSON value.
func pyInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if nonFinite(x) { // int(nan) and int(inf) raise
			return 0, false
		}
		f, err := x.Float64()
		return int64(f), err == nil
	case string:
		i, big, ok := pyAtoi(x)
		return i, ok && !big
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return x, true
	}
	return 0, false
}
