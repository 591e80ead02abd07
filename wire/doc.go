// Package wire is the KeySync wire format: Go types for every message of
// the two p≡p PDUs and their encodings.
//
// Sync (payload of application/pEp.sync) carries the 21 KeySync messages
// (the Message types) and the TrustSync and GroupSync messages;
// Distribution (application/pEp.distribution) carries KeyReset Commands,
// ManagedGroup and Exploration messages. MarshalSync, UnmarshalSync,
// MarshalDistribution and UnmarshalDistribution convert them to and from
// ASN.1 unaligned PER, byte for byte as asn1c 0.9.28 (the reference's
// compiler) does it, including its quirks: ENUMERATED Rating without an
// extension bit, DEFAULT Version members omitted, upper-case hex Hash.
// The XER functions give the BASIC-XER text that asn1c's converter prints.
//
// Identity has two wire variants: the current one with flags and the
// legacy one without (pEp 2.1/3.x, planck ≤ 3.3.20). Encoding writes the
// current variant unless Options.LegacyIdentity is set; UnmarshalSync and
// UnmarshalDistribution accept both, taking the first that consumes the
// whole payload, and report which. A few payloads are valid in both; they
// decode as current.
//
// Every constraint of the schema is checked in both directions, and a
// failure is a *FieldError naming the field. Decoding never allocates more
// than a small multiple of its input. Version.Check is the receive-side
// version rule (doc/protocol.md D8). NewMessage and EachField give the schema's
// view of a KeySync message (its fields by ASN.1 name), for code that maps
// fields without a case per message.
//
// The schema is in testdata/wire/asn1; the rules behind the encoding are
// in doc/protocol.md §16.
package wire
