/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The subcommands, one file each (cmd_*.c). Each takes argv with argv[0] the
 * command name and returns the process exit status.
 */
#ifndef OSW_CLI_COMMANDS_H
#define OSW_CLI_COMMANDS_H

int osw_cmd_serve(int argc, char **argv);
int osw_cmd_review(int argc, char **argv);
int osw_cmd_check(int argc, char **argv);
int osw_cmd_gencerts(int argc, char **argv);

#endif /* OSW_CLI_COMMANDS_H */
