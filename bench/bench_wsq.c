/* bench_wsq: the WSQ benchmark as a stand-alone program; the same code runs as
 * `perimeter bench image` (src/cli/cmd_wsq.c, included here so there is one
 * implementation). Usage: bench_wsq [--data DIR] [--runs N] [--image FILE.wsq] */
#include "cli/cmd_wsq.c"

int main(int argc, char **argv)
{
    return pm_cmd_bench_image(argc, argv);
}
