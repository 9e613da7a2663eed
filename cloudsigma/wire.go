package cloudsigma

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/longrun/longrun/internal/wire"
	"github.com/longrun/longrun/jobs"
)

// TimeLayout is how CloudSigma writes timestamps:
// 2014-06-05T09:45:08.003595+00:00.
const TimeLayout = "2006-01-02T15:04:05.000000-07:00"

// Time is a CloudSigma timestamp. It keeps the server's own spelling, so a
// document re-encodes byte for byte; Time is the parsed instant (zero when
// the text was null or did not parse).
type Time struct {
	time.Time
	// Raw is the text as the server sent it; empty for a value built in Go.
	Raw string
}

// UnmarshalJSON accepts a string or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("cloudsigma: timestamp: %w", err)
	}
	*t = parseTime(s)
	return nil
}

func parseTime(s string) Time {
	t := Time{Raw: s}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999-07:00"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			break
		}
	}
	return t
}

// MarshalJSON writes Raw when set, else the instant in CloudSigma's layout,
// else null.
func (t Time) MarshalJSON() ([]byte, error) {
	switch {
	case t.Raw != "":
		return json.Marshal(t.Raw)
	case t.Time.IsZero():
		return []byte("null"), nil
	}
	return json.Marshal(t.Time.UTC().Format(TimeLayout))
}

// Ref is a reference to another object, as CloudSigma writes it in
// responses: {"resource_uri": "/api/2.0/jobs/<uuid>/", "uuid": "<uuid>"}.
// In requests CloudSigma takes a bare uuid string (a server's
// drives[].drive); a reference decoded from a string encodes back as a
// string.
type Ref struct {
	UUID        string `json:"uuid"`
	ResourceURI string `json:"resource_uri"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
	bare bool
}

type refAlias struct {
	UUID        string `json:"uuid"`
	ResourceURI string `json:"resource_uri"`
}

// UnmarshalJSON accepts an object or a bare uuid string.
func (r *Ref) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = Ref{UUID: s, bare: true}
		return nil
	}
	var a refAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*r = Ref{UUID: a.UUID, ResourceURI: a.ResourceURI, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes the object form, or the bare uuid for a reference
// that came as one (or was built by RefTo).
func (r Ref) MarshalJSON() ([]byte, error) {
	if r.bare {
		return json.Marshal(r.UUID)
	}
	return wire.Encode(refAlias{UUID: r.UUID, ResourceURI: r.ResourceURI}, r.Extra, r.keys)
}

// RefTo returns a reference to uuid in the bare-string form CloudSigma
// takes in request bodies.
func RefTo(uuid string) Ref { return Ref{UUID: uuid, bare: true} }

// Meta is the "meta" member of every CloudSigma list response.
type Meta struct {
	Limit      int `json:"limit"`
	Offset     int `json:"offset"`
	TotalCount int `json:"total_count"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type metaAlias struct {
	Limit      int `json:"limit"`
	Offset     int `json:"offset"`
	TotalCount int `json:"total_count"`
}

// UnmarshalJSON keeps unknown members.
func (m *Meta) UnmarshalJSON(b []byte) error {
	var a metaAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*m = Meta{Limit: a.Limit, Offset: a.Offset, TotalCount: a.TotalCount, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes every member back.
func (m Meta) MarshalJSON() ([]byte, error) {
	return wire.Encode(metaAlias{m.Limit, m.Offset, m.TotalCount}, m.Extra, m.keys)
}

// envelope is one page of a list: {"meta": ..., "objects": [...]}.
type envelope[T any] struct {
	Meta    Meta `json:"meta"`
	Objects []T  `json:"objects"`
}

// page turns a list answer into a jobs.Page.
func page[T any](meta Meta, items []T, asked int) *jobs.Page[T] {
	p := &jobs.Page[T]{Items: items, Offset: meta.Offset, Limit: meta.Limit, Total: meta.TotalCount}
	if asked >= 0 && p.Limit == 0 {
		p.Limit = asked
	}
	p.More = meta.Limit != 0 && len(items) > 0 && meta.Offset+len(items) < meta.TotalCount
	return p
}

// Objects is CloudSigma's envelope of create requests and of the answers
// to create, drive clone and resize: {"objects": [...]}.
type Objects[T any] struct {
	Objects []T `json:"objects"`
}

// One returns the single object of an {"objects": [...]} answer.
func One[T any](o *Objects[T], what string) (T, error) {
	var zero T
	if len(o.Objects) != 1 {
		return zero, fmt.Errorf("%w: %s answer holds %d objects, want 1", ErrMalformed, what, len(o.Objects))
	}
	return o.Objects[0], nil
}

// EscapeFilter escapes one filter value so CloudSigma does not split it: a
// comma becomes \, and a backslash right before a comma or at the end is
// doubled (general.rst, Filtering).
func EscapeFilter(v string) string {
	if !strings.ContainsAny(v, `,\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',':
			b.WriteString(`\,`)
		case c == '\\' && (i+1 == len(v) || v[i+1] == ',' || v[i+1] == '\\'):
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// JoinFilter joins values into one OR filter value.
func JoinFilter(values []string) string {
	esc := make([]string, len(values))
	for i, v := range values {
		esc[i] = EscapeFilter(v)
	}
	return strings.Join(esc, ",")
}

// ListOptions are the query parameters of a CloudSigma list call. Several
// values in one filter are ORed; separate filters are ANDed.
type ListOptions struct {
	// Detail lists /{resource}/detail/ (full objects) instead of the
	// trimmed objects of /{resource}/.
	Detail bool
	// Limit is the page size; 0 leaves the server's default (20).
	Limit int
	// NoLimit asks for every object in one response (limit=0).
	NoLimit bool
	// Offset is the zero-based index of the first object.
	Offset int
	// Fields restricts the members of each object (fields=uuid,status).
	Fields []string
	// OrderBy orders the list, such as "-last_modified".
	OrderBy string
	// Filters are the resource's GET filters, such as
	// {"name__contains": {"db"}} or {"uuid": {a, b}}.
	Filters map[string][]string
}

// Values renders the options as CloudSigma query parameters.
func (o *ListOptions) Values() url.Values {
	v := url.Values{}
	if o == nil {
		return v
	}
	switch {
	case o.NoLimit:
		v.Set("limit", "0")
	case o.Limit > 0:
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		v.Set("offset", strconv.Itoa(o.Offset))
	}
	if len(o.Fields) > 0 {
		v.Set("fields", strings.Join(o.Fields, ","))
	}
	if o.OrderBy != "" {
		v.Set("order_by", o.OrderBy)
	}
	for k, vals := range o.Filters {
		if len(vals) > 0 {
			v.Set(k, JoinFilter(vals))
		}
	}
	return v
}

func (o *ListOptions) detail() bool { return o != nil && o.Detail }

func (o *ListOptions) offset() int {
	if o == nil {
		return 0
	}
	return o.Offset
}

// JobListOptions filter the /jobs/ list. CloudSigma's jobs schema lists
// only state as filterable; Operation and UUID are sent as operation= and
// uuid= (the uuid filter drives and servers document), which a server that
// keeps to the jobs schema refuses with a 400.
type JobListOptions struct {
	ListOptions
	// State keeps jobs in any of these states ("started", "success").
	State []string
	// Operation keeps jobs doing any of these ("drive_clone").
	Operation []string
	// UUID keeps the jobs with these uuids.
	UUID []string
}

// Values renders the options as CloudSigma query parameters.
func (o *JobListOptions) Values() url.Values {
	if o == nil {
		return url.Values{}
	}
	v := o.ListOptions.Values()
	if len(o.State) > 0 {
		v.Set("state", JoinFilter(o.State))
	}
	if len(o.Operation) > 0 {
		v.Set("operation", JoinFilter(o.Operation))
	}
	if len(o.UUID) > 0 {
		v.Set("uuid", JoinFilter(o.UUID))
	}
	return v
}
