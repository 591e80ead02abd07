package app

import "strings"

// protocolSpellings maps canonical protocol names to each app's spelling.
// The first spelling listed per app is the one written; the others are
// accepted when reading (Adium's GTalk accounts are XMPP, and Kopete
// samples carry Pidgin's prpl ids). Unknown spellings fall back to the
// generic rules of canonicalProtocol.
var protocolSpellings = []struct {
	canonical string
	pidgin    []string
	adium     []string
	kopete    []string
}{
	{"xmpp", []string{"prpl-jabber"}, []string{"libpurple-Jabber", "libpurple-jabber-gtalk", "libpurple-jabber", "libpurple-Facebook"}, []string{"Jabber", "Google Talk"}},
	{"bonjour", []string{"prpl-bonjour"}, []string{"bonjour-libezv"}, []string{"Bonjour"}},
	{"irc", []string{"prpl-irc"}, []string{"libpurple-IRC", "irc"}, []string{"IRC"}},
	{"aim", []string{"prpl-aim"}, []string{"libpurple-oscar-AIM"}, []string{"AIM"}},
	{"icq", []string{"prpl-icq"}, []string{"libpurple-oscar-ICQ"}, []string{"ICQ"}},
	{"yahoo", []string{"prpl-yahoo"}, []string{"libpurple-Yahoo!"}, []string{"Yahoo"}},
	{"msn", []string{"prpl-msn"}, []string{"libpurple-MSN"}, []string{"WLM", "MSN"}},
	{"gadu-gadu", []string{"prpl-gg"}, []string{"libpurple-Gadu-Gadu"}, []string{"Gadu-Gadu"}},
	{"groupwise", []string{"prpl-novell"}, []string{"libpurple-GroupWise"}, []string{"GroupWise"}},
	{"sametime", []string{"prpl-meanwhile"}, []string{"libpurple-Sametime"}, []string{"Meanwhile"}},
	{"qq", []string{"prpl-qq"}, []string{"libpurple-QQ"}, []string{"QQ"}},
	{"zephyr", []string{"prpl-zephyr"}, []string{"libpurple-zephyr"}, []string{"Zephyr"}},
	{"myspace", []string{"prpl-myspace"}, []string{"libpurple-MySpace"}, []string{"MySpace"}},
	{"sip", []string{"prpl-simple"}, []string{"libpurple-SIMPLE"}, []string{"SIP"}},
	{"silc", []string{"prpl-silc"}, []string{"libpurple-SILC"}, []string{"SILC"}},
}

// canonicalProtocol maps any app's protocol spelling to the canonical
// lower-case protocol name. Known spellings of every app are recognised
// (files are copied between apps); otherwise a "prpl-" or "libpurple-"
// prefix is dropped and the rest lower-cased.
func canonicalProtocol(s string) string {
	for _, p := range protocolSpellings {
		for _, list := range [][]string{p.pidgin, p.adium, p.kopete} {
			for _, x := range list {
				if x == s {
					return p.canonical
				}
			}
		}
	}
	if strings.EqualFold(s, "IRC") || strings.EqualFold(s, "xmpp") {
		return strings.ToLower(s)
	}
	s = strings.TrimPrefix(s, "prpl-")
	s = strings.TrimPrefix(s, "libpurple-")
	return strings.ToLower(s)
}

// nativeProtocol returns an app's spelling of a canonical protocol.
func nativeProtocol(appName, canonical string) string {
	for _, p := range protocolSpellings {
		if p.canonical != canonical {
			continue
		}
		switch appName {
		case "pidgin":
			return p.pidgin[0]
		case "adium":
			return p.adium[0]
		case "kopete":
			return p.kopete[0]
		}
	}
	switch appName {
	case "pidgin":
		return "prpl-" + canonical
	case "adium":
		return "libpurple-" + canonical
	case "irssi", "xchat":
		return "IRC"
	}
	return canonical
}
