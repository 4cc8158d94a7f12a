/*
 * ctl-help.h - the commands of virtscalectl and their help texts, printed
 * by "virtscalectl help [COMMAND]" and "virtscalectl COMMAND --help".
 */
#ifndef VS_CTL_HELP_H
#define VS_CTL_HELP_H

#include <stdbool.h>
#include <stdio.h>

/* Prints one line per command (name and synopsis) to @out. */
void vs_ctl_print_commands(FILE *out);

/* Prints the usage and description of @command to @out; false (and
 * nothing printed) when there is no such command. */
bool vs_ctl_print_command_help(FILE *out, const char *command);

#endif
