/* jobplane version */
#include "cmd/cmd.h"

#include <stdio.h>

int jp_cmd_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("jobplane 0.1.0 (Kubernetes API v1.33)\n");
    return 0;
}
