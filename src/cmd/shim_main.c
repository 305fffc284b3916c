/* jobplane-shim: the per-container monitor on its own. The node agent starts one (or a network
 * namespace holder) per container; a binary that links only what the shim uses starts several
 * times faster than the whole of jobplane, whose dynamic linking (TLS, SQLite, HTTP) would be
 * paid on every container start. Its command line is the same as `jobplane shim ...`. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "shim") != 0) {
        fprintf(stderr, "Usage: jobplane-shim shim DIR (started by the node agent)\n");
        return 2;
    }
    return jp_cmd_shim(argc - 1, argv + 1);
}
