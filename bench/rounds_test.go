package bench

import (
	"slices"
	"testing"
)

// step is one command of a comparison, timed once per round. Its set-up
// (a fresh database) and its checks (content checksums after a restore)
// are its own, outside the timing.
type step struct {
	name string
	run  func(round int) measured
}

// alternate runs every step once per round, in roundOrder's order, and
// returns each step's series, in the order of steps.
func alternate(n int, steps []step) []series {
	out := make([]series, len(steps))
	for r := range n {
		for _, i := range roundOrder(r, len(steps)) {
			out[i] = append(out[i], steps[i].run(r))
		}
	}
	return out
}

// roundOrder is the order of n steps in round r: the steps rotated by r/2,
// reversed in odd rounds. Two steps alternate (AB, BA, AB, ...); three go
// through all six orders in six rounds; every step runs first, and every
// pair in both orders, within 2n rounds. Nothing runs always first (on a
// cold cache) or always right after the same neighbour.
func roundOrder(r, n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = (i + r/2) % n
	}
	if r%2 == 1 {
		slices.Reverse(order)
	}
	return order
}

func TestRoundOrder(t *testing.T) {
	for n := 1; n <= 5; n++ {
		first := map[int]bool{}
		before := map[[2]int]bool{}
		for r := range 2 * n {
			order := roundOrder(r, n)
			if got := slices.Sorted(slices.Values(order)); !slices.Equal(got, seq(n)) {
				t.Fatalf("round %d of %d steps: order %v is not a permutation", r, n, order)
			}
			first[order[0]] = true
			for i := range order {
				for j := i + 1; j < n; j++ {
					before[[2]int{order[i], order[j]}] = true
				}
			}
		}
		if len(first) != n {
			t.Errorf("%d steps: only %v ran first in %d rounds", n, first, 2*n)
		}
		if n > 1 && len(before) != n*(n-1) {
			t.Errorf("%d steps: only %d of %d ordered pairs seen in %d rounds", n, len(before), n*(n-1), 2*n)
		}
	}
	// Two steps: the second round must not repeat the first's order.
	if a, b := roundOrder(0, 2), roundOrder(1, 2); slices.Equal(a, b) {
		t.Errorf("rounds 0 and 1 of two steps both run %v", a)
	}
}

func TestAlternateRunsEveryStepEveryRound(t *testing.T) {
	var log []string
	mk := func(name string) step {
		return step{name, func(r int) measured { log = append(log, name); return measured{wall: 1} }}
	}
	got := alternate(4, []step{mk("a"), mk("b")})
	if len(got) != 2 || len(got[0]) != 4 || len(got[1]) != 4 {
		t.Fatalf("series lengths %d/%d/%d, want 2 series of 4", len(got), len(got[0]), len(got[1]))
	}
	want := []string{"a", "b", "b", "a", "b", "a", "a", "b"}
	if !slices.Equal(log, want) {
		t.Errorf("ran %v, want %v", log, want)
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
