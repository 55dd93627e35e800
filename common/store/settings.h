/*
 * settings.h - settings with inheritance: global -> wildcard domain
 * ("*.example.com", broadest first) -> domain -> user; the most specific
 * level that sets a key wins.
 *
 * Files: settings/global.conf, settings/domain/<domain>.conf (wildcards as
 * settings/domain/"*.suffix".conf), settings/user/<address>.conf, each made
 * of "key = value" lines and "#" comment lines.  Every key is known and
 * typed; an unknown key, a bad value, a duplicate key or a key set at a
 * level where it is not allowed is a configuration error naming file,
 * line and why (MS_CONFIG, so mail defers: an unknown key may be a
 * misspelt security key, and mailseal-check finds it before mail flows).  Limits: 1 MiB per file, 4096 octets
 * per line.
 */
#ifndef MAILSEAL_SETTINGS_H
#define MAILSEAL_SETTINGS_H

#include <stdbool.h>
#include <stdio.h>

#include "addr.h"
#include "err.h"
#include "store.h"

typedef struct ms_settings ms_settings;

typedef enum settings_level {
	SETTINGS_GLOBAL = 0,
	SETTINGS_WILDCARD,
	SETTINGS_DOMAIN,
	SETTINGS_USER
} settings_level;

/* settings_load - the effective settings for addr (NULL: global only) */
ms_err settings_load(const ms_store *store, const ms_addr *addr,
    ms_settings **out);

/* settings_load_under - the effective settings for addr over global
 * settings already loaded (settings_load with a NULL address): the same
 * result as settings_load, without reading global.conf again */
ms_err settings_load_under(const ms_settings *global, const ms_store *store,
    const ms_addr *addr, ms_settings **out);

/* settings_apply - put the process-wide part of global settings into
 * force: the limit-* keys (limits_set) and syslog on or off.  Loading
 * settings never does this by itself; settings_open_store does it once at
 * start-up. */
void settings_apply(const ms_settings *settings);

/* settings_open_store - the store named by option (store_locate) and its
 * global settings, put into force (settings_apply): what every program
 * does first; on failure *store and *settings are NULL */
ms_err settings_open_store(const char *option, bool create, ms_store **store,
    ms_settings **settings);

/* settings_load_domain - the effective settings for a normalised domain */
ms_err settings_load_domain(const ms_store *store, const char *domain,
    ms_settings **out);

/* settings_free - release settings */
void settings_free(ms_settings *settings);

/* settings_get - the effective value of a known key (the default when no
 * file sets it); an unknown key is a programming error */
const char *settings_get(const ms_settings *settings, const char *key);

/* settings_get_bool - a yes/no key */
bool settings_get_bool(const ms_settings *settings, const char *key);

/* settings_get_number - a size or count key, suffixes K, M, G applied */
unsigned long long settings_get_number(const ms_settings *settings,
    const char *key);

/* settings_get_list - a list key split on whitespace and commas; free
 * with g_strfreev */
char **settings_get_list(const ms_settings *settings, const char *key);

/* settings_origin - where the effective value came from: "file:line", or
 * "default" */
const char *settings_origin(const ms_settings *settings, const char *key);

/* settings_explain - print the chain of files and every key with its
 * effective value and origin */
void settings_explain(const ms_settings *settings, FILE *out);

/* settings_parse_text - parse one settings file's text for level (used by
 * the loader and the fuzz target); errors are reported against name.
 * With a non-NULL settings, accepted values are applied to it. */
ms_err settings_parse_text(ms_settings *settings, const char *name,
    settings_level level, const char *text, size_t len);

/* settings_report_fn - one problem of a settings file: line 0 for the
 * file as a whole; problem says what is wrong and what to do */
typedef void settings_report_fn(void *arg, size_t line, const char *problem);

/* settings_check_text - every problem of one settings file for level,
 * where settings_parse_text stops at the first: what the loader refuses,
 * and what it takes but is likely a mistake (a '#' inside a string
 * value); the number of problems reported */
size_t settings_check_text(const char *name, settings_level level,
    const char *text, size_t len, settings_report_fn *report, void *arg);

/* settings_new_defaults - settings holding only the defaults */
ms_settings *settings_new_defaults(void);

#endif
