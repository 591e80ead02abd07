package webui

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIdentitiesPages: a store with many contacts is shown a page at a
// time, and the filter (on contact, account or fingerprint, with or
// without spaces) is applied by the server.
func TestIdentitiesPages(t *testing.T) {
	u := newTestUI(t, "")
	path := filepath.Join(u.stores[0].Dir, "otr.fingerprints")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		fmt.Fprintf(f, "bulk%03d@example.org\tgptest@jabber.org/\tprpl-jabber\t%040x\t\n", i, 0xabc000+i)
	}
	f.Close()
	contact := regexp.MustCompile(`<td>(bulk\d+@example\.org|[^<]+@[^<]+)</td>`)
	count := func(body string) int { return len(contact.FindAllString(body, -1)) }

	_, body := u.get("/identities")
	if n := count(body); n != pageSize {
		t.Errorf("page 1 shows %d contacts, want %d", n, pageSize)
	}
	if !strings.Contains(body, "129 contacts; page 1 of 3") || !strings.Contains(body, "Next page") {
		t.Errorf("page 1 does not say where it is:\n%s", body)
	}
	_, body = u.get("/identities?page=3")
	if n := count(body); n != 129-2*pageSize || strings.Contains(body, "Next page") || !strings.Contains(body, "Previous page") {
		t.Errorf("page 3 shows %d contacts", n)
	}
	for q, want := range map[string]int{
		"bulk007@":               1,
		"BULK01":                 10,
		"0000000000000000abc005": 1,  // a fingerprint as the file spells it
		"00000000 00ABC01":       16, // in the human form
		"hans@eds.org":           2,  // a contact of two of the sample's accounts
		"nobody-has-this":        0,
	} {
		_, body := u.get("/identities?q=" + strings.ReplaceAll(q, " ", "+"))
		if n := count(body); n != want {
			t.Errorf("filter %q: %d contacts, want %d", q, n, want)
		}
		if !strings.Contains(body, fmt.Sprintf("%d contacts match", want)) {
			t.Errorf("filter %q: the page does not say %d contacts match", q, want)
		}
	}
	// A page number past the end or absurd shows the first page or none,
	// never an error.
	for _, p := range []string{"0", "-3", "x", "99999999999999999999", "9223372036854775807"} {
		if code, body := u.get("/identities?page=" + p); code != 200 || (count(body) != pageSize && count(body) != 0) {
			t.Errorf("page %s: %d, %d contacts", p, code, count(body))
		}
	}
	// What a filter holds is shown escaped, not as markup.
	if _, body := u.get("/identities?q=%3Cscript%3E"); strings.Contains(body, "<script>") {
		t.Error("the filter is echoed unescaped")
	}
}

// TestPreferUnknown: a store the page does not show cannot be preferred.
func TestPreferUnknown(t *testing.T) {
	u := newTestUI(t, "")
	for _, prefer := range []string{"", "pidgin", "pidgin:/elsewhere", u.stores[0].Name + "/"} {
		_, body := u.post("/identities/settle", url.Values{"csrf": {u.srv.csrf}, "prefer": {prefer}})
		if !strings.Contains(body, "none of the stores shown") {
			t.Errorf("prefer %q:\n%s", prefer, body)
		}
	}
	assertUnchanged(t, u)
}
