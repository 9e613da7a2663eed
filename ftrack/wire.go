package ftrack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

// ServerLocationID is the id of the built-in "ftrack.server" Location, the
// storage the ftrack server manages itself (ftrack_api.symbol
// SERVER_LOCATION_ID). Components uploaded through get_upload_metadata are
// registered there with their own id as resource_identifier.
const ServerLocationID = "3a372bde-05bc-11e4-8908-20c9d081909b"

// The other built-in locations' ids, as ftrack_api.symbol names them.
const (
	OriginLocationID    = "ce9b348f-8809-11e3-821c-20c9d081909b"
	UnmanagedLocationID = "cb268ecc-8809-11e3-a7e2-20c9d081909b"
	ReviewLocationID    = "cd41be70-8809-11e3-b98a-20c9d081909b"
)

// DateTime is a point in time as the ftrack API encodes it:
// {"__type__": "datetime", "value": "2022-10-10T10:12:09"}. The server sends
// naive values, which are UTC when its timezone support is on; DateTime
// reads them as UTC and also accepts values with a zone or an offset, and
// {"__type__": "date"} values (midnight UTC). A decoded value re-encodes
// exactly as it came (naive stays naive) while its time is unchanged; a
// new or changed one encodes in UTC with a Z.
type DateTime struct {
	time.Time
	// as decoded: __type__ and value, and the time they meant
	typ, text string
	was       time.Time
}

// NewDateTime returns t as a DateTime.
func NewDateTime(t time.Time) DateTime { return DateTime{Time: t} }

// MarshalJSON encodes the ftrack datetime object, or null for the zero time.
func (d DateTime) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	if d.text != "" && d.Time.Equal(d.was) {
		return json.Marshal(map[string]string{"__type__": d.typ, "value": d.text})
	}
	return json.Marshal(map[string]string{"__type__": "datetime", "value": d.UTC().Format("2006-01-02T15:04:05.999999999Z")})
}

// UnmarshalJSON decodes the ftrack datetime or date object; null is zero.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		d.Time = time.Time{}
		return nil
	}
	var w struct {
		Type  string `json:"__type__"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("ftrack: datetime: %w", err)
	}
	if w.Type != "datetime" && w.Type != "date" {
		return fmt.Errorf("ftrack: datetime: __type__ %q is not datetime or date", w.Type)
	}
	t, err := ParseTime(w.Value)
	if err != nil {
		return err
	}
	*d = DateTime{Time: t, typ: w.Type, text: w.Value, was: t}
	return nil
}

// timeLayouts are tried in order; the naive form the server sends comes
// first, as every failed time.Parse allocates its error.
var timeLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime reads a datetime value as the ftrack server writes it: ISO 8601,
// naive values taken as UTC.
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("ftrack: datetime value %q is not ISO 8601", s)
}

// Operation is one entry of a batch sent to POST {server}/api. The typed
// operations below cover what longrun uses; Extra fields travel as they are.
type Operation interface {
	// Action is the operation's "action" field.
	Action() string
}

// CreateOperation creates an entity:
// {"action": "create", "entity_type", "entity_key", "entity_data"}.
// EntityData is any value that encodes to a JSON object (a typed entity
// such as *Job, or a map); "__entity_type__" is added to it.
type CreateOperation struct {
	EntityType string
	EntityKey  []string
	EntityData any
	Extra      map[string]any
}

// Action returns "create".
func (CreateOperation) Action() string { return "create" }

// MarshalJSON encodes the operation.
func (o CreateOperation) MarshalJSON() ([]byte, error) {
	return encodeEntityOp("create", o.EntityType, o.EntityKey, o.EntityData, true, o.Extra)
}

// UpdateOperation updates attributes of an entity:
// {"action": "update", "entity_type", "entity_key", "entity_data"}.
type UpdateOperation struct {
	EntityType string
	EntityKey  []string
	EntityData any
	Extra      map[string]any
}

// Action returns "update".
func (UpdateOperation) Action() string { return "update" }

// MarshalJSON encodes the operation.
func (o UpdateOperation) MarshalJSON() ([]byte, error) {
	return encodeEntityOp("update", o.EntityType, o.EntityKey, o.EntityData, true, o.Extra)
}

// DeleteOperation deletes an entity: {"action": "delete", "entity_type",
// "entity_key"}.
type DeleteOperation struct {
	EntityType string
	EntityKey  []string
	Extra      map[string]any
}

// Action returns "delete".
func (DeleteOperation) Action() string { return "delete" }

// MarshalJSON encodes the operation.
func (o DeleteOperation) MarshalJSON() ([]byte, error) {
	return encodeEntityOp("delete", o.EntityType, o.EntityKey, nil, false, o.Extra)
}

// QueryOperation runs a query expression such as
// `select id, status from Job where status is "running" offset 0 limit 100`.
type QueryOperation struct {
	Expression string
	Extra      map[string]any
}

// Action returns "query".
func (QueryOperation) Action() string { return "query" }

// MarshalJSON encodes the operation.
func (o QueryOperation) MarshalJSON() ([]byte, error) {
	return encodeOp("query", o.Extra, "expression", o.Expression)
}

// QueryServerInformationOperation asks for the server's version, schema hash
// and storage scenario. Values optionally names extra keys to return.
type QueryServerInformationOperation struct {
	Values []string
	Extra  map[string]any
}

// Action returns "query_server_information".
func (QueryServerInformationOperation) Action() string { return "query_server_information" }

// MarshalJSON encodes the operation.
func (o QueryServerInformationOperation) MarshalJSON() ([]byte, error) {
	if len(o.Values) > 0 {
		return encodeOp(o.Action(), o.Extra, "values", o.Values)
	}
	return encodeOp(o.Action(), o.Extra)
}

// QuerySchemasOperation asks for every entity type's schema.
type QuerySchemasOperation struct {
	Extra map[string]any
}

// Action returns "query_schemas".
func (QuerySchemasOperation) Action() string { return "query_schemas" }

// MarshalJSON encodes the operation.
func (o QuerySchemasOperation) MarshalJSON() ([]byte, error) { return encodeOp(o.Action(), o.Extra) }

// GetUploadMetadataOperation asks where to PUT a component's bytes:
// {"action": "get_upload_metadata", "component_id", "file_name",
// "file_size", "checksum", "parts"}. Checksum is the base64 MD5 of the
// bytes (the Content-MD5 of RFC 1864) or empty, which is sent as null.
// Parts is the number of parts of a multipart upload, 0 (sent as null)
// for one PUT; with parts the server answers a MultipartUploadMetadata.
type GetUploadMetadataOperation struct {
	ComponentID string
	FileName    string
	FileSize    int64
	Checksum    string
	Parts       int
	Extra       map[string]any
}

// Action returns "get_upload_metadata".
func (GetUploadMetadataOperation) Action() string { return "get_upload_metadata" }

// MarshalJSON encodes the operation.
func (o GetUploadMetadataOperation) MarshalJSON() ([]byte, error) {
	var sum any
	if o.Checksum != "" {
		sum = o.Checksum
	}
	kv := []any{"component_id", o.ComponentID, "file_name", o.FileName, "file_size", o.FileSize, "checksum", sum}
	if o.Parts > 0 {
		kv = append(kv, "parts", o.Parts)
	}
	return encodeOp(o.Action(), o.Extra, kv...)
}

// CompleteMultipartUploadOperation ends a multipart upload once every part
// is stored: {"action": "complete_multipart_upload", "upload_id", "parts":
// [{"part_number", "e_tag"}], "component_id"}, the parts in ascending
// order.
type CompleteMultipartUploadOperation struct {
	ComponentID string
	UploadID    string
	Parts       []UploadedPart
	Extra       map[string]any
}

// UploadedPart is a stored part: its number and the ETag the storage
// answered (without quotes).
type UploadedPart struct {
	PartNumber int    `json:"part_number"`
	ETag       string `json:"e_tag"`
}

// Action returns "complete_multipart_upload".
func (CompleteMultipartUploadOperation) Action() string { return "complete_multipart_upload" }

// MarshalJSON encodes the operation.
func (o CompleteMultipartUploadOperation) MarshalJSON() ([]byte, error) {
	parts := o.Parts
	if parts == nil {
		parts = []UploadedPart{}
	}
	return encodeOp(o.Action(), o.Extra, "upload_id", o.UploadID, "parts", parts, "component_id", o.ComponentID)
}

func encodeOp(action string, extra map[string]any, kv ...any) ([]byte, error) {
	m := make(map[string]any, len(extra)+len(kv)/2+1)
	for k, v := range extra {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	m["action"] = action
	return json.Marshal(m)
}

func encodeEntityOp(action, entityType string, key []string, data any, withData bool, extra map[string]any) ([]byte, error) {
	if entityType == "" {
		return nil, fmt.Errorf("ftrack: %s operation without entity_type", action)
	}
	if key == nil {
		key = []string{}
	}
	kv := []any{"entity_type", entityType, "entity_key", key}
	if withData {
		ed, err := entityData(entityType, data)
		if err != nil {
			return nil, err
		}
		kv = append(kv, "entity_data", ed)
	}
	return encodeOp(action, extra, kv...)
}

// entityData encodes data as a JSON object and adds __entity_type__.
func entityData(entityType string, data any) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("ftrack: encoding %s entity_data: %w", entityType, err)
		}
		if !bytes.Equal(b, []byte("null")) {
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("ftrack: %s entity_data is not a JSON object: %w", entityType, err)
			}
		}
	}
	et, _ := json.Marshal(entityType)
	m["__entity_type__"] = et
	return m, nil
}

// Result is one entry of the server's reply, in the order of the batch.
// create, update, delete and query answer {"action", "data", "metadata"};
// query_server_information, query_schemas and get_upload_metadata answer
// their payload directly. Raw always holds the entry as the server sent it.
type Result struct {
	// Action is the "action" field, empty for the bare payloads.
	Action string
	// Data is the "data" field: an entity, a list of entities, or true.
	Data json.RawMessage
	// Metadata is a query's paging metadata.
	Metadata *QueryMetadata
	// Raw is the whole entry.
	Raw json.RawMessage
}

// QueryMetadata is a query result's "metadata".
type QueryMetadata struct {
	Next struct {
		// Offset is the offset of the next page, nil when there is none.
		Offset *int `json:"offset"`
	} `json:"next"`
	// Raw is the object as the server sent it, unknown fields included.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the object and keeps it whole in Raw.
func (m *QueryMetadata) UnmarshalJSON(b []byte) error {
	type plain QueryMetadata
	return decodeRaw(b, (*plain)(m), &m.Raw)
}

// MarshalJSON encodes the fields, plus the fields of Raw that QueryMetadata
// does not model.
func (m QueryMetadata) MarshalJSON() ([]byte, error) {
	type plain QueryMetadata
	return encodeRaw(plain(m), m.Raw)
}

// UnmarshalJSON decodes one result entry.
func (r *Result) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*r = Result{Raw: append(json.RawMessage(nil), b...)}
	if len(b) == 0 || b[0] != '{' {
		if !json.Valid(b) {
			return errors.New("ftrack: result is not valid JSON")
		}
		return nil
	}
	var w struct {
		Action   json.RawMessage `json:"action"`
		Data     json.RawMessage `json:"data"`
		Metadata *QueryMetadata  `json:"metadata"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	// A bare payload (server information) may carry keys of its own that
	// look like ours; only a string action marks an operation result.
	if len(w.Action) > 0 && w.Action[0] == '"' {
		if err := json.Unmarshal(w.Action, &r.Action); err != nil {
			return err
		}
		r.Data, r.Metadata = w.Data, w.Metadata
	}
	return nil
}

// MarshalJSON returns Raw.
func (r Result) MarshalJSON() ([]byte, error) {
	if len(r.Raw) == 0 {
		return []byte("null"), nil
	}
	return r.Raw, nil
}

// Decode decodes the result's data (or, for a bare payload, the whole
// entry) into v. The server sends an entity that appears again in the same
// result as a bare reference ({"__entity_type__", "id"}); Decode puts the
// entity's attributes in its place, as ftrack's own clients merge them, so
// every occurrence decodes whole (a reference to an entity that encloses
// it stays bare).
func (r Result) Decode(v any) error {
	src := r.Raw
	if r.Action != "" {
		src = resolveReferences(r.Data)
	}
	if len(src) == 0 {
		return errors.New("ftrack: empty result")
	}
	if err := json.Unmarshal(src, v); err != nil {
		return fmt.Errorf("ftrack: decoding %s result: %w", r.kind(), err)
	}
	return nil
}

func (r Result) kind() string {
	if r.Action != "" {
		return r.Action
	}
	return "bare"
}

// DecodeResults decodes the body of a POST /api reply for a batch of n
// operations. A body that is an error object ({"exception", "content",
// "error_code"}, which a server that is not in strict mode sends with
// status 200) is returned as a *ServerError; a list of another length than
// n, or anything that is not JSON, is an error too.
func DecodeResults(body []byte, n int) ([]Result, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		if se := decodeServerError(body); se != nil {
			return nil, se
		}
		return nil, fmt.Errorf("%w: a JSON object that is not an error", ErrMalformedResponse)
	}
	var out []Result
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedResponse, err)
	}
	if out == nil {
		return nil, fmt.Errorf("%w: null", ErrMalformedResponse)
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: %d results for %d operations", ErrMalformedResponse, len(out), n)
	}
	return out, nil
}

// ServerInformation is the query_server_information payload.
type ServerInformation struct {
	Version                  string          `json:"version"`
	SchemaHash               string          `json:"schema_hash,omitempty"`
	StorageScenario          json.RawMessage `json:"storage_scenario,omitempty"`
	IsTimezoneSupportEnabled bool            `json:"is_timezone_support_enabled"`
	// Raw is the object as the server sent it, unknown fields included.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the object and keeps it whole in Raw.
func (s *ServerInformation) UnmarshalJSON(b []byte) error {
	type plain ServerInformation
	return decodeRaw(b, (*plain)(s), &s.Raw)
}

// MarshalJSON encodes the fields, plus the fields of Raw that ServerInformation
// does not model.
func (s ServerInformation) MarshalJSON() ([]byte, error) {
	type plain ServerInformation
	return encodeRaw(plain(s), s.Raw)
}

// Schema is one entity type's schema from query_schemas.
type Schema struct {
	ID                 string                     `json:"id"`
	Type               string                     `json:"type,omitempty"`
	PrimaryKey         []string                   `json:"primary_key"`
	Required           []string                   `json:"required,omitempty"`
	Immutable          []string                   `json:"immutable,omitempty"`
	Computed           []string                   `json:"computed,omitempty"`
	DefaultProjections []string                   `json:"default_projections,omitempty"`
	SystemProjections  []string                   `json:"system_projections,omitempty"`
	Properties         map[string]json.RawMessage `json:"properties,omitempty"`
	// Raw is the object as the server sent it, unknown fields included.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the object and keeps it whole in Raw.
func (s *Schema) UnmarshalJSON(b []byte) error {
	type plain Schema
	return decodeRaw(b, (*plain)(s), &s.Raw)
}

// MarshalJSON encodes the fields, plus the fields of Raw that Schema
// does not model.
func (s Schema) MarshalJSON() ([]byte, error) {
	type plain Schema
	return encodeRaw(plain(s), s.Raw)
}

// UploadMetadata is the get_upload_metadata payload: PUT the bytes to URL
// with Headers.
type UploadMetadata struct {
	URL         string            `json:"url"`
	Headers     map[string]string `json:"headers"`
	ComponentID string            `json:"component_id,omitempty"`
	// Raw is the object as the server sent it, unknown fields included.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the object and keeps it whole in Raw.
func (u *UploadMetadata) UnmarshalJSON(b []byte) error {
	type plain UploadMetadata
	return decodeRaw(b, (*plain)(u), &u.Raw)
}

// MarshalJSON encodes the fields, plus the fields of Raw that UploadMetadata
// does not model.
func (u UploadMetadata) MarshalJSON() ([]byte, error) {
	type plain UploadMetadata
	return encodeRaw(plain(u), u.Raw)
}

// MultipartUploadMetadata is the get_upload_metadata payload when parts
// were asked: PUT part n to URLs[i].SignedURL where URLs[i].PartNumber is
// n, then complete UploadID.
type MultipartUploadMetadata struct {
	ComponentID string       `json:"component_id"`
	UploadID    string       `json:"upload_id"`
	URLs        []UploadPart `json:"urls"`
	// Raw is the object as the server sent it, unknown fields included.
	Raw json.RawMessage `json:"-"`
}

// UploadPart is where one part goes.
type UploadPart struct {
	SignedURL  string `json:"signed_url"`
	PartNumber int    `json:"part_number"`
}

// UnmarshalJSON decodes the object and keeps it whole in Raw.
func (u *MultipartUploadMetadata) UnmarshalJSON(b []byte) error {
	type plain MultipartUploadMetadata
	return decodeRaw(b, (*plain)(u), &u.Raw)
}

// MarshalJSON encodes the fields, plus the fields of Raw it does not model.
func (u MultipartUploadMetadata) MarshalJSON() ([]byte, error) {
	type plain MultipartUploadMetadata
	return encodeRaw(plain(u), u.Raw)
}

// resolveReferences replaces the bare references of data with the entities
// they name, when the same data holds them whole. It returns data as it is
// when there is nothing to replace or data is not what it expects.
func resolveReferences(data json.RawMessage) json.RawMessage {
	n := bytes.Count(data, []byte(`"__entity_type__"`))
	if n < 2 {
		return data
	}
	if d := bytes.TrimSpace(data); len(d) > 0 && d[0] == '[' {
		var rows []json.RawMessage
		if json.Unmarshal(d, &rows) != nil || n <= len(rows) {
			return data // one entity per row: nothing nested
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if dec.Decode(&tree) != nil {
		return data
	}
	r := refResolver{seen: map[string]map[string]any{}}
	r.collect(tree)
	tree = r.replace(tree)
	if !r.changed {
		return data
	}
	out, err := json.Marshal(tree)
	if err != nil {
		return data // such as a cycle, which encoding/json detects
	}
	return out
}

type refResolver struct {
	seen    map[string]map[string]any // identity -> the fullest object seen
	stack   []map[string]any          // the objects being walked, innermost last
	changed bool
}

// identity names an entity by its type and id, or by its type and the
// *_id attributes of a composite key (JobComponent).
func identity(m map[string]any) (string, bool) {
	t, ok := m["__entity_type__"].(string)
	if !ok {
		return "", false
	}
	if id, ok := m["id"].(string); ok {
		return t + "\x00id\x00" + id, true
	}
	var parts []string
	for k, v := range m {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "_id") {
			parts = append(parts, k+"\x00"+s)
		}
	}
	if len(parts) == 0 {
		return "", false
	}
	sort.Strings(parts)
	return t + "\x00" + strings.Join(parts, "\x00"), true
}

// isReference reports whether m holds nothing but the type and its key.
func isReference(m map[string]any) bool {
	for k := range m {
		if k != "__entity_type__" && k != "id" && !strings.HasSuffix(k, "_id") {
			return false
		}
	}
	return true
}

func (r *refResolver) collect(v any) {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := identity(x); ok && !isReference(x) {
			if cur := r.seen[id]; cur == nil || len(x) > len(cur) {
				r.seen[id] = x
			}
		}
		for _, e := range x {
			r.collect(e)
		}
	case []any:
		for _, e := range x {
			r.collect(e)
		}
	}
}

// replace swaps references for the full entity unless that entity
// encloses the reference (which would make a cycle).
func (r *refResolver) replace(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := identity(x); ok && isReference(x) {
			if full := r.seen[id]; full != nil && !r.encloses(full) {
				r.changed = true
				return full
			}
			return x
		}
		r.stack = append(r.stack, x)
		for k, e := range x {
			x[k] = r.replace(e)
		}
		r.stack = r.stack[:len(r.stack)-1]
	case []any:
		for i, e := range x {
			x[i] = r.replace(e)
		}
	}
	return v
}

func (r *refResolver) encloses(full map[string]any) bool {
	for _, m := range r.stack {
		if sameMap(m, full) {
			return true
		}
	}
	return false
}

// sameMap reports whether a and b are the same map (not equal contents).
func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// --- unknown-field keeping ---

// decodeRaw decodes b into v (a pointer to a struct without its own
// UnmarshalJSON) in one pass and keeps a copy of b in *raw. Keeping the
// object whole costs a copy; splitting it into known and unknown fields
// at every level of nesting cost a second decode into a map per object.
func decodeRaw(b []byte, v any, raw *json.RawMessage) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	*raw = append((*raw)[:0:0], b...)
	return nil
}

// encodeRaw encodes v (a struct without its own MarshalJSON) and adds the
// fields of raw that v's type does not name, so that attributes a newer
// server sent survive a round trip. Fields v names win, even when v
// leaves them out (omitempty), so clearing a field is not undone by raw;
// but a field v leaves out that raw holds as null, [], {} or "" is kept
// as raw has it, so finished_at: null and job_components: [] survive.
func encodeRaw(v any, raw json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(raw) == 0 {
		return b, err
	}
	var extra map[string]json.RawMessage
	if json.Unmarshal(raw, &extra) != nil || len(extra) == 0 {
		return b, nil // raw is not an object: nothing to add
	}
	known := jsonNames(reflect.TypeOf(v))
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	added := false
	for k, val := range extra {
		if _, sent := m[k]; sent || known[k] && !emptyJSON(val) {
			continue
		}
		m[k] = val
		added = true
	}
	if !added {
		return b, nil
	}
	return json.Marshal(m)
}

// emptyJSON reports whether v is null, [], {} or "".
func emptyJSON(v json.RawMessage) bool {
	switch string(bytes.Join(bytes.Fields(v), nil)) {
	case "null", "[]", "{}", `""`:
		return true
	}
	return false
}

// jsonNames lists the json names of t's fields.
func jsonNames(t reflect.Type) map[string]bool {
	m := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		m[name] = true
	}
	return m
}
