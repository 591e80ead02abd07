package dir

import (
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// notify is the one file system watcher of the process, shared by every
// Dir, so that a process with many folder channels (a demo, a benchmark
// of many devices) uses one inotify instance, not one per channel.
var notify notifier

type notifier struct {
	mu   sync.Mutex
	w    *fsnotify.Watcher
	err  error                    // NewWatcher's, if it failed
	subs map[string]map[*Dir]bool // folder → the Dirs watching it
}

// subscribe makes changes in d's folder wake d's Receives.
func (n *notifier) subscribe(d *Dir) error {
	key, err := filepath.Abs(d.path)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.w == nil && n.err == nil {
		n.w, n.err = fsnotify.NewWatcher()
		if n.err == nil {
			n.subs = map[string]map[*Dir]bool{}
			go n.run(n.w)
		}
	}
	if n.err != nil {
		return n.err
	}
	if n.subs[key] == nil {
		if err := n.w.Add(key); err != nil {
			return err
		}
		n.subs[key] = map[*Dir]bool{}
	}
	n.subs[key][d] = true
	d.watchKey = key
	return nil
}

// unsubscribe undoes subscribe.
func (n *notifier) unsubscribe(d *Dir) {
	n.mu.Lock()
	defer n.mu.Unlock()
	key := d.watchKey
	if key == "" {
		return
	}
	d.watchKey = ""
	delete(n.subs[key], d)
	if len(n.subs[key]) == 0 {
		delete(n.subs, key)
		n.w.Remove(key) // fails if the folder is gone, and then it is not watched anyway
	}
}

// run wakes the Dirs of each folder where a message or .head changes;
// on an error (events lost), every Dir.
func (n *notifier) run(w *fsnotify.Watcher) {
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			// A message is in place when its name appears, and .head is
			// renamed into place after it; the other files (.tmp, .lock)
			// change only on the way there.
			if base := filepath.Base(ev.Name); base == headName || isMessageName(base) {
				n.wake(filepath.Dir(ev.Name))
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			n.mu.Lock()
			for _, ds := range n.subs {
				for d := range ds {
					d.log.Warn("dir channel: notification error, polling", "path", d.path, "err", err)
				}
			}
			n.mu.Unlock()
			n.wake("")
		}
	}
}

// wake wakes the Dirs of folder key, or all if key is "".
func (n *notifier) wake(key string) {
	n.mu.Lock()
	var ds []*Dir
	for k, subs := range n.subs {
		if key == "" || k == key {
			for d := range subs {
				ds = append(ds, d)
			}
		}
	}
	n.mu.Unlock()
	for _, d := range ds {
		d.wakeAll()
	}
}

func isMessageName(name string) bool {
	_, ok := parseName(name)
	return ok
}
