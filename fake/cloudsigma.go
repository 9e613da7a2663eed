package fake

import "github.com/longrun/longrun/fake/cloudsigma"

// CloudSigma is the CloudSigma API 2.0 backend, served under
// URL()+"/api/2.0/", for scripting jobs (FailJob, SetJobDocument) and
// seeding servers (AddServerWithDisks).
func (s *Server) CloudSigma() *cloudsigma.Backend {
	b, _ := s.backend("cloudsigma").(*cloudsigma.Backend)
	return b
}

// CloudSigmaURL is the CloudSigma API base URL, URL()+"/api/2.0/".
func (s *Server) CloudSigmaURL() string { return s.URL() + cloudsigma.Prefix }
