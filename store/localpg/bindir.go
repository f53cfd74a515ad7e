package localpg

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// errNoBinaries explains how to get PostgreSQL's server programs when none are found.
var errNoBinaries = errors.New("localpg: PostgreSQL server programs (initdb and postgres) not found " +
	"on PATH, via pg_config, or in the usual install locations. Install them " +
	"(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16), " +
	"or set RELM_DATABASE_URL to an existing database")

// binGlobs are the usual install locations, searched in this order after PATH and pg_config.
var binGlobs = []string{
	"/usr/lib/postgresql/*/bin",
	"/usr/local/pgsql/bin",
	"/opt/homebrew/opt/postgresql*/bin",
	"/usr/local/opt/postgresql*/bin",
}

// FindBinDir locates a directory containing initdb and postgres: PATH, then `pg_config --bindir`,
// then the usual install locations (newest version first). The error says how to install them.
func FindBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil && hasServer(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	if p, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(p, "--bindir").Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); hasServer(dir) {
				return dir, nil
			}
		}
	}
	for _, pattern := range binGlobs {
		dirs, _ := filepath.Glob(pattern) // the patterns are well-formed
		sortNewestFirst(dirs)
		for _, dir := range dirs {
			if hasServer(dir) {
				return dir, nil
			}
		}
	}
	return "", errNoBinaries
}

// hasServer reports whether dir holds executable initdb and postgres programs.
func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// versionRE finds the version in paths like /usr/lib/postgresql/15/bin or .../postgresql@16/bin.
var versionRE = regexp.MustCompile(`\d+(\.\d+)?`)

// sortNewestFirst orders install directories by the version in their path, highest first;
// unversioned paths go last.
func sortNewestFirst(dirs []string) {
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(versionRE.FindString(dir), 64)
		return v
	}
	sort.SliceStable(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
}
