package mysql

import "testing"

func TestBehind(t *testing.T) {
	logs, err := parseBinaryLogs("mariadb-bin.000001\t1000\tNo\nmariadb-bin.000002\t500\tNo\nmariadb-bin.000003\t300\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		end  int64
		want int64
	}{
		{"mariadb-bin.000003", 300, 0},
		{"mariadb-bin.000003", 100, 200},
		{"mariadb-bin.000002", 500, 300},
		{"mariadb-bin.000001", 400, 600 + 500 + 300},
		{"mariadb-bin.000003", 400, 0}, // stored past what the server listed a moment ago
		{"not a name", 0, -1},
	}
	for _, tt := range tests {
		if got := behind(logs, tt.file, tt.end); got != tt.want {
			t.Errorf("behind(%s, %d) = %d, want %d", tt.file, tt.end, got, tt.want)
		}
	}
	for _, bad := range []string{"", "mariadb-bin.000001\t-4", "mariadb-bin.000001\tmany", "../x\t4"} {
		if _, err := parseBinaryLogs(bad); err == nil {
			t.Errorf("parseBinaryLogs(%q) took it", bad)
		}
	}
}
