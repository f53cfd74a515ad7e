package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/relmcrm/relm/secrets"
	"github.com/relmcrm/relm/server"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/tools"
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

// rewrapSecrets is `relm secrets rewrap`: after RELM_SECRET_KEY changed (the old one given
// as RELM_SECRET_KEY_OLD), it seals every stored credential again under the new secret, so
// that the old one can be dropped.
func rewrapSecrets(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("secrets rewrap", flag.ContinueOnError)
	secretKey := fs.String("secret-key", env("RELM_SECRET_KEY", ""), "the current server secret (RELM_SECRET_KEY)")
	secretKeyOld := fs.String("secret-key-old", env("RELM_SECRET_KEY_OLD", ""), "comma-separated earlier server secrets (RELM_SECRET_KEY_OLD)")
	dbf := dbFlags{share: true}
	dbf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	old, err := parseOldSecrets(*secretKeyOld)
	if err != nil {
		return err
	}
	var secret []byte
	if *secretKey != "" {
		if secret, err = server.ParseSecretKey(*secretKey); err != nil {
			return fmt.Errorf("--secret-key (RELM_SECRET_KEY): %w", err)
		}
	}
	db, err := dbf.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if secret == nil {
		if db.cluster == nil {
			return errors.New("set --secret-key (RELM_SECRET_KEY) to the current server secret: with --database-url there is no kept one")
		}
		if secret, _, err = defaultSecret(dbf.clusterDir(), log); err != nil {
			return err
		}
	}
	box, err := secrets.NewBox(secret, old...)
	if err != nil {
		return err
	}
	n, err := db.Admin.RewrapSecrets(ctx, func(s store.SealedSecret) (string, error) {
		if !box.NeedsRewrap(s.Sealed) {
			return s.Sealed, nil
		}
		return box.Rewrap(s.Sealed, tools.SealedBinding(s))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d stored credentials sealed again under the current secret\n", n)
	return nil
}
