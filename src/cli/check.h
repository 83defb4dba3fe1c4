/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `check`: the offline GitOps pre-flight. Every MachineConfigPool found in
 * YAML/JSON manifests is judged as the server's /validate judges its CREATE.
 */
#ifndef OSW_CLI_CHECK_H
#define OSW_CLI_CHECK_H

/*
 * argv[0] is "check". Prints one line per pool on stdout
 * ("<file>: MachineConfigPool/<name>: allowed" or "...: denied: <message>").
 * Returns 0 when every pool is allowed, 1 when any is denied, 2 on bad flags,
 * an invalid OSImageStream file or a manifest that cannot be read or parsed
 * (one line on stderr naming the file; no verdict is printed then).
 */
int osw_cmd_check(int argc, char **argv);

#endif /* OSW_CLI_CHECK_H */
