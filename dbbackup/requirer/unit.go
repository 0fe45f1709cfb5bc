package requirer

import (
	"strconv"
	"strings"
)

// unitLess orders unit names by application, then unit number, so that
// mysql/2 comes before mysql/10; names without a number sort as text.
func unitLess(a, b string) bool {
	aa, an, aok := splitUnit(a)
	ba, bn, bok := splitUnit(b)
	if !aok || !bok || aa != ba || an == bn {
		return a < b
	}
	return an < bn
}

// splitUnit splits "app/N" into its application and number.
func splitUnit(u string) (string, int, bool) {
	app, num, ok := strings.Cut(u, "/")
	if !ok {
		return u, 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return u, 0, false
	}
	return app, n, true
}

// appOf returns the application part of a unit name.
func appOf(u string) string {
	app, _, _ := strings.Cut(u, "/")
	return app
}
