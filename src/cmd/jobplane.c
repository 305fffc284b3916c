/* jobplane: one binary, verbs in a table (crun's commands[]). Each verb's file only wires
 * components together. */
#include "cmd/cmd.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} verbs[] = {
    {"image", jp_cmd_image, "import, list and remove images of the local image store"},
    {"run", jp_cmd_run, "run the Jobs in manifest files to their end, with progress and logs"},
    {"server", jp_cmd_server, "run the Kubernetes API server and the node until stopped"},
    {"shim", jp_cmd_shim, "the per-container monitor (started by the node agent)"},
    {"version", jp_cmd_version, "print the version"},
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: jobplane VERB [FLAGS]\n\nVerbs:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].help);
    fprintf(out, "\nRun 'jobplane VERB --help' for a verb's flags.\n");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(argv[1], verbs[i].name) == 0) return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "jobplane: unknown verb \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
