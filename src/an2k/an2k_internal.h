/* an2k private helpers shared by the module's files. */
#ifndef PM_AN2K_INTERNAL_H
#define PM_AN2K_INTERNAL_H

#include "perimeter/an2k.h"

int pm__an2k_push_field(pm_an2k_record_t *r, const pm_an2k_field_t *f, pm_error_t *err);
int pm__an2k_make_field(pm_an2k_field_t *f, int type, int id, const char *tag, const uint8_t *value,
                        size_t len, int binary, size_t offset, pm_error_t *err);
int pm__an2k_push_record(pm_an2k_txn_t *t, pm_an2k_record_t **out, pm_error_t *err);
int pm__an2k_is_binary_type(int type);
int pm__an2k_is_binary_field(int rectype, int id);
const uint8_t *pm__an2k_binary_layout(int type, size_t *out_n);
size_t pm__an2k_binary_header_size(int type);

size_t pm__an2k_dup_tag_prefix(const pm_an2k_field_t *f);

#endif
