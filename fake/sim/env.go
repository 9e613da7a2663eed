package sim

import (
	"crypto/subtle"
	"log/slog"
	"sync"
)

// User is a seeded account. Each dialect authenticates it its own way:
// CloudSigma by Basic auth with Email and Password; TrueNAS by Name and
// Password, or APIKey; Freezer through Keystone with Name and Password;
// ftrack with Name and APIKey.
type User struct {
	ID       string // a uuid; generated when empty
	Name     string // login name (TrueNAS, Keystone, ftrack username)
	Email    string // CloudSigma login
	Password string
	APIKey   string
	// Project is the Keystone project (Freezer scopes jobs to it).
	Project string
}

// DefaultUsers are seeded when Options.Users is empty.
func DefaultUsers() []User {
	return []User{
		{ID: "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23", Name: "admin", Email: "admin@example.com",
			Password: "secret", APIKey: "1-longrunfakeapikey", Project: "f1e2d3c4b5a6978812345678abcdef01"},
		{ID: "9c1b3a70-2f1d-4a0e-bb2a-6f0c2d9e8a11", Name: "guest", Email: "guest@example.com",
			Password: "guest", APIKey: "2-guestapikey", Project: "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
	}
}

// Env is what every backend of the fake shares.
type Env struct {
	Clock  *Clock
	Faults *Faults
	Logger *slog.Logger // never nil: a discarding logger when none was given

	mu    sync.RWMutex
	users []User
}

// NewEnv builds an Env; nil arguments take defaults (a manual clock at
// Epoch, an empty fault table, DefaultUsers, a discarding logger).
func NewEnv(clk *Clock, users []User, logger *slog.Logger) *Env {
	if clk == nil {
		clk = NewClock(Epoch)
	}
	if len(users) == 0 {
		users = DefaultUsers()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Env{Clock: clk, Faults: &Faults{}, Logger: logger, users: append([]User(nil), users...)}
}

// Users returns a copy of the seeded users.
func (e *Env) Users() []User {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]User(nil), e.users...)
}

// AddUser seeds another user.
func (e *Env) AddUser(u User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users = append(e.users, u)
}

// SetUsers replaces the seeded users (a copy of users is kept).
func (e *Env) SetUsers(users []User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users = append([]User(nil), users...)
}

// Lookup finds a user by a predicate.
func (e *Env) Lookup(match func(User) bool) (User, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, u := range e.users {
		if match(u) {
			return u, true
		}
	}
	return User{}, false
}

// SecretEqual compares secrets in constant time.
func SecretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
