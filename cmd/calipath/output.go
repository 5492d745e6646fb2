package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// writeOutput writes an output file (-o) and only it:
//
//   - "-" is stdout;
//   - a device, FIFO or other file that is not a regular file is written through, never replaced
//     (-o /dev/null, a named pipe, a terminal), and so is a path that reaches an open file by way of
//     /proc (-o /dev/stdout: the file or pipe stdout is);
//   - a regular file, or a symbolic link to one, is replaced atomically: the report goes to a
//     temporary file beside the link's target, renamed over the target when complete; the target
//     keeps its mode (and, when calipath may, its owner), the link stays a link;
//   - a new file is made with the permissions the umask allows (0666 less the umask);
//   - a directory is an error.
//
// When ctx ends (a signal), the write stops, the temporary file is removed and the old file, if
// any, is left as it was. The temporary file is registered so that a forced exit removes it too.
func writeOutput(ctx context.Context, path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(ctxWriter{ctx, stdout})
	}
	t, err := outputTarget(path)
	if err != nil {
		return outputErr("-o", path, err)
	}
	if t.through != nil || t.fd >= 0 {
		return writeThrough(ctx, path, t, write)
	}
	return replaceFile(ctx, path, t, write)
}

// outputErr is err, met writing the output the user named path, said with that path only: the
// names calipath met on the way (the temporary file, the directory or the links resolved) would
// only puzzle. A missing directory is named as the user wrote it.
//
//	-o /nonexistent/dir/x.txt: no such directory: /nonexistent/dir
//	write /full/x.txt: no space left on device
func outputErr(what, path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	if what == "-o" && errors.Is(err, fs.ErrNotExist) {
		if dir := filepath.Dir(path); !dirExists(dir) {
			return fmt.Errorf("-o %s: no such directory: %s", path, dir)
		}
	}
	return fmt.Errorf("%s %s: %w", what, path, err)
}

func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

// checkOutput fails, before any input is read, when path cannot be an output: its directory is
// missing, or it is a directory (writeOutput says so again if that changes meanwhile).
func checkOutput(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	if _, err := outputTarget(path); err != nil {
		return outputErr("-o", path, err)
	}
	return nil
}

// target is where an output path leads.
type target struct {
	path    string      // the file to create or replace (the end of any symbolic links)
	old     fs.FileInfo // the file replaced, nil for a new one
	through fs.FileInfo // set when the path is written through (not a regular file, or by way of /proc)
	fd      int         // ≥ 0: the path is this process's own open file descriptor (/dev/stdout, /dev/fd/N)
}

// outputTarget works out what writing path means (see writeOutput).
func outputTarget(path string) (target, error) {
	t := target{fd: -1}
	st, err := os.Stat(path) // follows symbolic links
	switch {
	case err == nil && st.IsDir():
		return t, errors.New("is a directory")
	case err == nil && !st.Mode().IsRegular():
		t.through = st
		t.fd = ownFD(path)
		return t, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return t, err
	}
	// A regular file, or nothing yet: follow the links one by one to the name to create or replace.
	// A link into /proc (/dev/stdout → /proc/self/fd/1) names an open file, not a place for a new
	// one: it is written through.
	p, err := filepath.Abs(path)
	if err != nil {
		return t, err
	}
	for hops := 0; ; hops++ {
		if hops > 40 {
			return t, errors.New("too many levels of symbolic links")
		}
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return t, err
		}
		if underProc(dir) {
			if st == nil {
				return t, fmt.Errorf("%s does not exist", p)
			}
			t.through, t.fd = st, ownFD(path)
			return t, nil
		}
		p = filepath.Join(dir, filepath.Base(p))
		lst, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			break // a new file (perhaps the target of a dangling link)
		}
		if err != nil {
			return t, err
		}
		if lst.Mode()&fs.ModeSymlink == 0 {
			if !lst.Mode().IsRegular() {
				return t, fmt.Errorf("%s is not a regular file", p) // changed under us
			}
			t.old = lst
			break
		}
		link, err := os.Readlink(p)
		if err != nil {
			return t, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(dir, link)
		}
		p = filepath.Clean(link)
		if underProc(p) {
			if st == nil {
				return t, fmt.Errorf("%s does not exist", p)
			}
			t.through, t.fd = st, ownFD(path)
			if t.fd < 0 {
				t.fd = ownFD(p) // a link to /proc/self/fd/N
			}
			return t, nil
		}
	}
	t.path = p
	return t, nil
}

func underProc(p string) bool { return p == "/proc" || strings.HasPrefix(p, "/proc/") }

// ownFD returns the file descriptor that path names when it is one of this process's own (/dev/stdout,
// /dev/stderr, /dev/fd/N, /proc/self/fd/N), or -1. Writing to the descriptor itself keeps how it was
// opened: a shell's `>>` appends.
func ownFD(path string) int {
	p := filepath.Clean(path)
	switch p {
	case "/dev/stdout":
		return 1
	case "/dev/stderr":
		return 2
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/", "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/"} {
		if rest, ok := strings.CutPrefix(p, dir); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n
			}
		}
	}
	return -1
}

// writeThrough writes into what path names without replacing it.
func writeThrough(ctx context.Context, path string, t target, write func(io.Writer) error) error {
	var f *os.File
	if t.fd >= 0 {
		// A duplicate shares the open file (its offset, and O_APPEND when the shell opened it so) and
		// can be closed without closing the descriptor itself.
		fd, err := dupFD(t.fd)
		if err != nil {
			return outputErr("-o", path, err)
		}
		f = os.NewFile(uintptr(fd), path)
		defer f.Close()
	} else {
		flag := os.O_WRONLY
		if t.through.Mode().IsRegular() {
			flag |= os.O_TRUNC // a regular file reached through /proc: written over, as a shell's `>` does
		}
		var err error
		if f, err = openCtx(ctx, path, flag); err != nil {
			return outputErr("-o", path, err)
		}
		defer f.Close()
	}
	if err := write(ctxWriter{ctx, f}); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return outputErr("write", path, err)
	}
	return nil
}

// openCtx opens path for writing; ctx ending stops the wait (opening a FIFO blocks until a reader
// comes).
func openCtx(ctx context.Context, path string, flag int) (*os.File, error) {
	type res struct {
		f   *os.File
		err error
	}
	ch := make(chan res, 1)
	go func() {
		f, err := os.OpenFile(path, flag, 0)
		ch <- res{f, err}
	}()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-ctx.Done():
		go func() { // the open may still succeed: close what it opens
			if r := <-ch; r.f != nil {
				r.f.Close()
			}
		}()
		return nil, context.Cause(ctx)
	}
}

// replaceFile writes t.path through a temporary file in its directory, renamed over it only when the
// write is complete and ctx has not ended.
func replaceFile(ctx context.Context, path string, t target, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(t.path)
	perm := os.FileMode(0o666) // a new file: what the umask allows
	if t.old != nil {
		perm = 0o600 // until it has the old file's mode: never more open than either
	}
	f, tmp, err := createTemp(dir, "."+base+".tmp", perm)
	if err != nil {
		return outputErr("-o", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			temps.remove(tmp)
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			} else {
				err = outputErr("write", path, err)
			}
		}
	}()
	if t.old != nil {
		if err = f.Chmod(t.old.Mode().Perm()); err != nil {
			return err
		}
		if uid, gid, ok := fileOwner(t.old); ok && (uid != os.Geteuid() || gid != os.Getegid()) {
			_ = f.Chown(uid, gid) // as root, the owner stays; otherwise it cannot
		}
	}
	wb, stop := newWriteback(f)
	defer stop() // also when write panics; a second call does nothing
	err = write(ctxWriter{ctx, wb})
	if stop(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	if err = os.Rename(tmp, t.path); err != nil {
		return err
	}
	temps.remove(tmp)
	return nil
}

// createTemp creates a new file dir/prefix<random> with perm (less the umask) and registers it in
// temps.
func createTemp(dir, prefix string, perm os.FileMode) (*os.File, string, error) {
	if dir == "" {
		dir = "."
	}
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64()>>24, 36))
		temps.add(name)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
		if err == nil {
			return f, name, nil
		}
		temps.remove(name)
		if !errors.Is(err, fs.ErrExist) || try == 100 {
			return nil, "", err
		}
	}
}

// ctxWriter fails writes once ctx has ended, so that a signal stops a long write.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(b []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.w.Write(b)
}

// tempFiles are the temporary files being written, for removal when the process must exit at once.
type tempFiles struct {
	mu    sync.Mutex
	names map[string]bool
}

var temps tempFiles

func (t *tempFiles) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
}

func (t *tempFiles) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, name)
}

// removeAll removes every registered temporary file.
func (t *tempFiles) removeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name := range t.names {
		os.Remove(name)
		delete(t.names, name)
	}
}
