/* The web console's static files, compiled into the binary by
 * cmake/embed_assets.cmake (docs/console.md). */
#ifndef PM_CONSOLE_ASSETS_H
#define PM_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct pm__console_asset {
    const char *name; /* file name under src/console/assets */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag; /* quoted strong ETag */
} pm__console_asset_t;

/* Ends with a row whose name is NULL. */
extern const pm__console_asset_t pm__console_assets[];

#endif
