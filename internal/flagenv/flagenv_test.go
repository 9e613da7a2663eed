package flagenv_test

import (
	"bytes"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/longrun/longrun/internal/flagenv"
)

func TestDefaultsFromEnvAndSecretsHidden(t *testing.T) {
	t.Setenv("LR_URL", "https://h/api/2.0/")
	t.Setenv("LR_PW", "hunter2hunter2")
	t.Setenv("LR_TIMEOUT", "90s")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var help bytes.Buffer
	fs.SetOutput(&help)
	url := flagenv.String(fs, "url", "", "base URL", "LR_UNSET", "LR_URL")
	pw := flagenv.Secret(fs, "password", "password", "LR_PW")
	to := flagenv.Duration(fs, "timeout", time.Hour, "timeout", "LR_TIMEOUT")
	sp := flagenv.Float(fs, "speed", 60, "speed")
	assert.NoError(t, fs.Parse([]string{"-speed", "2"}))
	assert.Equal(t, "https://h/api/2.0/", *url)
	assert.Equal(t, "hunter2hunter2", *pw)
	assert.Equal(t, 90*time.Second, *to)
	assert.Equal(t, 2.0, *sp)
	fs.PrintDefaults()
	assert.NotContains(t, help.String(), "hunter2")
	assert.Contains(t, help.String(), "env LR_PW")
	assert.NoError(t, fs.Parse([]string{"-password", "other"}))
	assert.Equal(t, "other", *pw)
}
