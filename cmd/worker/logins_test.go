package main

import (
	"strings"
	"testing"
)

// WEB_TRUSTED_PROXIES: addresses and CIDR ranges; a mistake is one line
// naming the entry.
func TestWebTrustedProxiesSetting(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(envOf(map[string]string{"WEB_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7, fd00::/8"}), requirement{web: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.Web.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 fd00::/8" {
		t.Errorf("trusted proxies %v", got)
	}
	if cfg, err := loadConfig(envOf(nil), requirement{web: true}); err != nil || len(cfg.Web.TrustedProxies) != 0 {
		t.Errorf("unset: %v, %v; want none trusted", err, cfg.Web.TrustedProxies)
	}
	_, err = loadConfig(envOf(map[string]string{"WEB_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.no"}), requirement{web: true})
	if err == nil || strings.Count(err.Error(), "\n") != 0 ||
		!strings.HasPrefix(err.Error(), `WEB_TRUSTED_PROXIES: entry 2 ("proxy.example.no") is not an address or a CIDR range`) {
		t.Errorf("bad entry: got %v, want one line naming entry 2", err)
	}
}
