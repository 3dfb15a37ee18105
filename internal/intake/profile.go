package intake

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/frontpayment/fpexport/internal/mapping"
)

// LoadProfile reads a header mapping profile (JSON; see mapping.ParseProfile).
func LoadProfile(path string) (*mapping.Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	p, err := mapping.ParseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", filepath.Base(path), err)
	}
	return p, nil
}

// ProfileBeside returns the profile kept beside a file as
// <name>.profile.json (orders.csv → orders.profile.json), or nil when there
// is none.
func ProfileBeside(path string) (*mapping.Profile, error) {
	p := strings.TrimSuffix(path, filepath.Ext(path)) + ".profile.json"
	if _, err := os.Stat(p); err != nil {
		return nil, nil
	}
	return LoadProfile(p)
}
