package truenas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"
)

func param(params []json.RawMessage, i int) json.RawMessage {
	if i < len(params) {
		return params[i]
	}
	return nil
}

func decodeParam[T any](params []json.RawMessage, i int, attr string, def T) (T, error) {
	raw := param(params, i)
	if raw == nil || string(raw) == "null" {
		return def, nil
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return def, &ValidationError{Attribute: attr, Message: "Input should be a valid " + fmt.Sprintf("%T", v)}
	}
	return v, nil
}

func instanceNotFound(id int) error {
	return &ValidationError{Message: fmt.Sprintf("Job with id %d does not exist", id), Errno: int(syscall.ENOENT)}
}

// visibleJob finds a job the credentials may read: CoreService's
// __job_by_credential_and_id. A missing id is InstanceNotFound from 25.10
// on; 24.10 and 25.04 index middleware.jobs[id] and raise its KeyError.
func (b *Backend) visibleJob(cred *Credentials, id int) (*Job, error) {
	b.mu.Lock()
	j := b.jobs[id]
	keyError := b.rel.jobKeyError
	b.mu.Unlock()
	if j == nil {
		if keyError {
			return nil, &Exception{Type: "KeyError", Message: strconv.Itoa(id), Repr: fmt.Sprintf("KeyError(%d)", id)}
		}
		return nil, instanceNotFound(id)
	}
	// Job.credential_access_error
	if !cred.FullAdmin() && j.cred == nil {
		return nil, &CallError{Message: "Only users with full administrative privileges can access internally ran jobs", Errno: int(syscall.EPERM)}
	}
	if !cred.FullAdmin() && j.cred.User.Name != cred.User.Name {
		return nil, &CallError{Message: "Job is not owned by current session", Errno: int(syscall.EPERM)}
	}
	return j, nil
}

func (b *Backend) registerCore() {
	b.RegisterPublicMethod("core.ping", func(context.Context, *Session, []json.RawMessage) (any, error) {
		return "pong", nil
	})
	b.RegisterPublicMethod("core.set_options", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		opts, err := decodeParam(params, 0, "options", map[string]json.RawMessage{})
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		v := b.version
		b.mu.Unlock()
		flag := func(name string, dst *bool) error {
			raw, ok := opts[name]
			if !ok {
				return nil
			}
			if err := json.Unmarshal(raw, dst); err != nil {
				return &ValidationError{Attribute: "options." + name, Message: "Input should be a valid boolean"}
			}
			return nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if v == Version2504 {
			// 25.04 knows private_methods and py_exceptions only and
			// answers null.
			_ = flag("private_methods", &s.privateMethods)
			_ = flag("py_exceptions", &s.pyExceptions)
			return nil, nil
		}
		for name, dst := range map[string]*bool{"legacy_jobs": &s.legacyJobs, "private_methods": &s.privateMethods, "py_exceptions": &s.pyExceptions} {
			if err := flag(name, dst); err != nil {
				return nil, err
			}
		}
		return map[string]any{"legacy_jobs": s.legacyJobs, "private_methods": s.privateMethods, "py_exceptions": s.pyExceptions}, nil
	})
	b.RegisterMethod("core.subscribe", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		name, err := decodeParam(params, 0, "event", "")
		if err != nil {
			return nil, err
		}
		if name == "" {
			return nil, &ValidationError{Attribute: "event", Message: "Field required"}
		}
		ident := newUUID()
		s.mu.Lock()
		s.subs[ident] = name
		s.mu.Unlock()
		return ident, nil
	})
	b.RegisterMethod("core.unsubscribe", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		ident, err := decodeParam(params, 0, "id", "")
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		delete(s.subs, ident)
		s.mu.Unlock()
		return nil, nil
	})
	b.RegisterMethod("core.get_jobs", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		return b.getJobs(s.Credentials(), param(params, 0), param(params, 1))
	})
	b.RegisterMethod("core.job_abort", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		id, err := decodeParam(params, 0, "id", 0)
		if err != nil {
			return nil, err
		}
		j, err := b.visibleJob(s.Credentials(), id)
		if err != nil {
			return nil, err
		}
		j.Abort()
		return nil, nil
	})
	b.RegisterJobMethod("core.job_wait", JobMethod{
		Run: func(r *JobRun) (any, error) {
			var id int
			if _, err := r.Param(0, &id); err != nil {
				return nil, &ValidationError{Attribute: "id", Message: "Input should be a valid integer"}
			}
			target, err := b.visibleJob(r.job.cred, id)
			if err != nil {
				return nil, err
			}
			return b.wrap(r, target, nil)
		},
	})
}

// wrap is job.wrap: mirror the target's progress until it ends, then end
// as subjob.wait(raise_error=True) does.
func (b *Backend) wrap(r *JobRun, target *Job, launch func()) (any, error) {
	// self.set_progress(**subjob.progress); subjob.wrapped.append(self):
	// from here on the target's set_progress updates this job at once.
	b.mu.Lock()
	if !terminal(r.job.state) {
		b.setProgressLocked(r.job, float64(target.percent), target.pdesc, target.extra)
	}
	// A job that waits on itself, or on a job that (through others)
	// waits on it, never ends (in the middleware its next set_progress
	// recurses until RecursionError): it waits without mirroring, so the
	// fake's propagation cannot loop.
	if !wrapsTransitively(r.job, target) {
		target.wrapped = append(target.wrapped, r.job)
	}
	b.mu.Unlock()
	if launch != nil {
		launch()
	}
	if err := r.WaitFor(target.done); err != nil {
		return nil, err
	}
	// subjob.wait(raise_error=True) forwards CallError only
	// (raise_error_forward_classes=(CallError,) in job.py's wait): an
	// abort is a null result; every other exception, ValidationError(s)
	// included, becomes CallError(error).
	res, err := target.outcome()
	if err == nil {
		return res, nil
	}
	var ce *CallError
	if errors.As(err, &ce) {
		return nil, err
	}
	b.mu.Lock()
	msg := ""
	if target.errText != nil {
		msg = *target.errText
	}
	b.mu.Unlock()
	return nil, &CallError{Message: msg}
}

// wrapsTransitively says whether target's progress already flows to
// from (or is from itself), through the jobs wrapping from.
func wrapsTransitively(from, target *Job) bool {
	seen := map[*Job]bool{}
	todo := []*Job{from}
	for len(todo) > 0 {
		j := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if j == target {
			return true
		}
		if seen[j] {
			continue
		}
		seen[j] = true
		todo = append(todo, j.wrapped...)
	}
	return false
}

func (b *Backend) userInfo(c *Credentials) map[string]any {
	roles := []string{"READONLY_ADMIN"}
	if c.FullAdmin() {
		roles = []string{"FULL_ADMIN"}
	}
	return map[string]any{
		"pw_name": c.User.Name, "pw_gecos": c.User.Name, "pw_dir": "/home/" + c.User.Name,
		"pw_shell": "/usr/bin/zsh", "pw_uid": 950, "pw_gid": 950, "grouplist": []int{950},
		"sid": nil, "source": "LOCAL", "local": true,
		"attributes": map[string]any{}, "two_factor_config": map[string]any{"secret_configured": false},
		"privilege": map[string]any{"roles": map[string]any{"$set": roles}, "allowlist": []any{},
			"web_shell": c.FullAdmin()},
		"account_attributes": []string{"LOCAL"},
	}
}

func (s *Session) login(c *Credentials) {
	c.LoginID = newUUID()
	c.LoginAt = s.b.env.Clock.Now()
	s.mu.Lock()
	s.cred = c
	s.mu.Unlock()
}

func (b *Backend) registerAuth() {
	b.RegisterPublicMethod("auth.login_ex", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		var data struct {
			Mechanism    string `json:"mechanism"`
			ScramType    string `json:"scram_type"`
			RFCStr       string `json:"rfc_str"`
			Username     string `json:"username"`
			Password     string `json:"password"`
			APIKey       string `json:"api_key"`
			Token        string `json:"token"`
			LoginOptions *struct {
				UserInfo *bool `json:"user_info"`
			} `json:"login_options"`
		}
		if err := json.Unmarshal(param(params, 0), &data); err != nil {
			return nil, &ValidationError{Attribute: "auth.login_ex.data", Message: "Input should be a valid dictionary"}
		}
		rel := b.release()
		var cred *Credentials
		if data.Mechanism != "SCRAM" {
			// Another mechanism abandons a SCRAM exchange in progress.
			s.mu.Lock()
			s.scram = nil
			s.mu.Unlock()
		}
		tags := "'API_KEY_PLAIN', 'PASSWORD_PLAIN', 'TOKEN_PLAIN', 'OTP_TOKEN'"
		if rel.scram {
			tags += ", 'SCRAM'"
		}
		switch data.Mechanism {
		case "SCRAM":
			if !rel.scram {
				return nil, &ValidationError{Attribute: "auth.login_ex.data.mechanism",
					Message: "Input tag 'SCRAM' found using 'mechanism' does not match any of the expected tags: " + tags}
			}
			return b.scramStep(s, data.ScramType, data.RFCStr)
		case "PASSWORD_PLAIN":
			if u, ok := b.checkPassword(data.Username, data.Password); ok {
				cred = &Credentials{User: u, Type: CredLoginPassword}
			}
		case "API_KEY_PLAIN":
			if u, ok := b.checkAPIKey(data.Username, data.APIKey); ok {
				cred = apiKeyCred(u)
			}
		case "TOKEN_PLAIN":
			if t, ok := b.LookupToken(data.Token, true); ok {
				cred = &Credentials{User: t.User, Type: CredToken}
			}
		case "OTP_TOKEN":
			return nil, &CallError{Message: "OTP_TOKEN mechanism is not valid without a preceding step", Errno: int(syscall.EINVAL)}
		default:
			return nil, &ValidationError{Attribute: "auth.login_ex.data.mechanism",
				Message: "Input tag '" + data.Mechanism + "' found using 'mechanism' does not match any of the expected tags: " + tags}
		}
		if cred == nil {
			return map[string]any{"response_type": "AUTH_ERR"}, nil
		}
		s.login(cred)
		var ui any
		if data.LoginOptions == nil || data.LoginOptions.UserInfo == nil || *data.LoginOptions.UserInfo {
			ui = b.userInfo(cred)
		}
		return map[string]any{"response_type": "SUCCESS", "user_info": ui, "authenticator": "LEVEL_1"}, nil
	})
	b.RegisterPublicMethod("auth.login", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		name, _ := decodeParam(params, 0, "username", "")
		pw, _ := decodeParam(params, 1, "password", "")
		if u, ok := b.checkPassword(name, pw); ok {
			s.login(&Credentials{User: u, Type: CredLoginPassword})
			return true, nil
		}
		return false, nil
	})
	b.RegisterPublicMethod("auth.login_with_api_key", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		key, _ := decodeParam(params, 0, "api_key", "")
		if u, ok := b.checkAPIKey("", key); ok {
			s.login(apiKeyCred(u))
			return true, nil
		}
		return false, nil
	})
	loginToken := func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		tok, _ := decodeParam(params, 0, "token", "")
		if t, ok := b.LookupToken(tok, true); ok {
			s.login(&Credentials{User: t.User, Type: CredToken})
			return true, nil
		}
		return false, nil
	}
	b.RegisterPublicMethod("auth.login_with_token", loginToken)
	// auth.token is the deprecated alias legacy clients still call.
	b.RegisterPublicMethod("auth.token", loginToken)
	b.RegisterPublicMethod("auth.mechanism_choices", func(_ context.Context, s *Session, _ []json.RawMessage) (any, error) {
		rel := b.release()
		if rel.mechChoicesBug && s.Credentials() == nil {
			// 25.04.2 through 25.10.2 read may_create_auth_token of the
			// missing credential before login.
			return nil, &Exception{Type: "AttributeError", Message: "'NoneType' object has no attribute 'may_create_auth_token'"}
		}
		choices := []string{"API_KEY_PLAIN", "TOKEN_PLAIN", "PASSWORD_PLAIN"}
		if rel.scram {
			choices = append(choices, "SCRAM")
		}
		return choices, nil
	})
	b.RegisterMethod("auth.generate_token", func(_ context.Context, s *Session, params []json.RawMessage) (any, error) {
		ttl, err := decodeParam[*int](params, 0, "ttl", nil)
		if err != nil {
			return nil, err
		}
		attrs, err := decodeParam(params, 1, "attrs", map[string]any{})
		if err != nil {
			return nil, err
		}
		single, err := decodeParam(params, 3, "single_use", false)
		if err != nil {
			return nil, err
		}
		d := DefaultTokenTTL
		if ttl != nil {
			d = time.Duration(*ttl) * time.Second
		}
		if raw := param(params, 0); raw != nil && string(raw) == "null" {
			d = DefaultTokenTTL
		}
		if id, ok := attrs["job"].(float64); ok {
			if _, err := b.visibleJob(s.Credentials(), int(id)); err != nil {
				return nil, &CallError{Message: fmt.Sprintf("%d: job does not exist.", int(id)), Errno: int(syscall.EFAULT)}
			}
		}
		c := s.Credentials()
		return b.IssueToken(c.User, d, attrs, single), nil
	})
	b.RegisterMethod("auth.me", func(_ context.Context, s *Session, _ []json.RawMessage) (any, error) {
		return b.userInfo(s.Credentials()), nil
	})
	b.RegisterMethod("auth.logout", func(_ context.Context, s *Session, _ []json.RawMessage) (any, error) {
		s.mu.Lock()
		s.cred = nil
		s.mu.Unlock()
		return true, nil
	})
}
