package truenas

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Boot is when the fake's box pretends to have booted, relative to the
// fake clock's start (system.info uptime).
const bootAge = 3*24*time.Hour + 4*time.Hour + 5*time.Minute + 6*time.Second

func (b *Backend) registerSystem() {
	// system.version and system.version_short need a login but no role
	// (no_authz_required); deevus/truenas-go calls system.version first.
	b.RegisterMethod("system.version", func(context.Context, *Session, []json.RawMessage) (any, error) {
		return b.release().fullName, nil
	})
	b.RegisterMethod("system.version_short", func(context.Context, *Session, []json.RawMessage) (any, error) {
		return b.release().short, nil
	})
	b.RegisterMethod("system.product_type", func(context.Context, *Session, []json.RawMessage) (any, error) {
		return b.release().productType, nil
	})
	b.RegisterMethod("system.info", func(context.Context, *Session, []json.RawMessage) (any, error) {
		now := b.env.Clock.Now().UTC()
		boot := b.boot
		up := now.Sub(boot)
		rel := b.release()
		return systemInfo{
			Version: rel.short, Buildtime: dateOrNil(boot.Add(-240 * time.Hour).Truncate(time.Hour)),
			Hostname: "truenas", Physmem: 16 << 30, Model: "Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz",
			Cores: 8, PhysicalCores: 4, Loadavg: []float64{0.1, 0.2, 0.3},
			Uptime: pyTimedelta(up), UptimeSeconds: up.Seconds(),
			SystemSerial: "LRFAKE0001", SystemProduct: "longrun fake", SystemProductVersion: "1.0",
			Boottime: dateOrNil(boot), Datetime: dateOrNil(now), Timezone: "UTC",
			SystemManufacturer: "longrun", ECCMemory: true,
		}, nil
	})
}

// systemInfo is system.info's answer, in the middleware's key order.
type systemInfo struct {
	Version              string    `json:"version"`
	Buildtime            any       `json:"buildtime"`
	Hostname             string    `json:"hostname"`
	Physmem              int64     `json:"physmem"`
	Model                string    `json:"model"`
	Cores                int       `json:"cores"`
	PhysicalCores        int       `json:"physical_cores"`
	Loadavg              []float64 `json:"loadavg"`
	Uptime               string    `json:"uptime"`
	UptimeSeconds        float64   `json:"uptime_seconds"`
	SystemSerial         string    `json:"system_serial"`
	SystemProduct        string    `json:"system_product"`
	SystemProductVersion string    `json:"system_product_version"`
	License              any       `json:"license"`
	Boottime             any       `json:"boottime"`
	Datetime             any       `json:"datetime"`
	Timezone             string    `json:"timezone"`
	SystemManufacturer   string    `json:"system_manufacturer"`
	ECCMemory            bool      `json:"ecc_memory"`
}

// pyTimedelta is str(datetime.timedelta): "3 days, 4:05:06.500000".
func pyTimedelta(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h := int(d / time.Hour)
	d -= time.Duration(h) * time.Hour
	m := int(d / time.Minute)
	d -= time.Duration(m) * time.Minute
	sec := int(d / time.Second)
	us := int((d - time.Duration(sec)*time.Second) / time.Microsecond)
	s := fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	if us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	switch days {
	case 0:
		return s
	case 1:
		return "1 day, " + s
	}
	return fmt.Sprintf("%d days, %s", days, s)
}

// registerArity records how many positional arguments the built-in
// methods take, from their signatures in the middleware; a call with more
// fails with "Too many arguments (expected N, found M)".
func (b *Backend) registerArity() {
	for name, n := range map[string]int{
		"core.ping": 0, "core.set_options": 1, "core.subscribe": 1, "core.unsubscribe": 1,
		"core.get_jobs": 2, "core.job_abort": 1, "core.job_wait": 1, "core.download": 4,
		"auth.login": 3, "auth.login_with_api_key": 1, "auth.login_with_token": 1, "auth.token": 1,
		"auth.login_ex": 1, "auth.generate_token": 4, "auth.me": 0, "auth.logout": 0,
		"auth.mechanism_choices": 0,
		"system.version":         0, "system.version_short": 0, "system.product_type": 0, "system.info": 0,
		"filesystem.copy": 3, "catalog.sync": 0, "catalog.sync_all": 0, "pool.scrub": 2,
		"pool.scrub.scrub": 2, "cloud_backup.sync": 2,
	} {
		b.SetMaxArgs(name, n)
	}
}

// SetMaxArgs declares how many positional arguments method name takes; a
// call with more fails as the middleware's argument check does. Methods
// without a declaration take any number.
func (b *Backend) SetMaxArgs(name string, n int) {
	b.mu.Lock()
	b.arity[name] = n
	b.mu.Unlock()
}

// lookupMethod finds a method the emulated release serves.
func (b *Backend) lookupMethod(name string) *method {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.methods[name]
	if m == nil {
		return nil
	}
	if !b.rel.loginEx && (name == "auth.login_ex" || name == "auth.mechanism_choices") {
		return nil
	}
	return m
}
