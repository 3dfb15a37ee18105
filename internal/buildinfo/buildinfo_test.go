package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

// The VCS settings the Go tool stamps become the fields; what is missing
// reads "unknown", never an empty string (an empty label would hide it).
func TestFromBuildInfo(t *testing.T) {
	full := fromBuildInfo(&debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/frontpayment/fpexport", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-06T19:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	})
	want := Info{Version: "v1.4.0", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-12-06T19:00:00Z", Modified: true, GoVersion: "go1.26.8"}
	if full != want {
		t.Errorf("fromBuildInfo = %+v, want %+v", full, want)
	}
	if s := full.String(); !strings.Contains(s, "v1.4.0") || !strings.Contains(s, "0123456789abcdef") || !strings.Contains(s, "(modified)") || !strings.Contains(s, "go1.26.8") {
		t.Errorf("String() = %q", s)
	}

	bare := fromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.8"})
	if bare.Version != Unknown || bare.Revision != Unknown || bare.Time != Unknown || bare.Modified {
		t.Errorf("without VCS settings: %+v", bare)
	}
}
