/* perimeter plot lines: a line chart (PNG) of some columns of a CSV file over
 * another, through the CLI's plotter (cli/plot.c). Used by scripts/soak.py
 * for memory and latency over time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"
#include "perimeter/core.h"

#define MAX_SERIES 8
#define MAX_ROWS 1000000
#define MAX_COLS 64

int pm_cmd_plot_lines(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f, "usage: perimeter plot lines --x COL --y COL[,COL...] [--title T] [--xlabel T]\n"
               "                            [--ylabel T] -o OUT.png FILE.csv\n"
               "  FILE.csv has a header line; every cell of the chosen columns is a number.\n");
}

/* Splits line (modified) at commas into at most MAX_COLS cells. */
static int split(char *line, char **cells)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == MAX_COLS)
            return -1;
        cells[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    char *e = cells[n - 1] + strcspn(cells[n - 1], "\r\n");
    *e = '\0';
    return n;
}

static int col_of(char **hdr, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(hdr[i], name) == 0)
            return i;
    return -1;
}

int pm_cmd_plot_lines(int argc, char **argv)
{
    const char *xcol = NULL, *ycols = NULL, *title = "", *xl = "", *yl = "", *out = NULL;
    static const struct option opts[] = {{"x", required_argument, NULL, 'x'},
                                          {"y", required_argument, NULL, 'y'},
                                          {"title", required_argument, NULL, 't'},
                                          {"xlabel", required_argument, NULL, 'X'},
                                          {"ylabel", required_argument, NULL, 'Y'},
                                          {"output", required_argument, NULL, 'o'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "x:y:t:X:Y:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'x': xcol = optarg; break;
        case 'y': ycols = optarg; break;
        case 't': title = optarg; break;
        case 'X': xl = optarg; break;
        case 'Y': yl = optarg; break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!xcol || !ycols || !out || optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    FILE *f = fopen(argv[optind], "r");
    if (!f) {
        fprintf(stderr, "perimeter plot: cannot open %s\n", argv[optind]);
        return 1;
    }
    char *line = NULL, *hdr_line = NULL;
    size_t cap = 0;
    char *hdr[MAX_COLS], *cells[MAX_COLS], *names[MAX_SERIES];
    int xi = -1, yi[MAX_SERIES], ns = 0, nh = 0, rc = 1;
    double *x = NULL, *y[MAX_SERIES] = {NULL};
    size_t nrow = 0, rcap = 0;
    char *ylist = NULL;
    if (getline(&hdr_line, &cap, f) < 0 || (nh = split(hdr_line, hdr)) < 0) {
        fprintf(stderr, "perimeter plot: %s: no header line\n", argv[optind]);
        goto out;
    }
    cap = 0;
    if ((xi = col_of(hdr, nh, xcol)) < 0) {
        fprintf(stderr, "perimeter plot: no column '%s'\n", xcol);
        goto out;
    }
    ylist = strdup(ycols);
    for (char *tok = ylist, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        if (ns == MAX_SERIES || (yi[ns] = col_of(hdr, nh, tok)) < 0) {
            fprintf(stderr, "perimeter plot: no column '%s' (or more than %d)\n", tok, MAX_SERIES);
            goto out;
        }
        names[ns++] = tok;
    }
    while (getline(&line, &cap, f) > 0) {
        int n = split(line, cells);
        if (n != nh) {
            fprintf(stderr, "perimeter plot: row %zu has %d cells, the header %d\n", nrow + 2, n,
                    nh);
            goto out;
        }
        if (nrow == rcap) {
            if (rcap == MAX_ROWS) {
                fprintf(stderr, "perimeter plot: more than %d rows\n", MAX_ROWS);
                goto out;
            }
            rcap = rcap ? 2 * rcap : 256;
            double *nx = realloc(x, rcap * sizeof *x);
            if (!nx)
                goto oom;
            x = nx;
            for (int s = 0; s < ns; s++) {
                double *ny = realloc(y[s], rcap * sizeof *ny);
                if (!ny)
                    goto oom;
                y[s] = ny;
            }
        }
        char *end;
        x[nrow] = strtod(cells[xi], &end);
        if (end == cells[xi] || *end)
            goto bad;
        for (int s = 0; s < ns; s++) {
            y[s][nrow] = strtod(cells[yi[s]], &end);
            if (end == cells[yi[s]] || *end)
                goto bad;
        }
        nrow++;
    }
    if (nrow > (size_t)MAX_ROWS || nrow < 2) {
        fprintf(stderr, "perimeter plot: %zu rows; need 2 or more\n", nrow);
        goto out;
    }
    pm_error_t e;
    pm_error_clear(&e);
    if (pm__plot_values_png(out, title, xl, yl, x, (int)nrow, (const double *const *)y,
                            (const char *const *)names, ns, &e)) {
        fprintf(stderr, "perimeter plot: %s\n", e.msg);
        goto out;
    }
    rc = 0;
    goto out;
bad:
    fprintf(stderr, "perimeter plot: row %zu: not a number\n", nrow + 2);
    goto out;
oom:
    fprintf(stderr, "perimeter plot: out of memory\n");
out:
    fclose(f);
    free(line);
    free(hdr_line);
    free(ylist);
    free(x);
    for (int s = 0; s < MAX_SERIES; s++)
        free(y[s]);
    return rc;
}
