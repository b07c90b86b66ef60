/* perimeter: the command-line front end over libperimeter. */
#include <stdio.h>
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
    fprintf(out, "usage: perimeter [--version] <command> [options]\n\ncommands:\n");
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

int main(int argc, char **argv)
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
