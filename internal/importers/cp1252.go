package importers

import (
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// cp1252High maps the bytes 0x80–0x9F of Windows-1252, the code page Excel on
// Norwegian Windows uses for "CSV (semicolon separated)". The five bytes the
// code page leaves undefined map to the C1 control of the same value, as the
// WHATWG encoding standard does. 0xA0–0xFF equal Latin-1 (æ 0xE6, ø 0xF8,
// å 0xE5, Æ 0xC6, Ø 0xD8, Å 0xC5), and 0x00–0x7F equal ASCII.
var cp1252High = [32]rune{
	'€', '\u0081', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u008d', 'Ž', '\u008f',
	'\u0090', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u009d', 'ž', 'Ÿ',
}

// appendWindows1252 appends the UTF-8 of Windows-1252 bytes; every byte is a
// character, so it cannot fail.
func appendWindows1252(dst, b []byte) []byte {
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] < utf8.RuneSelf {
			i++
		}
		dst = append(dst, b[:i]...)
		b = b[i:]
		for len(b) > 0 && b[0] >= utf8.RuneSelf {
			if c := b[0]; c < 0xA0 {
				dst = utf8.AppendRune(dst, cp1252High[c-0x80])
			} else {
				dst = utf8.AppendRune(dst, rune(c))
			}
			b = b[1:]
		}
	}
	return dst
}

// decodeChunk is how much encoded text the decoding readers take at a time.
const decodeChunk = 32 << 10

// windows1252Reader decodes Windows-1252 text to UTF-8 on the fly.
type windows1252Reader struct {
	r       io.Reader
	in, out []byte
	pending []byte
	err     error
}

func (d *windows1252Reader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.in == nil {
			d.in = make([]byte, decodeChunk)
		}
		var n int
		n, d.err = d.r.Read(d.in)
		d.out = appendWindows1252(d.out[:0], d.in[:n])
		d.pending = d.out
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// utf16Reader decodes UTF-16 (after its BOM) to UTF-8 on the fly, as
// utf16.Decode does: a surrogate without its other half becomes U+FFFD. A
// code unit or surrogate pair cut by the end of a chunk waits for the next.
type utf16Reader struct {
	r       io.Reader
	be      bool
	in      []byte
	nin     int    // bytes of in carried over (an odd byte)
	high    uint16 // a high surrogate waiting for its low half, or 0
	out     []byte
	pending []byte
	err     error
}

func (d *utf16Reader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.in == nil {
			d.in = make([]byte, decodeChunk)
		}
		var n int
		n, d.err = d.r.Read(d.in[d.nin:])
		b := d.in[:d.nin+n]
		even := len(b) &^ 1
		out := d.out[:0]
		for i := 0; i < even; i += 2 {
			u := uint16(b[i]) | uint16(b[i+1])<<8
			if d.be {
				u = uint16(b[i])<<8 | uint16(b[i+1])
			}
			out = d.appendUnit(out, u)
		}
		d.nin = copy(d.in, b[even:])
		if d.err != nil && d.high != 0 {
			out = utf8.AppendRune(out, utf8.RuneError)
			d.high = 0
		}
		d.out, d.pending = out, out
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

func (d *utf16Reader) appendUnit(out []byte, u uint16) []byte {
	if d.high != 0 {
		high := d.high
		d.high = 0
		if 0xDC00 <= u && u < 0xE000 {
			return utf8.AppendRune(out, utf16.DecodeRune(rune(high), rune(u)))
		}
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	switch {
	case u < 0xD800 || u >= 0xE000:
		if u < utf8.RuneSelf {
			return append(out, byte(u))
		}
		return utf8.AppendRune(out, rune(u))
	case u < 0xDC00:
		d.high = u
		return out
	default:
		return utf8.AppendRune(out, utf8.RuneError)
	}
}

// encodeText encodes UTF-8 text as enc (an Encoding… name; "" is UTF-8),
// with the byte order mark that lets Excel, and ReadCSV, know it: UTF-8 and
// UTF-16 get theirs, Windows-1252 has none. A character Windows-1252 lacks
// becomes '?': the file came in that code page, so its own cells have
// none; only a reason could.
func encodeText(text []byte, enc string) []byte {
	switch enc {
	case EncodingWindows1252:
		out := make([]byte, 0, len(text))
		for _, r := range string(text) {
			out = append(out, windows1252Byte(r))
		}
		return out
	case EncodingUTF16LE, EncodingUTF16BE:
		units := utf16.Encode([]rune(string(text)))
		out := make([]byte, 0, 2+2*len(units))
		if enc == EncodingUTF16LE {
			out = append(out, 0xFF, 0xFE)
			for _, u := range units {
				out = append(out, byte(u), byte(u>>8))
			}
		} else {
			out = append(out, 0xFE, 0xFF)
			for _, u := range units {
				out = append(out, byte(u>>8), byte(u))
			}
		}
		return out
	}
	return append([]byte("\ufeff"), text...) // Excel needs the BOM to read UTF-8
}

func windows1252Byte(r rune) byte {
	switch {
	case r < 0x80 || (r >= 0xA0 && r <= 0xFF):
		return byte(r)
	}
	for i, c := range cp1252High {
		if c == r {
			return byte(0x80 + i)
		}
	}
	return '?'
}
