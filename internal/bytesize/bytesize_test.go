package bytesize

import "testing"

func TestIEC(t *testing.T) {
	cases := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{35430, "34.6 KiB"}, {5 << 30, "5.0 GiB"}, {1 << 62, "4.0 EiB"},
	}
	for _, c := range cases {
		if got := IEC(c.n); got != c.want {
			t.Errorf("IEC(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
