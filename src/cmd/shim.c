/* jobplane shim DIR: the per-container monitor the node agent starts (see agent/shim.h). Not a
 * user command: it is listed so that `ps` output explains itself. */
#include "agent/shim.h"
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

/* `shim --exec PID [--split-stderr] [--tty] -- CMD...` */
static int exec_verb(int argc, char **argv)
{
    unsigned flags = 0;
    int i = 3;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--split-stderr") == 0)
            flags |= JP_SHIM_EXEC_SPLIT;
        else if (strcmp(argv[i], "--tty") == 0)
            flags |= JP_SHIM_EXEC_TTY;
        else
            break;
    }
    if (i + 1 >= argc || strcmp(argv[i], "--") != 0) {
        fprintf(stderr, "Usage: jobplane shim --exec PID [--split-stderr] [--tty] -- CMD...\n");
        return 2;
    }
    return jp_shim_exec_main(argv[2], flags, argv + i + 1);
}

int jp_cmd_shim(int argc, char **argv)
{
    /* whatever the exec'ing process ignored: a container, kubectl exec's process and the
     * launcher (its shims are forked with these) inherit none of it */
    jp_shim_signals_default();
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "--hold") == 0)
        jp_shim_hold_main(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc >= 5 && strcmp(argv[1], "--exec") == 0) return exec_verb(argc, argv);
    /* both mains pass their argv from "shim" on: argv[-1] is the program's own argv[0] */
    if (argc == 3 && strcmp(argv[1], "--launcher") == 0)
        return jp_shim_launcher_main(argv - 1, argc + 1, 3);
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr,
                "Usage: jobplane shim DIR (started by the node agent, one per container)\n");
        return 2;
    }
    setsid(); /* exec'd by hand, not forked by the launcher: leave the caller's session */
    return jp_shim_main(argv[1]);
}
