package fake

import "github.com/longrun/longrun/fake/truenas"

// TrueNAS is the TrueNAS middleware backend: JSON-RPC 2.0 at
// WebsocketURL() (/api/current), the legacy websocket protocol at
// URL()+"/websocket" (ws scheme), for setting the release it emulates
// (SetVersion: "24.10", "25.04", "25.10", "26.0"; truenas.ParseVersion
// reads the names), seeding jobs or registering more methods.
func (s *Server) TrueNAS() *truenas.Backend {
	b, _ := s.backend("truenas").(*truenas.Backend)
	return b
}
