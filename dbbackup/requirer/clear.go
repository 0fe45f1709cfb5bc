package requirer

// ClearHistory returns h without its terminal records (success, error,
// lost) and without the Dropped summaries, and how many records it removed.
// Waiting and running records are kept unchanged.
func ClearHistory(h History) (History, int) {
	out := History{}
	removed := 0
	for _, r := range h.Records {
		if r.Status.Terminal() {
			removed++
			continue
		}
		out.Records = append(out.Records, r)
	}
	return out, removed
}
