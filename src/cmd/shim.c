/* jobplane shim DIR: the per-container monitor the node agent starts (see agent/shim.h). Not a
 * user command: it is listed so that `ps` output explains itself. */
#include "agent/shim.h"
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

int jp_cmd_shim(int argc, char **argv)
{
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "--hold") == 0)
        jp_shim_hold_main(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc >= 5 && strcmp(argv[1], "--exec") == 0 && strcmp(argv[3], "--") == 0)
        return jp_shim_exec_main(argv[2], argv + 4);
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr,
                "Usage: jobplane shim DIR (started by the node agent, one per container)\n");
        return 2;
    }
    return jp_shim_main(argv[1]);
}
