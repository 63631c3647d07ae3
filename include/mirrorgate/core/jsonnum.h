/* Integers out of JSON numbers. cJSON keeps every number as a double; converting one that is
 * out of range (1e300, -1e19) to an integer type is undefined behaviour in C, which the fuzzer
 * found in several readers. Every integer read from JSON goes through here. */
#ifndef MIRRORGATE_JSONNUM_H
#define MIRRORGATE_JSONNUM_H

#include <stdbool.h>

#include <cjson/cJSON.h>

/* True when n is a number with an integral value in [min, max]; then *out holds it. False
 * (and *out untouched) for non-numbers, fractions, and values out of range. */
bool mg_json_int_in(const cJSON *n, long long min, long long max, long long *out);
/* n's integral value when it is one that fits in long long, else dflt. */
long long mg_json_ll_or(const cJSON *n, long long dflt);

#endif
