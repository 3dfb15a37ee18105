package main

import (
	"bytes"
	"io"
	"time"

	"github.com/frontpayment/fpexport/internal/importers"
)

// processStart is when this process started: temporary folders changed
// before it, whose process is gone, are a killed run's.
var processStart = time.Now()

// cleanTempDirs removes the folders where a killed run unpacked workbooks
// (up to gigabytes each); said on stderr.
func cleanTempDirs(stderr io.Writer) {
	removed, err := importers.CleanTempDirs(processStart)
	if len(removed) > 0 {
		io.WriteString(stderr, "enqueue: removed temporary folders left by a stopped run: "+joinPaths(removed)+"\n")
	}
	if err != nil {
		io.WriteString(stderr, "enqueue: could not remove temporary folders left by a stopped run: "+err.Error()+"\n")
	}
}

func joinPaths(ps []string) string {
	var b bytes.Buffer
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p)
	}
	return b.String()
}
