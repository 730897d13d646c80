/* Small JSON output helpers of the medseal program. */
#ifndef MEDSEAL_CLI_JSON_H
#define MEDSEAL_CLI_JSON_H

#include <stdio.h>

/** Write s as a JSON string literal (quotes included); bytes that are not
 * valid UTF-8 are written as U+FFFD. */
void cli_json_string(FILE *out, const char *s);

/** Write a finite double as a JSON number (null for NaN/infinity). */
void cli_json_number(FILE *out, double v);

#endif
