package trustsync

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/keysync/keysync/device"
)

// Store is the device side of trustsync: the device.Extension that applies
// the group's updates to the replica in the device store.
type Store struct {
	// Log receives what is applied; never a secret.
	Log func(string)
	// Applied, when set, is called after each applied update (outside the
	// device's transaction, possibly before it commits: it only wakes the
	// app writer).
	Applied func()
}

var _ device.Extension = (*Store)(nil)

func (s *Store) logf(format string, a ...any) {
	if s.Log != nil {
		s.Log(fmt.Sprintf("trustsync: "+format, a...))
	}
}

// Apply implements device.Extension.
func (s *Store) Apply(tx *bolt.Tx, at device.Event, payload []byte) ([][]byte, error) {
	u, err := Decode(payload)
	if err != nil {
		return nil, err
	}
	b, err := root(tx)
	if err != nil {
		return nil, err
	}
	meta := b.Bucket(bMeta)
	synced := string(meta.Get([]byte(metaSynced))) == "1"
	waiting := meta.Get([]byte(metaWaiting)) != nil
	defer func() {
		if s.Applied != nil {
			s.Applied()
		}
	}()
	switch {
	case u.Request != nil:
		return s.request(b, at, u.Request)
	case u.Chunk != nil:
		return nil, s.chunk(b, at, u.Chunk, synced)
	}
	if err := write(b, u); err != nil {
		return nil, err
	}
	if prev, _ := strconv.ParseUint(string(meta.Get([]byte(metaApplied))), 10, 64); u.From == at.Self && u.Seq > prev {
		if err := meta.Put([]byte(metaApplied), []byte(strconv.FormatUint(u.Seq, 10))); err != nil {
			return nil, err
		}
	}
	if waiting && !synced {
		// Replayed over the replica when it comes.
		buf := b.Bucket(bBuffer)
		n, _ := buf.NextSequence()
		if err := buf.Put(seqKey(n), payload); err != nil {
			return nil, err
		}
	}
	s.logf("at %s: applied %d fingerprints, %d keys, %d OpenPGP keys, %d resolutions", at.Pos, len(u.Fprs), len(u.Keys), len(u.PGP), len(u.Resolve))
	return nil, nil
}

// responder is the member that answers a request: the Attempt-th of the
// members other than the requester, in sorted order.
func responder(members []string, req *Request) string {
	var others []string
	for _, m := range members {
		if m != req.Device {
			others = append(others, m)
		}
	}
	if len(others) == 0 {
		return ""
	}
	slices.Sort(others)
	return others[req.Attempt%len(others)]
}

func (s *Store) request(b *bolt.Bucket, at device.Event, req *Request) ([][]byte, error) {
	meta := b.Bucket(bMeta)
	if req.Device == at.Self {
		if string(meta.Get([]byte(metaSynced))) == "1" {
			return nil, nil
		}
		if responder(at.Members, req) == "" {
			s.logf("at %s: no other member; this replica is the group's", at.Pos)
			return nil, meta.Put([]byte(metaSynced), []byte("1"))
		}
		if err := clearBucket(b, bBuffer); err != nil {
			return nil, err
		}
		if err := clearBucket(b, bChunks); err != nil {
			return nil, err
		}
		s.logf("at %s: waiting for the replica (attempt %d)", at.Pos, req.Attempt)
		return nil, meta.Put([]byte(metaWaiting), []byte(strconv.Itoa(req.Attempt)))
	}
	if responder(at.Members, req) != at.Self {
		return nil, nil
	}
	r, err := loadFrom(b)
	if err != nil {
		return nil, err
	}
	chunks, err := Snapshot(r, req)
	if err != nil {
		return nil, err
	}
	s.logf("at %s: sending the replica to %s in %d chunks", at.Pos, short(req.Device), len(chunks))
	return chunks, nil
}

func short(fpr string) string { return fpr[:min(8, len(fpr))] }

// Snapshot returns the payloads that carry r to the requester of req.
func Snapshot(r *Replica, req *Request) ([][]byte, error) {
	all, err := Encode(r.update())
	if err != nil {
		return nil, err
	}
	n := max(1, (len(all)+ChunkSize-1)/ChunkSize)
	out := make([][]byte, 0, n)
	for i := range n {
		part := all[i*ChunkSize : min(len(all), (i+1)*ChunkSize)]
		p, err := Encode(&Update{Chunk: &Chunk{For: req.Device, Attempt: req.Attempt, Index: i, Count: n, Data: part}})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *Store) chunk(b *bolt.Bucket, at device.Event, c *Chunk, synced bool) error {
	meta := b.Bucket(bMeta)
	w := meta.Get([]byte(metaWaiting))
	if synced || c.For != at.Self || w == nil || string(w) != strconv.Itoa(c.Attempt) {
		return nil
	}
	cb := b.Bucket(bChunks)
	if err := cb.Put(seqKey(uint64(c.Index)), c.Data); err != nil {
		return err
	}
	var all bytes.Buffer
	for i := range c.Count {
		part := cb.Get(seqKey(uint64(i)))
		if part == nil {
			return nil
		}
		all.Write(part)
	}
	u, err := Decode(all.Bytes())
	if err != nil {
		return err
	}
	if err := clearRows(b); err != nil {
		return err
	}
	if err := write(b, u); err != nil {
		return err
	}
	replayed := 0
	err = b.Bucket(bBuffer).ForEach(func(_, v []byte) error {
		bu, err := Decode(v)
		if err != nil {
			return err
		}
		replayed++
		return write(b, bu)
	})
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bBuffer, bChunks} {
		if err := clearBucket(b, name); err != nil {
			return err
		}
	}
	if err := meta.Delete([]byte(metaWaiting)); err != nil {
		return err
	}
	s.logf("at %s: received the replica (%d fingerprints) and replayed %d updates", at.Pos, len(u.Fprs), replayed)
	return meta.Put([]byte(metaSynced), []byte("1"))
}
