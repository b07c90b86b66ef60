/* Commands of the policy and audit modules: agreement check/hash, audit
 * verify/report. Exit codes: 0 ok; 1 refused (bad agreement, log not
 * intact); 2 usage error; 3 fatal error (I/O). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/audit.h"
#include "perimeter/core.h"
#include "perimeter/policy.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE   2
#define EXIT_FATAL   3

int pm_cmd_agreement_check(int argc, char **argv);
int pm_cmd_agreement_hash(int argc, char **argv);
int pm_cmd_audit_verify(int argc, char **argv);
int pm_cmd_audit_report(int argc, char **argv);
int pm_cmd_audit_append(int argc, char **argv);
int pm_cmd_audit_keygen(int argc, char **argv);
int pm_cmd_audit_checkpoint(int argc, char **argv);

static int load_agreement(int argc, char **argv, const char *usage, pm_agreement_t *a)
{
    if (argc != 2) {
        fprintf(stderr, "usage: perimeter %s FILE\n", usage);
        return EXIT_USAGE;
    }
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm_agreement_load(argv[1], a, &e);
    if (rc) {
        fprintf(stderr, "agreement refused: %s\n", pm_error_text(&e));
        return rc == PM_EFORMAT || rc == PM_ELIMIT ? EXIT_REFUSED : EXIT_FATAL;
    }
    return 0;
}

int pm_cmd_agreement_check(int argc, char **argv)
{
    pm_agreement_t a;
    int rc = load_agreement(argc, argv, "agreement check", &a);
    if (rc) return rc;
    printf("agreement %s between %s and %s: ok\n", a.version, a.parties[0], a.parties[1]);
    printf("purposes: %zu, allow-lists: %zu, match threshold: %.1f, onward consents: %zu\n",
           a.n_purposes, a.n_allow, a.match_threshold, a.n_consents);
    printf("sha256: %s\n", a.hash_hex);
    return 0;
}

int pm_cmd_agreement_hash(int argc, char **argv)
{
    pm_agreement_t a;
    int rc = load_agreement(argc, argv, "agreement hash", &a);
    if (rc) return rc;
    printf("%s\n", a.hash_hex);
    return 0;
}

int pm_cmd_audit_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"checkpoints", required_argument, NULL, 'c'},
                                         {"key", required_argument, NULL, 'k'},
                                         {NULL, 0, NULL, 0}};
    const char *cpfile = NULL, *keyhex = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:k:", opts, NULL)) != -1) {
        if (c == 'c')
            cpfile = optarg;
        else if (c == 'k')
            keyhex = optarg;
        else
            return EXIT_USAGE;
    }
    if (optind + 1 != argc) {
        fprintf(
            stderr,
            "usage: perimeter audit verify LOG [--checkpoints FILE] [--key PARTNER_PUBKEY_HEX]\n");
        return EXIT_USAGE;
    }
    unsigned char pk[PM_AUDIT_PK_BYTES];
    size_t bl = 0;
    if (keyhex &&
        (strlen(keyhex) != 64 || sodium_hex2bin(pk, sizeof pk, keyhex, 64, NULL, &bl, NULL) != 0 ||
         bl != sizeof pk)) {
        fprintf(stderr, "audit verify: --key must be 64 hex digits\n");
        return EXIT_USAGE;
    }
    pm_error_t e;
    pm_error_clear(&e);
    pm_audit_checkpoint_t *cps = NULL;
    size_t n = 0;
    if (cpfile && pm_audit_checkpoints_load(cpfile, &cps, &n, &e) != PM_OK) {
        fprintf(stderr, "audit verify: %s\n", pm_error_text(&e));
        return EXIT_FATAL;
    }
    pm_audit_verify_result_t r;
    int rc = pm_audit_verify(argv[optind], cps, n, keyhex ? pk : NULL, &r, &e);
    free(cps);
    if (rc == PM_ECORRUPT || rc == PM_EDENIED) {
        printf("NOT INTACT: %s\n", r.what);
        if (r.bad_seq) printf("first bad entry: %llu\n", (unsigned long long)r.bad_seq);
        return EXIT_REFUSED;
    }
    if (rc) {
        fprintf(stderr, "audit verify: %s\n", pm_error_text(&e));
        return EXIT_FATAL;
    }
    char head[65];
    sodium_bin2hex(head, sizeof head, r.head, sizeof r.head);
    printf("intact: %llu entries, head %s, %zu of %zu signed checkpoints matched%s\n",
           (unsigned long long)r.entries, head, r.checkpoints_matched, n,
           n && !keyhex ? " (signatures checked against the embedded key only; pass --key)" : "");
    return 0;
}

int pm_cmd_audit_report(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: perimeter audit report LOG\n");
        return EXIT_USAGE;
    }
    pm_buf_t b;
    pm_buf_init(&b, 0);
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_audit_report(argv[1], &b, &e) != PM_OK) {
        fprintf(stderr, "audit report: %s\n", pm_error_text(&e));
        pm_buf_free(&b);
        return EXIT_FATAL;
    }
    fwrite(b.data, 1, b.len, stdout);
    pm_buf_free(&b);
    return 0;
}

/* perimeter audit append LOG --kind K [--actor WHO] [--partner P] [--purpose P] [--rule R]
 *   [--field NAME]... [--record ID]... [--txn T] [--probe-file F] [--time T]
 * Records one event by hand (e.g. a reviewer's decision or a manual
 * correction); durable when the command exits 0. */
int pm_cmd_audit_append(int argc, char **argv)
{
    static const struct option opts[] = {{"kind", required_argument, NULL, 'k'},
                                         {"partner", required_argument, NULL, 'p'},
                                         {"purpose", required_argument, NULL, 'u'},
                                         {"rule", required_argument, NULL, 'r'},
                                         {"field", required_argument, NULL, 'f'},
                                         {"record", required_argument, NULL, 'i'},
                                         {"txn", required_argument, NULL, 't'},
                                         {"probe-file", required_argument, NULL, 'b'},
                                         {"time", required_argument, NULL, 'T'},
                                         {"actor", required_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    const char *fields[PM_AUDIT_MAX_FIELDS], *records[PM_AUDIT_MAX_RECORDS], *probe_file = NULL;
    pm_audit_event_t ev = {.time = (int64_t)time(NULL), .fields = fields, .record_ids = records};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            ev.kind = optarg;
            break;
        case 'a':
            ev.actor = optarg;
            break;
        case 'p':
            ev.partner = optarg;
            break;
        case 'u':
            ev.purpose = optarg;
            break;
        case 'r':
            ev.rule = optarg;
            break;
        case 't':
            ev.txn = optarg;
            break;
        case 'b':
            probe_file = optarg;
            break;
        case 'T': {
            char *end = NULL;
            errno = 0;
            long long t = strtoll(optarg, &end, 10);
            if (errno || !end || *end || end == optarg) return EXIT_USAGE;
            ev.time = t;
            break;
        }
        case 'f':
            if (ev.n_fields == PM_AUDIT_MAX_FIELDS) return EXIT_USAGE;
            fields[ev.n_fields++] = optarg;
            break;
        case 'i':
            if (ev.n_record_ids == PM_AUDIT_MAX_RECORDS) return EXIT_USAGE;
            records[ev.n_record_ids++] = optarg;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !ev.kind) {
        fprintf(
            stderr,
            "usage: perimeter audit append LOG --kind K [--actor WHO] [--partner P] [--purpose P] "
            "[--rule R] [--field NAME]... [--record ID]... [--txn T] [--probe-file F] [--time "
            "UNIX]\n");
        return EXIT_USAGE;
    }
    pm_error_t e;
    pm_error_clear(&e);
    unsigned char ph[PM_AUDIT_HASH_BYTES];
    if (probe_file) {
        uint8_t *d = NULL;
        size_t len = 0;
        if (pm_file_read(probe_file, (size_t)1 << 30, &d, &len, &e) != PM_OK) {
            fprintf(stderr, "audit append: %s\n", pm_error_text(&e));
            return EXIT_FATAL;
        }
        pm_audit_probe_hash(d, len, ph);
        sodium_memzero(d, len);
        free(d);
        ev.probe_sha256 = ph;
    }
    pm_audit_log_t *log = NULL;
    uint64_t seq = 0;
    int rc = pm_audit_open(argv[optind], 1, &log, &e);
    if (rc == PM_OK) rc = pm_audit_append(log, &ev, &seq, &e);
    int crc = pm_audit_close(log, rc ? NULL : &e);
    if (rc || crc) {
        fprintf(stderr, "audit append: %s\n", pm_error_text(&e));
        return rc == PM_EINVAL || rc == PM_ELIMIT || rc == PM_EUTF8 ? EXIT_USAGE : EXIT_FATAL;
    }
    printf("%llu\n", (unsigned long long)seq);
    return 0;
}

/* perimeter audit keygen PREFIX: PREFIX.key (secret, 0600, new file only)
 * and PREFIX.pub, both hex. */
int pm_cmd_audit_keygen(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: perimeter audit keygen PREFIX\n");
        return EXIT_USAGE;
    }
    unsigned char pk[PM_AUDIT_PK_BYTES], sk[PM_AUDIT_SK_BYTES];
    if (pm_audit_keypair(pk, sk) != PM_OK) return EXIT_FATAL;
    char path[4096], hex[2 * PM_AUDIT_SK_BYTES + 2];
    int rc = 0;
    for (int which = 0; which < 2 && rc == 0; which++) {
        snprintf(path, sizeof path, "%s.%s", argv[1], which ? "pub" : "key");
        sodium_bin2hex(hex, sizeof hex - 1, which ? pk : sk, which ? sizeof pk : sizeof sk);
        size_t n = strlen(hex);
        hex[n] = '\n';
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, which ? 0644 : 0600);
        if (fd < 0 || write(fd, hex, n + 1) != (ssize_t)(n + 1) || fsync(fd) != 0) {
            fprintf(stderr, "audit keygen: %s: %s\n", path, strerror(errno));
            rc = EXIT_FATAL;
        }
        if (fd >= 0) close(fd);
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(hex, sizeof hex);
    if (rc == 0) printf("%s.key (secret) and %s.pub written\n", argv[1], argv[1]);
    return rc;
}

/* perimeter audit checkpoint LOG --key SECRET_FILE [--out FILE]: signs the
 * log's head; prints the checkpoint line, and appends it (fsync) to FILE. */
int pm_cmd_audit_checkpoint(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"out", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    const char *keyfile = NULL, *outfile = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            keyfile = optarg;
        else if (c == 'o')
            outfile = optarg;
        else
            return EXIT_USAGE;
    }
    if (optind + 1 != argc || !keyfile) {
        fprintf(stderr, "usage: perimeter audit checkpoint LOG --key SECRET_FILE [--out FILE]\n");
        return EXIT_USAGE;
    }
    pm_error_t e;
    pm_error_clear(&e);
    uint8_t *d = NULL;
    size_t len = 0, bl = 0;
    unsigned char sk[PM_AUDIT_SK_BYTES];
    if (pm_file_read(keyfile, 1024, &d, &len, &e) != PM_OK) {
        fprintf(stderr, "audit checkpoint: %s\n", pm_error_text(&e));
        return EXIT_FATAL;
    }
    int bad = sodium_hex2bin(sk, sizeof sk, (const char *)d, len, "\n", &bl, NULL) != 0 ||
              bl != sizeof sk;
    sodium_memzero(d, len);
    free(d);
    if (bad) {
        fprintf(stderr, "audit checkpoint: %s is not a secret key (128 hex digits)\n", keyfile);
        return EXIT_USAGE;
    }
    pm_audit_log_t *log = NULL;
    pm_audit_checkpoint_t cp;
    int rc = pm_audit_open(argv[optind], 1, &log, &e);
    if (rc == PM_OK) rc = pm_audit_checkpoint(log, sk, (int64_t)time(NULL), &cp, &e);
    pm_audit_close(log, NULL);
    sodium_memzero(sk, sizeof sk);
    if (rc == PM_OK && outfile) rc = pm_audit_checkpoint_store(outfile, &cp, NULL, &e);
    if (rc) {
        fprintf(stderr, "audit checkpoint: %s\n", pm_error_text(&e));
        return rc == PM_ECORRUPT ? EXIT_REFUSED : EXIT_FATAL;
    }
    pm_buf_t b;
    pm_buf_init(&b, 0);
    pm_audit_checkpoint_to_json(&cp, &b);
    fwrite(b.data, 1, b.len, stdout);
    pm_buf_free(&b);
    return 0;
}
