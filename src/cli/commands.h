/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The subcommands, one file each (cmd_*.c), and the one place their
 * contracts are written down. Each takes argv with argv[0] the command name
 * and returns the process exit status; bad flags are one line on stderr and
 * exit 2.
 */
#ifndef OSW_CLI_COMMANDS_H
#define OSW_CLI_COMMANDS_H

/* `serve [flags]`: runs the HTTPS server until SIGTERM/SIGINT (exit 0); any
 * start-up failure is one line on stderr and exit 2, before anything listens. */
int osw_cmd_serve(int argc, char **argv);

/* `review [--osimagestream-file F] [--endpoint validate|mutate] [FILE|-]`:
 * prints the response the server would send (0); input the server would
 * answer 400, or an unreadable FILE: one line on stderr, nothing on stdout
 * (1); an invalid OSImageStream file: 2. */
int osw_cmd_review(int argc, char **argv);

/* `check --osimagestream-file F MANIFEST...`: one line per pool on stdout,
 * "<name>: allowed" or "<name>: denied: <status.message>", judged as
 * /validate judges its CREATE. 0 when every pool is allowed, 1 when any is
 * denied, 2 on an invalid OSImageStream file or a manifest that cannot be
 * read or parsed (one line on stderr naming the file; no verdict printed). */
int osw_cmd_check(int argc, char **argv);

/* `gen-certs --dir D --dns-name N... [--force]`: 0 written, 1 a file exists
 * or writing failed, 2 bad or missing flags. */
int osw_cmd_gencerts(int argc, char **argv);

#endif /* OSW_CLI_COMMANDS_H */
