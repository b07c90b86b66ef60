/* Commands of the policy and audit modules: agreement check/hash, audit
 * verify/report. Exit codes: 0 ok; 1 refused (bad agreement, log not
 * intact); 2 usage error; 3 fatal error (I/O). */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/audit.h"
#include "perimeter/core.h"
#include "perimeter/policy.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_FATAL 3

int pm_cmd_agreement_check(int argc, char **argv);
int pm_cmd_agreement_hash(int argc, char **argv);
int pm_cmd_audit_verify(int argc, char **argv);
int pm_cmd_audit_report(int argc, char **argv);

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
        if (c == 'c') cpfile = optarg;
        else if (c == 'k') keyhex = optarg;
        else return EXIT_USAGE;
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: perimeter audit verify LOG [--checkpoints FILE] [--key PARTNER_PUBKEY_HEX]\n");
        return EXIT_USAGE;
    }
    unsigned char pk[PM_AUDIT_PK_BYTES];
    size_t bl = 0;
    if (keyhex && (strlen(keyhex) != 64 || sodium_hex2bin(pk, sizeof pk, keyhex, 64, NULL, &bl, NULL) != 0 ||
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
