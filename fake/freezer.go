package fake

import "github.com/longrun/longrun/fake/freezer"

// Freezer is the fake's OpenStack Freezer backend: /v1/jobs,
// /v2/{project_id}/jobs, Keystone at /v3, and the simulated agent. Point a
// Freezer client at URL() and Keystone credentials at URL()+"/v3".
func (s *Server) Freezer() *freezer.Backend {
	b, _ := s.backend("freezer").(*freezer.Backend)
	return b
}
