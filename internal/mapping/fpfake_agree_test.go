package mapping_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// TestGoldenPayloadsPassTheSimulator checks every golden payload against
// the simulator's reading of FP's rules. mapping and fpfake were written
// independently from the seeds, so agreement here is evidence, not
// tautology; a disagreement is a seed reading to settle.
func TestGoldenPayloadsPassTheSimulator(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) != 8 {
		t.Fatalf("golden files: %v, %v", files, err)
	}
	// The goldens are built at 2026-11-20 09:00 Oslo.
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		kindName, _, _ := strings.Cut(name, "_")
		kind, ok := fpclient.ParseKind(kindName)
		if !ok {
			t.Fatalf("%s: unknown kind", f)
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if errs := fpfake.Validate(kind, body, now); len(errs) > 0 {
			t.Errorf("%s: the simulator refuses it: %+v", name, errs)
		}
	}
}
