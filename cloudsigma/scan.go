package cloudsigma

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/longrun/longrun/internal/wire"
	"github.com/longrun/longrun/jobs"
)

// scanner reads a job document in one pass with wire.Scanner (which
// validates what it skips as encoding/json would, keeps the raw bytes of
// unknown members as slices of data, a private copy, and counts nesting as
// it goes), bounding job levels besides JSON ones.
type scanner struct {
	wire.Scanner
	maxJobs int
}

// newScanner reads data, which nests at most maxJSON JSON levels and
// maxJobs job levels.
func newScanner(data []byte, maxJSON, maxJobs int) *scanner {
	return &scanner{Scanner: wire.Scanner{Data: data, MaxDepth: maxJSON, Malformed: ErrMalformed,
		TooDeep: func(max, at int) error {
			return fmt.Errorf("%w: CloudSigma job document nests deeper than %d JSON levels (at byte %d)", jobs.ErrTooDeep, max, at)
		}}, maxJobs: maxJobs}
}

// jobKey returns the member name of a job or its data, without an
// allocation for the names CloudSigma always sends.
func jobKey(raw []byte, esc bool) string {
	if !esc {
		switch string(raw) { // the compiler does not copy raw here
		case "uuid":
			return "uuid"
		case "operation":
			return "operation"
		case "state":
			return "state"
		case "resource_uri":
			return "resource_uri"
		case "created":
			return "created"
		case "last_modified":
			return "last_modified"
		case "data":
			return "data"
		case "resources":
			return "resources"
		case "children":
			return "children"
		case "progress":
			return "progress"
		}
	}
	return wire.Key(raw, esc)
}

// extra keeps an unknown member.
func extra(m *map[string]json.RawMessage, k string, raw json.RawMessage) {
	if *m == nil {
		*m = make(map[string]json.RawMessage, 4)
	}
	(*m)[k] = raw
}

// job reads one job object (or null) at job level lvl.
func (s *scanner) job(lvl int) (*Job, error) {
	if lvl > s.maxJobs {
		return nil, fmt.Errorf("%w: CloudSigma job document nests deeper than %d job levels", jobs.ErrTooDeep, s.maxJobs)
	}
	s.WS()
	start := s.Pos
	j := &Job{keys: make(wire.Keys, 0, 9)}
	ok, err := s.Object(func(kb []byte, esc bool) error {
		k := jobKey(kb, esc)
		j.keys = append(j.keys, k)
		var err error
		switch k {
		case "uuid":
			j.UUID, err = s.Str()
		case "operation":
			j.Operation, err = s.Str()
		case "state":
			j.State, err = s.Str()
		case "resource_uri":
			j.ResourceURI, err = s.Str()
		case "created", "last_modified":
			var t Time
			if !s.Null() {
				var v string
				if v, err = s.Str(); err == nil {
					t = parseTime(v)
				}
			}
			if k == "created" {
				j.Created = t
			} else {
				j.LastModified = t
			}
		case "data":
			j.Data, err = s.jobData()
		case "resources":
			j.Resources = nil
			var ok bool
			ok, err = s.Array(func() error {
				v, err := s.Str()
				j.Resources = append(j.Resources, v)
				return err
			})
			if ok && j.Resources == nil {
				j.Resources = []string{}
			}
		case "children":
			j.Children = nil
			var ok bool
			ok, err = s.Array(func() error {
				c, err := s.job(lvl + 1)
				j.Children = append(j.Children, c)
				return err
			})
			if ok && j.Children == nil {
				j.Children = []*Job{}
			}
		default:
			var raw json.RawMessage
			if raw, err = s.Skip(); err == nil {
				extra(&j.Extra, k, raw)
			}
		}
		return err
	})
	if err != nil || !ok {
		return nil, err
	}
	j.raw = s.Data[start:s.Pos:s.Pos]
	return j, nil
}

// jobData reads a job's data object (or null).
func (s *scanner) jobData() (*JobData, error) {
	d := &JobData{}
	ok, err := s.Object(func(kb []byte, esc bool) error {
		k := jobKey(kb, esc)
		d.keys = append(d.keys, k)
		if k != "progress" {
			raw, err := s.Skip()
			if err == nil {
				extra(&d.Extra, k, raw)
			}
			return err
		}
		d.Progress = nil
		if s.Null() {
			return nil
		}
		num, err := s.Number()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return fmt.Errorf("%w: progress %s: %v", ErrMalformed, num, err)
		}
		d.Progress = &f
		return nil
	})
	if err != nil || !ok {
		return nil, err
	}
	return d, nil
}

// jobList reads {"meta": ..., "objects": [...]}; other members are
// skipped.
func (s *scanner) jobList() (*JobList, error) {
	l := &JobList{}
	ok, err := s.Object(func(kb []byte, esc bool) error {
		switch wire.Key(kb, esc) {
		case "meta":
			raw, err := s.Skip()
			if err != nil {
				return err
			}
			if err := json.Unmarshal(raw, &l.Meta); err != nil {
				return fmt.Errorf("%w: meta: %v", ErrMalformed, err)
			}
		case "objects":
			l.Objects = nil
			_, err := s.Array(func() error {
				j, err := s.job(0)
				l.Objects = append(l.Objects, j)
				return err
			})
			return err
		default:
			_, err := s.Skip()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: job list is null", ErrMalformed)
	}
	return l, nil
}
