// Package ftrack is the fake's ftrack backend: POST /api with batches of
// operations (create, update, delete, query, query_server_information,
// query_schemas, get_upload_metadata, complete_multipart_upload) over the
// entity types a job and its attachments reach, described by the real
// server's schemas (query_schemas) and hashed as ftrack does
// (schema_hash); signed upload URLs the fake accepts itself, whole or in
// parts as S3 does; /component/get downloads and /component/remove;
// authentication by the ftrack-user and ftrack-api-key headers against the
// seeded users (Name and APIKey). Errors have the real body
// {"exception", "content", "error_code"}: with status 200, or, when the
// request carries ftrack-strict-api: true, with an HTTP error status.
//
// One request cannot take the backend down: query expressions are parsed
// with a depth limit, and operations, criteria, in-lists and answers are
// bounded (Limits); a query stops when its client goes away, and a batch
// holds the lock one operation at a time.
package ftrack

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// The built-in locations (ftrack_api.symbol).
const (
	ServerLocationID    = "3a372bde-05bc-11e4-8908-20c9d081909b"
	OriginLocationID    = "ce9b348f-8809-11e3-821c-20c9d081909b"
	UnmanagedLocationID = "cb268ecc-8809-11e3-a7e2-20c9d081909b"
	ReviewLocationID    = "cd41be70-8809-11e3-b98a-20c9d081909b"
)

// Version is what query_server_information reports as the server version.
const Version = "4.13.0"

// UploadTTL is how long a get_upload_metadata URL stays valid.
const UploadTTL = time.Hour

// MaxRequestBytes bounds a POST /api body.
const MaxRequestBytes = 32 << 20

// The error body the real server sends for bad credentials (recorded in
// ftrack-javascript test/server.ts).
const invalidCredentialsContent = `The supplied API key is not valid. API keys are created from Settings under the page API keys. The api key should be passed in the request header "ftrack-api-key".`

// Backend is the ftrack backend. Its methods are safe for concurrent use.
type Backend struct {
	env    *sim.Env
	secret []byte

	limits Limits

	// mu guards the tables, uploads and files. A batch takes it per
	// operation, never for the whole batch: queries share it (RLock),
	// writes hold it alone for one operation; a failed batch is undone
	// from its journal.
	mu      sync.RWMutex
	tables  map[string]map[string]entity
	seq     int64
	uploads map[string]*pendingUpload // component id -> expected upload
	files   map[string]*storedFile    // component id -> bytes on disk
	dir     string
	calls   atomic.Int64
}

// Limits bound what one request may ask of the backend, so that no request
// can exhaust its memory or hold it for long. Past a limit the request
// fails with an error in the server's shape and nothing of it applies.
type Limits struct {
	// MaxOperations bounds the operations of one POST /api.
	MaxOperations int
	// MaxQueryDepth bounds the nesting of parentheses, not, has and any
	// in an expression (a ParseError past it).
	MaxQueryDepth int
	// MaxQueryTerms bounds the comparisons in one expression.
	MaxQueryTerms int
	// MaxInValues bounds the values of one in / not_in list.
	MaxInValues int
	// MaxResults bounds the entities one request answers, over all its
	// queries (each after its offset and limit).
	MaxResults int
}

// DefaultLimits are the limits New sets.
var DefaultLimits = Limits{
	MaxOperations: 10000,
	MaxQueryDepth: DefaultMaxQueryDepth,
	MaxQueryTerms: DefaultMaxQueryTerms,
	MaxInValues:   DefaultMaxInValues,
	MaxResults:    20000,
}

// SetLimits replaces the limits; a zero field keeps the default.
func (b *Backend) SetLimits(l Limits) {
	d := DefaultLimits
	if l.MaxOperations <= 0 {
		l.MaxOperations = d.MaxOperations
	}
	if l.MaxQueryDepth <= 0 {
		l.MaxQueryDepth = d.MaxQueryDepth
	}
	if l.MaxQueryTerms <= 0 {
		l.MaxQueryTerms = d.MaxQueryTerms
	}
	if l.MaxInValues <= 0 {
		l.MaxInValues = d.MaxInValues
	}
	if l.MaxResults <= 0 {
		l.MaxResults = d.MaxResults
	}
	b.mu.Lock()
	b.limits = l
	b.mu.Unlock()
}

func (b *Backend) currentLimits() Limits {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.limits
}

// New returns a backend seeded with env's users and the built-in
// locations.
func New(env *sim.Env) *Backend {
	b := &Backend{env: env, limits: DefaultLimits, tables: map[string]map[string]entity{}, uploads: map[string]*pendingUpload{}, files: map[string]*storedFile{}}
	b.secret = make([]byte, 32)
	_, _ = rand.Read(b.secret)
	for _, t := range types {
		b.tables[t.table] = map[string]entity{}
	}
	for _, u := range env.Users() {
		b.seedUser(u)
	}
	for _, l := range []struct{ id, name, label string }{
		{OriginLocationID, "ftrack.origin", "Origin"},
		{UnmanagedLocationID, "ftrack.unmanaged", "Unmanaged"},
		{ReviewLocationID, "ftrack.review", "Review"},
		{ServerLocationID, "ftrack.server", "ftrack server"},
	} {
		b.insert(nil, types["Location"], entity{"id": l.id, "name": l.name, "label": l.label, "description": nil})
	}
	return b
}

func (b *Backend) seedUser(u sim.User) {
	first, last, _ := strings.Cut(u.Name, " ")
	b.insert(nil, types["User"], entity{"id": u.ID, "username": u.Name, "first_name": first, "last_name": last,
		"email": u.Email, "is_active": true, "resource_type": "user"})
}

func (b *Backend) insert(tx *txn, t *typeDef, e entity) {
	b.seq++
	e[seqKey] = b.seq
	b.putRow(tx, t, keyOf(t, e), e)
}

func (b *Backend) now() time.Time { return b.env.Clock.Now().UTC() }

// Register mounts POST /api, PUT /ftrack-fake/upload/{id} and
// GET /component/get.
func (b *Backend) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api", b.serveAPI)
	mux.HandleFunc("PUT /ftrack-fake/upload/{id}", b.serveUpload)
	mux.HandleFunc("PUT /ftrack-fake/upload/{id}/{upload}/{part}", b.servePart)
	mux.HandleFunc("GET /component/get", b.serveDownload)
	mux.HandleFunc("GET /component/remove", b.serveRemove)
}

// Close removes the stored files.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
		b.dir = ""
	}
	b.files = map[string]*storedFile{}
}

// apiError is an error in the server's shape.
type apiError struct {
	Exception string `json:"exception"`
	Content   string `json:"content"`
	ErrorCode any    `json:"error_code"`
	status    int
}

// Error reads "<exception>: <content>".
func (e *apiError) Error() string { return e.Exception + ": " + e.Content }

func errValidation(format string, a ...any) *apiError {
	return &apiError{Exception: "ValidationError", Content: fmt.Sprintf(format, a...), status: http.StatusUnprocessableEntity}
}

func errParse(expr string, err error) *apiError {
	return &apiError{Exception: "ParseError", Content: fmt.Sprintf("Could not parse query %q: %v.", expr, err), status: http.StatusBadRequest}
}

func errServer(format string, a ...any) *apiError {
	return &apiError{Exception: "ServerError", Content: fmt.Sprintf(format, a...), status: http.StatusInternalServerError}
}

func errNotFound(format string, a ...any) *apiError {
	return &apiError{Exception: "NoResultFoundError", Content: fmt.Sprintf(format, a...), status: http.StatusNotFound}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (b *Backend) writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	status := http.StatusOK
	if strings.EqualFold(r.Header.Get("ftrack-strict-api"), "true") {
		status = e.status
	}
	b.env.Logger.Debug("ftrack fake: error", "exception", e.Exception, "status", status)
	writeJSON(w, status, e)
}

func (b *Backend) authenticate(user, key string) bool {
	if user == "" || key == "" {
		return false
	}
	_, ok := b.env.Lookup(func(u sim.User) bool {
		return u.Name == user && u.APIKey != "" && sim.SecretEqual(u.APIKey, key)
	})
	return ok
}

func (b *Backend) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !b.authenticate(r.Header.Get("ftrack-user"), r.Header.Get("ftrack-api-key")) {
		b.writeError(w, r, &apiError{Exception: "InvalidCredentialsError", Content: invalidCredentialsContent, status: http.StatusUnauthorized})
		return
	}
	b.calls.Add(1)
	lim := b.currentLimits()
	ops, aerr := readOperations(http.MaxBytesReader(w, r.Body, MaxRequestBytes), lim.MaxOperations)
	if aerr != nil {
		b.writeError(w, r, aerr)
		return
	}
	base := "http://" + r.Host
	if r.TLS != nil {
		base = "https://" + r.Host
	}
	ctx := r.Context()
	tx := &txn{limits: lim, base: base}
	results := make([]any, 0, len(ops))
	for i, op := range ops {
		if ctx.Err() != nil {
			// The client is gone: nobody reads the answer.
			b.rollback(tx)
			return
		}
		res, aerr := b.apply(ctx, tx, op, base)
		if aerr != nil {
			b.rollback(tx)
			if ctx.Err() != nil {
				return
			}
			b.env.Logger.Debug("ftrack fake: operation failed", "index", i, "exception", aerr.Exception)
			b.writeError(w, r, aerr)
			return
		}
		results = append(results, res)
	}
	b.commit(tx)
	writeJSON(w, http.StatusOK, results)
}

// readOperations reads a POST /api body: a JSON list of operation objects.
// It decodes one operation at a time and stops past max operations, so a
// huge batch is refused before it is held in memory. Errors are in the
// server's shape.
func readOperations(r io.Reader, max int) ([]map[string]any, *apiError) {
	dec := json.NewDecoder(r)
	bad := func(err error) *apiError {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{Exception: "ServerError", Content: fmt.Sprintf("Request body is larger than %d bytes.", mbe.Limit), status: http.StatusRequestEntityTooLarge}
		}
		return &apiError{Exception: "ServerError", Content: "Request body must be a JSON list of operations: " + err.Error(), status: http.StatusBadRequest}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, bad(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, bad(fmt.Errorf("expected a list, not %v", tok))
	}
	var ops []map[string]any
	for dec.More() {
		if len(ops) >= max {
			return nil, &apiError{Exception: "ServerError", Content: fmt.Sprintf("Too many operations in one request: the limit is %d.", max), status: http.StatusRequestEntityTooLarge}
		}
		var op map[string]any
		if err := dec.Decode(&op); err != nil {
			return nil, bad(err)
		}
		if op == nil {
			return nil, bad(errors.New("an operation must be an object"))
		}
		ops = append(ops, op)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad(errors.New("data after the list"))
	}
	return ops, nil
}

// txn is the journal of one batch: how to undo what it wrote, what to do
// once it succeeded (remove stored files), and how much it answered.
type txn struct {
	limits   Limits
	base     string
	undo     []func()
	onCommit []func()
	rendered int
}

func (b *Backend) rollback(tx *txn) {
	if len(tx.undo) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo = nil
}

func (b *Backend) commit(tx *txn) {
	if len(tx.onCommit) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range tx.onCommit {
		f()
	}
}

// putRow stores e under key and journals what was there.
func (b *Backend) putRow(tx *txn, t *typeDef, key string, e entity) {
	table := b.tables[t.table]
	old, had := table[key]
	table[key] = e
	if tx != nil {
		tx.undo = append(tx.undo, func() {
			if had {
				table[key] = old
			} else {
				delete(table, key)
			}
		})
	}
}

// delRow deletes key and journals it.
func (b *Backend) delRow(tx *txn, t *typeDef, key string) {
	table := b.tables[t.table]
	old, had := table[key]
	if !had {
		return
	}
	delete(table, key)
	if tx != nil {
		tx.undo = append(tx.undo, func() { table[key] = old })
	}
}

// setUpload sets (up != nil) or clears the expected upload of a component
// and journals it; the parts received for the upload it replaces are
// removed when the batch commits.
func (b *Backend) setUpload(tx *txn, id string, up *pendingUpload) {
	old, had := b.uploads[id]
	dropParts(tx, old)
	if up == nil {
		delete(b.uploads, id)
	} else {
		b.uploads[id] = up
	}
	if tx != nil {
		tx.undo = append(tx.undo, func() {
			if had {
				b.uploads[id] = old
			} else {
				delete(b.uploads, id)
			}
		})
	}
}

// dropFile removes a component's stored bytes once the batch commits
// (at once without a batch).
func (b *Backend) dropFile(tx *txn, id string) {
	f := b.files[id]
	if f == nil {
		return
	}
	drop := func() {
		if b.files[id] == f {
			f.remove()
			delete(b.files, id)
		}
	}
	if tx == nil {
		drop()
		return
	}
	tx.onCommit = append(tx.onCommit, drop)
}

// apply runs one operation of a batch, taking the lock for it alone.
func (b *Backend) apply(ctx context.Context, tx *txn, op map[string]any, base string) (any, *apiError) {
	action, _ := op["action"].(string)
	switch action {
	case "query_server_information":
		return b.serverInformation(), nil
	case "query_schemas":
		return schemas(), nil
	case "query":
		expr, _ := op["expression"].(string)
		b.mu.RLock()
		defer b.mu.RUnlock()
		return b.query(ctx, tx, expr)
	case "complete_multipart_upload":
		return b.completeMultipart(ctx, tx, op, base)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch action {
	case "create":
		return b.create(tx, op)
	case "update":
		return b.update(tx, op)
	case "delete":
		return b.delete(tx, op)
	case "get_upload_metadata":
		return b.uploadMetadata(tx, op, base)
	}
	return nil, &apiError{Exception: "ServerError", Content: fmt.Sprintf("Invalid action u'%s'", action), status: http.StatusBadRequest}
}

func (b *Backend) serverInformation() map[string]any {
	return map[string]any{
		"version":                     Version,
		"schema_hash":                 schemaHash(),
		"storage_scenario":            map[string]any{"scenario": "ftrack.automatic", "data": map[string]any{}},
		"is_timezone_support_enabled": true,
	}
}

func entityTypeOf(op map[string]any) (*typeDef, *apiError) {
	name, _ := op["entity_type"].(string)
	t, ok := lookupType(name)
	if !ok {
		return nil, errServer("Unknown entity type %q.", name)
	}
	return t, nil
}

func entityKey(t *typeDef, op map[string]any) ([]string, *apiError) {
	raw, _ := op["entity_key"].([]any)
	var key []string
	for _, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, errValidation("entity_key must be a list of strings.")
		}
		key = append(key, s)
	}
	if len(key) != 0 && len(key) != len(t.pk) {
		return nil, errValidation("%s is keyed by %s; entity_key has %d values.", t.name, strings.Join(t.pk, ", "), len(key))
	}
	return key, nil
}

// setAttrs applies entity_data to e; it returns the attribute names set.
func (b *Backend) setAttrs(t *typeDef, e entity, data map[string]any, creating bool) ([]string, *apiError) {
	var set []string
	names := make([]string, 0, len(data))
	for k := range data {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := data[k]
		if k == "__entity_type__" {
			if s, _ := v.(string); s != t.name {
				return nil, errValidation("__entity_type__ %v does not match %s.", v, t.name)
			}
			continue
		}
		if rel, ok := t.relations[k]; ok && !rel.many {
			ref, _ := v.(map[string]any)
			id, _ := ref["id"].(string)
			if v != nil && id == "" {
				return nil, errValidation("%s.%s must be a reference to a %s.", t.name, k, rel.target)
			}
			if v == nil {
				e[rel.local] = nil
			} else {
				e[rel.local] = id
			}
			set = append(set, rel.local)
			continue
		}
		kind, ok := t.attrs[k]
		if !ok {
			if t.isComputed(k) {
				return nil, errValidation("%s.%s is computed by the server and cannot be set.", t.name, k)
			}
			return nil, errValidation("%s has no attribute %q.", t.name, k)
		}
		if !creating && contains(t.immutable, k) {
			return nil, errValidation("%s.%s is immutable.", t.name, k)
		}
		cv, err := convert(kind, v)
		if err != nil {
			return nil, errValidation("%s.%s: %v.", t.name, k, err)
		}
		if vals := t.enums[k]; vals != nil && cv != nil && !contains(vals, cv.(string)) {
			return nil, errValidation("%s.%s must be one of %s, not %q.", t.name, k, strings.Join(vals, ", "), cv)
		}
		e[k] = cv
		set = append(set, k)
	}
	return set, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (b *Backend) create(tx *txn, op map[string]any) (any, *apiError) {
	t, key, aerr := typeAndKey(op)
	if aerr != nil {
		return nil, aerr
	}
	data, ok := op["entity_data"].(map[string]any)
	if !ok {
		return nil, errValidation("create needs entity_data.")
	}
	e := entity{}
	if _, aerr := b.setAttrs(t, e, data, true); aerr != nil {
		return nil, aerr
	}
	for i, k := range key {
		if cur, ok := e[t.pk[i]]; ok && cur != k {
			return nil, errValidation("entity_key and entity_data disagree on %s.", t.pk[i])
		}
		e[t.pk[i]] = k
	}
	for name := range t.attrs {
		if _, ok := e[name]; !ok {
			if d := t.defaults[name]; d != nil {
				e[name] = d(b)
			} else {
				e[name] = nil
			}
		}
	}
	for _, r := range t.required {
		if e[r] == nil {
			return nil, errValidation("%s.%s is required.", t.name, r)
		}
	}
	// References must point at existing entities.
	for _, rel := range t.relations {
		if rel.many {
			continue
		}
		if id, _ := e[rel.local].(string); id != "" && b.get(rel.target, id) == nil {
			return nil, errValidation("%s.%s: no %s with id %q.", t.name, rel.local, rel.target, id)
		}
	}
	if t.systemType != "" && e["system_type"] != t.systemType {
		return nil, errValidation("%s.system_type must be %q.", t.name, t.systemType)
	}
	if t.name == "Job" && e["user_id"] == nil {
		return nil, errValidation("Job.user_id is required.")
	}
	if _, dup := b.tables[t.table][keyOf(t, e)]; dup {
		return nil, &apiError{Exception: "ServerError", Content: fmt.Sprintf("Duplicate entry: %s with key %v already exists.", t.name, pkValues(t, e)), status: http.StatusConflict}
	}
	b.insert(tx, t, e)
	base := ""
	if tx != nil {
		base = tx.base
	}
	return map[string]any{"action": "create", "data": b.renderer(base).sparse(t, e)}, nil
}

func pkValues(t *typeDef, e entity) []any {
	out := make([]any, len(t.pk))
	for i, k := range t.pk {
		out[i] = e[k]
	}
	return out
}

// typeAndKey reads an operation's entity_type and entity_key.
func typeAndKey(op map[string]any) (*typeDef, []string, *apiError) {
	t, aerr := entityTypeOf(op)
	if aerr != nil {
		return nil, nil, aerr
	}
	key, aerr := entityKey(t, op)
	if aerr != nil {
		return nil, nil, aerr
	}
	return t, key, nil
}

// target finds the entity an update or delete operation names.
func (b *Backend) target(op map[string]any) (*typeDef, entity, *apiError) {
	t, key, aerr := typeAndKey(op)
	if aerr != nil {
		return nil, nil, aerr
	}
	e, aerr := b.find(t, key)
	if aerr != nil {
		return nil, nil, aerr
	}
	return t, e, nil
}

func (b *Backend) find(t *typeDef, key []string) (entity, *apiError) {
	if len(key) != len(t.pk) {
		return nil, errValidation("%s is keyed by %s.", t.name, strings.Join(t.pk, ", "))
	}
	e := b.tables[t.table][strings.Join(key, "\x1f")]
	if e == nil {
		return nil, errNotFound("%s with key %q not found.", t.name, key)
	}
	return e, nil
}

func (b *Backend) get(typeName, id string) entity {
	t, ok := lookupType(typeName)
	if !ok || len(t.pk) != 1 {
		return nil
	}
	return b.tables[t.table][id]
}

func (b *Backend) update(tx *txn, op map[string]any) (any, *apiError) {
	t, old, aerr := b.target(op)
	if aerr != nil {
		return nil, aerr
	}
	data, _ := op["entity_data"].(map[string]any)
	e := old.clone()
	set, aerr := b.setAttrs(t, e, data, false)
	if aerr != nil {
		return nil, aerr
	}
	for _, r := range t.required {
		if e[r] == nil {
			return nil, errValidation("%s.%s is required.", t.name, r)
		}
	}
	b.putRow(tx, t, keyOf(t, e), e)
	out := map[string]any{"__entity_type__": t.name}
	for _, k := range append(append(append([]string{}, t.pk...), t.system...), set...) {
		out[k] = encodeValue(e[k])
	}
	return map[string]any{"action": "update", "data": out}, nil
}

func (b *Backend) delete(tx *txn, op map[string]any) (any, *apiError) {
	t, e, aerr := b.target(op)
	if aerr != nil {
		return nil, aerr
	}
	b.remove(tx, t, e)
	return map[string]any{"action": "delete", "data": true}, nil
}

// remove deletes e and what depends on it: a job's and a component's
// JobComponents, a component's ComponentLocations and stored bytes.
func (b *Backend) remove(tx *txn, t *typeDef, e entity) {
	b.delRow(tx, t, keyOf(t, e))
	id, _ := e["id"].(string)
	switch t.name {
	case "Job":
		b.removeWhere(tx, "JobComponent", "job_id", id)
	case "Component", "FileComponent", "ContainerComponent":
		b.removeWhere(tx, "JobComponent", "component_id", id)
		b.removeWhere(tx, "ComponentLocation", "component_id", id)
		if b.uploads[id] != nil {
			b.setUpload(tx, id, nil)
		}
		b.dropFile(tx, id)
	}
}

func (b *Backend) removeWhere(tx *txn, typeName, attr, val string) {
	t := types[typeName]
	var doomed []entity
	for _, e := range b.tables[t.table] {
		if e[attr] == val {
			doomed = append(doomed, e)
		}
	}
	for _, e := range doomed {
		b.remove(tx, t, e)
	}
}

// --- queries ---

// errGone ends a query whose client went away.
var errGone = &apiError{Exception: "ServerError", Content: "The client closed the request.", status: 499}

// clip shortens an expression echoed in an error.
func clip(expr string) string {
	if len(expr) <= 200 {
		return expr
	}
	return expr[:200] + "..."
}

func (b *Backend) query(ctx context.Context, tx *txn, expr string) (any, *apiError) {
	lim := tx.limits
	q, err := parseQueryLimits(expr, lim.MaxQueryDepth, lim.MaxQueryTerms, lim.MaxInValues)
	if err != nil {
		return nil, errParse(clip(expr), err)
	}
	t, ok := lookupType(q.entityType)
	if !ok {
		return nil, errParse(clip(expr), fmt.Errorf("unknown entity type %q", q.entityType))
	}
	projs := q.projections
	if projs == nil {
		projs = t.projections
	}
	for _, p := range projs {
		if err := checkPath(t, p, true); err != nil {
			return nil, errParse(clip(expr), err)
		}
	}
	for _, k := range q.order {
		if err := checkPath(t, k.path, false); err != nil {
			return nil, errParse(clip(expr), err)
		}
	}
	if q.where != nil {
		if err := checkCond(t, q.where); err != nil {
			return nil, errParse(clip(expr), err)
		}
	}
	type row struct {
		e    entity
		seq  int64
		keys []any
	}
	var rows []row
	n := 0
	for _, e := range b.tables[t.table] {
		if n++; n%1024 == 0 && ctx.Err() != nil {
			return nil, errGone
		}
		if rowMatches(t, e) && b.eval(t, e, q.where) {
			r := row{e: e, seq: e[seqKey].(int64)}
			if len(q.order) > 0 {
				r.keys = make([]any, len(q.order))
				for i, k := range q.order {
					r.keys[i] = first(b.values(t, e, k.path))
				}
			}
			rows = append(rows, r)
		}
	}
	if ctx.Err() != nil {
		return nil, errGone
	}
	cmpRows := func(x, y row) int {
		for k, o := range q.order {
			if c := compare(x.keys[k], y.keys[k]); c != 0 {
				if o.desc {
					return -c
				}
				return c
			}
		}
		return cmp.Compare(x.seq, y.seq)
	}
	total := len(rows)
	if q.limit >= 0 && q.offset+q.limit < total/4 {
		// Only the first offset+limit rows are answered: select them
		// with a bounded heap instead of sorting every row.
		rows = smallest(rows, q.offset+q.limit, cmpRows)
	} else {
		slices.SortFunc(rows, cmpRows)
	}
	start := min(q.offset, total)
	end := total
	if q.limit >= 0 {
		end = min(start+q.limit, total)
	}
	if tx.rendered+end-start > lim.MaxResults {
		return nil, &apiError{Exception: "ServerError", Content: fmt.Sprintf(
			"The query %q would answer %d entities; one request may answer at most %d. Use limit and offset to page.", clip(expr), end-start, lim.MaxResults),
			status: http.StatusBadRequest}
	}
	tx.rendered += end - start
	data := make([]any, 0, end-start)
	rr := b.renderer(tx.base)
	for i, r := range rows[start:end] {
		if i%1024 == 1023 && ctx.Err() != nil {
			return nil, errGone
		}
		data = append(data, rr.entity(t, r.e, projs))
	}
	var next any
	if end < total {
		next = end
	}
	return map[string]any{"action": "query", "data": data, "metadata": map[string]any{"next": map[string]any{"offset": next}}}, nil
}

// checkPath verifies that every step of a dotted path exists; a path that
// ends on a relation is allowed in projections only.
func checkPath(t *typeDef, path string, projection bool) error {
	cur := t
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if cur.hasAttr(p) || cur.isComputed(p) {
			if i != len(parts)-1 {
				return fmt.Errorf("%s.%s is not a relation", cur.name, p)
			}
			if !cur.hasAttr(p) && !projection {
				return fmt.Errorf("%s.%s is computed and cannot be compared or ordered by", cur.name, p)
			}
			return nil
		}
		rel, ok := cur.relations[p]
		if !ok {
			if cur.unsupported[p] {
				return fmt.Errorf("the fake does not follow %s.%s", cur.name, p)
			}
			return fmt.Errorf("%s has no attribute %q", cur.name, p)
		}
		if i == len(parts)-1 && !projection {
			return fmt.Errorf("%s.%s is a relation; compare one of its attributes", cur.name, p)
		}
		cur = types[rel.target]
	}
	return nil
}

// checkCond verifies every path of the criteria and converts their
// literals to the attributes' kinds, once for the whole query.
func checkCond(t *typeDef, c cond) error {
	switch x := c.(type) {
	case *andCond:
		for _, c := range x.list {
			if err := checkCond(t, c); err != nil {
				return err
			}
		}
	case *orCond:
		for _, c := range x.list {
			if err := checkCond(t, c); err != nil {
				return err
			}
		}
	case *notCond:
		return checkCond(t, x.c)
	case *cmpCond:
		if err := checkPath(t, x.path, false); err != nil {
			return err
		}
		return compileCmp(t, x)
	case *relCond:
		target, many, err := relTarget(t, x.path)
		if err != nil {
			return err
		}
		if x.op == "has" && many {
			return fmt.Errorf("%s is a collection: use any", x.path)
		}
		if x.op == "any" && !many {
			return fmt.Errorf("%s is not a collection: use has", x.path)
		}
		if x.sub != nil {
			return checkCond(target, x.sub)
		}
	}
	return nil
}

// compileCmp converts a comparison's literals to the attribute's kind.
func compileCmp(t *typeDef, x *cmpCond) error {
	x.kind = attrKind(t, x.path)
	switch x.op {
	case "in", "not_in":
		x.lits = make([]any, 0, len(x.val.list))
		for _, v := range x.val.list {
			l, err := literal(x.kind, v)
			if err != nil {
				return err
			}
			x.lits = append(x.lits, l)
		}
		if x.kind == kString || x.kind == kJSON || x.kind == kInt {
			x.set = make(map[any]bool, len(x.lits))
			for _, l := range x.lits {
				if l != nil {
					x.set[l] = true
				}
			}
		}
	case "like", "not_like":
		if x.val.kind != "string" {
			return fmt.Errorf("like needs a string pattern")
		}
	default:
		l, err := literal(x.kind, x.val)
		if err != nil {
			return err
		}
		x.lits = []any{l}
	}
	return nil
}

func relTarget(t *typeDef, path string) (*typeDef, bool, error) {
	cur := t
	many := false
	for _, p := range strings.Split(path, ".") {
		rel, ok := cur.relations[p]
		if !ok {
			return nil, false, fmt.Errorf("%s has no relation %q", cur.name, p)
		}
		many = many || rel.many
		cur = types[rel.target]
	}
	return cur, many, nil
}

// related returns the entities e's relation name points at.
func (b *Backend) related(rel relation, e entity) []entity {
	v, _ := e[rel.local].(string)
	if v == "" {
		return nil
	}
	target := types[rel.target]
	if !rel.many && len(target.pk) == 1 && rel.remote == target.pk[0] {
		if x := b.tables[target.table][v]; x != nil {
			return []entity{x}
		}
		return nil
	}
	var out []entity
	for _, x := range b.tables[target.table] {
		if x[rel.remote] == v && rowMatches(target, x) {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][seqKey].(int64) < out[j][seqKey].(int64) })
	return out
}

// values follows a path from e and returns every value it reaches.
func (b *Backend) values(t *typeDef, e entity, path string) []any {
	head, rest, more := strings.Cut(path, ".")
	if !more {
		if t.hasAttr(head) {
			return []any{e[head]}
		}
		return nil
	}
	rel, ok := t.relations[head]
	if !ok {
		return nil
	}
	var out []any
	for _, x := range b.related(rel, e) {
		out = append(out, b.values(types[rel.target], x, rest)...)
	}
	return out
}

func attrKind(t *typeDef, path string) string {
	cur := t
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		cur = types[cur.relations[p].target]
	}
	return cur.attrs[parts[len(parts)-1]]
}

func (b *Backend) eval(t *typeDef, e entity, c cond) bool {
	switch x := c.(type) {
	case nil:
		return true
	case *andCond:
		for _, c := range x.list {
			if !b.eval(t, e, c) {
				return false
			}
		}
		return true
	case *orCond:
		for _, c := range x.list {
			if b.eval(t, e, c) {
				return true
			}
		}
		return false
	case *notCond:
		return !b.eval(t, e, x.c)
	case *relCond:
		return b.evalRel(t, e, x.path, x.sub)
	case *cmpCond:
		return b.evalCmp(t, e, x)
	}
	return false
}

func (b *Backend) evalRel(t *typeDef, e entity, path string, sub cond) bool {
	head, rest, more := strings.Cut(path, ".")
	rel := t.relations[head]
	target := types[rel.target]
	for _, r := range b.related(rel, e) {
		var ok bool
		if more {
			ok = b.evalRel(target, r, rest, sub)
		} else {
			ok = b.eval(target, r, sub)
		}
		if ok {
			return true
		}
	}
	return false
}

func (b *Backend) evalCmp(t *typeDef, e entity, x *cmpCond) bool {
	var vals []any
	if strings.IndexByte(x.path, '.') < 0 {
		vals = []any{e[x.path]}
	} else if vals = b.values(t, e, x.path); len(vals) == 0 {
		// a path through an empty relation compares as null
		vals = []any{nil}
	}
	negated := x.op == "is_not" || x.op == "not_in" || x.op == "not_like"
	match := func(v any) bool {
		switch x.op {
		case "is", "is_not":
			return compare(v, x.lits[0]) == 0 && (v == nil) == (x.lits[0] == nil)
		case "in", "not_in":
			if v == nil {
				return false
			}
			if x.set != nil {
				return x.set[v]
			}
			for _, l := range x.lits {
				if l != nil && compare(v, l) == 0 {
					return true
				}
			}
			return false
		case "like", "not_like":
			s, ok := v.(string)
			return ok && likeMatch(x.val.s, s)
		}
		if v == nil || x.lits[0] == nil {
			return false
		}
		c := compare(v, x.lits[0])
		switch x.op {
		case "gt":
			return c > 0
		case "lt":
			return c < 0
		case "ge":
			return c >= 0
		case "le":
			return c <= 0
		}
		return false
	}
	for _, v := range vals {
		if match(v) {
			return !negated
		}
	}
	return negated
}

// renderer renders the entities of one answer as the server does: an
// entity that appears again in the same answer is sent as a bare
// reference, {__entity_type__, <primary key>}.
type renderer struct {
	b    *Backend
	base string // the server's URL, for computed URLs
	seen map[string]bool
}

func (b *Backend) renderer(base string) *renderer {
	return &renderer{b: b, base: base, seen: map[string]bool{}}
}

// ref is e as a bare reference.
func ref(t *typeDef, e entity) map[string]any {
	out := map[string]any{"__entity_type__": t.name}
	for _, k := range t.pk {
		out[k] = e[k]
	}
	return out
}

// entity renders e with __entity_type__, the primary key, the system
// projections and the projected attributes, relations nested; nil
// projections means every attribute.
func (r *renderer) entity(t *typeDef, e entity, projections []string) map[string]any {
	t = rowType(t, e)
	id := t.table + "\x1e" + keyOf(t, e)
	if r.seen[id] {
		return ref(t, e)
	}
	r.seen[id] = true
	out := ref(t, e)
	for _, k := range t.system {
		if t.hasAttr(k) {
			out[k] = encodeValue(e[k])
		}
	}
	if projections == nil {
		for name := range t.attrs {
			out[name] = encodeValue(e[name])
		}
		return out
	}
	nested := map[string][]string{}
	var order []string
	for _, p := range projections {
		head, rest, more := strings.Cut(p, ".")
		if t.hasAttr(head) {
			out[head] = encodeValue(e[head])
			continue
		}
		if t.isComputed(head) {
			out[head] = r.b.computed(t, e, head, r.base)
			continue
		}
		if _, ok := nested[head]; !ok {
			order = append(order, head)
			nested[head] = []string{}
		}
		if more {
			nested[head] = append(nested[head], rest)
		}
	}
	for _, head := range order {
		rel := t.relations[head]
		target := types[rel.target]
		sub := nested[head]
		if len(sub) == 0 {
			sub = target.projections
		}
		rs := r.b.related(rel, e)
		if rel.many {
			list := make([]any, 0, len(rs))
			for _, x := range rs {
				list = append(list, r.entity(target, x, sub))
			}
			out[head] = list
		} else if len(rs) == 1 {
			out[head] = r.entity(target, rs[0], sub)
		} else {
			out[head] = nil
		}
	}
	return out
}

// sparse renders a created entity as the server answers a create: its
// type, key and every attribute that is not null.
func (r *renderer) sparse(t *typeDef, e entity) map[string]any {
	t = rowType(t, e)
	r.seen[t.table+"\x1e"+keyOf(t, e)] = true
	out := ref(t, e)
	for name := range t.attrs {
		if v := e[name]; v != nil {
			out[name] = encodeValue(v)
		}
	}
	return out
}

// computed returns a computed attribute: url of a ComponentLocation in
// ftrack.server, and of a JobComponent whose component is there, is
// {"value": a signed download URL, "name": the file's name}; elsewhere
// null.
func (b *Backend) computed(t *typeDef, e entity, name, base string) any {
	if name != "url" || base == "" {
		return nil
	}
	var compID string
	switch t.name {
	case "ComponentLocation":
		if e["location_id"] != ServerLocationID {
			return nil
		}
		compID, _ = e["resource_identifier"].(string)
	case "JobComponent":
		id, _ := e["component_id"].(string)
		for _, cl := range b.tables["ComponentLocation"] {
			if cl["component_id"] == id && cl["location_id"] == ServerLocationID {
				compID, _ = cl["resource_identifier"].(string)
				break
			}
		}
	}
	if compID == "" {
		return nil
	}
	fileName := ""
	if c := b.tables["Component"][compID]; c != nil {
		n, _ := c["name"].(string)
		ft, _ := c["file_type"].(string)
		fileName = n + ft
	}
	return map[string]any{"value": b.signedDownloadURL(base, compID), "name": fileName}
}

// signedDownloadURL is a /component/get URL that needs no api key.
func (b *Backend) signedDownloadURL(base, id string) string {
	exp := b.now().Add(UploadTTL).Unix()
	q := url.Values{}
	q.Set("id", id)
	q.Set("expires", strconv.FormatInt(exp, 10))
	q.Set("signature", b.sign("get\n"+id, exp))
	return base + "/component/get?" + q.Encode()
}

// --- accessors for tests ---

// Job returns a stored job as the server would render it with every
// attribute, or nil.
func (b *Backend) Job(id string) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.tables["Job"][id]
	if e == nil {
		return nil
	}
	return b.renderer("").entity(types["Job"], e, nil)
}

// JobCount is the number of stored jobs.
func (b *Backend) JobCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.tables["Job"])
}

// SetJob changes a job as another process reporting it would: status, and
// description when not empty. Done and failed set finished_at.
func (b *Backend) SetJob(id, status, description string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.tables["Job"][id]
	if e == nil {
		return errors.New("ftrack fake: no job " + id)
	}
	if !contains(types["Job"].enums["status"], status) {
		return fmt.Errorf("ftrack fake: bad status %q", status)
	}
	c := e.clone()
	c["status"] = status
	if description != "" {
		d, _ := json.Marshal(map[string]string{"description": description})
		c["data"] = string(d)
	}
	if status == "done" || status == "failed" {
		c["finished_at"] = b.now()
	}
	b.tables["Job"][id] = c
	return nil
}

// File reports a stored component's size and base64 MD5.
func (b *Backend) File(componentID string) (size int64, md5sum string, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.files[componentID]
	if f == nil {
		return 0, "", false
	}
	if f.md5 == "" {
		if sum, err := f.checksum(); err == nil {
			f.md5 = sum
		}
	}
	return f.size, f.md5, true
}

// Calls is the number of POST /api requests that passed authentication.
func (b *Backend) Calls() int { return int(b.calls.Load()) }

func newID() string {
	var x [16]byte
	_, _ = rand.Read(x[:])
	x[6] = x[6]&0x0f | 0x40
	x[8] = x[8]&0x3f | 0x80
	h := hex.EncodeToString(x[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// smallest returns the k smallest rows by cmp, in order, keeping a
// max-heap of k rows while it scans.
func smallest[T any](rows []T, k int, cmp func(a, b T) int) []T {
	if k <= 0 {
		return rows[:0]
	}
	h := make([]T, 0, k)
	down := func(i int) {
		for {
			l, big := 2*i+1, i
			if l < len(h) && cmp(h[l], h[big]) > 0 {
				big = l
			}
			if r := l + 1; r < len(h) && cmp(h[r], h[big]) > 0 {
				big = r
			}
			if big == i {
				return
			}
			h[i], h[big] = h[big], h[i]
			i = big
		}
	}
	for _, r := range rows {
		if len(h) < k {
			h = append(h, r)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if cmp(h[i], h[p]) <= 0 {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if cmp(r, h[0]) < 0 {
			h[0] = r
			down(0)
		}
	}
	slices.SortFunc(h, cmp)
	return h
}
