package localpg

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serverUser is the unprivileged account initdb and postgres run as when we are root,
// because both refuse to run as root.
type serverUser struct {
	name     string
	uid, gid uint32
}

// lookupServerUser returns the account to run PostgreSQL as: nil when we are not root
// (it runs as us), otherwise "postgres", or "nobody" if there is no postgres user.
func lookupServerUser() (*serverUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &serverUser{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, errors.New(`localpg: running as root, but PostgreSQL refuses to run as root and ` +
		`there is no "postgres" or "nobody" user to run it as; create one or run relm as an ordinary user`)
}

// credential makes a child process run as u, with no supplementary groups.
func (u *serverUser) credential() *syscall.Credential {
	return &syscall.Credential{Uid: u.uid, Gid: u.gid}
}

// prepareDir lets u reach files under dir: it adds search permission to dir itself (ours to
// manage) and checks, without changing them, that every parent is searchable by u.
func (u *serverUser) prepareDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !u.canSearch(fi) {
		if err := os.Chmod(dir, fi.Mode().Perm()|0o011); err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !u.canSearch(fi) {
			return fmt.Errorf("localpg: relm is running as root, so PostgreSQL runs as user %q, "+
				"but that user cannot reach %s because %s (mode %v) is not searchable by it; "+
				"choose a data directory it can reach, such as /var/lib/relm",
				u.name, dir, p, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// canSearch reports whether u may traverse the directory fi, by its owner, group and mode bits.
func (u *serverUser) canSearch(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // cannot tell; let PostgreSQL report any problem
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == u.uid:
		return perm&0o100 != 0
	case st.Gid == u.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// chown gives path to u.
func (u *serverUser) chown(path string) error {
	return os.Chown(path, int(u.uid), int(u.gid))
}
