package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Outcomes a control request may force on a job (see the backends'
// ForceJob).
const (
	OutcomeFail   = "fail"
	OutcomeAbort  = "abort"
	OutcomeFinish = "finish"
)

// ErrNoJob is what a backend's control hook returns (wrapped) for a job id
// it does not hold; the control API answers 404.
var ErrNoJob = errors.New("no such job")

// ErrUnsupported is what a backend's control hook returns (wrapped) for a
// request the dialect has no equivalent of; the control API answers 501.
var ErrUnsupported = errors.New("not supported by this dialect")

// ErrBadSeed is what a backend's seed hook returns (wrapped) for a seed
// section it cannot read; the control API answers 400.
var ErrBadSeed = errors.New("bad seed document")

// ErrNotRunning is what a backend's control hook returns (wrapped) when
// asked to end a job that is not running; the control API answers 409.
var ErrNotRunning = errors.New("job is not running")

// DecodeSection reads a backend's section of a seed document into v as
// every seed hook does: a field v does not know is an error, which names
// the section and wraps ErrBadSeed.
func DecodeSection(raw json.RawMessage, section string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s section: %v: %w", section, err, ErrBadSeed)
	}
	return nil
}

// SeedUser is the user named by a seeded entry ("admin" when name is
// empty); an unknown name is an error wrapping ErrBadSeed.
func (e *Env) SeedUser(name string) (User, error) {
	if name == "" {
		name = "admin"
	}
	if u, ok := e.Lookup(func(u User) bool { return u.Name == name }); ok {
		return u, nil
	}
	return User{}, fmt.Errorf("no user %q: %w", name, ErrBadSeed)
}
