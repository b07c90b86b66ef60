/* Private helpers shared by the travel module's files. */
#ifndef PM_TRAVEL_IMPL_H
#define PM_TRAVEL_IMPL_H

#include <stddef.h>

/* Offset of the first invalid UTF-8 sequence in s (overlong, surrogate,
 * beyond U+10FFFF, truncated), or -1 if s[0..len) is valid. */
long pm__utf8_invalid_at(const unsigned char *s, size_t len);

#include <stdint.h>


#endif
