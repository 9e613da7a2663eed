package fake

import (
	"strings"

	"github.com/longrun/longrun/fake/cloudsigma"
)

// CloudSigma is the CloudSigma API 2.0 backend, served under
// URL()+"/api/2.0/", for scripting jobs (FailJob, SetJobDocument),
// seeding servers (AddServerWithDisks) and dropping its async websockets
// (DropWebsockets).
func (s *Server) CloudSigma() *cloudsigma.Backend {
	b, _ := s.backend("cloudsigma").(*cloudsigma.Backend)
	return b
}

// CloudSigmaURL is the CloudSigma API base URL, URL()+"/api/2.0/".
func (s *Server) CloudSigmaURL() string { return s.URL() + cloudsigma.Prefix }

// CloudSigmaWebsocketURL is CloudSigma's async websocket,
// ws://host:port/api/2.0/websocket; connect with the async_auth cookie
// that POST /api/2.0/accounts/action/?do=authenticate_asynchronous sets.
func (s *Server) CloudSigmaWebsocketURL() string {
	return "ws" + strings.TrimPrefix(s.URL(), "http") + cloudsigma.WebsocketPath
}
