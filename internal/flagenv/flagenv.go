// Package flagenv declares command-line flags whose defaults come from
// environment variables, the way each service's own tools read them
// (CLOUDSIGMA_URL, OS_AUTH_URL, FTRACK_API_KEY, ...). Secrets never show
// their value in -help output or in any message.
package flagenv

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

// String declares a string flag whose default is the first set variable of
// envs, else def. Its usage names the variables.
func String(fs *flag.FlagSet, name, def, usage string, envs ...string) *string {
	v := lookup(def, envs)
	return fs.String(name, v, usage+envNote(envs))
}

// Secret declares a string flag like String, but -help never shows its
// value (it may come from the environment).
func Secret(fs *flag.FlagSet, name, usage string, envs ...string) *string {
	s := &secret{v: lookup("", envs)}
	fs.Var(s, name, usage+envNote(envs))
	return &s.v
}

// Duration declares a duration flag whose default may come from envs; an
// unparsable variable is ignored in favour of def.
func Duration(fs *flag.FlagSet, name string, def time.Duration, usage string, envs ...string) *time.Duration {
	if v := lookup("", envs); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	return fs.Duration(name, def, usage+envNote(envs))
}

// Float declares a float flag whose default may come from envs.
func Float(fs *flag.FlagSet, name string, def float64, usage string, envs ...string) *float64 {
	if v := lookup("", envs); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			def = f
		}
	}
	return fs.Float64(name, def, usage+envNote(envs))
}

func lookup(def string, envs []string) string {
	for _, e := range envs {
		if v, ok := os.LookupEnv(e); ok && v != "" {
			return v
		}
	}
	return def
}

func envNote(envs []string) string {
	switch len(envs) {
	case 0:
		return ""
	case 1:
		return "; env " + envs[0]
	}
	return fmt.Sprintf("; env %v", envs)
}

// secret is a flag.Value that hides its value.
type secret struct{ v string }

func (s *secret) Set(v string) error { s.v = v; return nil }

// String is what flag's -help prints as the default: never the value.
func (s *secret) String() string { return "" }
