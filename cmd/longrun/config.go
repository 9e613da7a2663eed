package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Config is the file ~/.config/longrun/config.yaml (or $LONGRUN_CONFIG): named
// profiles of endpoints and credentials. Flags win over the environment, and
// the environment over the profile.
//
//	default_profile: lab
//	profiles:
//	  lab:
//	    cloudsigma: {url: "https://zrh.cloudsigma.com/api/2.0/", user: "you@example.com", password: "..."}
//	    truenas:    {url: "wss://nas.local/api/current", user: "admin", api_key: "..."}
//	    freezer:    {url: "https://freezer:9090", auth_url: "https://keystone:5000/v3", username: "admin", password: "...", project_name: "admin"}
//	    ftrack:     {server: "https://example.ftrackapp.com", user: "jane", api_key: "..."}
type Config struct {
	DefaultProfile string              `yaml:"default_profile"`
	Profiles       map[string]*Profile `yaml:"profiles"`
}

// Profile holds one set of endpoints and credentials.
type Profile struct {
	CloudSigma CloudSigmaConfig `yaml:"cloudsigma"`
	TrueNAS    TrueNASConfig    `yaml:"truenas"`
	Freezer    FreezerConfig    `yaml:"freezer"`
	Ftrack     FtrackConfig     `yaml:"ftrack"`
}

// CloudSigmaConfig: env CLOUDSIGMA_URL, CLOUDSIGMA_USER, CLOUDSIGMA_PASSWORD.
type CloudSigmaConfig struct {
	URL      string `yaml:"url"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// TrueNASConfig: env TRUENAS_URL, TRUENAS_USER, TRUENAS_API_KEY,
// TRUENAS_PASSWORD.
type TrueNASConfig struct {
	URL      string `yaml:"url"`
	User     string `yaml:"user"`
	APIKey   string `yaml:"api_key"`
	Password string `yaml:"password"`
	Insecure bool   `yaml:"insecure"`
}

// FreezerConfig: env OS_BACKUP_URL (or FREEZER_URL), OS_AUTH_URL,
// OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, OS_PROJECT_ID,
// OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, OS_TOKEN.
type FreezerConfig struct {
	URL               string `yaml:"url"`
	AuthURL           string `yaml:"auth_url"`
	Username          string `yaml:"username"`
	Password          string `yaml:"password"`
	ProjectName       string `yaml:"project_name"`
	ProjectID         string `yaml:"project_id"`
	UserDomainName    string `yaml:"user_domain_name"`
	ProjectDomainName string `yaml:"project_domain_name"`
	Token             string `yaml:"token"`
	APIVersion        string `yaml:"api_version"` // "2" (default) or "1"
}

// FtrackConfig: env FTRACK_SERVER, FTRACK_API_USER, FTRACK_API_KEY.
type FtrackConfig struct {
	Server string `yaml:"server"`
	User   string `yaml:"user"`
	APIKey string `yaml:"api_key"`
}

// configPath is $LONGRUN_CONFIG, else the user's config dir.
func configPath() string {
	if p := os.Getenv("LONGRUN_CONFIG"); p != "" {
		return p
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "longrun", "config.yaml")
}

// loadProfile reads the named profile (the file's default when empty). A
// missing file is an empty profile; a missing named profile is an error.
func loadProfile(path, name string) (*Profile, error) {
	p := &Profile{}
	if path == "" {
		return p, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if name != "" {
			return nil, usagef(fmt.Sprintf("profile %q: no config file at %s", name, path))
		}
		return p, nil
	}
	if err != nil {
		return nil, usagef("config: " + err.Error())
	}
	var c Config
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, usagef(fmt.Sprintf("config %s: %v", path, err))
	}
	if name == "" {
		name = c.DefaultProfile
	}
	if name == "" {
		return p, nil
	}
	got, ok := c.Profiles[name]
	if !ok || got == nil {
		return nil, usagef(fmt.Sprintf("config %s has no profile %q", path, name))
	}
	return got, nil
}

// env fills empty fields of the profile from the environment (the
// environment wins over the file).
func (p *Profile) env() {
	set := func(dst *string, names ...string) {
		for _, n := range names {
			if v := os.Getenv(n); v != "" {
				*dst = v
				return
			}
		}
	}
	set(&p.CloudSigma.URL, "CLOUDSIGMA_URL")
	set(&p.CloudSigma.User, "CLOUDSIGMA_USER")
	set(&p.CloudSigma.Password, "CLOUDSIGMA_PASSWORD")
	set(&p.TrueNAS.URL, "TRUENAS_URL")
	set(&p.TrueNAS.User, "TRUENAS_USER")
	set(&p.TrueNAS.APIKey, "TRUENAS_API_KEY")
	set(&p.TrueNAS.Password, "TRUENAS_PASSWORD")
	set(&p.Freezer.URL, "OS_BACKUP_URL", "FREEZER_URL")
	set(&p.Freezer.AuthURL, "OS_AUTH_URL")
	set(&p.Freezer.Username, "OS_USERNAME")
	set(&p.Freezer.Password, "OS_PASSWORD")
	set(&p.Freezer.ProjectName, "OS_PROJECT_NAME")
	set(&p.Freezer.ProjectID, "OS_PROJECT_ID")
	set(&p.Freezer.UserDomainName, "OS_USER_DOMAIN_NAME")
	set(&p.Freezer.ProjectDomainName, "OS_PROJECT_DOMAIN_NAME")
	set(&p.Freezer.Token, "OS_TOKEN")
	set(&p.Ftrack.Server, "FTRACK_SERVER")
	set(&p.Ftrack.User, "FTRACK_API_USER")
	set(&p.Ftrack.APIKey, "FTRACK_API_KEY")
}
