/* The verbs of the jobplane binary. Each returns the process exit code. */
#ifndef JP_CMD_H
#define JP_CMD_H

int jp_cmd_run(int argc, char **argv);
int jp_cmd_server(int argc, char **argv);
int jp_cmd_version(int argc, char **argv);
int jp_cmd_shim(int argc, char **argv);

#endif
