package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/relmcrm/relm/server"
)

// secretKeyFile is where the private cluster's server secret is kept, beside the cluster's
// own password file.
const secretKeyFile = "secret_key"

// defaultSecret is the server secret when none is given (--secret-key, RELM_SECRET_KEY): on
// the private cluster in clusterDir, the one kept there (made on first start, mode 0600);
// on an external database (clusterDir ""), a new one for this process only, with a warning.
// persistent reports whether the secret outlives the process.
func defaultSecret(clusterDir string, log *slog.Logger) (secret []byte, persistent bool, err error) {
	if clusterDir != "" {
		secret, err = keptSecret(filepath.Join(clusterDir, secretKeyFile))
		return secret, true, err
	}
	log.Warn("no RELM_SECRET_KEY (--secret-key) is set, so this process made a secret key of its own: cursors " +
		"(next_cursor) will not survive a restart or work across server processes until RELM_SECRET_KEY is set to the " +
		"same value everywhere (make one with `openssl rand -base64 32`)")
	return server.NewSecretKey(), false, nil
}

// keptSecret reads the server secret kept at path, creating it (readable only by us) on
// first use.
func keptSecret(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := server.NewSecretKey()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("keep the secret key: %w", err)
		}
		_, err = f.WriteString(server.EncodeSecretKey(k) + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("keep the secret key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the secret key: %w", err)
	}
	k, err := server.ParseSecretKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w; restore it, or delete it to make a new one (outstanding cursors stop working)", path, err)
	}
	return k, nil
}
