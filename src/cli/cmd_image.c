/* perimeter image info | image convert: the image module from the command line. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"
#include "perimeter/image.h"
#include "perimeter/wsq.h"

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "perimeter image: --%s wants an integer in %d..%d, got '%s'\n", opt, lo,
                hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "perimeter image: --%s wants a number in %g..%g, got '%s'\n", opt, lo, hi,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Options shared by both commands. */
struct image_opts {
    int json;
    pm_image_raw_params_t raw; /* --width/--height/--in-ppi for raw input */
    int in_ppi;                /* --in-ppi: assume this source resolution */
    int out_ppi;               /* --ppi: resample to this resolution */
    pm_image_limits_t limits;
    pm_image_save_options_t save;
};

enum { OPT_JSON = 1, OPT_WIDTH, OPT_HEIGHT, OPT_IN_PPI, OPT_PPI, OPT_MAX_DIM, OPT_BITRATE,
       OPT_QUALITY, OPT_HELP };

static const struct option long_opts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"width", required_argument, NULL, OPT_WIDTH},
    {"height", required_argument, NULL, OPT_HEIGHT},
    {"in-ppi", required_argument, NULL, OPT_IN_PPI},
    {"ppi", required_argument, NULL, OPT_PPI},
    {"max-dim", required_argument, NULL, OPT_MAX_DIM},
    {"bitrate", required_argument, NULL, OPT_BITRATE},
    {"quality", required_argument, NULL, OPT_QUALITY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Returns 0 to go on, else the exit code (help: 0 via *out_done). */
static int parse_opts(int argc, char **argv, struct image_opts *o, int *out_help)
{
    memset(o, 0, sizeof *o);
    *out_help = 0;
    optind = 1;
    opterr = 1;
    int c;
    int dim = 0;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_WIDTH:
            bad = parse_int("width", optarg, 1, 65535, &o->raw.width);
            break;
        case OPT_HEIGHT:
            bad = parse_int("height", optarg, 1, 65535, &o->raw.height);
            break;
        case OPT_IN_PPI:
            bad = parse_int("in-ppi", optarg, 1, 100000, &o->in_ppi);
            break;
        case OPT_PPI:
            bad = parse_int("ppi", optarg, 50, 10000, &o->out_ppi);
            break;
        case OPT_MAX_DIM:
            bad = parse_int("max-dim", optarg, 1, 65535, &dim);
            o->limits.max_width = o->limits.max_height = dim;
            break;
        case OPT_BITRATE:
            bad = parse_double("bitrate", optarg, 0.01, 8.0, &o->save.wsq_bitrate);
            break;
        case OPT_QUALITY:
            bad = parse_int("quality", optarg, 1, 100, &o->save.jpeg_quality);
            break;
        case OPT_HELP:
            *out_help = 1;
            return 0;
        default:
            return 2;
        }
        if (bad)
            return 2;
    }
    o->raw.ppi = o->in_ppi;
    return 0;
}

static int load_input(const char *path, const struct image_opts *o, pm_image_t *img,
                      pm_error_t *err)
{
    int rc;
    if (o->raw.width || o->raw.height || pm_image_format_from_path(path) == PM_IMAGE_RAW) {
        if (!o->raw.width || !o->raw.height)
            return pm_error_set(err, PM_EINVAL, "%s: raw input needs --width and --height",
                                path);
        rc = pm_image_load_raw(path, &o->raw, &o->limits, img, err);
    } else {
        rc = pm_image_load(path, &o->limits, img, err);
    }
    if (rc == PM_OK && o->in_ppi)
        img->ppi = o->in_ppi;
    return rc;
}

static const char info_usage[] =
    "usage: perimeter image info FILE [--json] [--max-dim N]\n"
    "       perimeter image info FILE.raw --width W --height H [--in-ppi P] [--json]\n"
    "Prints the format, size and resolution (ppi, 0 if the file does not say).\n";

int pm_cmd_image_info(int argc, char **argv);
int pm_cmd_image_info(int argc, char **argv)
{
    struct image_opts o;
    int help = 0;
    int rc = parse_opts(argc, argv, &o, &help);
    if (help) {
        fputs(info_usage, stdout);
        return 0;
    }
    if (rc || optind != argc - 1) {
        fputs(info_usage, stderr);
        return 2;
    }
    const char *path = argv[optind];
    pm_error_t err;
    pm_error_clear(&err);
    pm_image_header_t hdr;
    memset(&hdr, 0, sizeof hdr);
    pm_image_t img = {0};
    rc = load_input(path, &o, &img, &err);
    if (rc) {
        fprintf(stderr, "perimeter image info: %s (%s)\n", pm_error_text(&err), pm_err_name(rc));
        return 1;
    }
    /* The header facts (channels, depth; WSQ frame and comments) from the file. */
    pm_wsq_info_t wsq;
    int have_wsq = 0;
    if (img.format != PM_IMAGE_RAW) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (pm_file_read(path, o.limits.max_bytes ? o.limits.max_bytes
                                                  : PM_IMAGE_DEFAULT_MAX_BYTES,
                         &data, &len, &err) == PM_OK) {
            pm_image_probe(data, len, &hdr, &err);
            if (img.format == PM_IMAGE_WSQ)
                have_wsq = pm_wsq_info(data, len, &wsq, &err) == PM_OK;
        }
        free(data);
    } else {
        hdr.channels = 1;
        hdr.bit_depth = 8;
    }
    unsigned long long sum = 0;
    size_t n = (size_t)img.width * (size_t)img.height;
    for (size_t i = 0; i < n; i++)
        sum += img.pixels[i];
    double mean = n ? (double)sum / (double)n : 0;
    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "file", json_string(path));
        json_object_set_new(j, "format", json_string(pm_image_format_name(img.format)));
        json_object_set_new(j, "width", json_integer(img.width));
        json_object_set_new(j, "height", json_integer(img.height));
        json_object_set_new(j, "ppi", json_integer(img.ppi));
        json_object_set_new(j, "channels", json_integer(hdr.channels));
        json_object_set_new(j, "bit_depth", json_integer(hdr.bit_depth));
        json_object_set_new(j, "mean_grey", json_real(mean));
        if (have_wsq) {
            json_t *w = json_object();
            json_object_set_new(w, "ppi_nist_com", json_integer(wsq.ppi));
            json_object_set_new(w, "bitrate", json_real(wsq.bitrate));
            json_object_set_new(w, "shift", json_real(wsq.shift));
            json_object_set_new(w, "scale", json_real(wsq.scale));
            json_object_set_new(w, "encoder", json_integer(wsq.encoder));
            json_object_set_new(w, "software", json_integer(wsq.software));
            json_object_set_new(w, "comments", json_integer(wsq.comments));
            json_object_set_new(w, "nist_com", json_string(wsq.nist_com));
            json_object_set_new(j, "wsq", w);
        }
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        printf("file:      %s\n", path);
        printf("format:    %s\n", pm_image_format_name(img.format));
        printf("size:      %dx%d\n", img.width, img.height);
        printf("ppi:       %d%s\n", img.ppi, img.ppi ? "" : " (unknown)");
        printf("channels:  %d x %d bit\n", hdr.channels, hdr.bit_depth);
        printf("mean grey: %.2f\n", mean);
        if (have_wsq) {
            printf("wsq:       encoder %d, software %d, shift M %.4f, scale R %.4f\n",
                   wsq.encoder, wsq.software, wsq.shift, wsq.scale);
            printf("wsq:       bitrate %.3f, %d comment segment(s), NIST_COM ppi %d%s\n",
                   wsq.bitrate, wsq.comments, wsq.ppi, wsq.ppi ? "" : " (absent: 500 assumed)");
            if (wsq.nist_com[0]) {
                printf("NIST_COM:\n");
                const char *line = wsq.nist_com;
                while (*line) {
                    const char *nl = strchr(line, '\n');
                    int llen = nl ? (int)(nl - line) : (int)strlen(line);
                    printf("  %.*s\n", llen, line);
                    line += llen + (nl ? 1 : 0);
                }
            }
        }
    }
    pm_image_free(&img);
    return 0;
}

static const char convert_usage[] =
    "usage: perimeter image convert IN OUT [--ppi P] [--in-ppi S] [--bitrate B] [--quality Q]\n"
    "                                      [--width W --height H] [--max-dim N]\n"
    "Formats by extension: png, wsq, pgm, raw, tif, jpg, jp2, bmp.\n"
    "  --ppi P      resample to P ppi (Lanczos-3); the source resolution must be known\n"
    "  --in-ppi S   take the source resolution to be S ppi (raw input, or to override)\n"
    "  --bitrate B  WSQ bits per pixel (default 0.75)\n"
    "  --quality Q  JPEG quality 1..100 (default 90)\n"
    "  --width/--height  size of raw input\n";

int pm_cmd_image_convert(int argc, char **argv);
int pm_cmd_image_convert(int argc, char **argv)
{
    struct image_opts o;
    int help = 0;
    int rc = parse_opts(argc, argv, &o, &help);
    if (help) {
        fputs(convert_usage, stdout);
        return 0;
    }
    if (rc || optind != argc - 2) {
        fputs(convert_usage, stderr);
        return 2;
    }
    const char *in_path = argv[optind], *out_path = argv[optind + 1];
    if (pm_image_format_from_path(out_path) == PM_IMAGE_UNKNOWN) {
        fprintf(stderr, "perimeter image convert: %s: unknown output extension\n", out_path);
        return 2;
    }
    pm_error_t err;
    pm_error_clear(&err);
    pm_image_t img = {0};
    rc = load_input(in_path, &o, &img, &err);
    if (rc == PM_OK && o.out_ppi && o.out_ppi != img.ppi) {
        pm_image_t res = {0};
        rc = pm_image_resample(&img, o.out_ppi, &res, &err);
        if (rc == PM_OK) {
            pm_image_free(&img);
            img = res;
        } else {
            pm_error_prefix(&err, "%s", in_path);
        }
    }
    if (rc == PM_OK)
        rc = pm_image_save(out_path, &img, &o.save, &err);
    if (rc) {
        fprintf(stderr, "perimeter image convert: %s (%s)\n", pm_error_text(&err),
                pm_err_name(rc));
        pm_image_free(&img);
        return 1;
    }
    fprintf(stderr, "%s -> %s: %dx%d, %d ppi\n", in_path, out_path, img.width, img.height,
            img.ppi);
    pm_image_free(&img);
    return 0;
}
