// Package buildinfo says which build of fpexport is running: the module
// version, the VCS revision and time the Go tool stamped into the binary,
// and the Go version. It is printed by `worker version` and
// `enqueue --version`, carried by the worker's start log line and exposed as
// fpexport_build_info on /metrics, so an operator can tell which code a
// host runs without guessing from file dates.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Unknown stands for what the binary does not carry (built without VCS
// information, e.g. `go build -buildvcs=false` or from a source archive).
const Unknown = "unknown"

// Info is one binary's build.
type Info struct {
	Version   string // module version: a tag, a pseudo-version, or "(devel)"
	Revision  string // VCS commit
	Time      string // VCS commit time, RFC 3339
	Modified  bool   // built from a working tree with uncommitted changes
	GoVersion string
}

// Read reads the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: Unknown, Revision: Unknown, Time: Unknown, GoVersion: runtime.Version()}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, Revision: Unknown, Time: Unknown, GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = Unknown
	}
	if info.GoVersion == "" {
		info.GoVersion = runtime.Version()
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one line `worker version` prints.
func (i Info) String() string {
	modified := ""
	if i.Modified {
		modified = " (modified)"
	}
	return fmt.Sprintf("version %s, revision %s%s, committed %s, built with %s",
		i.Version, i.Revision, modified, i.Time, i.GoVersion)
}

// LogAttrs are the fields the start log line carries.
func (i Info) LogAttrs() []any {
	return []any{"version", i.Version, "revision", i.Revision, "vcs_time", i.Time, "vcs_modified", i.Modified, "go_version", i.GoVersion}
}
