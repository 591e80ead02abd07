package webui

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/internal/qrcode"
	"github.com/keysync/keysync/trustsync"
	"github.com/keysync/keysync/trustwords"
)

// qrDataURL returns text's QR code as a PNG data: URL.
func qrDataURL(text string) (template.URL, error) {
	img, err := qrcode.PNG(text)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(img)), nil
}

// devicesData is the Devices page: the status `keysync status` shows.
type devicesData struct {
	Home      string
	NoDevice  bool // no device in Home: keysync init makes one
	Status    device.Status
	Lang      string
	Languages []string
	Done      string // what the last action did
	// Trust is the device's trust replica (status "trust"): nil when the
	// device syncs no trust.
	Trust *trustsync.Status
	// Resolve is the decision a conflict's click previews, before it is
	// sent.
	Resolve *resolvePreview
}

// resolvePreview is what settling one replica conflict will do.
type resolvePreview struct {
	Account string
	Fpr     string   // the key that becomes Account's on every device
	Others  []string // the keys of the conflict that lose
}

// lang returns the trustwords language the request asks for, English by
// default.
func lang(r *http.Request) string {
	l := strings.ToLower(r.FormValue("lang"))
	if !slices.Contains(trustwords.Languages(), l) {
		return trustwords.DefaultLanguage
	}
	return l
}

// deviceData asks for the device's status as `keysync status` does.
func (s *Server) deviceData(lang string) (devicesData, error) {
	d := devicesData{Home: s.cfg.Home, Lang: lang, Languages: trustwords.Languages()}
	if _, err := os.Stat(filepath.Join(s.cfg.Home, "device.db")); errors.Is(err, fs.ErrNotExist) {
		d.NoDevice = true
		return d, nil
	}
	st, err := agent.Status(s.cfg.Home, lang, device.Options{Codec: s.cfg.Codec, Extension: &trustsync.Store{}})
	d.Status = st
	if err == nil && len(st.Trust) > 0 {
		d.Trust = new(trustsync.Status)
		if jerr := json.Unmarshal(st.Trust, d.Trust); jerr != nil {
			return d, fmt.Errorf("trust status: %v", jerr)
		}
	}
	return d, err
}

// conflictChoice finds the open replica conflict of the form's account
// with the form's fingerprint among its keys.
func conflictChoice(d devicesData, r *http.Request) (*resolvePreview, error) {
	acct, fpr := r.PostFormValue("account"), r.PostFormValue("fpr")
	if d.Trust != nil {
		for _, c := range d.Trust.Conflicts {
			if c.Account != acct || !slices.Contains(c.Fprs, fpr) {
				continue
			}
			p := &resolvePreview{Account: acct, Fpr: fpr}
			for _, f := range c.Fprs {
				if f != fpr {
					p.Others = append(p.Others, f)
				}
			}
			return p, nil
		}
	}
	return nil, fmt.Errorf("no open conflict of %q with key %q (settled meanwhile?)", acct, fpr)
}

// trustPreview shows what settling a replica conflict with the chosen
// key will do, with the button that does it.
func (s *Server) trustPreview(w http.ResponseWriter, r *http.Request) {
	d, err := s.deviceData(lang(r))
	if err == nil {
		d.Resolve, err = conflictChoice(d, r)
	}
	s.render(w, http.StatusOK, "devices.html", "Devices", d, err)
}

// trustResolve settles a replica conflict as `keysync trust resolve`
// does (trustsync.ResolveHome).
func (s *Server) trustResolve(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	d, err := s.deviceData(l)
	var choice *resolvePreview
	if err == nil {
		choice, err = conflictChoice(d, r)
	}
	if err == nil {
		p, addr, _ := strings.Cut(choice.Account, ":")
		err = trustsync.ResolveHome(s.cfg.Home, device.Options{Codec: s.cfg.Codec}, keysync.Account{Protocol: p, Address: addr}, choice.Fpr)
	}
	if err == nil {
		d, err = s.deviceData(l)
		d.Done = "resolved: " + choice.Account + " has key " + choice.Fpr + " on every device"
	}
	s.render(w, http.StatusOK, "devices.html", "Devices", d, err)
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	d, err := s.deviceData(lang(r))
	s.render(w, http.StatusOK, "devices.html", "Devices", d, err)
}

// deviceOps are the answers the page hands the agent, as `keysync
// handshake accept|reject|cancel` and `keysync group leave` do.
var deviceOps = map[string]string{"accept": "accept", "reject": "reject", "cancel": "cancel", "leave": "leave"}

func (s *Server) deviceOp(w http.ResponseWriter, r *http.Request) {
	op, ok := deviceOps[r.PathValue("op")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	l := lang(r)
	_, err := agent.Call(s.cfg.Home, agent.Request{Op: op})
	d, serr := s.deviceData(l)
	if err == nil {
		err = serr
		d.Done = op + ": done"
	}
	s.render(w, http.StatusOK, "devices.html", "Devices", d, err)
}

// pollEvery is how often the event stream asks the agent for its status.
const pollEvery = 300 * time.Millisecond

// events streams the Devices page's live part as Server-Sent Events: an
// event "device" with the HTML of the status section whenever the
// section's HTML changes (a handshake appears, is accepted on the other
// device, times out).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	l := lang(r)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	var last []byte
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		d, err := s.deviceData(l)
		p := page{CSRF: s.csrf, Data: d}
		if err != nil {
			p.Error = err.Error()
		}
		var b bytes.Buffer
		if err := s.tmpl.ExecuteTemplate(&b, "device-status", p); err != nil {
			return
		}
		// Only a change the page shows is sent: a section replaced for
		// nothing could swallow a click.
		if !bytes.Equal(b.Bytes(), last) {
			last = b.Bytes()
			fmt.Fprint(w, "event: device\n")
			for _, line := range strings.Split(b.String(), "\n") {
				fmt.Fprintf(w, "data: %s\n", line)
			}
			fmt.Fprint(w, "\n")
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}
