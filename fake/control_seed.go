package fake

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/longrun/longrun/fake/sim"
)

// MaxSeedBytes is the largest seed document the fake reads.
const MaxSeedBytes = 4 << 20

// SeedDocument is the JSON document that describes the fake's seeded state
// on top of its defaults: more users (a user with the name of a default
// one replaces it) and, per dialect, a section its backend reads. The
// "cloudsigma" section takes {"servers": [{"owner": email, "name": ...,
// "disks": n, "disk_size": bytes}]}; the "truenas" section starts jobs,
// {"jobs": [{"user": name, "method": "pool.scrub.scrub", "params": [...]}]};
// the "freezer" section takes clients, jobs and sessions in freezer-api's
// own shapes, each with an optional "user" owner (see
// freezer.SeedSection); the "ftrack" section creates Jobs, {"jobs": [{"id":
// ..., "user": name, "status": "running", "description": ...}]}. Every
// section's entries go through their backend's own create paths, so a bad
// one is an ErrBadSeed naming the entry; a section for a backend with no
// seed hook is refused (ErrSeedUnsupported).
//
//	{"users": [{"name": "ci", "email": "ci@example.com", "password": "pw",
//	            "api_key": "3-ci", "project": "0123456789abcdef0123456789abcdef"}],
//	 "cloudsigma": {"servers": [{"owner": "ci@example.com", "name": "db-1", "disks": 2}]}}
type SeedDocument struct {
	Users      []SeedUser      `json:"users,omitempty"`
	CloudSigma json.RawMessage `json:"cloudsigma,omitempty"`
	TrueNAS    json.RawMessage `json:"truenas,omitempty"`
	Freezer    json.RawMessage `json:"freezer,omitempty"`
	Ftrack     json.RawMessage `json:"ftrack,omitempty"`
}

// SeedUser is a user of a seed document (see sim.User for how each
// dialect authenticates it). Name is required; ID is derived from Name
// when empty.
type SeedUser struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"`
	Password string `json:"password,omitempty"`
	APIKey   string `json:"api_key,omitempty"`
	Project  string `json:"project,omitempty"`
}

// ErrBadSeed matches every error ParseSeed and LoadSeed return for a
// document they cannot use.
var ErrBadSeed = sim.ErrBadSeed

// ErrSeedUnsupported matches a seed section for a dialect with no seed hook.
var ErrSeedUnsupported = sim.ErrUnsupported

// ParseSeed reads a seed document strictly: one JSON object, no unknown
// fields, at most MaxSeedBytes, every user named and no name twice.
func ParseSeed(data []byte) (*SeedDocument, error) {
	if len(data) > MaxSeedBytes {
		return nil, fmt.Errorf("fake: seed document of %d bytes is over %d: %w", len(data), MaxSeedBytes, ErrBadSeed)
	}
	var d SeedDocument
	if err := decodeStrict(bytes.NewReader(data), &d); err != nil {
		return nil, fmt.Errorf("fake: seed document: %v: %w", err, ErrBadSeed)
	}
	seen := map[string]bool{}
	for i, u := range d.Users {
		if u.Name == "" {
			return nil, fmt.Errorf("fake: seed user %d has no name: %w", i, ErrBadSeed)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("fake: seed user %q appears twice: %w", u.Name, ErrBadSeed)
		}
		seen[u.Name] = true
	}
	return &d, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields and trailing data.
func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// mergeUsers returns base with the document's users on top.
func (d *SeedDocument) mergeUsers(base []sim.User) []sim.User {
	out := append([]sim.User(nil), base...)
	for _, su := range d.Users {
		u := sim.User{ID: su.ID, Name: su.Name, Email: su.Email, Password: su.Password, APIKey: su.APIKey, Project: su.Project}
		if u.ID == "" {
			h := sha1.Sum([]byte("longrun-fake-user/" + u.Name))
			h[6] = (h[6] & 0x0f) | 0x40
			h[8] = (h[8] & 0x3f) | 0x80
			u.ID = fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
		}
		replaced := false
		for i := range out {
			if out[i].Name == u.Name {
				out[i], replaced = u, true
			}
		}
		if !replaced {
			out = append(out, u)
		}
	}
	return out
}

// Seeder is a backend that reads its section of a seed document.
type Seeder interface {
	Seed(section json.RawMessage) error
}

// apply hands each non-empty section to its backend's seed hook.
func (d *SeedDocument) apply(set *backendSet) error {
	for _, sec := range []struct {
		dialect, backend string
		raw              json.RawMessage
	}{
		{DialectCloudSigma, "cloudsigma", d.CloudSigma},
		{DialectTrueNAS, "truenas", d.TrueNAS},
		{DialectFreezer, "freezer", d.Freezer},
		{DialectFtrack, "ftrack", d.Ftrack},
	} {
		if len(sec.raw) == 0 || string(sec.raw) == "null" {
			continue
		}
		s, ok := set.backend(sec.backend).(Seeder)
		if !ok {
			return fmt.Errorf("fake: the %s backend cannot be seeded from a document yet: %w", sec.dialect, ErrSeedUnsupported)
		}
		if err := s.Seed(sec.raw); err != nil {
			return fmt.Errorf("fake: seed %s: %w", sec.dialect, err)
		}
	}
	return nil
}
