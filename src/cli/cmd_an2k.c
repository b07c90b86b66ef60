/* perimeter an2k dump | validate | extract | build */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/an2k.h"
#include "perimeter/core.h"

static int load(const char *path, pm_an2k_txn_t *t)
{
    uint8_t *data;
    size_t len;
    pm_error_t err;
    if (pm_file_read(path, PM_AN2K_MAX_FILE, &data, &len, &err)) {
        fprintf(stderr, "perimeter: %s: %s\n", path, pm_error_text(&err));
        return 1;
    }
    int rc = pm_an2k_read(data, len, t, &err);
    free(data);
    if (rc) {
        fprintf(stderr, "perimeter: %s: %s\n", path, pm_error_text(&err));
        pm_an2k_free(t);
        return 1;
    }
    return 0;
}

int pm_cmd_an2k_dump(int argc, char **argv)
{
    int json = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: perimeter an2k dump FILE [--json]\n"
                   "  one line per item: record.field.subfield.item [type.field]=value\n");
            return 0;
        } else if (!path)
            path = argv[i];
        else {
            fprintf(stderr, "perimeter an2k dump: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: perimeter an2k dump FILE [--json]\n");
        return 2;
    }
    pm_an2k_txn_t t;
    if (load(path, &t))
        return 1;
    pm_buf_t out;
    pm_buf_init(&out, 0);
    pm_error_t err;
    int rc = json ? pm_an2k_dump_json(&t, &out, &err) : pm_an2k_dump_text(&t, &out, &err);
    if (!rc && out.len)
        fwrite(out.data, 1, out.len, stdout);
    else if (rc)
        fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
    pm_buf_free(&out);
    pm_an2k_free(&t);
    return rc ? 1 : 0;
}

int pm_cmd_an2k_validate(int argc, char **argv)
{
    const char *path = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: perimeter an2k validate FILE [--quiet]\n"
                   "  exit 0 valid (warnings allowed), 1 errors found or unreadable\n");
            return 0;
        } else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else if (!path)
            path = argv[i];
        else {
            fprintf(stderr, "perimeter an2k validate: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: perimeter an2k validate FILE\n");
        return 2;
    }
    pm_an2k_txn_t t;
    if (load(path, &t))
        return 1;
    pm_an2k_report_t rep;
    pm_error_t err;
    int rc = pm_an2k_validate(&t, &rep, &err);
    for (size_t i = 0; i < rep.count && !quiet; i++) {
        char line[512];
        pm_an2k_issue_format(&rep.issues[i], line, sizeof line);
        printf("%s\n", line);
    }
    printf("%s: %s (%zu records, %zu errors, %zu warnings)\n", path, rc ? "INVALID" : "valid",
           t.nrecords, rep.errors, rep.warnings);
    pm_an2k_report_free(&rep);
    pm_an2k_free(&t);
    return rc ? 1 : 0;
}
