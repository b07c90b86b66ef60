/* perimeter an2k dump | validate | extract | build */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "perimeter/an2k.h"
#include "perimeter/core.h"
#include "perimeter/image.h"
#include "perimeter/tmpl.h"

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
    if (load(path, &t)) return 1;
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
    if (load(path, &t)) return 1;
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

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pm_error_t err;
    if (pm_file_write_atomic(path, data, len, &err)) {
        fprintf(stderr, "perimeter: %s: %s\n", path, pm_error_text(&err));
        return 1;
    }
    printf("%s (%zu bytes)\n", path, len);
    return 0;
}

static const char *ext_of(int cmp)
{
    switch (cmp) {
    case PM_AN2K_CMP_WSQ:
        return "wsq";
    case PM_AN2K_CMP_JPEG:
        return "jpg";
    case PM_AN2K_CMP_JP2:
        return "jp2";
    case PM_AN2K_CMP_PNG:
        return "png";
    default:
        return "raw";
    }
}

int pm_cmd_an2k_extract(int argc, char **argv)
{
    const char *path = NULL, *dir = NULL;
    int decode = 0, fields = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: perimeter an2k extract FILE DIR [--decode] [--fields]\n"
                   "  writes each image as recR_typeT.{wsq,jpg,jp2,png,raw} (bytes as stored),\n"
                   "  each Type-9 as recR_type9.iso (ISO 19794-2) and recR_type9.txt;\n"
                   "  --decode also writes recR_typeT.png decoded to 8-bit grey;\n"
                   "  --fields writes every binary field as fld_R_F.bin (NIST tool naming)\n");
            return 0;
        } else if (strcmp(argv[i], "--decode") == 0)
            decode = 1;
        else if (strcmp(argv[i], "--fields") == 0)
            fields = 1;
        else if (!path)
            path = argv[i];
        else if (!dir)
            dir = argv[i];
        else {
            fprintf(stderr, "perimeter an2k extract: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path || !dir) {
        fprintf(stderr, "usage: perimeter an2k extract FILE DIR [--decode] [--fields]\n");
        return 2;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "perimeter: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    pm_an2k_txn_t t;
    if (load(path, &t)) return 1;
    int bad = 0;
    char name[128];
    pm_error_t err;
    for (size_t ri = 0; ri < t.nrecords && !bad; ri++) {
        const pm_an2k_record_t *r = &t.records[ri];
        if (fields)
            for (size_t fi = 0; fi < r->nfields && !bad; fi++)
                if (r->fields[fi].binary) {
                    snprintf(name, sizeof name, "fld_%zu_%zu.bin", ri + 1, fi + 1);
                    bad = write_file(dir, name, r->fields[fi].value, r->fields[fi].len);
                }
        pm_an2k_image_ref_t ir;
        if (r->type != 8 && pm_an2k_image_ref(r, &ir, NULL) == PM_OK && !bad) {
            int cmp = ir.detected != PM_AN2K_CMP_UNKNOWN ? ir.detected : ir.declared;
            snprintf(name, sizeof name, "rec%zu_type%d.%s", ri + 1, r->type, ext_of(cmp));
            bad = write_file(dir, name, ir.data, ir.len);
            if (!bad && decode) {
                pm_image_t img;
                if (pm_an2k_image_decode(r, NULL, &img, &err)) {
                    fprintf(stderr, "perimeter: record %zu: %s\n", ri + 1, pm_error_text(&err));
                    bad = 1;
                } else {
                    uint8_t *png;
                    size_t n;
                    if (pm_image_encode(&img, PM_IMAGE_PNG, NULL, &png, &n, &err)) {
                        fprintf(stderr, "perimeter: record %zu: %s\n", ri + 1, pm_error_text(&err));
                        bad = 1;
                    } else {
                        snprintf(name, sizeof name, "rec%zu_type%d.png", ri + 1, r->type);
                        if (cmp == PM_AN2K_CMP_PNG)
                            snprintf(name, sizeof name, "rec%zu_type%d.decoded.png", ri + 1,
                                     r->type);
                        bad = write_file(dir, name, png, n);
                        free(png);
                    }
                    pm_image_free(&img);
                }
            }
        }
        if (r->type == 9 && !bad) {
            pm_fingerprint_t *fp = malloc(sizeof *fp);
            if (!fp) {
                bad = 1;
                break;
            }
            int rc = pm_an2k_minutiae(&t, ri, fp, &err);
            if (rc == PM_OK) {
                pm_buf_t b;
                pm_buf_init(&b, 0);
                for (size_t k = 0; k < fp->count; k++)
                    pm_buf_printf(&b, "%.1f %.1f %.2f %d %d\n", fp->minutiae[k].x,
                                  fp->minutiae[k].y,
                                  fp->minutiae[k].angle * 180.0 / 3.14159265358979,
                                  fp->minutiae[k].type, fp->minutiae[k].quality);
                snprintf(name, sizeof name, "rec%zu_type9.txt", ri + 1);
                bad = write_file(dir, name, b.data ? (const void *)b.data : "", b.len);
                pm_buf_reset(&b);
                if (!bad && fp->width > 0 && fp->height > 0) {
                    if (pm_tmpl_write(PM_TMPL_ISO, fp, 1, &b, &err) == PM_OK) {
                        snprintf(name, sizeof name, "rec%zu_type9.iso", ri + 1);
                        bad = write_file(dir, name, b.data, b.len);
                    } else {
                        fprintf(stderr, "perimeter: record %zu: ISO template: %s\n", ri + 1,
                                pm_error_text(&err));
                    }
                }
                pm_buf_free(&b);
            } else if (rc != PM_ENOTFOUND) {
                fprintf(stderr, "perimeter: %s\n", pm_error_text(&err));
                bad = 1;
            }
            free(fp);
        }
    }
    pm_an2k_free(&t);
    return bad;
}

/* ---- build ---- */

static void today(char out[9])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 9, "%Y%m%d", &tm);
}

/* Loads an image file as a finger: embeds WSQ/JPEG/JP2/PNG bytes as they are
 * unless recompress is set; other formats are decoded and re-encoded. */
static int load_finger(const char *file, int recompress, int *out_cmp, uint8_t **out_data,
                       size_t *out_len, pm_image_t *out_img, int *w, int *h, int *ppi)
{
    pm_error_t err;
    memset(out_img, 0, sizeof *out_img);
    if (pm_file_read(file, 256u << 20, out_data, out_len, &err)) {
        fprintf(stderr, "perimeter: %s: %s\n", file, pm_error_text(&err));
        return 1;
    }
    int cmp = pm_an2k_sniff(*out_data, *out_len);
    if (cmp != PM_AN2K_CMP_UNKNOWN && !recompress) {
        pm_image_header_t hdr;
        if (pm_image_probe(*out_data, *out_len, &hdr, &err) == PM_OK) {
            *w = hdr.width;
            *h = hdr.height;
            *ppi = hdr.ppi;
            *out_cmp = cmp;
            return 0;
        }
    }
    if (pm_image_decode(*out_data, *out_len, NULL, out_img, &err)) {
        fprintf(stderr, "perimeter: %s: %s\n", file, pm_error_text(&err));
        free(*out_data);
        *out_data = NULL;
        return 1;
    }
    free(*out_data);
    *out_data = NULL;
    *out_cmp = -1; /* encode from out_img */
    *w = out_img->width;
    *h = out_img->height;
    *ppi = out_img->ppi;
    return 0;
}

#define MAX_ITEMS 64

int pm_cmd_an2k_build(int argc, char **argv)
{
    const char *out = NULL, *tot = NULL, *tcn = NULL, *tcr = NULL, *ori = "PERIMETER",
               *dai = "PERIMETER", *date = NULL, *version = "0502", *purpose = NULL,
               *case_ref = NULL, *request = NULL, *match = NULL, *message = NULL;
    const char *fields[MAX_ITEMS], *fingers[MAX_ITEMS], *templates[MAX_ITEMS],
        *cands[PM_AN2K_MAX_CANDIDATES];
    size_t nfields = 0, nfingers = 0, ntemplates = 0, ncands = 0;
    int type4 = 0, wsq = 0, search = 0;
    double bitrate = 0.75;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name, var)                                                                             \
    if (strcmp(a, name) == 0) {                                                                    \
        if (!v) {                                                                                  \
            fprintf(stderr, "perimeter an2k build: %s needs a value\n", name);                     \
            return 2;                                                                              \
        }                                                                                          \
        var = v;                                                                                   \
        i++;                                                                                       \
        continue;                                                                                  \
    }
#define LIST(name, arr, n, cap)                                                                    \
    if (strcmp(a, name) == 0) {                                                                    \
        if (!v || n >= cap) {                                                                      \
            fprintf(stderr, "perimeter an2k build: %s needs a value (at most %d)\n", name,         \
                    (int)(cap));                                                                   \
            return 2;                                                                              \
        }                                                                                          \
        arr[n++] = v;                                                                              \
        i++;                                                                                       \
        continue;                                                                                  \
    }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: perimeter an2k build OUT [options]\n"
                   "  Type-1: --tot T --tcn X [--tcr X] [--ori X] [--dai X] [--date CCYYMMDD]\n"
                   "          [--version 0502]\n"
                   "  --field N.NNN=VALUE   a Type-2 field (or any Type-1 field 1.NNN); items\n"
                   "                        separated by '\\x1f' may be written as '|' and\n"
                   "                        subfields as ';'\n"
                   "  --finger POS:FILE     a fingerprint image (WSQ/JPEG/JP2/PNG kept as is;\n"
                   "                        other formats are decoded and compressed)\n"
                   "  --type4               legacy Type-4 records instead of Type-14 (500 ppi)\n"
                   "  --wsq [--bitrate B]   (re)compress every finger with WSQ\n"
                   "  --template FILE       ISO/ANSI minutiae template -> Type-9 records\n"
                   "  vetting profile (docs/an2k.md):\n"
                   "  --search --purpose P [--case REF]         search request (TOT PMSR)\n"
                   "  --response REQ.an2 --match I|N [--candidate ID:SCORE]...   response (PMRS)\n"
                   "  --response REQ.an2 --error MESSAGE        error response (PMER)\n");
            return 0;
        }
        OPT("--tot", tot)
        OPT("--tcn", tcn)
        OPT("--tcr", tcr)
        OPT("--ori", ori)
        OPT("--dai", dai)
        OPT("--date", date)
        OPT("--version", version)
        OPT("--purpose", purpose)
        OPT("--case", case_ref)
        OPT("--response", request)
        OPT("--match", match)
        OPT("--error", message)
        LIST("--field", fields, nfields, MAX_ITEMS)
        LIST("--finger", fingers, nfingers, MAX_ITEMS)
        LIST("--template", templates, ntemplates, MAX_ITEMS)
        LIST("--candidate", cands, ncands, PM_AN2K_MAX_CANDIDATES)
        if (strcmp(a, "--bitrate") == 0 && v) {
            char *end;
            bitrate = strtod(v, &end);
            if (*end || bitrate <= 0 || bitrate > 8) {
                fprintf(stderr, "perimeter an2k build: bad --bitrate '%s'\n", v);
                return 2;
            }
            i++;
            continue;
        }
        if (strcmp(a, "--type4") == 0) {
            type4 = 1;
            continue;
        }
        if (strcmp(a, "--wsq") == 0) {
            wsq = 1;
            continue;
        }
        if (strcmp(a, "--search") == 0) {
            search = 1;
            continue;
        }
        if (a[0] == '-' || out) {
            fprintf(stderr, "perimeter an2k build: unexpected argument '%s'\n", a);
            return 2;
        }
        out = a;
#undef OPT
#undef LIST
    }
    if (!out) {
        fprintf(stderr, "usage: perimeter an2k build OUT [options] (--help)\n");
        return 2;
    }
    char datebuf[9];
    if (!date) {
        today(datebuf);
        date = datebuf;
    }
    pm_error_t err;
    pm_an2k_txn_t t;
    memset(&t, 0, sizeof t);
    int rc = 0;
    if (request) {
        pm_an2k_txn_t rq;
        if (load(request, &rq)) return 1;
        pm_an2k_vetting_t v;
        rc = pm_an2k_vetting_parse(&rq, &v, &err);
        pm_an2k_free(&rq);
        if (rc) {
            fprintf(stderr, "perimeter: %s: %s\n", request, pm_error_text(&err));
            return 1;
        }
        pm_an2k_candidate_t cs[PM_AN2K_MAX_CANDIDATES];
        for (size_t i = 0; i < ncands; i++) {
            const char *colon = strrchr(cands[i], ':');
            char *end = NULL;
            size_t idl = colon ? (size_t)(colon - cands[i]) : 0;
            if (!colon || idl == 0 || idl >= sizeof cs[i].id ||
                (cs[i].score = strtod(colon + 1, &end), *end)) {
                fprintf(stderr, "perimeter an2k build: --candidate wants ID:SCORE, got '%s'\n",
                        cands[i]);
                return 2;
            }
            memcpy(cs[i].id, cands[i], idl);
            cs[i].id[idl] = '\0';
        }
        if (!message && (!match || (strcmp(match, "I") != 0 && strcmp(match, "N") != 0))) {
            fprintf(stderr, "perimeter an2k build: --response needs --match I|N or --error\n");
            return 2;
        }
        char tcnbuf[64];
        if (!tcn) {
            snprintf(tcnbuf, sizeof tcnbuf, "%s-R", v.tcn);
            tcn = tcnbuf;
        }
        pm_an2k_response_t r = {.tcn = tcn,
                                .date = date,
                                .match = match && match[0] == 'I',
                                .candidates = cs,
                                .ncandidates = ncands,
                                .message = message};
        rc = pm_an2k_response_build(&v, &r, &t, &err);
    } else {
        if (!tcn) {
            fprintf(stderr, "perimeter an2k build: --tcn is required\n");
            return 2;
        }
        pm_an2k_header_t h = {.version = version,
                              .tot = search ? PM_AN2K_TOT_SEARCH : tot,
                              .date = date,
                              .dai = dai,
                              .ori = ori,
                              .tcn = tcn,
                              .tcr = tcr,
                              .nsr = "19.69",
                              .ntr = "19.69"};
        if (!h.tot) {
            fprintf(stderr, "perimeter an2k build: --tot (or --search) is required\n");
            return 2;
        }
        if (search && !purpose) {
            fprintf(stderr, "perimeter an2k build: --search needs --purpose\n");
            return 2;
        }
        rc = pm_an2k_txn_init(&t, &h, &err);
        size_t i2 = 0;
        if (!rc) rc = pm_an2k_add_record(&t, 2, &i2, &err);
        if (!rc) rc = pm_an2k_set_text(&t.records[i2], 2, "00", &err);
        if (!rc && purpose) rc = pm_an2k_set_text(&t.records[i2], 37, purpose, &err);
        if (!rc && case_ref) rc = pm_an2k_set_text(&t.records[i2], 6, case_ref, &err);
        int idc = 1;
        for (size_t i = 0; i < nfingers && !rc; i++) {
            char *end;
            long pos = strtol(fingers[i], &end, 10);
            if (*end != ':' || pos < 0 || pos > 15) {
                fprintf(stderr, "perimeter an2k build: --finger wants POS:FILE, got '%s'\n",
                        fingers[i]);
                pm_an2k_free(&t);
                return 2;
            }
            uint8_t *data = NULL;
            size_t len = 0;
            pm_image_t img;
            int cmp, w, h2, ppi;
            if (load_finger(end + 1, wsq || type4, &cmp, &data, &len, &img, &w, &h2, &ppi)) {
                pm_an2k_free(&t);
                return 1;
            }
            if (cmp >= 0)
                rc = pm_an2k_add_fingerprint_data(&t, type4 ? 4 : 14, idc, (int)pos, data, len, cmp,
                                                  w, h2, ppi, ori, date, NULL, &err);
            else
                rc = pm_an2k_add_fingerprint(&t, type4 ? 4 : 14, idc, (int)pos, &img,
                                             wsq     ? PM_AN2K_CMP_WSQ
                                             : type4 ? PM_AN2K_CMP_NONE
                                                     : PM_AN2K_CMP_PNG,
                                             bitrate, ori, date, NULL, &err);
            if (rc) pm_error_prefix(&err, "%s", end + 1);
            free(data);
            pm_image_free(&img);
            idc++;
        }
        for (size_t i = 0; i < ntemplates && !rc; i++) {
            pm_fingerprint_t *views = NULL;
            size_t nv = 0;
            rc = pm_tmpl_read_file(templates[i], &views, &nv, NULL, &err);
            for (size_t k = 0; k < nv && !rc; k++)
                rc = pm_an2k_add_minutiae(&t, idc++, &views[k], NULL, &err);
            free(views);
        }
        for (size_t i = 0; i < nfields && !rc; i++) {
            const char *eq = strchr(fields[i], '=');
            int rt = 0, id = 0;
            char *end;
            rt = (int)strtol(fields[i], &end, 10);
            if (*end == '.') id = (int)strtol(end + 1, &end, 10);
            if (!eq || end != eq || (rt != 1 && rt != 2) || id < 3 || id > 999) {
                fprintf(stderr,
                        "perimeter an2k build: --field wants 2.NNN=VALUE (or 1.NNN), got "
                        "'%s'\n",
                        fields[i]);
                pm_an2k_free(&t);
                return 2;
            }
            char val[4096];
            size_t n = 0;
            for (const char *p = eq + 1; *p && n + 1 < sizeof val; p++)
                val[n++] = *p == '|' ? '\x1f' : *p == ';' ? '\x1e' : *p;
            val[n] = '\0';
            rc = pm_an2k_set_text(&t.records[rt == 1 ? 0 : i2], id, val, &err);
        }
        if (!rc) rc = pm_an2k_finalize(&t, &err);
    }
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (!rc) rc = pm_an2k_write(&t, &bytes, &n, &err);
    if (!rc) rc = pm_file_write_atomic(out, bytes, n, &err);
    if (rc)
        fprintf(stderr, "perimeter: %s: %s\n", out, pm_error_text(&err));
    else
        printf("%s: %zu records, %zu bytes\n", out, t.nrecords, n);
    free(bytes);
    pm_an2k_free(&t);
    return rc ? 1 : 0;
}
