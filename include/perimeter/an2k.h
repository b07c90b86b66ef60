/* Perimeter an2k: ANSI/NIST-ITL 1-2011 transactions in the traditional
 * encoding (versions 0200 .. 0502): reader, writer, validator, text/JSON dump
 * and the Perimeter vetting profile (search request / response).
 *
 * Model. A transaction is a list of records; a record is a list of fields in
 * file order. Tagged records (Type-1, 2, 9..99) keep each field's tag text as
 * written ("1.01" or "1.001") and its raw value bytes; subfields (RS 0x1E) and
 * items (US 0x1F) are split on demand. The binary field NNN.999 of an image
 * record holds the image bytes. Binary records (Types 3..8) have fixed binary
 * headers; the reader turns each header value into a field holding its decimal
 * text (the six finger positions of Types 3..7 as six US-separated items), and
 * the writer turns them back, so both kinds are handled alike. A record the
 * reader cannot split into fields (an unknown type with binary content) is kept
 * as an opaque record and written back unchanged. Reading then writing an
 * unmodified transaction reproduces the input byte for byte.
 *
 * See docs/an2k.md for the vetting profile and the validation rules. */
#ifndef PERIMETER_AN2K_H
#define PERIMETER_AN2K_H

#include <stddef.h>
#include <stdint.h>

#include "perimeter/core.h"
#include "perimeter/error.h"
#include "perimeter/image.h"
#include "perimeter/minutiae.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Separators. */
#define PM_AN2K_FS 0x1C
#define PM_AN2K_GS 0x1D
#define PM_AN2K_RS 0x1E
#define PM_AN2K_US 0x1F

/* Hard limits of the reader (and the builder). */
#define PM_AN2K_MAX_FILE    ((size_t)512 << 20) /* whole transaction */
#define PM_AN2K_MAX_RECORDS 1000                /* records, Type-1 included */
#define PM_AN2K_MAX_FIELDS  2000                /* fields per record */
#define PM_AN2K_MAX_ITEMS   100000              /* items (subfields x items) per field */
#define PM_AN2K_MAX_TAG     16                  /* bytes of a field tag ("17.999") */

typedef struct pm_an2k_field {
    int type;                  /* record type from the tag (the record's type for binary records) */
    int id;                    /* field number: 1 = LEN, 2 = IDC, ..., 999 = image data */
    char tag[PM_AN2K_MAX_TAG]; /* tag text as written, NUL-terminated; "" in binary records */
    uint8_t *value;            /* owned; len bytes plus a NUL byte */
    size_t len;
    int binary;    /* 1: value is binary data (image), not split into items */
    size_t offset; /* byte offset of the field in the input (0 if built) */
} pm_an2k_field_t;

typedef struct pm_an2k_record {
    int type;      /* record type (from Type-1 CNT, or the tag) */
    int binary;    /* 1: fixed binary header (Types 3..8) */
    int opaque;    /* 1: kept as raw bytes only (fields empty) */
    size_t offset; /* byte offset in the input (0 if built) */
    size_t length; /* actual length in the input, separators included */
    pm_an2k_field_t *fields;
    size_t nfields;
    size_t capfields;
    uint8_t *raw; /* owned copy of the record bytes, only when opaque */
    size_t raw_len;
} pm_an2k_record_t;

typedef struct pm_an2k_txn {
    pm_an2k_record_t *records; /* records[0] is the Type-1 record */
    size_t nrecords;
    size_t caprecords;
} pm_an2k_txn_t;

/* Reads a transaction from data[0..len). *out is filled (zero it first or not:
 * it is overwritten); free with pm_an2k_free, also after a failure. Returns
 * PM_EFORMAT / PM_ETRUNCATED / PM_ELIMIT with a message naming the byte offset,
 * record and field when the input cannot be split into records and fields.
 * Softer problems (a LEN that disagrees with the record, a CNT that disagrees
 * with the records present) are left to pm_an2k_validate. */
int pm_an2k_read(const uint8_t *data, size_t len, pm_an2k_txn_t *out, pm_error_t *err);

/* Serialises the transaction exactly as its fields say (LEN and CNT are not
 * recomputed: call pm_an2k_finalize first for a built transaction).
 * *out_data is malloc'd (caller frees). Fails with PM_ERANGE when a binary
 * record header value does not fit its width. */
int pm_an2k_write(const pm_an2k_txn_t *t, uint8_t **out_data, size_t *out_len, pm_error_t *err);

/* Releases everything the transaction owns; safe on a zeroed transaction. */
void pm_an2k_free(pm_an2k_txn_t *t);

/* ---- access ---- */

/* The first field with this id in record r, or NULL. */
const pm_an2k_field_t *pm_an2k_find(const pm_an2k_record_t *r, int id);
/* Item `item` (1-based) of subfield `sub` (1-based) of a text field, as a
 * pointer into the value and a length; returns 0 when it does not exist. */
int pm_an2k_item(const pm_an2k_field_t *f, size_t sub, size_t item, const uint8_t **out_p,
                 size_t *out_len);
/* Copies item (sub, item) of field id of record r into out (NUL-terminated,
 * truncated to cap-1); returns its length, or -1 when absent. */
int pm_an2k_get(const pm_an2k_record_t *r, int id, size_t sub, size_t item, char *out, size_t cap);
/* Number of subfields of a text field (1 for an empty value). */
size_t pm_an2k_subfields(const pm_an2k_field_t *f);
/* The version 1.002 as a number (200, 201, 300, 400, 500, 501, 502), 0 if unknown. */
int pm_an2k_version(const pm_an2k_txn_t *t);

/* ---- building ---- */

/* Starts a transaction with a Type-1 record holding 1.001 LEN (filled by
 * finalize), 1.002 VER, 1.003 CNT (filled by finalize) and the given fields;
 * tcr, pry may be NULL. The caller owns t (pm_an2k_free). */
typedef struct pm_an2k_header {
    const char *version; /* "0502" if NULL */
    const char *tot;     /* 1.004 type of transaction */
    const char *date;    /* 1.005 CCYYMMDD */
    const char *pry;     /* 1.006 priority, optional */
    const char *dai;     /* 1.007 destination agency */
    const char *ori;     /* 1.008 originating agency */
    const char *tcn;     /* 1.009 transaction control number */
    const char *tcr;     /* 1.010 control reference (the request's TCN), optional */
    const char *nsr;     /* 1.011, "00.00" if NULL */
    const char *ntr;     /* 1.012, "00.00" if NULL */
} pm_an2k_header_t;
int pm_an2k_txn_init(pm_an2k_txn_t *t, const pm_an2k_header_t *h, pm_error_t *err);

/* Appends an empty record of the given type (tagged or, for 3..8, binary);
 * *out_index receives its index. */
int pm_an2k_add_record(pm_an2k_txn_t *t, int type, size_t *out_index, pm_error_t *err);

/* Sets field id of record r to value[0..len) (copied), replacing an existing
 * field with that id or inserting it in field-number order (999 last).
 * binary marks image data. The tag is written "T.NNN". */
int pm_an2k_set(pm_an2k_record_t *r, int id, const void *value, size_t len, int binary,
                pm_error_t *err);
/* Same for a NUL-terminated text value. */
int pm_an2k_set_text(pm_an2k_record_t *r, int id, const char *value, pm_error_t *err);
/* Removes field id from r (no-op if absent). */
void pm_an2k_remove(pm_an2k_record_t *r, int id);

/* Recomputes 1.003 CNT from the records and every record's LEN field. */
int pm_an2k_finalize(pm_an2k_txn_t *t, pm_error_t *err);

/* ---- dump ---- */

/* Appends the field-by-field text dump to out, one line per item:
 * `record.field.subfield.item [type.field]=value` with binary fields shown as
 * `fld_R_F.tmp` (the format of NIST's an2k tools). */
int pm_an2k_dump_text(const pm_an2k_txn_t *t, pm_buf_t *out, pm_error_t *err);
/* Appends a JSON document: {"records":[{"type":..,"fields":[{"tag":..,
 * "subfields":[[items..]..]} | {"tag":..,"binary":len}]}]}. */
int pm_an2k_dump_json(const pm_an2k_txn_t *t, pm_buf_t *out, pm_error_t *err);

/* ---- validation ---- */

typedef enum pm_an2k_severity { PM_AN2K_WARNING = 1, PM_AN2K_ERROR = 2 } pm_an2k_severity_t;

typedef struct pm_an2k_issue {
    int severity;  /* pm_an2k_severity_t */
    int record;    /* 1-based record index, 0 = whole transaction */
    int type;      /* record type */
    int field;     /* field number, 0 = whole record */
    int subfield;  /* 1-based, 0 = whole field */
    int item;      /* 1-based, 0 = whole subfield */
    size_t offset; /* byte offset in the input (0 if unknown) */
    char msg[192];
} pm_an2k_issue_t;

typedef struct pm_an2k_report {
    pm_an2k_issue_t *issues; /* owned, free with pm_an2k_report_free */
    size_t count;
    size_t cap;
    size_t errors;
    size_t warnings;
} pm_an2k_report_t;

/* Checks the transaction: LEN against the actual record length, CNT against
 * the records present, mandatory fields per type and version, value formats,
 * image data against the compression code (signature of WSQ, JPEG, JP2, PNG,
 * or the raw size). Issues go into *out (caller frees with
 * pm_an2k_report_free). Returns PM_OK when there is no error (warnings
 * allowed), PM_EVALIDATION when there is at least one, or PM_ENOMEM. */
int pm_an2k_validate(const pm_an2k_txn_t *t, pm_an2k_report_t *out, pm_error_t *err);
void pm_an2k_report_free(pm_an2k_report_t *rep);
/* Formats one issue as "record 3 (Type-14) field 14.011 subfield 1: message". */
void pm_an2k_issue_format(const pm_an2k_issue_t *is, char *out, size_t cap);

/* ---- images ---- */

/* Image compression of a record as found: PM_IMAGE_* of image.h codes
 * collapse into these. */
typedef enum pm_an2k_compression {
    PM_AN2K_CMP_UNKNOWN = 0,
    PM_AN2K_CMP_NONE,
    PM_AN2K_CMP_WSQ,
    PM_AN2K_CMP_JPEG,
    PM_AN2K_CMP_JPEGL,
    PM_AN2K_CMP_JP2,
    PM_AN2K_CMP_PNG,
} pm_an2k_compression_t;

/* Facts about the image of an image record (Types 3..8, 10, 13..17, and any
 * record with a 999 field): where the bytes are, the declared compression,
 * the compression the bytes' signature shows, size and resolution.
 * Returns PM_ENOTFOUND when the record carries no image. */
typedef struct pm_an2k_image_ref {
    const uint8_t *data; /* points into the record (not owned) */
    size_t len;
    int declared; /* pm_an2k_compression_t from the compression field */
    int detected; /* pm_an2k_compression_t from the signature */
    char declared_text[16];
    int width;  /* HLL */
    int height; /* VLL */
    int ppi;    /* 500/1000 or from THPS/SLC; 0 if unknown */
    int depth;  /* bits per pixel (8 unless declared) */
    int field;  /* field number holding the data */
} pm_an2k_image_ref_t;
int pm_an2k_image_ref(const pm_an2k_record_t *r, pm_an2k_image_ref_t *out, pm_error_t *err);
/* The compression a byte signature shows (WSQ FFA0, JPEG FFD8, JP2 box or
 * codestream, PNG), PM_AN2K_CMP_UNKNOWN otherwise. */
int pm_an2k_sniff(const uint8_t *data, size_t len);

/* Decodes the image of an image record (Types 3..7, 10, 13..17) into an
 * 8-bit grey image through the image module (WSQ, JPEG, JPEG 2000, PNG;
 * uncompressed 8-bit and 1-bit data directly). *out_img is allocated (caller
 * frees with pm_image_free); limits may be NULL. PM_ENOTFOUND when the record
 * has no image, PM_EUNSUPPORTED for a compression we cannot decode. */
int pm_an2k_image_decode(const pm_an2k_record_t *r, const pm_image_limits_t *limits,
                         pm_image_t *out_img, pm_error_t *err);

/* Appends a fingerprint image record: type 14 (tagged, any resolution) or 4
 * (binary, 500 ppi, WSQ or none). The image is stored with the given
 * compression (PM_AN2K_CMP_NONE, _WSQ at bitrate, _PNG, _JP2) through the
 * image module. finger is the position code 0..15, idc the record's IDC,
 * source (Type-14 only) the agency in 14.004. *out_index may be NULL. */
int pm_an2k_add_fingerprint(pm_an2k_txn_t *t, int type, int idc, int finger, const pm_image_t *img,
                            int compression, double bitrate, const char *source, const char *date,
                            size_t *out_index, pm_error_t *err);
/* The same from already encoded bytes (WSQ, JPEG, JP2, PNG by signature, or
 * raw 8-bit grey when compression is PM_AN2K_CMP_NONE), without re-encoding. */
int pm_an2k_add_fingerprint_data(pm_an2k_txn_t *t, int type, int idc, int finger,
                                 const uint8_t *data, size_t len, int compression, int width,
                                 int height, int ppi, const char *source, const char *date,
                                 size_t *out_index, pm_error_t *err);

/* Minutiae of Type-9 record index rec_index of t, into *out (conventions of
 * minutiae.h, i.e. ISO 19794-2: pixels, origin top-left, radians). Reads the
 * INCITS 378 block (9.126..9.150: 9.137 minutiae, 9.128/9.129 size, 9.131
 * resolution) when present, else the legacy standard fields (9.012: 0.01 mm
 * units, origin bottom-left, degrees), scaled to 500 ppi and flipped with the
 * height of the image record that shares the IDC (unflipped if none).
 * PM_ENOTFOUND when the record holds neither; PM_EFORMAT naming the subfield
 * for a malformed minutia; more than PM_MAX_MINUTIAE gives PM_ELIMIT. */
int pm_an2k_minutiae(const pm_an2k_txn_t *t, size_t rec_index, pm_fingerprint_t *out,
                     pm_error_t *err);

/* Appends a Type-9 record holding one finger view in the INCITS 378 block
 * (9.001..9.004 with FMT "U", 9.128/9.129 size, 9.130..9.132 resolution,
 * 9.134 finger, 9.136 count, 9.137 minutiae: index, x, y, angle in 2-degree
 * units, type, quality). pm_an2k_minutiae reads it back. */
int pm_an2k_add_minutiae(pm_an2k_txn_t *t, int idc, const pm_fingerprint_t *view, size_t *out_index,
                         pm_error_t *err);

/* ---- vetting profile (docs/an2k.md) ---- */

#define PM_AN2K_TOT_SEARCH   "PMSR" /* search request */
#define PM_AN2K_TOT_RESPONSE "PMRS" /* search response */
#define PM_AN2K_TOT_ERROR    "PMER" /* error response */

#define PM_AN2K_MAX_CANDIDATES 99
#define PM_AN2K_MAX_DISCLOSED 24         /* 2.070 subfields */
#define PM_AN2K_DISCLOSED_VALUE_MAX 255  /* bytes of one disclosed value */

typedef struct pm_an2k_candidate {
    char id[40];  /* gallery subject id */
    double score; /* comparison score, >= 0 */
} pm_an2k_candidate_t;

/* One finger image of a search request. */
typedef struct pm_an2k_finger {
    int position;        /* finger position code 0..10 */
    const uint8_t *data; /* compressed image bytes (WSQ, JPEG, JP2, PNG) or raw grey */
    size_t len;
    int compression;        /* pm_an2k_compression_t of data */
    int width, height, ppi; /* image facts */
} pm_an2k_finger_t;

typedef struct pm_an2k_search {
    pm_an2k_header_t header; /* tot is forced to PM_AN2K_TOT_SEARCH */
    const char *purpose;     /* 2.037 purpose code, e.g. "BORDER" */
    const char *case_ref;    /* 2.006 officer's case reference, optional */
    /* A re-ask of a query whose answer was lost (docs/vet.md "Resuming"),
     * optional: 2.900 SUP the lost query's TCN, which this one supersedes,
     * and, with it, 2.901 RQO the first TCN of a chain of re-asks. */
    const char *supersedes;
    const char *reask_of;
    const pm_an2k_finger_t *fingers;
    size_t nfingers;
    /* minutiae instead of (or as well as) images: one Type-9 per view
     * (pm_an2k_add_minutiae; .finger is the position) */
    const pm_fingerprint_t *views;
    size_t nviews;
} pm_an2k_search_t;

/* Builds a search request: Type-1, Type-2 (purpose), one Type-14 per finger
 * image, then one Type-9 per minutiae view (1..98 in all). The result is
 * finalized (LEN/CNT set). */
int pm_an2k_search_build(const pm_an2k_search_t *s, pm_an2k_txn_t *out, pm_error_t *err);

/* What a parsed search request / response says (strings copied, NUL-terminated). */
typedef struct pm_an2k_vetting {
    char tot[17];
    char tcn[64];
    char tcr[64];
    char ori[64];
    char dai[64];
    char date[9];
    char purpose[32];
    char case_ref[64];
    char supersedes[64]; /* request 2.900 SUP ("" when absent) */
    char reask_of[64];   /* request 2.901 RQO ("" when absent; only with 2.900) */
    size_t nfingers; /* Type-14/4 images and Type-9 minutiae records in a request */
    int match;       /* response: 1 match ("I"), 0 no match ("N"), -1 absent */
    pm_an2k_candidate_t candidates[PM_AN2K_MAX_CANDIDATES];
    size_t ncandidates;
    char message[256]; /* error response message (2.060) */
    /* response 2.070 DSC: the fields the responder's agreement let it disclose */
    struct {
        char name[32];
        char value[PM_AN2K_DISCLOSED_VALUE_MAX + 1];
    } disclosed[PM_AN2K_MAX_DISCLOSED];
    size_t ndisclosed;
} pm_an2k_vetting_t;

/* Reads the profile fields of a request or response; PM_EVALIDATION with a
 * message naming the field when a mandatory one is missing or malformed. */
int pm_an2k_vetting_parse(const pm_an2k_txn_t *t, pm_an2k_vetting_t *out, pm_error_t *err);

/* Builds the response to a parsed request: TCR = request TCN, DAI/ORI
 * swapped, our own tcn, match indicator and candidates (sorted by the caller),
 * or, when message is not NULL, an error response carrying it. */
typedef struct pm_an2k_response {
    const char *tcn;  /* the responder's control number */
    const char *date; /* CCYYMMDD */
    int match;        /* 1 match, 0 no match */
    const pm_an2k_candidate_t *candidates;
    size_t ncandidates;
    const char *message; /* non-NULL: error response (TOT PMER) */
    /* 2.070 DSC (match only, optional): disclosed field names and values,
     * one subfield NAME<US>VALUE each (printable ASCII) */
    const char *const *disclosed_names;
    const char *const *disclosed_values;
    size_t ndisclosed;
} pm_an2k_response_t;
int pm_an2k_response_build(const pm_an2k_vetting_t *request, const pm_an2k_response_t *r,
                           pm_an2k_txn_t *out, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
