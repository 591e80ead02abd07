/* otrtool: drive libotr's own file readers and writers for keysync's tests.
 *
 *   otrtool generate DIR            read a spec on stdin, write files in DIR
 *   otrtool dump PRIV FP INSTAG     read with libotr, print what it sees
 *   otrtool rewrite PRIV FP INSTAG OUTPRIV OUTFP OUTINSTAG
 *                                   read with libotr and write back
 *   otrtool benchfp IN OUT          read and write a fingerprints file,
 *                                   print "read_s write_s maxrss_kib"
 *
 * A file argument "-" means none. Spec lines are tab-separated:
 *   privkeys FILE | key ACCOUNT PROTOCOL
 *   instags FILE  | instag ACCOUNT PROTOCOL
 *   fingerprints FILE | fp CONTACT ACCOUNT PROTOCOL HEX40 [TRUST]
 * Dump lines (strings escaped: \\ \t \n \r \xNN):
 *   key ACCOUNT PROTOCOL HUMAN-FINGERPRINT SHA1-OF-X
 *   fp CONTACT ACCOUNT PROTOCOL HEX40 TRUST
 *   instag ACCOUNT PROTOCOL %08x
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <gcrypt.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/privkey.h>
#include <libotr/context.h>
#include <libotr/instag.h>

static void die(const char *what, gcry_error_t err)
{
    fprintf(stderr, "otrtool: %s: %s\n", what, gcry_strerror(err));
    exit(1);
}

static void put_escaped(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\') fputs("\\\\", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
}

/* split cuts line at tabs into at most max fields; returns the count. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    f[n++] = line;
    while (n < max) {
        char *tab = strchr(f[n-1], '\t');
        if (!tab) break;
        *tab = '\0';
        f[n++] = tab + 1;
    }
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void generate(const char *dir)
{
    OtrlUserState us = otrl_userstate_create();
    char line[4096], *f[7];
    char privf[2048] = "", instf[2048] = "", fpf[2048] = "";
    gcry_error_t err;

    if (chdir(dir) != 0) { perror(dir); exit(1); }
    while (fgets(line, sizeof line, stdin)) {
        int n = split(line, f, 7);
        if (n == 1 && f[0][0] == '\0') continue;
        if (!strcmp(f[0], "privkeys") && n == 2) {
            snprintf(privf, sizeof privf, "%s", f[1]);
        } else if (!strcmp(f[0], "instags") && n == 2) {
            snprintf(instf, sizeof instf, "%s", f[1]);
        } else if (!strcmp(f[0], "fingerprints") && n == 2) {
            snprintf(fpf, sizeof fpf, "%s", f[1]);
        } else if (!strcmp(f[0], "key") && n == 3 && privf[0]) {
            err = otrl_privkey_generate(us, privf, f[1], f[2]);
            if (err) die("otrl_privkey_generate", err);
        } else if (!strcmp(f[0], "instag") && n == 3 && instf[0]) {
            err = otrl_instag_generate(us, instf, f[1], f[2]);
            if (err) die("otrl_instag_generate", err);
        } else if (!strcmp(f[0], "fp") && (n == 5 || n == 6) && fpf[0]) {
            unsigned char fp[20];
            ConnContext *ctx;
            Fingerprint *fng;
            int i;
            if (strlen(f[4]) != 40) { fprintf(stderr, "otrtool: bad fingerprint %s\n", f[4]); exit(1); }
            for (i = 0; i < 20; i++) {
                int h = hexval(f[4][2*i]), l = hexval(f[4][2*i+1]);
                if (h < 0 || l < 0) { fprintf(stderr, "otrtool: bad fingerprint %s\n", f[4]); exit(1); }
                fp[i] = (unsigned char)(h << 4 | l);
            }
            ctx = otrl_context_find(us, f[1], f[2], f[3], OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
            fng = otrl_context_find_fingerprint(ctx, fp, 1, NULL);
            otrl_context_set_trust(fng, n == 6 ? f[5] : NULL);
        } else {
            fprintf(stderr, "otrtool: bad spec line: %s\n", f[0]);
            exit(1);
        }
    }
    if (fpf[0]) {
        err = otrl_privkey_write_fingerprints(us, fpf);
        if (err) die("otrl_privkey_write_fingerprints", err);
    }
    otrl_userstate_free(us);
}

static void read_all(OtrlUserState us, const char *priv, const char *fp, const char *inst)
{
    gcry_error_t err;
    if (strcmp(priv, "-")) {
        err = otrl_privkey_read(us, priv);
        if (err) die("otrl_privkey_read", err);
    }
    if (strcmp(fp, "-")) {
        err = otrl_privkey_read_fingerprints(us, fp, NULL, NULL);
        if (err) die("otrl_privkey_read_fingerprints", err);
    }
    if (strcmp(inst, "-")) {
        err = otrl_instag_read(us, inst);
        if (err) die("otrl_instag_read", err);
    }
}

static void dump(const char *priv, const char *fpfile, const char *inst)
{
    OtrlUserState us = otrl_userstate_create();
    OtrlPrivKey *k;
    ConnContext *c;
    OtrlInsTag *t;

    read_all(us, priv, fpfile, inst);
    for (k = us->privkey_root; k; k = k->next) {
        char human[OTRL_PRIVKEY_FPRINT_HUMAN_LEN];
        unsigned char digest[20], *xbuf = NULL;
        size_t xlen = 0;
        gcry_sexp_t xs = gcry_sexp_find_token(k->privkey, "x", 0);
        gcry_mpi_t x = xs ? gcry_sexp_nth_mpi(xs, 1, GCRYMPI_FMT_USG) : NULL;
        int i;

        if (!otrl_privkey_fingerprint(us, human, k->accountname, k->protocol)) {
            fprintf(stderr, "otrtool: no fingerprint\n");
            exit(1);
        }
        fputs("key\t", stdout); put_escaped(k->accountname);
        putchar('\t'); put_escaped(k->protocol);
        printf("\t%s\t", human);
        if (x && !gcry_mpi_aprint(GCRYMPI_FMT_USG, &xbuf, &xlen, x)) {
            gcry_md_hash_buffer(GCRY_MD_SHA1, digest, xbuf, xlen);
            for (i = 0; i < 20; i++) printf("%02x", digest[i]);
            gcry_free(xbuf);
        } else {
            fputs("no-x", stdout);
        }
        putchar('\n');
        gcry_mpi_release(x);
        gcry_sexp_release(xs);
    }
    for (c = us->context_root; c; c = c->next) {
        Fingerprint *f;
        if (c->m_context != c) continue;
        for (f = c->fingerprint_root.next; f; f = f->next) {
            int i;
            fputs("fp\t", stdout); put_escaped(c->username);
            putchar('\t'); put_escaped(c->accountname);
            putchar('\t'); put_escaped(c->protocol);
            putchar('\t');
            for (i = 0; i < 20; i++) printf("%02x", f->fingerprint[i]);
            putchar('\t'); put_escaped(f->trust ? f->trust : "");
            putchar('\n');
        }
    }
    for (t = us->instag_root; t; t = t->next) {
        fputs("instag\t", stdout); put_escaped(t->accountname);
        putchar('\t'); put_escaped(t->protocol);
        printf("\t%08x\n", t->instag);
    }
    otrl_userstate_free(us);
}

/* write_privkeys writes the keys as libotr's privkey.c does (account_write
 * and sexp_write), with libgcrypt's advanced printer. */
static void sexp_write(FILE *f, gcry_sexp_t s)
{
    size_t len = gcry_sexp_sprint(s, GCRYSEXP_FMT_ADVANCED, NULL, 0);
    char *buf = malloc(len);
    gcry_sexp_sprint(s, GCRYSEXP_FMT_ADVANCED, buf, len);
    fputs(buf, f);
    free(buf);
}

static void write_privkeys(OtrlUserState us, const char *file)
{
    FILE *f = fopen(file, "wb");
    OtrlPrivKey *k;
    if (!f) { perror(file); exit(1); }
    fputs("(privkeys\n", f);
    for (k = us->privkey_root; k; k = k->next) {
        gcry_sexp_t s;
        fputs(" (account\n", f);
        if (gcry_sexp_build(&s, NULL, "(name %s)", k->accountname)) exit(1);
        sexp_write(f, s);
        gcry_sexp_release(s);
        if (gcry_sexp_build(&s, NULL, "(protocol %s)", k->protocol)) exit(1);
        sexp_write(f, s);
        gcry_sexp_release(s);
        sexp_write(f, k->privkey);
        fputs(" )\n", f);
    }
    fputs(")\n", f);
    fclose(f);
}

static void rewrite(char **a)
{
    OtrlUserState us = otrl_userstate_create();
    gcry_error_t err;
    read_all(us, a[0], a[1], a[2]);
    if (strcmp(a[3], "-")) write_privkeys(us, a[3]);
    if (strcmp(a[4], "-")) {
        err = otrl_privkey_write_fingerprints(us, a[4]);
        if (err) die("otrl_privkey_write_fingerprints", err);
    }
    if (strcmp(a[5], "-")) {
        err = otrl_instag_write(us, a[5]);
        if (err) die("otrl_instag_write", err);
    }
    otrl_userstate_free(us);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void benchfp(const char *in, const char *out)
{
    OtrlUserState us = otrl_userstate_create();
    struct rusage ru;
    gcry_error_t err;
    double t0 = now(), t1, t2;
    err = otrl_privkey_read_fingerprints(us, in, NULL, NULL);
    if (err) die("otrl_privkey_read_fingerprints", err);
    t1 = now();
    err = otrl_privkey_write_fingerprints(us, out);
    if (err) die("otrl_privkey_write_fingerprints", err);
    t2 = now();
    getrusage(RUSAGE_SELF, &ru);
    printf("%.3f %.3f %ld\n", t1 - t0, t2 - t1, ru.ru_maxrss);
}

int main(int argc, char **argv)
{
    OTRL_INIT;
    if (argc == 3 && !strcmp(argv[1], "generate")) generate(argv[2]);
    else if (argc == 5 && !strcmp(argv[1], "dump")) dump(argv[2], argv[3], argv[4]);
    else if (argc == 8 && !strcmp(argv[1], "rewrite")) rewrite(argv + 2);
    else if (argc == 4 && !strcmp(argv[1], "benchfp")) benchfp(argv[2], argv[3]);
    else {
        fprintf(stderr, "usage: otrtool generate DIR | dump PRIV FP INSTAG | "
                "rewrite PRIV FP INSTAG OUTPRIV OUTFP OUTINSTAG | benchfp IN OUT\n");
        return 2;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
