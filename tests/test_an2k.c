/* an2k: conformance with NIST's reference dumps, byte-exact round trips,
 * validation of generated and mutated transactions, limits. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/an2k.h"
#include "perimeter/image.h"
#include "perimeter/core.h"

static const char *const readable[] = {
    "sign_raw",  "sign_vec",  "type_3_wvu", "type_5_wvu", "type_6_wvu", "valid1.1", "valid1.10",
    "valid1.11", "valid1.13", "valid1.14",  "valid1.15",  "valid1.16",  "valid1.2", "valid1.3",
    "valid1.4",  "valid1.5",  "valid1.6",   "valid1.7",   "valid1.8",   "valid1.9",
};

static uint8_t *slurp(const char *path, size_t *len)
{
    uint8_t *d = NULL;
    pm_error_t e;
    if (pm_file_read(path, PM_AN2K_MAX_FILE, &d, len, &e) != PM_OK) return NULL;
    return d;
}

static size_t count_bin_files(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d) return 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "fld_", 4) == 0 && strlen(de->d_name) > 4 &&
            strcmp(de->d_name + strlen(de->d_name) - 4, ".bin") == 0)
            n++;
    closedir(d);
    return n;
}

/* Every readable file: dump equals the reference dump, every binary field
 * equals its fld_R_F.bin, and write(read(file)) == file. */
static void test_reference_conformance(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base, "an2k/reference-dumps");
    char path[4096];
    size_t files = 0, binfields = 0;
    for (size_t i = 0; i < sizeof readable / sizeof readable[0]; i++) {
        const char *n = readable[i];
        size_t len, rlen;
        snprintf(path, sizeof path, "%s/an2k/%s.an2", base, n);
        uint8_t *data = slurp(path, &len);
        assert_non_null(data);
        pm_an2k_txn_t t;
        pm_error_t err;
        int rc = pm_an2k_read(data, len, &t, &err);
        if (rc) print_message("%s: %s\n", n, err.msg);
        assert_int_equal(rc, PM_OK);

        pm_buf_t dump;
        pm_buf_init(&dump, 0);
        assert_int_equal(pm_an2k_dump_text(&t, &dump, &err), PM_OK);
        snprintf(path, sizeof path, "%s/an2k/reference-dumps/%s/%s.txt", base, n, n);
        uint8_t *ref = slurp(path, &rlen);
        assert_non_null(ref);
        if (dump.len != rlen || memcmp(dump.data, ref, rlen) != 0) {
            /* Name the first differing line. */
            size_t k = 0, line = 1;
            while (k < rlen && k < dump.len && ref[k] == dump.data[k])
                line += ref[k++] == '\n';
            print_message("%s: dump differs from the reference at line %zu\n", n, line);
            fail();
        }
        free(ref);
        pm_buf_free(&dump);

        size_t nbin = 0;
        for (size_t ri = 0; ri < t.nrecords; ri++)
            for (size_t fi = 0; fi < t.records[ri].nfields; fi++) {
                const pm_an2k_field_t *f = &t.records[ri].fields[fi];
                if (!f->binary) continue;
                snprintf(path, sizeof path, "%s/an2k/reference-dumps/%s/fld_%zu_%zu.bin", base, n,
                         ri + 1, fi + 1);
                uint8_t *b = slurp(path, &rlen);
                assert_non_null(b);
                assert_int_equal(rlen, f->len);
                assert_memory_equal(b, f->value, rlen);
                free(b);
                nbin++;
            }
        snprintf(path, sizeof path, "%s/an2k/reference-dumps/%s", base, n);
        assert_int_equal(nbin, count_bin_files(path));
        binfields += nbin;

        uint8_t *out;
        size_t olen;
        assert_int_equal(pm_an2k_write(&t, &out, &olen, &err), PM_OK);
        assert_int_equal(olen, len);
        assert_memory_equal(out, data, len);
        free(out);
        pm_an2k_free(&t);
        free(data);
        files++;
    }
    print_message("an2k conformance: %zu files, dumps equal, %zu binary fields byte-identical, "
                  "%zu byte-exact round trips\n",
                  files, binfields, files);
}

/* face_jpb_DOM_GMT_DCS.an2 uses 1.015 (DCS); NIST's reader refuses it, ours
 * reads it correctly. */
static void test_dcs_file(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base, "an2k/face_jpb_DOM_GMT_DCS.an2");
    char path[4096];
    snprintf(path, sizeof path, "%s/an2k/face_jpb_DOM_GMT_DCS.an2", base);
    size_t len;
    uint8_t *data = slurp(path, &len);
    assert_non_null(data);
    pm_an2k_txn_t t;
    pm_error_t err;
    assert_int_equal(pm_an2k_read(data, len, &t, &err), PM_OK);
    assert_int_equal(t.nrecords, 2);
    char v[64];
    assert_int_equal(pm_an2k_get(&t.records[0], 15, 1, 1, v, sizeof v), 3);
    assert_string_equal(v, "000");
    pm_an2k_get(&t.records[0], 15, 1, 2, v, sizeof v);
    assert_string_equal(v, "ASCII 7-bit English");
    pm_an2k_get(&t.records[0], 14, 1, 1, v, sizeof v);
    assert_string_equal(v, "20051105052500Z");
    assert_int_equal(t.records[1].type, 10);
    pm_an2k_image_ref_t ir;
    assert_int_equal(pm_an2k_image_ref(&t.records[1], &ir, &err), PM_OK);
    assert_int_equal(ir.declared, PM_AN2K_CMP_JPEG);
    assert_int_equal(ir.detected, PM_AN2K_CMP_JPEG);
    pm_an2k_report_t rep;
    assert_int_equal(pm_an2k_validate(&t, &rep, &err), PM_OK);
    pm_an2k_report_free(&rep);
    uint8_t *out;
    size_t olen;
    assert_int_equal(pm_an2k_write(&t, &out, &olen, &err), PM_OK);
    assert_int_equal(olen, len);
    assert_memory_equal(out, data, len);
    free(out);
    pm_an2k_free(&t);
    free(data);
    print_message("face_jpb_DOM_GMT_DCS.an2: READ CORRECTLY (1.015 DCS = 000/ASCII 7-bit "
                  "English, Type-10 JPEGB face, valid, byte-exact round trip)\n");
}

/* ---- generated transactions ---- */

static const uint8_t jp2_sig[] = {0,    0,    0, 0x0C, 'j', 'P',  ' ', ' ', 0x0D, 0x0A,
                                  0x87, 0x0A, 0, 0,    0,   0x14, 'f', 't', 'y',  'p'};

/* Type-1, Type-2, Type-4 (raw 16x8), Type-14 (NONE 16x8) with version ver. */
static void make_txn(pm_an2k_txn_t *t, const char *ver)
{
    pm_error_t err;
    pm_an2k_header_t h = {.version = ver,
                          .tot = "CAR",
                          .date = "20260101",
                          .dai = "DEST01",
                          .ori = "ORIG01",
                          .tcn = "TCN-0001",
                          .nsr = "19.69",
                          .ntr = "19.69"};
    assert_int_equal(pm_an2k_txn_init(t, &h, &err), PM_OK);
    size_t i;
    assert_int_equal(pm_an2k_add_record(t, 2, &i, &err), PM_OK);
    assert_int_equal(pm_an2k_set_text(&t->records[i], 2, "00", &err), PM_OK);
    assert_int_equal(pm_an2k_set_text(&t->records[i], 18, "DOE,JOHN", &err), PM_OK);
    assert_int_equal(pm_an2k_set_text(&t->records[i], 47,
                                      "A\x1f"
                                      "B\x1e"
                                      "C",
                                      &err),
                     PM_OK);
    uint8_t pix[128];
    for (size_t k = 0; k < sizeof pix; k++)
        pix[k] = (uint8_t)(k * 7);
    assert_int_equal(pm_an2k_add_record(t, 4, &i, &err), PM_OK);
    pm_an2k_record_t *r = &t->records[i];
    const char *t4[] = {"0",
                        "1",
                        "0",
                        "2\x1f"
                        "255\x1f"
                        "255\x1f"
                        "255\x1f"
                        "255\x1f"
                        "255",
                        "0",
                        "16",
                        "8",
                        "0"};
    for (int k = 0; k < 8; k++)
        assert_int_equal(pm_an2k_set_text(r, k + 1, t4[k], &err), PM_OK);
    assert_int_equal(pm_an2k_set(r, 9, pix, sizeof pix, 1, &err), PM_OK);
    assert_int_equal(pm_an2k_add_record(t, 14, &i, &err), PM_OK);
    r = &t->records[i];
    const char *t14[] = {NULL, "02",  "0",   "ORIG01", "20260101", "16", "8",
                         "1",  "500", "500", "NONE",   "8",        "2"};
    for (int k = 1; k < 13; k++)
        assert_int_equal(pm_an2k_set_text(r, k + 1, t14[k], &err), PM_OK);
    assert_int_equal(pm_an2k_set(r, 999, pix, sizeof pix, 1, &err), PM_OK);
    assert_int_equal(pm_an2k_finalize(t, &err), PM_OK);
}

static void to_bytes(const pm_an2k_txn_t *t, uint8_t **out, size_t *len)
{
    pm_error_t err;
    assert_int_equal(pm_an2k_write(t, out, len, &err), PM_OK);
}

/* Validates bytes; returns the number of errors (-1 if unreadable) and
 * whether an error sits at (record, field[, subfield, item]) if asked. */
static int validate_bytes(const uint8_t *d, size_t n, int rec, int field, int sub, int item,
                          int *out_found, const char *needle)
{
    pm_an2k_txn_t t;
    pm_error_t err;
    if (pm_an2k_read(d, n, &t, &err)) {
        pm_an2k_free(&t);
        return -1;
    }
    pm_an2k_report_t rep;
    pm_an2k_validate(&t, &rep, &err);
    int found = 0;
    for (size_t i = 0; i < rep.count; i++) {
        const pm_an2k_issue_t *is = &rep.issues[i];
        if (is->severity == PM_AN2K_ERROR && is->record == rec && is->field == field &&
            (!sub || is->subfield == sub) && (!item || is->item == item) &&
            (!needle || strstr(is->msg, needle)))
            found = 1;
    }
    if (out_found) *out_found = found;
    int errors = (int)rep.errors;
    pm_an2k_report_free(&rep);
    pm_an2k_free(&t);
    return errors;
}

static void test_build_valid_roundtrip(void **state)
{
    (void)state;
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    uint8_t *b;
    size_t n;
    to_bytes(&t, &b, &n);
    assert_int_equal(validate_bytes(b, n, 0, 0, 0, 0, NULL, NULL), 0);
    pm_an2k_txn_t u;
    pm_error_t err;
    assert_int_equal(pm_an2k_read(b, n, &u, &err), PM_OK);
    assert_int_equal(u.nrecords, 4);
    assert_int_equal(u.records[2].type, 4);
    assert_true(u.records[2].binary);
    char v[32];
    pm_an2k_get(&u.records[2], 4, 1, 1, v, sizeof v);
    assert_string_equal(v, "2");
    pm_an2k_get(&u.records[1], 47, 2, 1, v, sizeof v);
    assert_string_equal(v, "C");
    pm_an2k_get(&u.records[0], 3, 4, 1, v, sizeof v);
    assert_string_equal(v, "14");
    uint8_t *b2;
    size_t n2;
    to_bytes(&u, &b2, &n2);
    assert_int_equal(n2, n);
    assert_memory_equal(b2, b, n);
    pm_buf_t j;
    pm_buf_init(&j, 0);
    assert_int_equal(pm_an2k_dump_json(&u, &j, &err), PM_OK);
    assert_non_null(strstr((char *)j.data, "\"tag\":\"2.018\",\"subfields\":[[\"DOE,JOHN\"]]"));
    pm_buf_free(&j);
    free(b);
    free(b2);
    pm_an2k_free(&u);
    pm_an2k_free(&t);
}

/* Every truncation is refused by the reader or flagged by the validator. */
static void test_truncated(void **state)
{
    (void)state;
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    uint8_t *b;
    size_t n;
    to_bytes(&t, &b, &n);
    size_t refused = 0, flagged = 0;
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *c = malloc(cut ? cut : 1);
        memcpy(c, b, cut);
        int e = validate_bytes(c, cut, 0, 0, 0, 0, NULL, NULL);
        assert_true(e != 0);
        if (e < 0)
            refused++;
        else
            flagged++;
        free(c);
    }
    /* Cut at a record boundary: the reader succeeds, CNT catches it. */
    assert_true(flagged > 0);
    assert_true(refused > 0);
    pm_error_t err;
    pm_an2k_txn_t u;
    int rc = pm_an2k_read(b, n - 10, &u, &err);
    assert_int_equal(rc, PM_ETRUNCATED);
    assert_non_null(strstr(err.msg, "offset"));
    assert_non_null(strstr(err.msg, "14.999"));
    pm_an2k_free(&u);
    free(b);
    pm_an2k_free(&t);
}

static void test_wrong_len(void **state)
{
    (void)state;
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    pm_error_t err;
    char v[16];
    pm_an2k_get(&t.records[1], 1, 1, 1, v, sizeof v);
    /* Same number of digits, one byte too many. */
    int len2 = (int)strtol(v, NULL, 10);
    snprintf(v, sizeof v, "%d", len2 + 1);
    assert_int_equal(pm_an2k_set_text(&t.records[1], 1, v, &err), PM_OK);
    uint8_t *b;
    size_t n;
    to_bytes(&t, &b, &n);
    int found = 0;
    assert_true(validate_bytes(b, n, 2, 1, 1, 1, &found, "LEN says") > 0);
    assert_true(found);
    free(b);
    /* A LEN past the end of the image record's data: the reader refuses it. */
    pm_an2k_finalize(&t, &err);
    pm_an2k_get(&t.records[3], 1, 1, 1, v, sizeof v);
    snprintf(v, sizeof v, "%d", (int)strtol(v, NULL, 10) + 50);
    pm_an2k_set_text(&t.records[3], 1, v, &err);
    to_bytes(&t, &b, &n);
    pm_an2k_txn_t u;
    assert_int_equal(pm_an2k_read(b, n, &u, &err), PM_ETRUNCATED);
    assert_non_null(strstr(err.msg, "record 4 (Type-14)"));
    pm_an2k_free(&u);
    free(b);
    /* A binary record's LEN past the end. */
    pm_an2k_finalize(&t, &err);
    pm_an2k_set_text(&t.records[2], 1, "9999", &err);
    to_bytes(&t, &b, &n);
    int rc = pm_an2k_read(b, n, &u, &err);
    assert_int_not_equal(rc, PM_OK);
    assert_non_null(strstr(err.msg, "record 3 (Type-4)"));
    pm_an2k_free(&u);
    free(b);
    pm_an2k_free(&t);
}

static void test_wrong_cnt(void **state)
{
    (void)state;
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    pm_error_t err;
    /* Count says 2, three records follow. */
    pm_an2k_set_text(&t.records[0], 3,
                     "1\x1f"
                     "2\x1e"
                     "2\x1f"
                     "00\x1e"
                     "4\x1f"
                     "01\x1e"
                     "14\x1f"
                     "02",
                     &err);
    uint8_t *b;
    size_t n;
    to_bytes(&t, &b, &n);
    int found = 0;
    assert_true(validate_bytes(b, n, 1, 3, 1, 2, &found, "announces 2") > 0);
    assert_true(found);
    free(b);
    /* Wrong type for record 2. */
    pm_an2k_set_text(&t.records[0], 3,
                     "1\x1f"
                     "3\x1e"
                     "9\x1f"
                     "00\x1e"
                     "4\x1f"
                     "01\x1e"
                     "14\x1f"
                     "02",
                     &err);
    to_bytes(&t, &b, &n);
    assert_true(validate_bytes(b, n, 1, 3, 2, 1, &found, "Type-9") > 0);
    assert_true(found);
    free(b);
    /* Wrong IDC. */
    pm_an2k_set_text(&t.records[0], 3,
                     "1\x1f"
                     "3\x1e"
                     "2\x1f"
                     "00\x1e"
                     "4\x1f"
                     "07\x1e"
                     "14\x1f"
                     "02",
                     &err);
    to_bytes(&t, &b, &n);
    assert_true(validate_bytes(b, n, 1, 3, 3, 2, &found, "IDC 7") > 0);
    assert_true(found);
    free(b);
    pm_an2k_free(&t);
}

static void test_missing_mandatory(void **state)
{
    (void)state;
    static const struct {
        int rec, field;
        const char *ver;
        int expect_error;
    } cases[] = {
        {0, 5, "0502", 1},   /* 1.005 DAT */
        {0, 9, "0400", 1},   /* 1.009 TCN */
        {1, 2, "0502", 1},   /* 2.002 IDC */
        {3, 11, "0502", 1},  /* 14.011 CGA */
        {3, 999, "0500", 1}, /* 14.999 mandatory before 0501 */
        {3, 999, "0501", 0}, /* optional from 0501 on */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pm_an2k_txn_t t;
        make_txn(&t, cases[i].ver);
        pm_error_t err;
        pm_an2k_remove(&t.records[cases[i].rec], cases[i].field);
        assert_int_equal(pm_an2k_finalize(&t, &err), PM_OK);
        uint8_t *b;
        size_t n;
        to_bytes(&t, &b, &n);
        int found = 0;
        int errors =
            validate_bytes(b, n, cases[i].rec + 1, cases[i].field, 0, 0, &found, "mandatory");
        if (cases[i].expect_error) {
            assert_true(errors > 0);
            assert_true(found);
        } else {
            assert_int_equal(errors, 0);
        }
        free(b);
        pm_an2k_free(&t);
    }
}

static void test_jp2_labelled_wsq(void **state)
{
    (void)state;
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    pm_error_t err;
    pm_an2k_record_t *r = &t.records[3];
    /* A real 16x8 JPEG 2000 image from the image module. */
    pm_image_t img;
    assert_int_equal(pm_image_alloc(&img, 16, 8, 500, &err), PM_OK);
    for (int k = 0; k < 128; k++)
        img.pixels[k] = (uint8_t)(k * 7);
    uint8_t *jp2;
    size_t jp2len;
    assert_int_equal(pm_image_encode(&img, PM_IMAGE_JP2, NULL, &jp2, &jp2len, &err), PM_OK);
    assert_int_equal(pm_an2k_sniff(jp2, jp2len), PM_AN2K_CMP_JP2);
    pm_an2k_set_text(r, 11, "WSQ20", &err);
    pm_an2k_set(r, 999, jp2, jp2len, 1, &err);
    pm_image_free(&img);
    assert_int_equal(pm_an2k_finalize(&t, &err), PM_OK);
    uint8_t *b;
    size_t n;
    to_bytes(&t, &b, &n);
    int found = 0;
    assert_true(validate_bytes(b, n, 4, 11, 0, 0, &found, "JPEG 2000") > 0);
    assert_true(found);
    free(b);
    /* Labelled JP2 it is fine. */
    pm_an2k_set_text(r, 11, "JP2", &err);
    pm_an2k_finalize(&t, &err);
    to_bytes(&t, &b, &n);
    assert_int_equal(validate_bytes(b, n, 0, 0, 0, 0, NULL, NULL), 0);
    free(b);
    /* Only a JP2 signature, no readable codestream behind it. */
    pm_an2k_set(r, 999, jp2_sig, sizeof jp2_sig, 1, &err);
    pm_an2k_finalize(&t, &err);
    to_bytes(&t, &b, &n);
    assert_true(validate_bytes(b, n, 4, 999, 0, 0, &found, "unreadable") > 0);
    assert_true(found);
    free(b);
    /* HLL/VLL disagreeing with the image. */
    pm_an2k_set(r, 999, jp2, jp2len, 1, &err);
    pm_an2k_set_text(r, 6, "17", &err);
    pm_an2k_finalize(&t, &err);
    to_bytes(&t, &b, &n);
    assert_true(validate_bytes(b, n, 4, 6, 0, 0, &found,
                               "HLL/VLL say 17x8, the JPEG 2000 image is 16x8") > 0);
    assert_true(found);
    free(b);
    free(jp2);
    /* Type-4 GCA 1 (WSQ) holding raw pixels. */
    pm_an2k_set_text(&t.records[2], 8, "1", &err);
    to_bytes(&t, &b, &n);
    assert_true(validate_bytes(b, n, 3, 8, 0, 0, &found, "no known signature") > 0);
    assert_true(found);
    free(b);
    pm_an2k_free(&t);
    assert_int_equal(pm_an2k_sniff((const uint8_t *)"\xff\xa0\xff\xa8", 4), PM_AN2K_CMP_WSQ);
    assert_int_equal(pm_an2k_sniff((const uint8_t *)"\xff\x4f\xff\x51", 4), PM_AN2K_CMP_JP2);
    assert_int_equal(pm_an2k_sniff((const uint8_t *)"\x89PNG\r\n\x1a\n", 8), PM_AN2K_CMP_PNG);
    assert_int_equal(pm_an2k_sniff((const uint8_t *)"\xff\xd8\xff", 3), PM_AN2K_CMP_JPEG);
}

static void test_bad_formats(void **state)
{
    (void)state;
    static const struct {
        int field;
        const char *value;
        const char *needle;
    } cases[] = {
        {2, "0301", "version"}, {5, "20260230", "DAT"},  {6, "0", "PRY"},
        {11, "19,69", "NSR"},   {14, "20260101", "GMT"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pm_an2k_txn_t t;
        make_txn(&t, "0502");
        pm_error_t err;
        pm_an2k_set_text(&t.records[0], cases[i].field, cases[i].value, &err);
        pm_an2k_finalize(&t, &err);
        uint8_t *b;
        size_t n;
        to_bytes(&t, &b, &n);
        int found = 0;
        assert_true(validate_bytes(b, n, 1, cases[i].field, 0, 0, &found, cases[i].needle) > 0);
        assert_true(found);
        free(b);
        pm_an2k_free(&t);
    }
}

/* Duplicated and misplaced fields, a tag of another record type. */
static void test_structure_errors(void **state)
{
    (void)state;
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    pm_error_t err;
    pm_an2k_record_t *r = &t.records[1];
    assert_int_equal(pm_an2k_set_text(r, 30, "X", &err), PM_OK); /* 1, 2, 18, 30, 47 */
    assert_int_equal(r->fields[3].id, 30);
    r->fields[3].id = 18;
    memcpy(r->fields[3].tag, "2.018", 6);
    assert_int_equal(pm_an2k_set_text(r, 40, "Y", &err), PM_OK); /* ..., 40, 47 */
    r->fields[4].type = 9;
    memcpy(r->fields[4].tag, "9.040", 6);
    assert_int_equal(pm_an2k_finalize(&t, &err), PM_OK);
    uint8_t *b;
    size_t n;
    to_bytes(&t, &b, &n);
    int found = 0;
    assert_true(validate_bytes(b, n, 2, 18, 0, 0, &found, "more than once") > 0);
    assert_true(found);
    validate_bytes(b, n, 2, 40, 0, 0, &found, "belongs to Type-9");
    assert_true(found);
    free(b);
    pm_an2k_free(&t);
}

/* A record of an unknown type that cannot be split into fields is kept opaque
 * and written back unchanged; one that can is read field by field. */
static void test_opaque_record(void **state)
{
    (void)state;
    pm_buf_t b;
    pm_buf_init(&b, 0);
    const char rec50[] = "50.001:34\x1d"
                         "50.002:07\x1d"
                         "\x01\x02\x1d\x00zz\x1e"
                         "50.9:x\x1c";
    size_t rec50_len = sizeof rec50 - 1;
    assert_int_equal(rec50_len, 34);
    const char t1[] = "1.001:65\x1d"
                      "1.002:0502\x1d"
                      "1.003:1\x1f"
                      "2\x1e"
                      "50\x1f"
                      "07\x1e"
                      "60\x1f"
                      "01\x1d"
                      "1.004:X\x1d"
                      "1.005:20260101\x1c";
    pm_buf_append(&b, t1, sizeof t1 - 1);
    pm_buf_append(&b, rec50, rec50_len);
    pm_buf_append_str(&b, "60.001:31\x1d"
                          "60.002:01\x1d"
                          "60.010:A\x1f"
                          "B\x1c");
    pm_an2k_txn_t t;
    pm_error_t err;
    int rc = pm_an2k_read(b.data, b.len, &t, &err);
    if (rc) print_message("%s\n", err.msg);
    assert_int_equal(rc, PM_OK);
    assert_int_equal(t.nrecords, 3);
    assert_true(t.records[1].opaque);
    assert_int_equal(t.records[1].type, 50);
    assert_int_equal(t.records[1].raw_len, 34);
    assert_false(t.records[2].opaque);
    char v[8];
    pm_an2k_get(&t.records[2], 10, 1, 2, v, sizeof v);
    assert_string_equal(v, "B");
    uint8_t *out;
    size_t n;
    assert_int_equal(pm_an2k_write(&t, &out, &n, &err), PM_OK);
    assert_int_equal(n, b.len);
    assert_memory_equal(out, b.data, n);
    free(out);
    pm_an2k_report_t rep;
    pm_an2k_validate(&t, &rep, &err);
    int seen = 0;
    for (size_t i = 0; i < rep.count; i++)
        seen |= rep.issues[i].record == 2 && strstr(rep.issues[i].msg, "opaque") != NULL;
    assert_true(seen);
    pm_an2k_report_free(&rep);
    pm_an2k_free(&t);
    pm_buf_free(&b);
}

static void test_oversized_counts(void **state)
{
    (void)state;
    pm_error_t err;
    pm_an2k_txn_t u;
    /* More records than the limit: Type-1 then 1001 small Type-2 records. */
    pm_buf_t b;
    pm_buf_init(&b, 0);
    const char *t1 = "1.001:60\x1d"
                     "1.002:0502\x1d"
                     "1.003:1\x1f"
                     "1001\x1d"
                     "1.004:X\x1d"
                     "1.005:20260101\x1c";
    pm_buf_append_str(&b, t1);
    for (int i = 0; i < PM_AN2K_MAX_RECORDS + 1; i++)
        pm_buf_append_str(&b, "2.001:21\x1d"
                              "2.002:00\x1d"
                              "2.003:x\x1c");
    int rc = pm_an2k_read(b.data, b.len, &u, &err);
    assert_int_equal(rc, PM_ELIMIT);
    assert_non_null(strstr(err.msg, "records"));
    pm_an2k_free(&u);
    pm_buf_reset(&b);
    /* A field with more items than the limit. */
    pm_buf_append_str(&b, "1.001:1\x1d"
                          "1.002:");
    for (int i = 0; i < PM_AN2K_MAX_ITEMS + 1; i++)
        pm_buf_append(&b, "\x1f", 1);
    pm_buf_append(&b, "\x1c", 1);
    rc = pm_an2k_read(b.data, b.len, &u, &err);
    assert_int_equal(rc, PM_ELIMIT);
    assert_non_null(strstr(err.msg, "1.002"));
    pm_an2k_free(&u);
    pm_buf_reset(&b);
    /* More fields than the limit. */
    pm_buf_append_str(&b, "1.001:1");
    for (int i = 0; i < PM_AN2K_MAX_FIELDS + 1; i++)
        pm_buf_append_str(&b, "\x1d"
                              "1.020:x");
    pm_buf_append(&b, "\x1c", 1);
    rc = pm_an2k_read(b.data, b.len, &u, &err);
    assert_int_equal(rc, PM_ELIMIT);
    pm_an2k_free(&u);
    pm_buf_reset(&b);
    /* Absurd LEN and CNT values. */
    pm_buf_append_str(&b, "1.001:999999999999999999\x1d"
                          "1.002:0502\x1c");
    rc = pm_an2k_read(b.data, b.len, &u, &err);
    assert_int_equal(rc, PM_EFORMAT);
    pm_an2k_free(&u);
    pm_buf_free(&b);
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    pm_an2k_set_text(&t.records[0], 3,
                     "1\x1f"
                     "99999\x1e"
                     "2\x1f"
                     "00\x1e"
                     "4\x1f"
                     "01\x1e"
                     "14\x1f"
                     "02",
                     &err);
    uint8_t *d;
    size_t n;
    to_bytes(&t, &d, &n);
    int found = 0;
    assert_true(validate_bytes(d, n, 1, 3, 1, 2, &found, "99999") > 0);
    assert_true(found);
    free(d);
    pm_an2k_free(&t);
}

/* Deterministic random mutations never crash (the fuzz target does more). */
static void test_mutations(void **state)
{
    (void)state;
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    uint8_t *b;
    size_t n;
    to_bytes(&t, &b, &n);
    uint64_t seed = 42;
    uint8_t *c = malloc(n);
    for (int i = 0; i < 3000; i++) {
        memcpy(c, b, n);
        int k = 1 + (int)(pm_test_rand(&seed) % 4);
        for (int j = 0; j < k; j++) {
            size_t pos = pm_test_rand(&seed) % n;
            static const uint8_t pick[] = {0x1c, 0x1d, 0x1e, 0x1f, ':', '.', '0', '9', 0xff};
            c[pos] = pick[pm_test_rand(&seed) % sizeof pick];
        }
        size_t len = pm_test_rand(&seed) % 8 == 0 ? pm_test_rand(&seed) % n : n;
        pm_an2k_txn_t u;
        pm_error_t err;
        if (pm_an2k_read(c, len, &u, &err) == PM_OK) {
            pm_an2k_report_t rep;
            pm_an2k_validate(&u, &rep, &err);
            pm_an2k_report_free(&rep);
            uint8_t *o;
            size_t ol;
            if (pm_an2k_write(&u, &o, &ol, &err) == PM_OK) {
                assert_int_equal(ol, len);
                assert_memory_equal(o, c, len);
                free(o);
            }
        } else {
            assert_true(err.msg[0] != '\0');
        }
        pm_an2k_free(&u);
    }
    free(c);
    free(b);
    pm_an2k_free(&t);
}

/* Type-9: INCITS 378 block written and read back; legacy 9.012 of a NIST sample. */
static void test_minutiae(void **state)
{
    (void)state;
    pm_an2k_txn_t t;
    make_txn(&t, "0502");
    pm_error_t err;
    pm_fingerprint_t *v = calloc(1, sizeof *v), *back = calloc(1, sizeof *back);
    v->width = 300;
    v->height = 400;
    v->ppi = 500;
    v->finger = 7;
    v->count = 3;
    for (int i = 0; i < 3; i++)
        v->minutiae[i] = (pm_minutia_t){.x = 10.0f + 50 * i,
                                        .y = 20.0f + 30 * i,
                                        .angle = (float)(i * 1.5),
                                        .type = (uint8_t)(1 + i % 2),
                                        .quality = (uint8_t)(60 + i)};
    size_t ri;
    assert_int_equal(pm_an2k_add_minutiae(&t, 5, v, &ri, &err), PM_OK);
    assert_int_equal(pm_an2k_finalize(&t, &err), PM_OK);
    pm_an2k_txn_t u;
    uint8_t *b;
    size_t n;
    to_bytes(&t, &b, &n);
    assert_int_equal(validate_bytes(b, n, 0, 0, 0, 0, NULL, NULL), 0);
    assert_int_equal(pm_an2k_read(b, n, &u, &err), PM_OK);
    assert_int_equal(pm_an2k_minutiae(&u, ri, back, &err), PM_OK);
    assert_int_equal(back->count, 3);
    assert_int_equal(back->finger, 7);
    assert_int_equal(back->width, 300);
    for (int i = 0; i < 3; i++) {
        assert_true(fabsf(back->minutiae[i].x - v->minutiae[i].x) < 0.51f);
        assert_true(fabsf(back->minutiae[i].y - v->minutiae[i].y) < 0.51f);
        assert_true(fabsf(back->minutiae[i].angle - v->minutiae[i].angle) < 0.018f);
        assert_int_equal(back->minutiae[i].type, v->minutiae[i].type);
        assert_int_equal(back->minutiae[i].quality, v->minutiae[i].quality);
    }
    /* A malformed minutia is refused with its subfield. */
    pm_an2k_set_text(&u.records[ri], 137,
                     "1\x1f"
                     "10\x1f"
                     "20\x1f"
                     "30\x1f"
                     "1\x1f"
                     "50\x1e"
                     "2\x1fxx",
                     &err);
    assert_int_equal(pm_an2k_minutiae(&u, ri, back, &err), PM_EFORMAT);
    assert_non_null(strstr(err.msg, "subfield 2"));
    assert_int_equal(pm_an2k_minutiae(&u, 1, back, &err), PM_EINVAL);
    pm_an2k_free(&u);
    pm_an2k_free(&t);
    free(b);

    PM_REQUIRE_DATA(base, "an2k/valid1.14.an2");
    char path[4096];
    snprintf(path, sizeof path, "%s/an2k/valid1.14.an2", base);
    uint8_t *d = slurp(path, &n);
    assert_non_null(d);
    assert_int_equal(pm_an2k_read(d, n, &u, &err), PM_OK);
    assert_int_equal(u.records[3].type, 9);
    /* 9.012 = 1 US 25002500000 US 2 US A: (25.00 mm, 25.00 mm), 0 degrees, ending.
     * The Type-9 has IDC 02 and the only image IDC 1, so no height to flip with. */
    assert_int_equal(pm_an2k_minutiae(&u, 3, back, &err), PM_OK);
    assert_int_equal(back->count, 1);
    assert_int_equal(back->minutiae[0].type, PM_MINUTIA_ENDING);
    assert_true(fabsf(back->minutiae[0].x - 2500 * 500 / 2540.0f) < 0.01f);
    assert_int_equal(back->height, 0);
    assert_true(fabsf(back->minutiae[0].y - 2500 * 500 / 2540.0f) < 0.01f);
    assert_int_equal(back->finger, 10);
    pm_an2k_free(&u);
    free(d);
    free(v);
    free(back);
}

/* ---- images through the image module ---- */

static int read_ncm_dims(const char *path, int *w, int *h)
{
    size_t n;
    uint8_t *d = slurp(path, &n);
    if (!d) return 0;
    char *p = strstr((char *)d, "PIX_WIDTH");
    char *q = strstr((char *)d, "PIX_HEIGHT");
    int ok = p && q;
    if (ok) {
        *w = (int)strtol(p + 9, NULL, 10);
        *h = (int)strtol(q + 10, NULL, 10);
    }
    free(d);
    return ok;
}

/* Every fingerprint image record (Types 4, 13, 14, 15) of the reference
 * files decodes through the image module; WSQ images equal NIST's decoding
 * (.dwsq.raw). A record no decoder handles fails the test. */
static void test_reference_images(void **state)
{
    (void)state;
    PM_REQUIRE_DATA(base, "an2k/reference-dumps");
    char path[4096];
    size_t mismatched = 0, decoded = 0, pending = 0, wsq_exact = 0, wsq_total = 0, wsq_noref = 0;
    int max_diff = 0;
    for (size_t i = 0; i < sizeof readable / sizeof readable[0]; i++) {
        size_t len;
        snprintf(path, sizeof path, "%s/an2k/%s.an2", base, readable[i]);
        uint8_t *data = slurp(path, &len);
        assert_non_null(data);
        pm_an2k_txn_t t;
        pm_error_t err;
        assert_int_equal(pm_an2k_read(data, len, &t, &err), PM_OK);
        for (size_t ri = 0; ri < t.nrecords; ri++) {
            const pm_an2k_record_t *r = &t.records[ri];
            if (r->type != 4 && (r->type < 13 || r->type > 15)) continue;
            pm_an2k_image_ref_t ir;
            assert_int_equal(pm_an2k_image_ref(r, &ir, &err), PM_OK);
            pm_image_t img;
            int rc = pm_an2k_image_decode(r, NULL, &img, &err);
            if (rc == PM_EUNSUPPORTED) {
                /* Every compression in NIST's samples has a decoder: unsupported is a failure. */
                print_message("%s record %zu (Type-%d, %s): no decoder: %s\n", readable[i],
                              ri + 1, r->type, ir.declared_text, err.msg);
                pending++;
            }
            if (rc) print_message("%s record %zu: %s\n", readable[i], ri + 1, err.msg);
            assert_int_equal(rc, PM_OK);
            if (img.width != ir.width || img.height != ir.height) {
                /* The record header disagrees with the image (the validator says so). */
                print_message("%s record %zu (Type-%d): header %dx%d, image %dx%d\n", readable[i],
                              ri + 1, r->type, ir.width, ir.height, img.width, img.height);
                mismatched++;
            }
            decoded++;
            if (ir.detected == PM_AN2K_CMP_WSQ) {
                size_t nf = ir.field == 999 ? r->nfields : (size_t)ir.field;
                snprintf(path, sizeof path, "%s/an2k/reference-dumps/%s/fld_%zu_%zu.dwsq.raw", base,
                         readable[i], ri + 1, nf);
                size_t rl;
                uint8_t *ref = slurp(path, &rl);
                if (!ref) {
                    /* NIST's tool left no decoding (the image sits behind mis-tagged
                     * 999 text, which it does not skip); ours decoded it above. */
                    print_message("%s record %zu: WSQ decoded, no reference decoding to compare\n",
                                  readable[i], ri + 1);
                    wsq_noref++;
                    pm_image_free(&img);
                    continue;
                }
                int w = 0, h = 0;
                snprintf(path, sizeof path, "%s/an2k/reference-dumps/%s/fld_%zu_%zu.dwsq.ncm", base,
                         readable[i], ri + 1, nf);
                assert_true(read_ncm_dims(path, &w, &h));
                assert_int_equal(w, img.width);
                assert_int_equal(h, img.height);
                assert_int_equal(rl, (size_t)w * (size_t)h);
                int md = 0;
                for (size_t k = 0; k < rl; k++) {
                    int dlt = abs((int)ref[k] - (int)img.pixels[k]);
                    md = dlt > md ? dlt : md;
                }
                wsq_total++;
                wsq_exact += md == 0;
                max_diff = md > max_diff ? md : max_diff;
                free(ref);
            }
            pm_image_free(&img);
        }
        pm_an2k_free(&t);
        free(data);
    }
    print_message("an2k images: %zu decoded, %zu pending a decoder; WSQ: %zu of %zu identical to "
                  "the reference decoding (max abs difference %d), %zu without a reference\n",
                  decoded, pending, wsq_exact, wsq_total, max_diff, wsq_noref);
    print_message("an2k images: %zu whose header size differs from the image\n", mismatched);
    assert_int_equal(pending, 0);
    assert_int_equal(decoded, 20);
    assert_int_equal(wsq_exact, wsq_total);
    assert_int_equal(wsq_total, 9);
}

/* ---- vetting profile ---- */

static void synth_image(pm_image_t *img, int w, int h, int seed)
{
    assert_int_equal(pm_image_alloc(img, w, h, 500, NULL), PM_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            img->pixels[y * w + x] = (uint8_t)(128 + 100 * ((x / 3 + y / 4 + seed) % 2 ? 1 : -1));
}

static void roundtrip_bytes(const pm_an2k_txn_t *t, pm_an2k_txn_t *out)
{
    uint8_t *b;
    size_t n;
    to_bytes(t, &b, &n);
    pm_error_t err;
    assert_int_equal(pm_an2k_read(b, n, out, &err), PM_OK);
    pm_an2k_report_t rep;
    int rc = pm_an2k_validate(out, &rep, &err);
    for (size_t i = 0; i < rep.count; i++) {
        char line[512];
        pm_an2k_issue_format(&rep.issues[i], line, sizeof line);
        print_message("%s\n", line);
    }
    assert_int_equal(rc, PM_OK);
    pm_an2k_report_free(&rep);
    free(b);
}

static void test_vetting_roundtrip(void **state)
{
    (void)state;
    pm_error_t err;
    pm_image_t img[2];
    uint8_t *png[2];
    size_t pnglen[2];
    pm_an2k_finger_t fingers[2];
    for (int i = 0; i < 2; i++) {
        synth_image(&img[i], 64 + 8 * i, 48, i);
        assert_int_equal(pm_image_encode(&img[i], PM_IMAGE_PNG, NULL, &png[i], &pnglen[i], &err),
                         PM_OK);
        fingers[i] = (pm_an2k_finger_t){.position = i ? 7 : 2,
                                        .data = png[i],
                                        .len = pnglen[i],
                                        .compression = PM_AN2K_CMP_PNG,
                                        .width = img[i].width,
                                        .height = img[i].height,
                                        .ppi = 500};
    }
    pm_an2k_search_t s = {.header = {.date = "20261127",
                                     .dai = "YB-VET",
                                     .ori = "XA-BORDER",
                                     .tcn = "XA-20261127-000042"},
                          .purpose = "BORDER",
                          .case_ref = "CASE 17",
                          .fingers = fingers,
                          .nfingers = 2};
    pm_an2k_txn_t req;
    assert_int_equal(pm_an2k_search_build(&s, &req, &err), PM_OK);
    pm_an2k_txn_t req2;
    roundtrip_bytes(&req, &req2);
    pm_an2k_vetting_t v;
    assert_int_equal(pm_an2k_vetting_parse(&req2, &v, &err), PM_OK);
    assert_string_equal(v.tot, PM_AN2K_TOT_SEARCH);
    assert_string_equal(v.tcn, "XA-20261127-000042");
    assert_string_equal(v.purpose, "BORDER");
    assert_string_equal(v.case_ref, "CASE 17");
    assert_int_equal(v.nfingers, 2);
    assert_int_equal(v.match, -1);
    /* The images come back pixel for pixel through the image module. */
    for (int i = 0; i < 2; i++) {
        pm_image_t back;
        assert_int_equal(pm_an2k_image_decode(&req2.records[2 + i], NULL, &back, &err), PM_OK);
        assert_int_equal(back.width, img[i].width);
        assert_int_equal(back.ppi, 500);
        assert_memory_equal(back.pixels, img[i].pixels, (size_t)back.width * back.height);
        char fgp[8];
        pm_an2k_get(&req2.records[2 + i], 13, 1, 1, fgp, sizeof fgp);
        assert_string_equal(fgp, i ? "7" : "2");
        pm_image_free(&back);
    }

    /* Match response with two candidates. */
    pm_an2k_candidate_t cands[2] = {{"SUBJ-0001", 812.5}, {"SUBJ-0417", 77.25}};
    pm_an2k_response_t r = {.tcn = "YB-20261127-900001",
                            .date = "20261127",
                            .match = 1,
                            .candidates = cands,
                            .ncandidates = 2};
    pm_an2k_txn_t resp, resp2;
    assert_int_equal(pm_an2k_response_build(&v, &r, &resp, &err), PM_OK);
    roundtrip_bytes(&resp, &resp2);
    pm_an2k_vetting_t rv;
    assert_int_equal(pm_an2k_vetting_parse(&resp2, &rv, &err), PM_OK);
    assert_string_equal(rv.tot, PM_AN2K_TOT_RESPONSE);
    assert_string_equal(rv.tcr, v.tcn); /* TCN echoed as TCR */
    assert_string_equal(rv.tcn, "YB-20261127-900001");
    assert_string_equal(rv.ori, "YB-VET");
    assert_string_equal(rv.dai, "XA-BORDER");
    assert_string_equal(rv.purpose, "BORDER");
    assert_int_equal(rv.match, 1);
    assert_int_equal(rv.ncandidates, 2);
    assert_string_equal(rv.candidates[1].id, "SUBJ-0417");
    assert_true(rv.candidates[0].score > 812.49 && rv.candidates[0].score < 812.51);
    pm_an2k_free(&resp);
    pm_an2k_free(&resp2);

    /* No match. */
    r = (pm_an2k_response_t){.tcn = "YB-2", .date = "20261127", .match = 0};
    assert_int_equal(pm_an2k_response_build(&v, &r, &resp, &err), PM_OK);
    roundtrip_bytes(&resp, &resp2);
    assert_int_equal(pm_an2k_vetting_parse(&resp2, &rv, &err), PM_OK);
    assert_int_equal(rv.match, 0);
    assert_int_equal(rv.ncandidates, 0);
    assert_string_equal(rv.tcr, "XA-20261127-000042");
    pm_an2k_free(&resp2);
    /* Tamper: a response without TCR is refused with the field named. */
    pm_an2k_remove(&resp.records[0], 10);
    pm_an2k_finalize(&resp, &err);
    assert_int_equal(pm_an2k_vetting_parse(&resp, &rv, &err), PM_EVALIDATION);
    assert_non_null(strstr(err.msg, "1.010"));
    pm_an2k_free(&resp);

    /* Error response. */
    r = (pm_an2k_response_t){
        .tcn = "YB-3", .date = "20261127", .message = "finger 7: image unusable"};
    assert_int_equal(pm_an2k_response_build(&v, &r, &resp, &err), PM_OK);
    roundtrip_bytes(&resp, &resp2);
    assert_int_equal(pm_an2k_vetting_parse(&resp2, &rv, &err), PM_OK);
    assert_string_equal(rv.tot, PM_AN2K_TOT_ERROR);
    assert_string_equal(rv.message, "finger 7: image unusable");
    assert_string_equal(rv.tcr, "XA-20261127-000042");
    pm_an2k_free(&resp);
    pm_an2k_free(&resp2);

    /* Inconsistent requests are refused. */
    r = (pm_an2k_response_t){.tcn = "YB-4", .date = "20261127", .match = 1};
    assert_int_equal(pm_an2k_response_build(&v, &r, &resp, &err), PM_EINVAL);
    pm_an2k_free(&resp);
    assert_int_equal(pm_an2k_response_build(&rv, &r, &resp, &err), PM_EINVAL);
    pm_an2k_free(&resp);
    s.purpose = "BAD\x1ePURPOSE";
    assert_int_equal(pm_an2k_search_build(&s, &resp, &err), PM_EINVAL);
    pm_an2k_free(&resp);

    /* WSQ compression on write: Type-14 and legacy Type-4, decoded back close
     * to the original (WSQ is lossy; 2.25 bpp keeps the error small). */
    pm_image_t ridges;
    assert_int_equal(pm_image_alloc(&ridges, 128, 128, 500, &err), PM_OK);
    for (int y = 0; y < 128; y++)
        for (int x = 0; x < 128; x++) /* ridges about 9 pixels apart, as at 500 ppi */
            ridges.pixels[y * 128 + x] =
                (uint8_t)(128 + 80 * sin(2 * M_PI * (x * 0.8 + y * 0.6 + 0.002 * x * y) / 9.0));
    for (int type = 4; type <= 14; type += 10) {
        size_t ri;
        assert_int_equal(pm_an2k_add_fingerprint(&req, type, 8 + type / 10, 3, &ridges,
                                                 PM_AN2K_CMP_WSQ, 2.25, "XA", "20261127", &ri,
                                                 &err),
                         PM_OK);
        assert_int_equal(pm_an2k_finalize(&req, &err), PM_OK);
        pm_an2k_txn_t w;
        roundtrip_bytes(&req, &w);
        pm_an2k_image_ref_t ir;
        assert_int_equal(pm_an2k_image_ref(&w.records[ri], &ir, &err), PM_OK);
        assert_int_equal(ir.declared, PM_AN2K_CMP_WSQ);
        assert_int_equal(ir.detected, PM_AN2K_CMP_WSQ);
        pm_image_t back;
        assert_int_equal(pm_an2k_image_decode(&w.records[ri], NULL, &back, &err), PM_OK);
        assert_int_equal(back.width, ridges.width);
        assert_int_equal(back.height, ridges.height);
        double mad = 0;
        for (size_t k = 0; k < (size_t)back.width * back.height; k++)
            mad += abs((int)back.pixels[k] - (int)ridges.pixels[k]);
        mad /= (double)back.width * back.height;
        print_message("WSQ Type-%d at 2.25 bpp: %zu bytes for %dx%d, mean abs error %.2f\n", type,
                      ir.len, back.width, back.height, mad);
        assert_true(mad < 6.0);
        pm_image_free(&back);
        pm_an2k_free(&w);
    }
    pm_image_free(&ridges);
    pm_an2k_free(&req);
    pm_an2k_free(&req2);
    for (int i = 0; i < 2; i++) {
        free(png[i]);
        pm_image_free(&img[i]);
    }
}

/* The vetting profile with minutiae (Type-9) instead of images, and a match
 * response carrying the disclosed fields (2.070). */
static void test_vetting_minutiae_disclosed(void **state)
{
    (void)state;
    pm_error_t err;
    pm_fingerprint_t views[2];
    memset(views, 0, sizeof views);
    for (int i = 0; i < 2; i++) {
        views[i].width = 300;
        views[i].height = 400;
        views[i].ppi = 500;
        views[i].finger = i ? 7 : 2;
        views[i].count = 12;
        for (int k = 0; k < 12; k++)
            views[i].minutiae[k] = (pm_minutia_t){.x = (float)(20 + 20 * k), .y = (float)(30 + 25 * k),
                                           .angle = (float)(0.3 * k), .type = k % 2,
                                           .quality = 60};
    }
    pm_an2k_search_t s = {.header = {.date = "20261204", .dai = "USA", .ori = "CAN",
                                     .tcn = "VET-1-2"},
                          .purpose = "ASYLUM",
                          .views = views,
                          .nviews = 2};
    pm_an2k_txn_t req, req2;
    assert_int_equal(pm_an2k_search_build(&s, &req, &err), PM_OK);
    roundtrip_bytes(&req, &req2);
    pm_an2k_vetting_t v;
    assert_int_equal(pm_an2k_vetting_parse(&req2, &v, &err), PM_OK);
    assert_int_equal(v.nfingers, 2);
    pm_fingerprint_t back;
    assert_int_equal(pm_an2k_minutiae(&req2, 2, &back, &err), PM_OK);
    assert_int_equal(back.finger, 2);
    assert_int_equal(back.count, 12);
    pm_an2k_free(&req2);
    /* neither images nor views: refused */
    s.nviews = 0;
    assert_int_equal(pm_an2k_search_build(&s, &req2, &err), PM_EINVAL);
    pm_an2k_free(&req2);

    const char *names[2] = {"surname", "match"}, *values[2] = {"DOE", "established (score 501.2)"};
    pm_an2k_candidate_t c = {"1", 501.2};
    pm_an2k_response_t r = {.tcn = "USA-1", .date = "20261204", .match = 1, .candidates = &c,
                            .ncandidates = 1, .disclosed_names = names,
                            .disclosed_values = values, .ndisclosed = 2};
    pm_an2k_txn_t resp, resp2;
    assert_int_equal(pm_an2k_response_build(&v, &r, &resp, &err), PM_OK);
    roundtrip_bytes(&resp, &resp2);
    pm_an2k_vetting_t rv;
    assert_int_equal(pm_an2k_vetting_parse(&resp2, &rv, &err), PM_OK);
    assert_string_equal(rv.tcr, "VET-1-2");
    assert_int_equal(rv.ndisclosed, 2);
    assert_string_equal(rv.disclosed[0].name, "surname");
    assert_string_equal(rv.disclosed[0].value, "DOE");
    assert_string_equal(rv.disclosed[1].value, "established (score 501.2)");
    pm_an2k_free(&resp);
    pm_an2k_free(&resp2);
    /* disclosed fields with a no-match, or holding a separator: refused */
    r.match = 0;
    r.ncandidates = 0;
    assert_int_equal(pm_an2k_response_build(&v, &r, &resp, &err), PM_EINVAL);
    pm_an2k_free(&resp);
    r.match = 1;
    r.ncandidates = 1;
    values[0] = "DOE\x1fX";
    assert_int_equal(pm_an2k_response_build(&v, &r, &resp, &err), PM_EINVAL);
    pm_an2k_free(&resp);
    pm_an2k_free(&req);
}

/* The re-ask link of a search request (2.900 SUP, 2.901 RQO): carried both
 * ways, never truncated, refused when malformed or inconsistent. */
static void test_vetting_reask_link(void **state)
{
    (void)state;
    pm_error_t err;
    pm_fingerprint_t view;
    memset(&view, 0, sizeof view);
    view.width = 300;
    view.height = 400;
    view.ppi = 500;
    view.finger = 2;
    view.count = 12;
    for (int k = 0; k < 12; k++)
        view.minutiae[k] = (pm_minutia_t){.x = (float)(20 + 20 * k), .y = (float)(30 + 25 * k),
                                          .angle = (float)(0.3 * k), .quality = 60};
    pm_an2k_search_t s = {.header = {.date = "20261204", .dai = "USA", .ori = "CAN",
                                     .tcn = "VET-1-7-R2"},
                          .purpose = "ASYLUM",
                          .supersedes = "VET-1-7-R",
                          .reask_of = "VET-1-7",
                          .views = &view,
                          .nviews = 1};
    pm_an2k_txn_t req, req2;
    assert_int_equal(pm_an2k_search_build(&s, &req, &err), PM_OK);
    roundtrip_bytes(&req, &req2);
    pm_an2k_vetting_t v;
    assert_int_equal(pm_an2k_vetting_parse(&req2, &v, &err), PM_OK);
    assert_string_equal(v.tcn, "VET-1-7-R2");
    assert_string_equal(v.supersedes, "VET-1-7-R");
    assert_string_equal(v.reask_of, "VET-1-7");
    pm_an2k_free(&req2);
    /* a plain request carries neither */
    s.supersedes = s.reask_of = NULL;
    s.header.tcn = "VET-1-7";
    pm_an2k_free(&req);
    assert_int_equal(pm_an2k_search_build(&s, &req, &err), PM_OK);
    assert_int_equal(pm_an2k_vetting_parse(&req, &v, &err), PM_OK);
    assert_string_equal(v.supersedes, "");
    assert_string_equal(v.reask_of, "");
    /* builder refusals: a chain root without 2.900, superseding itself, a separator */
    s.reask_of = "VET-1-7";
    assert_int_equal(pm_an2k_search_build(&s, &req2, &err), PM_EINVAL);
    s.reask_of = NULL;
    s.supersedes = "VET-1-7";
    assert_int_equal(pm_an2k_search_build(&s, &req2, &err), PM_EINVAL);
    s.supersedes = "VET\x1f" "1";
    assert_int_equal(pm_an2k_search_build(&s, &req2, &err), PM_EINVAL);
    /* parser refusals, on a request edited after it was built */
    size_t i2 = 1;
    assert_int_equal(req.records[i2].type, 2);
    char longid[80];
    memset(longid, 'X', 64);
    longid[64] = '\0';
    assert_int_equal(pm_an2k_set_text(&req.records[i2], 900, longid, &err), PM_OK);
    assert_int_equal(pm_an2k_vetting_parse(&req, &v, &err), PM_EVALIDATION);
    assert_non_null(strstr(err.msg, "2.900"));
    assert_int_equal(pm_an2k_set_text(&req.records[i2], 900, "A\x1f" "B", &err), PM_OK);
    assert_int_equal(pm_an2k_vetting_parse(&req, &v, &err), PM_EVALIDATION);
    assert_int_equal(pm_an2k_set_text(&req.records[i2], 900, "VET-1-7", &err), PM_OK);
    assert_int_equal(pm_an2k_vetting_parse(&req, &v, &err), PM_EVALIDATION); /* its own TCN */
    assert_non_null(strstr(err.msg, "own TCN"));
    assert_int_equal(pm_an2k_set_text(&req.records[i2], 900, "VET-1-6", &err), PM_OK);
    assert_int_equal(pm_an2k_vetting_parse(&req, &v, &err), PM_OK);
    assert_string_equal(v.supersedes, "VET-1-6");
    pm_an2k_free(&req);
    /* 2.901 alone */
    s.supersedes = NULL;
    assert_int_equal(pm_an2k_search_build(&s, &req, &err), PM_OK);
    assert_int_equal(pm_an2k_set_text(&req.records[i2], 901, "VET-1-1", &err), PM_OK);
    assert_int_equal(pm_an2k_vetting_parse(&req, &v, &err), PM_EVALIDATION);
    assert_non_null(strstr(err.msg, "2.901"));
    pm_an2k_free(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_conformance),
        cmocka_unit_test(test_dcs_file),
        cmocka_unit_test(test_build_valid_roundtrip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_wrong_len),
        cmocka_unit_test(test_wrong_cnt),
        cmocka_unit_test(test_missing_mandatory),
        cmocka_unit_test(test_jp2_labelled_wsq),
        cmocka_unit_test(test_bad_formats),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_opaque_record),
        cmocka_unit_test(test_oversized_counts),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_minutiae),
        cmocka_unit_test(test_reference_images),
        cmocka_unit_test(test_vetting_roundtrip),
        cmocka_unit_test(test_vetting_minutiae_disclosed),
        cmocka_unit_test(test_vetting_reask_link),
    };
    return PM_RUN_TESTS("an2k", tests, NULL, NULL);
}
