package fake

import "github.com/longrun/longrun/fake/ftrack"

// Ftrack is the ftrack backend (POST /api, signed uploads, /component/get).
func (s *Server) Ftrack() *ftrack.Backend {
	b, _ := s.backend("ftrack").(*ftrack.Backend)
	return b
}
