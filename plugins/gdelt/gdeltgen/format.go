package gdeltgen

import "strconv"

// Numbers as GDELT writes them.

func parseF(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// fmtG formats like GDELT: up to 15 significant digits, shortest form.
func fmtG(f float64) string { return string(appendG(nil, f)) }

func appendG(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'g', 15, 64)
}
