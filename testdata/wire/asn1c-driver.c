/*
 * asn1c-driver: batch peer for keysync's interop tests and benchmark.
 * Linked with the C that asn1c 0.9.28 generates from testdata/wire/asn1.
 *
 *   asn1c-driver sync|distribution dec    UPER records in; per record an XER
 *                                         record and a re-encoded UPER record out
 *   asn1c-driver sync|distribution enc    XER records in; a UPER record out
 *   asn1c-driver sync|distribution bench  UPER records in; prints the mean
 *                                         ns of decode+encode per record
 *
 * A record is a 4-octet big-endian length and that many octets; length
 * 0xFFFFFFFF (no data) reports a failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "Distribution.h"
#include "Sync.h"
#include "per_encoder.h"
#include "xer_decoder.h"
#include "xer_encoder.h"

typedef struct {
	unsigned char *b;
	size_t n, cap;
} buf_t;

static int put(const void *p, size_t n, void *key) {
	buf_t *b = key;
	if (b->n + n > b->cap) {
		b->cap = 2 * (b->n + n) + 64;
		b->b = realloc(b->b, b->cap);
		if (!b->b)
			return -1;
	}
	memcpy(b->b + b->n, p, n);
	b->n += n;
	return 0;
}

static void out(const void *p, uint32_t n) {
	unsigned char h[4] = {n >> 24, n >> 16, n >> 8, n};
	fwrite(h, 1, 4, stdout);
	if (n != 0xFFFFFFFFu)
		fwrite(p, 1, n, stdout);
}

static unsigned char *readall(size_t *len) {
	size_t cap = 1 << 16, n = 0, r;
	unsigned char *b = malloc(cap);
	while (b && (r = fread(b + n, 1, cap - n, stdin)) > 0) {
		n += r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	*len = n;
	return b;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: %s sync|distribution dec|enc|bench\n", argv[0]);
		return 2;
	}
	asn_TYPE_descriptor_t *td = strcmp(argv[1], "sync") == 0 ? &asn_DEF_Sync : &asn_DEF_Distribution;
	size_t len, pos = 0, count = 0;
	unsigned char *in = readall(&len);
	unsigned char *recs[100000];
	uint32_t lens[100000];
	while (pos + 4 <= len && count < 100000) {
		uint32_t n = (uint32_t)in[pos] << 24 | in[pos + 1] << 16 | in[pos + 2] << 8 | in[pos + 3];
		pos += 4;
		if (n > len - pos)
			break;
		recs[count] = in + pos;
		lens[count++] = n;
		pos += n;
	}
	buf_t b = {0};
	if (strcmp(argv[2], "bench") == 0) {
		unsigned char enc[1 << 16];
		long iters = 0;
		double start = now(), el;
		do {
			for (size_t i = 0; i < count; i++) {
				void *s = 0;
				asn_dec_rval_t rv = uper_decode_complete(0, td, &s, recs[i], lens[i]);
				if (rv.code != RC_OK) {
					fprintf(stderr, "record %zu: decode failed\n", i);
					return 1;
				}
				asn_enc_rval_t er = uper_encode_to_buffer(td, s, enc, sizeof enc);
				if (er.encoded < 0) {
					fprintf(stderr, "record %zu: encode failed\n", i);
					return 1;
				}
				ASN_STRUCT_FREE(*td, s);
			}
			iters++;
			el = now() - start;
		} while (el < 2e8);
		printf("%.0f\n", el / ((double)iters * count));
		return 0;
	}
	int dec = strcmp(argv[2], "dec") == 0;
	for (size_t i = 0; i < count; i++) {
		void *s = 0;
		b.n = 0;
		if (dec) {
			asn_dec_rval_t rv = uper_decode_complete(0, td, &s, recs[i], lens[i]);
			if (rv.code != RC_OK) {
				out(0, 0xFFFFFFFFu);
				out(0, 0xFFFFFFFFu);
				ASN_STRUCT_FREE(*td, s);
				continue;
			}
			if (xer_encode(td, s, XER_F_BASIC, put, &b).encoded < 0)
				out(0, 0xFFFFFFFFu);
			else
				out(b.b, b.n);
		} else {
			asn_dec_rval_t rv = xer_decode(0, td, &s, recs[i], lens[i]);
			if (rv.code != RC_OK) {
				out(0, 0xFFFFFFFFu);
				ASN_STRUCT_FREE(*td, s);
				continue;
			}
		}
		char err[256];
		size_t errlen = sizeof err;
		b.n = 0;
		if (asn_check_constraints(td, s, err, &errlen) != 0 || uper_encode(td, s, put, &b).encoded < 0)
			out(0, 0xFFFFFFFFu);
		else
			out(b.b, b.n);
		ASN_STRUCT_FREE(*td, s);
	}
	return 0;
}
