package main

import (
	"errors"
	"fmt"

	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
)

// noLastingSecretWarning is what `relm serve` logs once at start when its box is unavailable.
const noLastingSecretWarning = "no RELM_SECRET_KEY (--secret-key) is set, so storing credentials (email integration keys, " +
	"webhook signing secrets) will fail until it is: set RELM_SECRET_KEY to the same base64 of 32 random bytes " +
	"(make one with `openssl rand -base64 32`) on every server process"

// secretBox is the box that keeps stored credentials under the server secret and, during a
// rotation, the old ones. A secret that does not persist (made anew at this start) gives an
// unavailable box, since what it sealed could not be opened after a restart or by another
// process.
func secretBox(secret []byte, persistent bool, old [][]byte) (*secrets.Box, error) {
	if !persistent {
		if len(old) > 0 {
			return nil, errors.New("--secret-key-old (RELM_SECRET_KEY_OLD) is set but --secret-key (RELM_SECRET_KEY) is not: " +
				"set RELM_SECRET_KEY to the current secret on every server process")
		}
		return secrets.Unavailable("this server has no RELM_SECRET_KEY and an external database, so its secret lasts only until it stops"), nil
	}
	box, err := secrets.NewBox(secret, old...)
	if err != nil {
		return nil, fmt.Errorf("the secrets box: %w", err)
	}
	return box, nil
}

// parseOldSecrets reads --secret-key-old (RELM_SECRET_KEY_OLD): comma-separated server
// secrets, each spelled as --secret-key is.
func parseOldSecrets(s string) ([][]byte, error) {
	var old [][]byte
	for i, v := range list(s) {
		k, err := server.ParseSecretKey(v)
		if err != nil {
			return nil, fmt.Errorf("--secret-key-old (RELM_SECRET_KEY_OLD), secret #%d: %w", i+1, err)
		}
		old = append(old, k)
	}
	return old, nil
}
