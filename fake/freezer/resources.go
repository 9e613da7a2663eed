package freezer

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"

	"github.com/longrun/longrun/fake/internal/pyjson"
	"github.com/longrun/longrun/fake/sim"
)

// The resources besides jobs, as freezer-api 13's SQL backend
// (db/sqlalchemy/api.py) keeps them: clients, actions, sessions and
// backups, each a table scoped by user (and by project on v2; a v1
// request, with no project, sees every project's rows of its user).
// Listings are in insertion order, the order SQLite returns rows in.

type client struct {
	uuid, user, clientID string
	project              *string
	hostname, desc       any
}

// action is a row of the actions table: a few columns copied out of
// freezer_action, the rest kept whole in backup_metadata.
type action struct {
	id, user           string
	project            *string
	cols               map[string]any // action, backup_name, container, path_to_backup, timeout, priority, mandatory, log_file
	mode               any
	maxRetries, maxInt any
	meta               any // freezer_action as it was sent
	sh                 *shape
}

type session struct {
	id, user string
	project  *string
	cols     obj // description, hold_off, session_tag, status, time_*, result
	schedule any
	sh       *shape // schedule's key order
	jobs     obj    // job id -> obj; nil: no job ever added (no "jobs" key)
	jobsNull bool   // the job column holds JSON null (a replace without jobs)
}

type backup struct {
	id, user string
	project  *string
	userName any
	meta     any
	sh       *shape
}

func strPtrValue(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func (s scope) owns(user string, project *string) bool {
	if user != s.user.ID {
		return false
	}
	if s.project == nil {
		return true
	}
	return project != nil && *project == *s.project
}

// pageOf applies a listing's limit and offset and search, as search_tuple
// and filter_tuple_by_search_opt do.
func pageOf[T any](w http.ResponseWriter, r *http.Request, rows []T, render func(T) (map[string]any, obj)) ([]obj, bool) {
	offset, limit, big, ok := listParams(w, r, 10)
	if !ok {
		return nil, false
	}
	body, ok := readBody(w, r)
	if !ok {
		return nil, false
	}
	s, valid := searchOption(body)
	if !valid {
		serverError(w)
		return nil, false
	}
	out := []obj{}
	if s == nil && big {
		tooBig(w)
		return nil, false
	}
	if s == nil {
		start := max(offset, 0)
		for i := start; i < len(rows) && (limit < 0 || i-start < limit); i++ {
			_, o := render(rows[i])
			out = append(out, o)
		}
		return out, true
	}
	maps := make([]map[string]any, len(rows))
	objs := make([]obj, len(rows))
	for i, row := range rows {
		maps[i], objs[i] = render(row)
	}
	for _, i := range searchIndex(maps, s, offset, limit, nil) {
		out = append(out, objs[i])
	}
	return out, true
}

// serveOwned answers a listing of table's rows the caller owns, paged and
// searched (pageOf), as {key: [...]}; rows render under b.mu.
func serveOwned[T any](b *Backend, w http.ResponseWriter, r *http.Request, key string, table *[]T, owned func(T) bool, render func(T) (map[string]any, obj)) {
	b.mu.Lock()
	var rows []T
	for _, row := range *table {
		if owned(row) {
			rows = append(rows, row)
		}
	}
	b.mu.Unlock()
	out, ok := pageOf(w, r, rows, func(row T) (map[string]any, obj) {
		b.mu.Lock()
		defer b.mu.Unlock()
		return render(row)
	})
	if ok {
		writeJSON(w, http.StatusOK, obj{{key, out}})
	}
}

// getOne answers a GET of one row: the document find returns (it runs
// under b.mu, as does the encoding), or falcon's empty 404.
func getOne(b *Backend, w http.ResponseWriter, find func() (any, bool)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if doc, ok := find(); ok {
		writeJSON(w, http.StatusOK, doc)
		return
	}
	emptyNotFound(w)
}

// deleteOwned deletes the first row of table that match picks (forget,
// if not nil, runs first, under b.mu) and answers as deleted does.
func deleteOwned[T any](b *Backend, w http.ResponseWriter, sc scope, table *[]T, match func(T) bool, forget func(), what, id string) {
	b.mu.Lock()
	i := slices.IndexFunc(*table, match)
	if i >= 0 {
		if forget != nil {
			forget()
		}
		*table = slices.Delete(*table, i, i+1)
	}
	b.mu.Unlock()
	deleted(w, sc, i >= 0, what, id)
}

// listParams reads offset and limit as falcon's get_param_as_int does
// (Python's int()); a zero limit is the default. big reports a value
// beyond SQLite's INTEGER, which the SQL paging refuses (tooBig) and the
// search paging, done in Python, takes (clamped here).
func listParams(w http.ResponseWriter, r *http.Request, def int) (offset, limit int, big, ok bool) {
	q := r.URL.Query()
	param := func(name string) (int, bool) {
		s := q.Get(name)
		if s == "" {
			return 0, true
		}
		n, huge, valid := pyAtoi(s)
		if !valid {
			falconError(w, http.StatusBadRequest, "Invalid parameter", `The "`+name+`" parameter is invalid. The value must be an integer.`)
			return 0, false
		}
		big = big || huge
		return int(max(min(n, math.MaxInt), math.MinInt)), true
	}
	if offset, ok = param("offset"); !ok {
		return
	}
	if limit, ok = param("limit"); !ok {
		return
	}
	if limit == 0 {
		limit = def
	}
	return offset, limit, big, true
}

// tooBig is the SQL backend failing to page by a number beyond SQLite's
// INTEGER.
func tooBig(w http.ResponseWriter) {
	falconError(w, http.StatusInternalServerError, "Internal Storage Error", "Mysql operation failed Python int too large to convert to SQLite INTEGER")
}

func emptyNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
}

// deleted answers a DELETE of something the caller cannot see: v1 looks
// first and answers 404 with what; v2 deletes without looking (204).
func deleted(w http.ResponseWriter, sc scope, found bool, what, id string) {
	if !found && sc.project == nil {
		falconError(w, http.StatusNotFound, "Not Found", "No "+what+" found with ID:"+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// requireBody reads a body that must not be empty ("Missing request
// body" for none or {}); false when it has answered.
func requireBody(w http.ResponseWriter, r *http.Request) (map[string]any, *shape, bool) {
	body, sh, ok := readShaped(w, r)
	if !ok {
		return nil, nil, false
	}
	if isEmpty(body) {
		badRequest(w, "Missing request body")
		return nil, nil, false
	}
	m, ok := body.(map[string]any)
	if !ok {
		serverError(w)
		return nil, nil, false
	}
	return m, sh, true
}

// isEmpty is Python's "not doc" on a decoded body.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		f, _ := x.Float64()
		return f == 0
	}
	return false
}

// ---- clients ----

var clientRules = []rule{
	{name: "client_id", typ: "string", re: clientIDRE, pysrc: pyClientID},
	{name: "hostname", typ: "string", re: hostnameRE, pysrc: pyHostname},
	{name: "description", typ: "string"},
	{name: "uuid", typ: "string"},
}

func (c *client) render() (map[string]any, obj) {
	inner := obj{{"uuid", c.uuid}, {"hostname", c.hostname}, {"client_id", c.clientID}, {"description", c.desc}}
	o := obj{{"project_id", strPtrValue(c.project)}, {"user_id", c.user}, {"client", inner}}
	return map[string]any{"project_id": strPtrValue(c.project), "user_id": c.user,
		"client": map[string]any{"uuid": c.uuid, "hostname": c.hostname, "client_id": c.clientID, "description": c.desc}}, o
}

func (b *Backend) serveClients(w http.ResponseWriter, r *http.Request, sc scope, parts []string) {
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		serveOwned(b, w, r, "clients", &b.clients, func(c *client) bool { return sc.owns(c.user, c.project) }, (*client).render)
	case len(parts) == 1 && r.Method == http.MethodPost:
		doc, _, ok := requireBody(w, r)
		if !ok {
			return
		}
		if _, ok := doc["uuid"]; !ok {
			doc["uuid"] = hexID()
		}
		// ClientDoc.create wraps the document in {"client", "user_id"}.
		if m := checkObject(doc, clientRules, false); m != "" {
			badRequest(w, m)
			return
		}
		if _, ok := doc["client_id"]; !ok {
			badRequest(w, "'client_id' is a required property")
			return
		}
		cid, _ := doc["client_id"].(string)
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.clients {
			if c.clientID == cid && sc.owns(c.user, c.project) {
				falconError(w, http.StatusConflict, "Document already existing", "Client already registered with ID "+cid)
				return
			}
		}
		uuid, _ := doc["uuid"].(string)
		if doc["hostname"] == nil {
			falconError(w, http.StatusInternalServerError, "Internal Storage Error", "Mysql operation failed (sqlite3.IntegrityError) NOT NULL constraint failed: clients.hostname")
			return
		}
		b.clients = append(b.clients, &client{uuid: uuid, user: sc.user.ID, clientID: cid, project: sc.project, hostname: doc["hostname"], desc: doc["description"]})
		writeJSON(w, http.StatusCreated, obj{{"client_id", cid}})
	case len(parts) == 2 && r.Method == http.MethodGet:
		getOne(b, w, func() (any, bool) {
			for _, c := range b.clients {
				if c.clientID == parts[1] && sc.owns(c.user, c.project) {
					_, o := c.render()
					return o, true
				}
			}
			return nil, false
		})
	case len(parts) == 2 && r.Method == http.MethodDelete:
		deleteOwned(b, w, sc, &b.clients, func(c *client) bool { return c.clientID == parts[1] && sc.owns(c.user, c.project) }, nil, "Client", parts[1])
	default:
		methodNotAllowed(w, r, parts)
	}
}

// ---- actions ----

// actionColumns are the freezer_action keys the actions table keeps in
// columns of their own.
var actionColumns = []string{"action", "backup_name", "container", "path_to_backup", "timeout", "priority", "mandatory", "log_file"}

func (a *action) freezerAction(order []string) (map[string]any, obj) {
	m := map[string]any{}
	var o obj
	if meta, ok := a.meta.(map[string]any); ok {
		o = ordered(meta, a.sh).(obj)
		for k, v := range meta {
			m[k] = v
		}
	}
	for _, k := range order {
		v := a.cols[k]
		if k == "mode" {
			v = a.mode
		}
		m[k] = v
		o.set(k, v)
	}
	return m, o
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// get is get_action's document.
func (a *action) get() obj {
	_, fa := a.freezerAction([]string{"backup_name", "action", "mode", "container", "timeout", "priority", "path_to_backup", "log_file"})
	return obj{{"project_id", strPtrValue(a.project)}, {"action_id", a.id}, {"user_id", a.user},
		{"max_retries", a.maxRetries}, {"max_retries_interval", a.maxInt}, {"freezer_action", fa}}
}

// listed is search_action's document (project_id and user_id are the
// request's).
func (a *action) listed(sc scope) (map[string]any, obj) {
	fm, fa := a.freezerAction([]string{"backup_name", "mode", "action", "container", "timeout", "priority", "path_to_backup", "log_file"})
	mandatory := a.cols["mandatory"]
	if mandatory == nil {
		mandatory = false
	}
	o := obj{{"project_id", strPtrValue(sc.project)}, {"user_id", sc.user.ID}, {"timeout", a.cols["timeout"]},
		{"max_retries_interval", a.maxInt}, {"max_retries", a.maxRetries}, {"action_id", a.id}, {"mandatory", mandatory}, {"freezer_action", fa}}
	m := map[string]any{"project_id": strPtrValue(sc.project), "user_id": sc.user.ID, "timeout": a.cols["timeout"],
		"max_retries_interval": a.maxInt, "max_retries": a.maxRetries, "action_id": a.id, "mandatory": mandatory, "freezer_action": fm}
	return m, o
}

// setFrom copies freezer_action's column keys, mode and the whole
// document (sh: its key order) into the row.
func (a *action) setFrom(fa any, sh *shape) {
	a.sh = sh.clone()
	fm, _ := fa.(map[string]any)
	if a.cols == nil {
		a.cols = map[string]any{}
	}
	for _, k := range actionColumns {
		if v, ok := fm[k]; ok {
			a.cols[k] = v
		}
	}
	a.mode = fm["mode"]
	if fm == nil {
		fm = map[string]any{}
	}
	a.meta = pyjson.Clone(fm)
}

// addActionLocked inserts a row; it returns a status and message when the
// table refuses it (an id taken in any project: ids are the primary key).
func (b *Backend) addActionLocked(sc scope, id string, doc map[string]any, sh *shape) (int, string) {
	fa, _ := doc["freezer_action"].(map[string]any)
	if fa["action"] == nil {
		return statusNoAction, ""
	}
	if b.gone["actions/"+id] || b.actionByID[id] != nil {
		return http.StatusInternalServerError, "Mysql operation failed (sqlite3.IntegrityError) UNIQUE constraint failed: actions.id"
	}
	a := &action{id: id, user: sc.user.ID, project: sc.project, maxRetries: orDefault(doc, "max_retries", json.Number("5")), maxInt: orDefault(doc, "max_retries_interval", json.Number("6"))}
	a.setFrom(fa, sh.kid("freezer_action"))
	b.actionRows = append(b.actionRows, a)
	b.actionByID[id] = a
	return 0, ""
}

func (b *Backend) findActionLocked(sc scope, id string) *action {
	if a := b.actionByID[id]; a != nil && sc.owns(a.user, a.project) {
		return a
	}
	return nil
}

// validAction checks an action document against action_schema (full) or
// action_patch_schema.
func validAction(doc map[string]any, full bool) string {
	return validDoc(doc, actionRules, false, full, "action_id", "user_id", "freezer_action")
}

func storageAnswer(w http.ResponseWriter, code int, msg string) {
	if code == statusNoAction {
		answer(w, code, msg)
		return
	}
	falconError(w, code, "Internal Storage Error", msg)
}

func (b *Backend) serveActions(w http.ResponseWriter, r *http.Request, sc scope, parts []string) {
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		serveOwned(b, w, r, "actions", &b.actionRows, func(a *action) bool { return sc.owns(a.user, a.project) },
			func(a *action) (map[string]any, obj) { return a.listed(sc) })
	case len(parts) == 1 && r.Method == http.MethodPost:
		doc, sh, ok := requireBody(w, r)
		if !ok {
			return
		}
		if _, ok := doc["action_id"]; !ok {
			doc["action_id"] = hexID()
		}
		doc["user_id"] = sc.user.ID
		if m := validAction(doc, true); m != "" {
			badRequest(w, m)
			return
		}
		id, _ := doc["action_id"].(string)
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.findActionLocked(sc, id) != nil {
			falconError(w, http.StatusConflict, "Document already existing", "Action already registered with ID "+id)
			return
		}
		if code, msg := b.addActionLocked(sc, id, doc, sh); code != 0 {
			storageAnswer(w, code, msg)
			return
		}
		writeJSON(w, http.StatusCreated, obj{{"action_id", id}})
	case len(parts) == 2 && r.Method == http.MethodGet:
		getOne(b, w, func() (any, bool) {
			if a := b.findActionLocked(sc, parts[1]); a != nil {
				return a.get(), true
			}
			return nil, false
		})
	case len(parts) == 2 && r.Method == http.MethodDelete:
		deleteOwned(b, w, sc, &b.actionRows, func(a *action) bool { return a.id == parts[1] && sc.owns(a.user, a.project) }, func() {
			b.gone["actions/"+parts[1]] = true
			delete(b.actionByID, parts[1])
		}, "action", parts[1])
	case len(parts) == 2 && (r.Method == http.MethodPatch || r.Method == http.MethodPost):
		body, sh, ok := readShaped(w, r)
		if !ok {
			return
		}
		doc, ok := body.(map[string]any)
		if !ok {
			serverError(w)
			return
		}
		id := parts[1]
		if r.Method == http.MethodPatch {
			delete(doc, "user_id")
			delete(doc, "action_id")
		} else {
			doc["user_id"] = sc.user.ID
			doc["action_id"] = id
		}
		if m := validAction(doc, r.Method == http.MethodPost); m != "" {
			badRequest(w, m)
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		a := b.findActionLocked(sc, id)
		if a == nil && r.Method == http.MethodPatch {
			falconError(w, http.StatusNotFound, "Not Found", "Tuple not registered with ID "+id+" in Table<class 'freezer_api.db.sqlalchemy.models.Action'> ")
			return
		}
		if a == nil {
			if code, msg := b.addActionLocked(sc, id, doc, sh); code != 0 {
				storageAnswer(w, code, msg)
				return
			}
		} else {
			// update_action and replace_action set both retry columns
			// (None when absent) and replace backup_metadata.
			a.maxRetries, a.maxInt = doc["max_retries"], doc["max_retries_interval"]
			a.setFrom(doc["freezer_action"], sh.kid("freezer_action"))
		}
		code := http.StatusOK
		if r.Method == http.MethodPost {
			code = http.StatusCreated
		}
		writeJSON(w, code, obj{{"action_id", id}, {"version", id}})
	default:
		methodNotAllowed(w, r, parts)
	}
}

// ---- backups ----

func (bk *backup) get() obj {
	return obj{{"project_id", strPtrValue(bk.project)}, {"backup_id", bk.id}, {"user_id", bk.user}, {"user_name", bk.userName}, {"backup_metadata", ordered(bk.meta, bk.sh)}}
}

func (bk *backup) listed(sc scope) (map[string]any, obj) {
	o := obj{{"project_id", strPtrValue(sc.project)}, {"user_id", sc.user.ID}, {"backup_id", bk.id}, {"user_name", bk.userName}, {"backup_metadata", ordered(bk.meta, bk.sh)}}
	m := map[string]any{"project_id": strPtrValue(sc.project), "user_id": sc.user.ID, "backup_id": bk.id, "user_name": bk.userName, "backup_metadata": bk.meta}
	return m, o
}

func (b *Backend) serveBackups(w http.ResponseWriter, r *http.Request, sc scope, parts []string) {
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		serveOwned(b, w, r, "backups", &b.backups, func(bk *backup) bool { return sc.owns(bk.user, bk.project) },
			func(bk *backup) (map[string]any, obj) { return bk.listed(sc) })
	case len(parts) == 1 && r.Method == http.MethodPost:
		body, sh, ok := readShaped(w, r)
		if !ok {
			return
		}
		if isEmpty(body) {
			badRequest(w, "Missing request body")
			return
		}
		doc, _ := body.(map[string]any)
		// BackupMetadataDoc.is_valid: container, hostname and backup_name
		// present and not "".
		for _, k := range []string{"container", "hostname", "backup_name"} {
			if v, ok := doc[k]; !ok || v == "" {
				badRequest(w, "Bad Data Format")
				return
			}
		}
		id := hexID()
		b.mu.Lock()
		b.backups = append(b.backups, &backup{id: id, user: sc.user.ID, project: sc.project, userName: sc.user.Name, meta: doc, sh: sh})
		b.mu.Unlock()
		writeJSON(w, http.StatusCreated, obj{{"backup_id", id}})
	case len(parts) == 2 && r.Method == http.MethodGet:
		getOne(b, w, func() (any, bool) {
			for _, bk := range b.backups {
				if bk.id == parts[1] && sc.owns(bk.user, bk.project) {
					return bk.get(), true
				}
			}
			return nil, false
		})
	case len(parts) == 2 && r.Method == http.MethodDelete:
		deleteOwned(b, w, sc, &b.backups, func(bk *backup) bool { return bk.id == parts[1] && sc.owns(bk.user, bk.project) }, nil, "Backup", parts[1])
	default:
		methodNotAllowed(w, r, parts)
	}
}

// AddBackup records a backup's metadata for user (by name) on v2 project
// project ("" for v1), as a freezer agent does after a backup; it returns
// the backup id. For tests and examples.
func (b *Backend) AddBackup(username, project string, metadata map[string]any) (string, bool) {
	u, ok := b.env.Lookup(func(u sim.User) bool { return u.Name == username })
	if !ok {
		return "", false
	}
	var p *string
	if project != "" {
		p = &project
	}
	id := hexID()
	b.mu.Lock()
	b.backups = append(b.backups, &backup{id: id, user: u.ID, project: p, userName: u.Name, meta: pyjson.Clone(metadata)})
	b.mu.Unlock()
	return id, true
}
