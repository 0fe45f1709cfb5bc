package artefact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func TestKeysFromSecret(t *testing.T) {
	a, b, c := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	ks, err := KeysFromSecret(map[string]string{
		"key":           " " + hex.EncodeToString(c) + "\n",
		"previous-keys": base64.StdEncoding.EncodeToString(b) + ",\n" + hex.EncodeToString(a) + " " + hex.EncodeToString(c),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 3 || !bytes.Equal(ks.Current(), c) || !bytes.Equal(ks[1], b) || !bytes.Equal(ks[2], a) {
		t.Fatalf("keys = %v, want c, b, a", ks)
	}
	if got := ks.ByFingerprint(Fingerprint(a)); !bytes.Equal(got, a) {
		t.Errorf("ByFingerprint(a) = %x", got)
	}
	if got := ks.ByFingerprint("0000000000000000"); got != nil {
		t.Errorf("ByFingerprint(unknown) = %x, want nil", got)
	}
	back, err := ParseKeyList(ks.Text())
	if err != nil || back.String() != ks.String() {
		t.Errorf("ParseKeyList(Text()) = %v, %v; want %v", back, err, ks)
	}
	for _, verb := range []string{"%v", "%s", "%+v", "%#v"} {
		if out := fmt.Sprintf(verb, ks); strings.Contains(out, hex.EncodeToString(a)) || strings.Contains(out, "[1 1 1") {
			t.Errorf("%s shows a key: %s", verb, out)
		}
	}
}

func TestKeysFromSecretRefuses(t *testing.T) {
	key := hex.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for _, c := range []struct {
		content map[string]string
		want    string
	}{
		{map[string]string{}, `the secret has no "key"`},
		{map[string]string{"key": "  "}, `the secret has no "key"`},
		{map[string]string{"key": key[:40]}, `the secret's "key": an encryption key must be`},
		{map[string]string{"key": key, "previous-keys": key + " nothex"}, `the secret's "previous-keys": key 2:`},
		{map[string]string{"key": key, "previous-keys": strings.Repeat("a", 32)}, `key 1: an encryption key in a list`},
		{map[string]string{"key": key, "previous-keys": strings.Repeat(key+" ", 65)}, "65 keys, at most 64"},
	} {
		_, err := KeysFromSecret(c.content)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("KeysFromSecret(%d fields) = %v, want %q", len(c.content), err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), key[:20]) {
			t.Errorf("error repeats a key: %v", err)
		}
	}
}
