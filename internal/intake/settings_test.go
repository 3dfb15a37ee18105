package intake_test

import (
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
)

// Every setting reaches the options an import reads, and "today" is the
// moment the import runs.
func TestSettingsOptions(t *testing.T) {
	t.Parallel()
	p, err := mapping.ParseProfile([]byte(`{"fixed": {"preferred_language": "en"}}`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s := intake.Settings{Kind: fpclient.KindPaymentLink, Profile: p, Sheet: "Ordrer", AllowTestIDs: true, Location: time.UTC}
	opt := s.Options(now)
	m := opt.Mapping
	if opt.Sheet != "Ordrer" || m.DefaultKind != fpclient.KindPaymentLink || m.Profile != p || !m.AllowSyntheticPersonalNumbers ||
		m.Location != time.UTC || !m.Now.Equal(now) {
		t.Errorf("Options = %+v", opt)
	}
	if opt := (intake.Settings{}).Options(now); opt.Sheet != "" || opt.Mapping.DefaultKind != "" || opt.Mapping.Profile != nil ||
		opt.Mapping.AllowSyntheticPersonalNumbers || opt.Mapping.Location != nil {
		t.Errorf("zero Settings: Options = %+v", opt)
	}
}

func TestParseKindSetting(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]fpclient.Kind{"": "", "invoice": fpclient.KindInvoice, "payment-link": fpclient.KindPaymentLink} {
		if k, ok := intake.ParseKind(v); !ok || k != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", v, k, ok, want)
		}
	}
	if _, ok := intake.ParseKind("faktura?"); ok {
		t.Error(`ParseKind("faktura?") accepted`)
	}
}
