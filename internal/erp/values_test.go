package erp

import (
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

func TestNumericText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    pgtype.Numeric
		want string
	}{
		{pgtype.Numeric{Int: big.NewInt(95000), Exp: -2, Valid: true}, "950.00"},
		{pgtype.Numeric{Int: big.NewInt(5), Exp: -3, Valid: true}, "0.005"},
		{pgtype.Numeric{Int: big.NewInt(-150), Exp: -2, Valid: true}, "-1.50"},
		{pgtype.Numeric{Int: big.NewInt(12), Exp: 3, Valid: true}, "12000"},
		{pgtype.Numeric{Int: big.NewInt(0), Exp: -2, Valid: true}, "0.00"},
		{pgtype.Numeric{Int: big.NewInt(7), Valid: true}, "7"},
		{pgtype.Numeric{}, ""},
		{pgtype.Numeric{NaN: true, Valid: true}, "NaN"},
		{pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, "-Infinity"},
	} {
		if got := numericText(c.n); got != c.want {
			t.Errorf("%+v: %q, want %q", c.n, got, c.want)
		}
	}
}

func TestCellText(t *testing.T) {
	t.Parallel()
	oslo, _ := time.LoadLocation("Europe/Oslo")
	late := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC) // already the 23rd in Oslo
	for _, c := range []struct {
		v    any
		oid  uint32
		want string
	}{
		{nil, pgtype.TextOID, ""},
		{"  Storgata 1 ", pgtype.TextOID, "Storgata 1"},
		{int64(46567468), pgtype.Int8OID, "46567468"},
		{int16(25), pgtype.Int2OID, "25"},
		{float64(1e21), pgtype.Float8OID, "1000000000000000000000"},
		{0.1, pgtype.Float8OID, "0.1"},
		{true, pgtype.BoolOID, "true"},
		{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), pgtype.DateOID, "2026-11-01"},
		{late, pgtype.TimestamptzOID, "2026-11-23"},
		{late, pgtype.TimestampOID, "2026-11-22"},
		{pgtype.Infinity, pgtype.DateOID, "infinity"},
		{[16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}, pgtype.UUIDOID, "12345678-9abc-def0-0102-030405060708"},
	} {
		got, err := cellText(c.v, c.oid, oslo)
		if err != nil || got != c.want {
			t.Errorf("%T %v: %q, %v; want %q", c.v, c.v, got, err, c.want)
		}
	}
	if _, err := cellText([]byte("x"), pgtype.ByteaOID, oslo); err == nil {
		t.Error("bytea read as a cell")
	}
}

// A watermark written as text and read back compares as the value it came
// from, to the microsecond.
func TestMarks(t *testing.T) {
	t.Parallel()
	a := time.Date(2026, 11, 22, 2, 0, 0, 123456000, time.UTC)
	b := a.Add(time.Microsecond)
	ma, ok, err := markOf(a, pgtype.TimestamptzOID)
	if err != nil || !ok || ma.text != "2026-11-22T02:00:00.123456Z" {
		t.Fatalf("%q %v %v", ma.text, ok, err)
	}
	mb, _, _ := markOf(b.In(time.FixedZone("CET", 3600)), pgtype.TimestamptzOID)
	if !ma.less(mb) || mb.less(ma) {
		t.Error("a microsecond later is not later")
	}
	back, err := parseMark(ma.text, pgtype.TimestamptzOID)
	if err != nil || !back.t.Equal(a) {
		t.Errorf("round trip: %v %v", back.t, err)
	}
	m9, _, _ := markOf(int64(9), pgtype.Int8OID)
	m10, _, _ := markOf(int64(10), pgtype.Int8OID)
	if !m9.less(m10) {
		t.Error("9 is not below 10 (compared as text?)")
	}
	if _, ok, err := markOf(nil, pgtype.Int8OID); ok || err != nil {
		t.Error("NULL moved the watermark")
	}
	if _, _, err := markOf(pgtype.Infinity, pgtype.TimestamptzOID); err == nil {
		t.Error("infinity accepted as a watermark")
	}
	d, _, _ := markOf(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), pgtype.DateOID)
	ts, _, _ := markOf(time.Date(2026, 11, 22, 13, 5, 0, 0, time.UTC), pgtype.TimestampOID)
	if d.text != "2026-11-22" || ts.text != "2026-11-22T13:05:00" {
		t.Errorf("date %q, timestamp %q", d.text, ts.text)
	}
}
