/*
 * postconf.h - Postfix's configuration as postconf(1) prints it, so it is
 * read without a running Postfix and with Postfix's own parser:
 * main.cf's parameters (postconf -x), the -o overrides of master.cf
 * (postconf -Px) and its services (postconf -Fx), every value expanded.
 *
 * API: postconf_read() -> postconf_param() / postconf_service_at() /
 * postconf_find() -> postconf_free(); postconf_words() splits a list
 * value, postconf_seconds() reads a time value.  Limits: postconf's
 * output is read up to POSTCONF_OUTPUT_MAX octets.
 */
#ifndef MAILSEAL_POSTCONF_H
#define MAILSEAL_POSTCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* postconf's whole output is far below this */
#define POSTCONF_OUTPUT_MAX ((size_t)8 * 1024 * 1024)

typedef struct ms_postconf ms_postconf;

/* one master.cf service */
typedef struct postconf_service {
	char *name;		/* "smtp", "127.0.0.1:10026" */
	char *type;		/* inet, unix, pass ... */
	char **command;		/* the command field split on blanks */
} postconf_service;

/* postconf_read - the configuration of directory dir (postconf -c), or
 * of postconf's default one when dir is NULL; MS_TEMP (logged, with what
 * postconf said) when postconf cannot run or fails */
ms_err postconf_read(const char *dir, ms_postconf **out);

/* postconf_free - release (NULL is fine) */
void postconf_free(ms_postconf *pc);

/* postconf_param - parameter name as service s sees it: its -o
 * override, else main.cf's value; s NULL for main.cf alone; NULL when
 * Postfix knows no such parameter */
const char *postconf_param(const ms_postconf *pc,
    const postconf_service *s, const char *name);

/* postconf_services - the number of services, in master.cf order */
size_t postconf_services(const ms_postconf *pc);

/* postconf_service_at - the service at index */
const postconf_service *postconf_service_at(const ms_postconf *pc,
    size_t index);

/* postconf_find - the service of this name and type, or NULL */
const postconf_service *postconf_find(const ms_postconf *pc,
    const char *name, const char *type);

/* postconf_words - a list value (NULL is empty) split on blanks and
 * commas, without empty words; g_strfreev */
char **postconf_words(const char *value);

/* postconf_seconds - a time value ("300s", "5m", "300": seconds) */
bool postconf_seconds(const char *value, unsigned long long *out);

#endif
