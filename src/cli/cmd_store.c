/* perimeter store keygen | store reseal: sealing at rest (docs/security.md
 * "A stolen node disk"). keygen makes a node data key file; reseal seals
 * the rows written in clear and re-seals those under an older key (a
 * rotation), batch by batch (a crash loses at most the batch in flight; run
 * it again to finish), then rewrites the gallery snapshot sealed. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_env.h"
#include "perimeter/gallery.h"
#include "perimeter/jobs.h"
#include "perimeter/node.h"
#include "perimeter/seal.h"
#include "perimeter/store.h"

#define EXIT_USAGE 2
#define EXIT_FATAL 3

int pm_cmd_store_keygen(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: perimeter store keygen FILE\n"
                        "  A new random data key (mode 0600, never overwritten): name it in\n"
                        "  node.json \"data_key\": {\"file\": FILE}, or $PERIMETER_DATA_KEY.\n");
        return EXIT_USAGE;
    }
    pm_error_t err = {0};
    pm_seal_key_t k;
    if (pm_seal_key_new(argv[1], &k, &err)) {
        fprintf(stderr, "perimeter store keygen: %s\n", pm_error_text(&err));
        return EXIT_FATAL;
    }
    pm_seal_key_wipe(&k);
    printf("data key written to %s (0600); keep it outside the data folder\n", argv[1]);
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: perimeter store reseal [--config node.json | --db PATH] [--snapshot PATH]\n"
            "                              [--batch N]\n"
            "  Seals every enrolled template and every piece of partner data kept in clear,\n"
            "  and re-seals what is sealed under an older key, under the current data key:\n"
            "  node.json's \"data_key\" (--config), else $PERIMETER_DATA_KEY (older keys for\n"
            "  reading in \"data_key\".old / $PERIMETER_DATA_KEY_OLD). N rows per transaction\n"
            "  (default 512); interrupted, run it again. Then the gallery snapshot is\n"
            "  rewritten sealed and a SQLite store is vacuumed (no clear page left).\n");
}

int pm_cmd_store_reseal(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"snapshot", required_argument, NULL, 's'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL, *db = NULL, *snapshot = NULL;
    long batch = 512;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'c': config = optarg; break;
        case 'd': db = optarg; break;
        case 's': snapshot = optarg; break;
        case 'b':
            batch = strtol(optarg, &end, 10);
            if (!end || *end || batch < 1 || batch > 4096) {
                fprintf(stderr, "perimeter store reseal: --batch: 1..4096\n");
                return EXIT_USAGE;
            }
            break;
        default: usage(); return EXIT_USAGE;
        }
    }
    if (optind != argc || (config && db)) {
        usage();
        return EXIT_USAGE;
    }
    pm_error_t err = {0};
    static pm_node_config_t cfg; /* large; one per process */
    pm_seal_ring_t ring;
    const pm_seal_ring_t *rp = &ring;
    memset(&ring, 0, sizeof ring);
    if (config) {
        if (pm_node_config_load(config, &cfg, &err) || pm_node_data_keys_load(&cfg, &ring, &err)) {
            fprintf(stderr, "perimeter store reseal: %s: %s\n", config, pm_error_text(&err));
            pm_node_config_free(&cfg);
            return EXIT_FATAL;
        }
        db = cfg.store_path;
    } else if (!(rp = pm__cli_seal_ring())) {
        return EXIT_FATAL;
    } else {
        db = pm__cli_db_path(db);
    }
    int rc = EXIT_FATAL;
    pm_store_t *st = NULL;
    if (!rp->n) {
        fprintf(stderr, "perimeter store reseal: no data key (%s)\n",
                config ? "\"data_key\" in the configuration" : "$PERIMETER_DATA_KEY");
        goto out;
    }
    if (pm_store_open(db, NULL, &st, &err) || pm_gallery_store_migrate(st, &err)) {
        fprintf(stderr, "perimeter store reseal: database %s: %s\n", db, pm_error_text(&err));
        goto out;
    }
    pm_store_set_seal(st, rp);
    pm_seal_progress_t tp = {0}, jp = {0};
    if (pm_gallery_store_reseal(st, (size_t)batch, &tp, &err)) {
        fprintf(stderr, "perimeter store reseal: templates: %s (%zu sealed, %zu re-sealed "
                        "before it; run again)\n",
                pm_error_text(&err), tp.sealed, tp.rotated);
        goto out;
    }
    printf("templates: %zu rows, %zu sealed, %zu re-sealed under the current key\n", tp.rows,
           tp.sealed, tp.rotated);
    if (pm_jobs_reseal(st, (size_t)batch, &jp, &err)) {
        fprintf(stderr, "perimeter store reseal: partner data: %s (run again)\n",
                pm_error_text(&err));
        goto out;
    }
    printf("partner data (received, review evidence and officer texts): %zu rows, %zu sealed, %zu re-sealed\n",
           jp.rows, jp.sealed, jp.rotated);
    /* the snapshot: rewritten sealed under the current key (or removed) */
    char snap[PATH_MAX];
    if (snapshot)
        snprintf(snap, sizeof snap, "%s", snapshot);
    else if (!pm_store_is_postgres(db))
        snprintf(snap, sizeof snap, "%s.gallery", db);
    else
        snap[0] = 0;
    if (snap[0] && access(snap, F_OK) == 0) {
        pm_gallery_t *g = NULL;
        pm_gallery_options_t go = {.threads = 1};
        uint64_t gen = 0;
        if (pm_gallery_new(&go, &g, &err) || pm_gallery_store_load(st, g, &gen, &err) ||
            pm_gallery_save_sealed(g, snap, gen, rp, &err)) {
            fprintf(stderr, "perimeter store reseal: snapshot %s: %s; removing it (a cache)\n",
                    snap, pm_error_text(&err));
            unlink(snap);
        } else
            printf("snapshot %s rewritten sealed\n", snap);
        pm_gallery_free(g);
    }
    /* SQLite keeps freed pages and the WAL: the clear bytes must go too */
    if (pm_store_sqlite_handle(st)) {
        if (pm_store_exec(st, "VACUUM", &err) ||
            pm_store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)", &err)) {
            fprintf(stderr, "perimeter store reseal: vacuum: %s (the rows are sealed; run "
                            "again to drop clear pages)\n",
                    pm_error_text(&err));
            goto out;
        }
        printf("store vacuumed: no page in clear left\n");
    } else {
        /* PostgreSQL keeps the old tuple versions until they are vacuumed, and a
         * plain VACUUM only marks them free: VACUUM FULL rewrites each table
         * into new files (the old ones are truncated at commit), then a
         * CHECKPOINT flushes the new pages. The WAL segments of the rewrite
         * window still hold clear bytes until PostgreSQL recycles them
         * (docs/security.md). */
        if (pm_store_exec(st, "VACUUM FULL gallery_template, jobs_received, jobs_review", &err)) {
            fprintf(stderr, "perimeter store reseal: VACUUM FULL: %s (the rows are sealed; run "
                            "again, or VACUUM FULL gallery_template, jobs_received and "
                            "jobs_review as the table owner)\n",
                    pm_error_text(&err));
            goto out;
        }
        printf("PostgreSQL: VACUUM FULL of gallery_template, jobs_received and jobs_review done: "
               "no clear tuple left in the tables' files\n");
        if (pm_store_exec(st, "CHECKPOINT", &err)) /* needs superuser or pg_checkpoint */
            printf("PostgreSQL: CHECKPOINT refused (%s): the old files go at the next "
                   "checkpoint\n",
                   pm_error_text(&err));
    }
    rc = 0;
out:
    pm_store_close(st);
    pm_seal_ring_wipe(&ring);
    if (config)
        pm_node_config_free(&cfg);
    return rc;
}
