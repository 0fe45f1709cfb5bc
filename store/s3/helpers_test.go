package s3_test

import (
	"io"
	"strings"
)

// bytesReader returns a reader of s that hides its length, as a pipeline's
// output does.
func bytesReader(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }
