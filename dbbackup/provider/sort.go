package provider

import "sort"

// sortByID orders reports by job-id.
func sortByID(rs []Report) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].JobID < rs[j].JobID })
}
