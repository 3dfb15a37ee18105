package httpapi

// countCallback counts a callback by its verdict, when metrics are kept.
func (s *Server) countCallback(verdict string) {
	if s.Metrics != nil {
		s.Metrics.Callback(verdict)
	}
}
