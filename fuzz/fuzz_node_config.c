/* libFuzzer target: the node configuration (node.json) and, through its
 * partners[].agreement entries, the agreement files it names, parsed by the
 * same call pm_node_config_load makes after reading the file
 * (pm__node_config_parse). A test pair (perimeter init: CAs, certificates,
 * agreements) is written once to a temporary folder so the paths a seed names
 * (partners/USA-ca.pem, agreement-USA.json, ...) exist. Invariants: a refusal
 * has a message and leaves nothing allocated; an accepted configuration has
 * a valid country, at most PM_NODE_MAX_PARTNERS partners, each with its CA
 * and agreement loaded and naming us, and limits within their bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[512];

static void setup(void)
{
    char tmpl[] = "/tmp/pm-fuzz-config-XXXXXX";
    if (!mkdtemp(tmpl)) abort();
    char pair[256];
    snprintf(pair, sizeof pair, "%s/pair", tmpl);
    pm_node_init_options_t o = {"CAN", "USA", 8443, 8444, 30};
    pm_error_t e;
    if (pm_node_init_pair(pair, &o, &e) != PM_OK) abort();
    snprintf(dir, sizeof dir, "%s/CAN", pair);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0])
        setup();
    pm_node_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return 0;
    pm_node_limits_default(&cfg->limits);
    snprintf(cfg->path, sizeof cfg->path, "%s/node.json", dir);
    pm_error_t e;
    pm_error_clear(&e);
    int rc = pm__node_config_parse(data, size, dir, cfg, &e);
    if (rc) {
        if (memchr(e.msg, '\0', sizeof e.msg) == NULL || !e.msg[0]) abort();
        if (cfg->npartners != 0) abort();
    } else {
        if (strlen(cfg->country) != 3) abort();
        if (cfg->npartners > PM_NODE_MAX_PARTNERS) abort();
        for (size_t i = 0; i < cfg->npartners; i++)
            if (!cfg->partners[i].agreement || !cfg->partners[i].ca_pem) abort();
        if (cfg->limits.workers == 0 || cfg->limits.queue == 0) abort();
        pm_node_config_free(cfg);
    }
    free(cfg);
    return 0;
}
