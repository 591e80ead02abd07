// Package dir is the folder channel, "dir:PATH": a channel.Channel over a
// folder shared by the processes of one machine, keysync's default.
//
// Each message is one file named by its sequence number, 20 decimal
// digits (00000000000000000001, …), so that the names sort in the order.
// A Send takes an exclusive flock(2) on PATH/.lock, finds the last
// number (PATH/.head, checked against the files after it), writes the
// message to PATH/.tmp, syncs it, renames it to the next number, syncs
// the folder, records the number in .head and unlocks. So any number of
// processes and goroutines may send at once; a sender killed at any
// moment leaves at most .tmp behind (overwritten by the next Send), never
// half a message under a number, and a lock the kernel releases.
//
// Receive reads the numbers after the position, woken by file system
// notifications (fsnotify) and, in case those miss something, by polling
// (Options.Poll). A number that is missing (a file someone removed) is
// passed over. A file that is not a message of this channel — a foreign
// name, a directory, a symlink, a file that is too large, truncated or
// fails its checksum — is skipped and logged, never delivered; every
// reader skips the same files, so all see the same order.
//
// Each file is a 16-byte header — "KSDIR1\n\x00", the data's length (4
// bytes, big-endian) and its CRC-32C (4 bytes, big-endian) — and the data.
// PATH/.channel holds the folder's random id: a Position is "ID:N", and a
// position of another id (the folder was made anew) is
// channel.ErrUnknownPosition.
//
// What the folder channel does NOT promise. It is for one machine. On a
// folder shared between machines (NFS, SMB, a synced cloud folder) flock
// may lock only locally or not at all, renames may be seen late or out of
// order, and notifications do not cross machines: two machines can give
// two messages one number (the later rename replaces the earlier message)
// and readers can disagree on the order. The order is the order of the
// lock, not of any clock; nothing in it is a time. Messages are never
// removed by the channel: the folder grows until someone prunes it (a
// pruned number is passed over, as above). The folder is made mode 0700
// and the files 0600; the channel trusts everyone who can write the
// folder. Open fails on systems without flock.
package dir

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/keysync/keysync/channel"
)

// Options tune a folder channel. The zero value is the default.
type Options struct {
	// Log receives a line for each file skipped and each failure of the
	// notifications (never a message's content). Nil means slog.Default().
	Log *slog.Logger
	// Poll is how often a waiting Receive looks at the folder without a
	// notification. Zero means DefaultPoll.
	Poll time.Duration
}

// DefaultPoll is the polling interval of Options.Poll's zero value.
const DefaultPoll = 250 * time.Millisecond

// Batch limits: a Receive returns at most MaxBatch messages, and stops
// adding messages once it holds MaxBatchBytes of data (it always returns
// at least one).
const (
	MaxBatch      = 256
	MaxBatchBytes = 4 << 20
)

// The folder's own files; message files have 20-digit names.
const (
	lockName    = ".lock"
	idName      = ".channel"
	headName    = ".head"
	tmpName     = ".tmp"
	headTmpName = ".head.tmp"
	idTmpName   = ".channel.tmp"
)

const (
	nameDigits = 20 // a uint64 in decimal
	headerSize = 16
	magic      = "KSDIR1\n\x00"
	maxFile    = headerSize + channel.MaxSize
	maxLogged  = 1024 // skipped files remembered, so that each is logged once
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Dir is a folder channel. It implements channel.Channel.
type Dir struct {
	path string
	id   string
	log  *slog.Logger
	poll time.Duration

	sendMu chan struct{} // one Send of this Dir at a time holds the lock file
	lockF  *os.File

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced when the folder may have changed
	closed  chan struct{}
	isDone  bool
	watcher *fsnotify.Watcher
	logged  map[string]bool // names skipped and logged
	scanned uint64          // the .head value of the last fruitless scan for gaps
}

var _ channel.Channel = (*Dir)(nil)

// Open opens the folder channel at path, making the folder (mode 0700)
// and its id if they do not exist yet.
func Open(path string, o Options) (*Dir, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("dir channel: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(path, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dir channel: %w", err)
	}
	d := &Dir{
		path:   path,
		log:    o.Log,
		poll:   o.Poll,
		sendMu: make(chan struct{}, 1),
		lockF:  lf,
		wake:   make(chan struct{}),
		closed: make(chan struct{}),
		logged: map[string]bool{},
	}
	if d.id, err = d.loadID(); err != nil {
		lf.Close()
		return nil, err
	}
	d.watch()
	return d, nil
}

// Path returns the folder of d.
func (d *Dir) Path() string { return d.path }

// loadID reads the folder's id, making it under the lock if it is missing.
func (d *Dir) loadID() (string, error) {
	p := filepath.Join(d.path, idName)
	id, err := readID(p)
	if !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	if err := d.lock(context.Background()); err != nil {
		return "", err
	}
	defer d.unlock()
	id, err = readID(p)
	if !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	var b [8]byte
	rand.Read(b[:])
	id = hex.EncodeToString(b[:])
	if err := writeSynced(filepath.Join(d.path, idTmpName), []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("dir channel: %w", err)
	}
	if err := os.Rename(filepath.Join(d.path, idTmpName), p); err != nil {
		return "", fmt.Errorf("dir channel: %w", err)
	}
	if err := syncDir(d.path); err != nil {
		return "", fmt.Errorf("dir channel: %w", err)
	}
	return id, nil
}

// readID reads the id file at p: 16 lower-case hex digits and a newline.
func readID(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return "", fmt.Errorf("dir channel: %w", err)
	}
	id, ok := strings.CutSuffix(string(b), "\n")
	if _, herr := hex.DecodeString(id); !ok || len(id) != 16 || herr != nil || strings.ToLower(id) != id {
		return "", fmt.Errorf("dir channel: %s: not a channel id (want 16 hex digits and a newline)", p)
	}
	return id, nil
}

// watch starts the notifications of changes in the folder; without them
// Receive polls.
func (d *Dir) watch() {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		err = w.Add(d.path)
		if err != nil {
			w.Close()
		}
	}
	if err != nil {
		d.log.Warn("dir channel: no notifications, polling", "path", d.path, "every", d.poll, "err", err)
		return
	}
	d.watcher = w
	go func() {
		for {
			select {
			case _, ok := <-w.Events:
				if !ok {
					return
				}
				d.wakeAll()
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				d.log.Warn("dir channel: notification error, polling", "path", d.path, "err", err)
				d.wakeAll()
			}
		}
	}()
}

// wakeAll wakes every waiting Receive of d.
func (d *Dir) wakeAll() {
	d.mu.Lock()
	close(d.wake)
	d.wake = make(chan struct{})
	d.mu.Unlock()
}

// waitChan returns the channel the next wakeAll closes.
func (d *Dir) waitChan() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wake
}

func (d *Dir) isClosed() bool {
	select {
	case <-d.closed:
		return true
	default:
		return false
	}
}

// Close stops d's notifications and wakes its waiting Receives with
// channel.ErrClosed. It returns nil if d was already closed.
func (d *Dir) Close() error {
	d.mu.Lock()
	if d.isDone {
		d.mu.Unlock()
		return nil
	}
	d.isDone = true
	close(d.closed)
	d.mu.Unlock()
	var errs []error
	if d.watcher != nil {
		errs = append(errs, d.watcher.Close())
	}
	// Wait for a Send in progress before closing the lock file.
	d.sendMu <- struct{}{}
	errs = append(errs, d.lockF.Close())
	return errors.Join(errs...)
}

// Send appends data to the folder as the message after the last one.
func (d *Dir) Send(ctx context.Context, data []byte) error {
	if len(data) > channel.MaxSize {
		return fmt.Errorf("dir channel: %d bytes, at most %d: %w", len(data), channel.MaxSize, channel.ErrTooLarge)
	}
	if err := d.lock(ctx); err != nil {
		return err
	}
	defer d.unlock()
	seq, err := d.lastSeq()
	if err != nil {
		return err
	}
	seq++
	if seq == 0 {
		return fmt.Errorf("dir channel: %s: sequence numbers used up", d.path)
	}
	tmp := filepath.Join(d.path, tmpName)
	if err := writeSynced(tmp, encode(data)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("dir channel: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(d.path, seqName(seq))); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("dir channel: %w", err)
	}
	// From here on the message is in the order; a failure is reported
	// and the message stays (channel.Channel's Send allows that).
	err = syncDir(d.path)
	if herr := d.writeHead(seq); err == nil {
		err = herr
	}
	d.wakeAll()
	if err != nil {
		return fmt.Errorf("dir channel: message %d written, but: %w", seq, err)
	}
	return nil
}

// lastSeq returns the number of the last message, with the lock held:
// .head's number, or a larger one if files after it exist (a sender died
// before writing .head); the largest number in the folder if .head is
// missing or unreadable.
func (d *Dir) lastSeq() (uint64, error) {
	seq, ok := d.readHead()
	if !ok {
		var err error
		if seq, err = d.maxInFolder(); err != nil {
			return 0, err
		}
	}
	for {
		_, err := os.Lstat(filepath.Join(d.path, seqName(seq+1)))
		if errors.Is(err, fs.ErrNotExist) {
			return seq, nil
		}
		if err != nil {
			return 0, fmt.Errorf("dir channel: %w", err)
		}
		seq++
	}
}

// readHead reads .head: the number of the last message sent (or one
// before it, after a sender died).
func (d *Dir) readHead() (uint64, bool) {
	f, err := os.Open(filepath.Join(d.path, headName))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var b [nameDigits + 2]byte
	n, _ := io.ReadFull(f, b[:])
	s, ok := strings.CutSuffix(string(b[:n]), "\n")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// writeHead records seq in .head (not synced: after a crash lastSeq finds
// the files after an older head).
func (d *Dir) writeHead(seq uint64) error {
	tmp := filepath.Join(d.path, headTmpName)
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(d.path, headName))
}

// maxInFolder returns the largest message number in the folder, 0 if
// there is none.
func (d *Dir) maxInFolder() (uint64, error) {
	seqs, err := d.list()
	if err != nil || len(seqs) == 0 {
		return 0, err
	}
	return seqs[len(seqs)-1], nil
}

// list returns the message numbers in the folder, ascending, logging
// the foreign names it meets once each.
func (d *Dir) list() ([]uint64, error) {
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return nil, fmt.Errorf("dir channel: %w", err)
	}
	var seqs []uint64
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		seq, ok := parseName(name)
		if !ok {
			d.skip(name, "not a message name (want 20 digits)")
			continue
		}
		seqs = append(seqs, seq)
	}
	return seqs, nil // ReadDir sorts by name, and the names have one length
}

// skip logs, once per name, that the file name is not delivered.
func (d *Dir) skip(name, reason string) {
	d.mu.Lock()
	seen := d.logged[name]
	if !seen && len(d.logged) < maxLogged {
		d.logged[name] = true
	}
	d.mu.Unlock()
	if !seen {
		d.log.Warn("dir channel: skipping file", "path", filepath.Join(d.path, name), "reason", reason)
	}
}

// Receive returns the messages after position after, waiting for one.
func (d *Dir) Receive(ctx context.Context, after channel.Position) ([]channel.Message, error) {
	seq, err := d.parsePosition(after)
	if err != nil {
		return nil, err
	}
	tick := time.NewTicker(d.poll)
	defer tick.Stop()
	for {
		if d.isClosed() {
			return nil, channel.ErrClosed
		}
		wake := d.waitChan()
		msgs, err := d.read(seq)
		if err != nil || len(msgs) > 0 {
			return msgs, err
		}
		select {
		case <-wake:
		case <-tick.C:
		case <-d.closed:
			return nil, channel.ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// read returns the messages after number seq that are there now, up to
// a batch.
func (d *Dir) read(seq uint64) ([]channel.Message, error) {
	var out []channel.Message
	size := 0
	next := seq + 1
	for next != 0 {
		data, exists, err := d.readOne(next)
		if err != nil {
			if len(out) > 0 {
				return out, nil // the error comes again on the next call
			}
			return nil, err
		}
		if !exists {
			if len(out) > 0 {
				return out, nil
			}
			n, ok, err := d.nextAfter(next - 1)
			if err != nil || !ok {
				return nil, err
			}
			next = n
			continue
		}
		if data != nil {
			out = append(out, channel.Message{Pos: d.position(next), Data: data})
			size += len(data)
			if len(out) >= MaxBatch || size >= MaxBatchBytes {
				return out, nil
			}
		}
		next++
	}
	return out, nil
}

// nextAfter finds the first message number after seq when seq+1 is
// missing: a gap that someone made by removing files. It looks at the
// folder only when .head says there are messages after seq, and once for
// each .head value.
func (d *Dir) nextAfter(seq uint64) (uint64, bool, error) {
	head, ok := d.readHead()
	if ok && head <= seq {
		return 0, false, nil
	}
	d.mu.Lock()
	done := ok && d.scanned == head
	d.mu.Unlock()
	if done {
		return 0, false, nil
	}
	seqs, err := d.list()
	if err != nil {
		return 0, false, err
	}
	for _, s := range seqs {
		if s > seq {
			return s, true, nil
		}
	}
	if ok {
		d.mu.Lock()
		d.scanned = head
		d.mu.Unlock()
	}
	return 0, false, nil
}

// readOne reads message number seq: its data, or nil data for a file
// that is skipped (logged), or exists false if there is no such name.
func (d *Dir) readOne(seq uint64) (data []byte, exists bool, err error) {
	name := seqName(seq)
	f, err := openNoFollow(filepath.Join(d.path, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		if isSymlinkErr(err) {
			d.skip(name, "a symbolic link")
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("dir channel: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("dir channel: %w", err)
	}
	if !st.Mode().IsRegular() {
		d.skip(name, "not a regular file")
		return nil, true, nil
	}
	if st.Size() > maxFile {
		d.skip(name, fmt.Sprintf("%d bytes, more than a message's %d", st.Size(), maxFile))
		return nil, true, nil
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, false, fmt.Errorf("dir channel: %w", err)
	}
	data, reason := decode(b)
	if reason != "" {
		d.skip(name, reason)
		return nil, true, nil
	}
	return data, true, nil
}

// encode returns the file of a message with data.
func encode(data []byte) []byte {
	b := make([]byte, headerSize, headerSize+len(data))
	copy(b, magic)
	binary.BigEndian.PutUint32(b[8:], uint32(len(data)))
	binary.BigEndian.PutUint32(b[12:], crc32.Checksum(data, castagnoli))
	return append(b, data...)
}

// decode returns the data of a message file, or why b is not one.
func decode(b []byte) ([]byte, string) {
	if len(b) < headerSize || !bytes.Equal(b[:8], []byte(magic)) {
		return nil, "no message header"
	}
	n := binary.BigEndian.Uint32(b[8:])
	if uint64(n) != uint64(len(b)-headerSize) {
		return nil, fmt.Sprintf("header says %d bytes of data, the file has %d", n, len(b)-headerSize)
	}
	data := b[headerSize:]
	if crc32.Checksum(data, castagnoli) != binary.BigEndian.Uint32(b[12:]) {
		return nil, "checksum mismatch"
	}
	return data, ""
}

// position returns the Position of message number seq.
func (d *Dir) position(seq uint64) channel.Position {
	return channel.Position(d.id + ":" + strconv.FormatUint(seq, 10))
}

// parsePosition returns the message number of a position of d; 0 for
// the beginning.
func (d *Dir) parsePosition(p channel.Position) (uint64, error) {
	if p == channel.Beginning {
		return 0, nil
	}
	id, n, ok := strings.Cut(string(p), ":")
	if !ok || id != d.id {
		return 0, fmt.Errorf("dir channel: %s: position %q is not one of this folder (id %s): %w", d.path, p, d.id, channel.ErrUnknownPosition)
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	if err != nil || seq == 0 || strconv.FormatUint(seq, 10) != n {
		return 0, fmt.Errorf("dir channel: %s: position %q has no message number: %w", d.path, p, channel.ErrUnknownPosition)
	}
	return seq, nil
}

// seqName is the file name of message number seq.
func seqName(seq uint64) string {
	return fmt.Sprintf("%0*d", nameDigits, seq)
}

// parseName returns the message number of a file name.
func parseName(name string) (uint64, bool) {
	if len(name) != nameDigits {
		return 0, false
	}
	for _, c := range []byte(name) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseUint(name, 10, 64)
	return seq, err == nil && seq != 0
}

// lock takes the folder's lock for a Send: first among d's own callers,
// then against other processes, giving up when ctx is done.
func (d *Dir) lock(ctx context.Context) error {
	select {
	case d.sendMu <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.closed:
		return channel.ErrClosed
	}
	if d.isClosed() {
		<-d.sendMu
		return channel.ErrClosed
	}
	wait := 50 * time.Microsecond
	for {
		locked, err := tryFlock(d.lockF)
		if err != nil {
			<-d.sendMu
			return fmt.Errorf("dir channel: %s: lock: %w", d.path, err)
		}
		if locked {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			<-d.sendMu
			return ctx.Err()
		case <-d.closed:
			t.Stop()
			<-d.sendMu
			return channel.ErrClosed
		}
		wait = min(2*wait, 10*time.Millisecond)
	}
}

// unlock releases what lock took.
func (d *Dir) unlock() {
	if err := unFlock(d.lockF); err != nil {
		d.log.Error("dir channel: unlock", "path", d.path, "err", err)
	}
	<-d.sendMu
}

// writeSynced writes b to a new file p (mode 0600), synced to disk.
func writeSynced(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir syncs the folder p, so that renames in it last.
func syncDir(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
