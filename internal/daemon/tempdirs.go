package daemon

import (
	"log/slog"
	"time"

	"github.com/frontpayment/fpexport/internal/importers"
)

// processStart is when this process started: temporary folders changed
// before it, whose process is gone, are a killed run's.
var processStart = time.Now()

// CleanTempDirs removes the folders where a killed run unpacked uploaded
// workbooks (up to gigabytes each), at start, so they do not pile up.
func CleanTempDirs(logger *slog.Logger) {
	removed, err := importers.CleanTempDirs(processStart)
	if len(removed) > 0 {
		logger.Info("removed temporary folders left by a stopped run", "folders", removed)
	}
	if err != nil {
		logger.Warn("could not remove temporary folders left by a stopped run", "err", err)
	}
}
