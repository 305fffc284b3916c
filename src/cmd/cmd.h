/* The verbs of the jobplane binary. Each returns the process exit code. */
#ifndef JP_CMD_H
#define JP_CMD_H

int jp_cmd_run(int argc, char **argv);
int jp_cmd_server(int argc, char **argv);
int jp_cmd_version(int argc, char **argv);
int jp_cmd_shim(int argc, char **argv);
int jp_cmd_image(int argc, char **argv);

/* The server's data directory when --data-dir is not given: /var/lib/jobplane as root, else
 * $XDG_DATA_HOME/jobplane or ~/.local/share/jobplane. OUT: caller frees. */
char *jp_cmd_default_data_dir(void);

#endif
