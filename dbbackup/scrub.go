package dbbackup

import "github.com/dbbackup/dbbackup/internal/secret"

// Scrub returns text with every secret masked (see secret.Scrub: a short
// secret only where it stands alone, so it never garbles the words around
// it; one of 8 characters or more wherever it appears).
func Scrub(text string, secrets []string) string { return secret.Scrub(text, secrets) }
