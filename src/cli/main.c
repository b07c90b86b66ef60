/* perimeter: the command-line front end over libperimeter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimeter/core.h"

typedef int (*pm_cmd_fn)(int argc, char **argv);

#define PM_CMD(words, fn, summary) extern int fn(int argc, char **argv) __attribute__((weak));
#include "commands.def"
#undef PM_CMD

struct command {
    const char *words;
    pm_cmd_fn fn;
    const char *summary;
};

static const struct command commands[] = {
#define PM_CMD(words, fn, summary) {words, fn, summary},
#include "commands.def"
#undef PM_CMD
};

static void usage(FILE *out)
{
    fprintf(out, "usage: perimeter [--version] [--db FILE] [--config FILE] [--json] <command> [options]\n(global options may also follow the command)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-18s %s%s\n", commands[i].words, commands[i].summary,
                commands[i].fn ? "" : " (not built)");
    fprintf(out, "\n`perimeter <command> --help` for a command's options.\n");
}

static const struct command *lookup(int argc, char **argv, int *out_consumed)
{
    char two[128];
    if (argc >= 3) {
        snprintf(two, sizeof two, "%s %s", argv[1], argv[2]);
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(commands[i].words, two) == 0) {
                *out_consumed = 2;
                return &commands[i];
            }
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].words, argv[1]) == 0) {
            *out_consumed = 1;
            return &commands[i];
        }
    return NULL;
}

/* How many argv words the global option at argv[i] takes (0: not a global option).
 * --db FILE, --db=FILE, --config FILE, --config=FILE, --json. */
static int global_option(int argc, char **argv, int i)
{
    const char *a = argv[i];
    if (strcmp(a, "--json") == 0 || strncmp(a, "--db=", 5) == 0 ||
        strncmp(a, "--config=", 9) == 0)
        return 1;
    if (strcmp(a, "--db") == 0 || strcmp(a, "--config") == 0)
        return i + 1 < argc ? 2 : 1;
    return 0;
}

/* Global options may come before the command words (`perimeter --db X crossings
 * import F`): move them to the end of the command's arguments (before a `--` if
 * there is one), where every command parses them; GNU getopt takes options in
 * any position, and a command's own positional words (`report KIND`) keep their
 * place. Returns a new argv (caller frees; the strings are argv's) and its
 * length in *out_argc, or NULL when there are none (or out of memory). */
static char **hoist_globals(int argc, char **argv, int *out_argc)
{
    int g = 1;
    while (g < argc) {
        int n = global_option(argc, argv, g);
        if (!n)
            break;
        g += n;
    }
    if (g == 1)
        return NULL;
    char **v = calloc((size_t)argc + 1, sizeof *v);
    if (!v)
        return NULL;
    int k = 0;
    v[k++] = argv[0];
    for (int i = g; i < argc; i++)
        v[k++] = argv[i];
    int at = k;
    for (int i = 1; i < k; i++)
        if (strcmp(v[i], "--") == 0) {
            at = i;
            break;
        }
    if (k == 1)
        at = 1;
    memmove(v + at + (g - 1), v + at, (size_t)(k - at) * sizeof *v);
    for (int i = 1; i < g; i++)
        v[at + i - 1] = argv[i];
    *out_argc = argc;
    v[argc] = NULL;
    return v;
}

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
    int hoisted_argc = 0;
    char **hoisted = hoist_globals(argc, argv, &hoisted_argc);
    if (!hoisted)
        return run(argc, argv);
    if (global_option(hoisted_argc, hoisted, 1)) {
        fprintf(stderr, "perimeter: global options given but no command\n");
        usage(stderr);
        free(hoisted);
        return 2;
    }
    int rc = run(hoisted_argc, hoisted);
    free(hoisted);
    return rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("perimeter %s\n", PM_VERSION_STRING);
        return 0;
    }
    int consumed = 0;
    const struct command *cmd = lookup(argc, argv, &consumed);
    if (!cmd) {
        fprintf(stderr, "perimeter: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    if (!cmd->fn) {
        fprintf(stderr, "perimeter: command '%s' is not built into this binary\n", cmd->words);
        return 2;
    }
    /* argv[0] of the command is its last word, so getopt messages read well. */
    return cmd->fn(argc - consumed, argv + consumed);
}
