/*
 * postconf.c - Postfix's configuration through postconf(1) (see
 * postconf.h).  postconf runs without a shell, its output goes to a
 * memory file of bounded size, and nothing of it is trusted to be well
 * formed: a line that is not "name = value" is skipped.
 */
#include "postconf.h"
#include "diag.h"
#include "parse.h"
#include "run.h"

#include <glib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

struct ms_postconf {
	GHashTable *main_cf;	/* name -> value */
	GHashTable *overrides;	/* "service/type/name" -> value */
	GPtrArray *services;	/* postconf_service, master.cf order */
};

/* run_postconf - postconf's standard output for flags, or NULL */
static GString *
run_postconf(const char *dir, const char *flags)
{
	char *program = g_find_program_in_path("postconf");
	const char *argv[5];
	GString *text = NULL, *errtext = NULL;
	int fd = run_memfile("postconf"), status = -1, n = 0;
	long long size;

	if (program == NULL)
		program = g_strdup("/usr/sbin/postconf");
	argv[n++] = program;
	if (dir != NULL) {
		argv[n++] = "-c";
		argv[n++] = dir;
	}
	argv[n++] = flags;
	argv[n] = NULL;
	if (fd < 0 || run_program((char *const *)argv, -1, fd, &status,
	    &errtext) != MS_OK || status != 0) {
		diag_error("%s %s failed%s%s", program, flags,
		    errtext != NULL && errtext->len > 0 ? ": " : "",
		    errtext != NULL ? g_strchomp(errtext->str) : "");
		goto out;
	}
	size = run_file_size(fd);
	if (size < 0 || (unsigned long long)size > POSTCONF_OUTPUT_MAX) {
		diag_error("postconf %s printed more than %zu octets", flags,
		    POSTCONF_OUTPUT_MAX);
		goto out;
	}
	text = g_string_sized_new((gsize)size + 1);
	g_string_set_size(text, (gsize)size);
	if (pread(fd, text->str, (size_t)size, 0) != (ssize_t)size) {
		diag_error("cannot read what postconf %s printed", flags);
		g_string_free(text, TRUE);
		text = NULL;
	}
out:
	if (errtext != NULL)
		g_string_free(errtext, TRUE);
	if (fd >= 0)
		close(fd);
	g_free(program);
	return text;
}

/* split_pair - "name = value" (or "name =" for an empty value) into
 * *name and *value, both g_free; false for any other line */
static bool
split_pair(const char *line, char **name, char **value)
{
	const char *eq = strstr(line, " = ");
	size_t len = strlen(line);

	if (eq != NULL) {
		*name = g_strndup(line, (gsize)(eq - line));
		*value = g_strdup(eq + 3);
		return true;
	}
	if (len > 2 && strcmp(line + len - 2, " =") == 0) {
		*name = g_strndup(line, len - 2);
		*value = g_strdup("");
		return true;
	}
	return false;
}

/* read_table - every "name = value" line of text into table */
static void
read_table(const GString *text, GHashTable *table)
{
	char **lines = g_strsplit(text->str, "\n", -1);
	char *name, *value;

	for (int i = 0; lines[i] != NULL; i++)
		if (split_pair(lines[i], &name, &value))
			g_hash_table_replace(table, name, value);
	g_strfreev(lines);
}

/* words_of - value split on separators, without empty words */
static char **
words_of(const char *value, const char *separators)
{
	char **words = g_strsplit_set(value != NULL ? value : "",
	    separators, -1);
	size_t kept = 0;

	for (size_t i = 0; words[i] != NULL; i++) {
		if (words[i][0] == '\0')
			g_free(words[i]);
		else
			words[kept++] = words[i];
	}
	words[kept] = NULL;
	return words;
}

char **
postconf_words(const char *value)
{
	return words_of(value, " \t,");
}

/* read_services - the "NAME/TYPE/command = ..." lines of postconf -F,
 * in master.cf order (a service name holds no '/') */
static void
read_services(const GString *text, GPtrArray *services)
{
	char **lines = g_strsplit(text->str, "\n", -1);
	char *name, *value;

	for (int i = 0; lines[i] != NULL; i++) {
		const char *first, *last;
		postconf_service *s;

		if (!split_pair(lines[i], &name, &value))
			continue;
		first = strchr(name, '/');
		last = strrchr(name, '/');
		if (first != NULL && first != last &&
		    strcmp(last, "/command") == 0) {
			s = g_new0(postconf_service, 1);
			s->name = g_strndup(name, (gsize)(first - name));
			s->type = g_strndup(first + 1,
			    (gsize)(last - first - 1));
			/* blanks only: an -o value may hold commas */
			s->command = words_of(value, " \t");
			g_ptr_array_add(services, s);
		}
		g_free(name);
		g_free(value);
	}
	g_strfreev(lines);
}

static void
service_free(gpointer p)
{
	postconf_service *s = p;

	g_free(s->name);
	g_free(s->type);
	g_strfreev(s->command);
	g_free(s);
}

void
postconf_free(ms_postconf *pc)
{
	if (pc == NULL)
		return;
	g_hash_table_destroy(pc->main_cf);
	g_hash_table_destroy(pc->overrides);
	g_ptr_array_free(pc->services, TRUE);
	g_free(pc);
}

ms_err
postconf_read(const char *dir, ms_postconf **out)
{
	static const char *const flags[] = { "-x", "-Px", "-Fx" };
	GString *text[3] = { NULL, NULL, NULL };
	ms_postconf *pc;
	ms_err err = MS_OK;

	*out = NULL;
	for (size_t i = 0; i < 3 && err == MS_OK; i++) {
		text[i] = run_postconf(dir, flags[i]);
		if (text[i] == NULL)
			err = MS_TEMP;
	}
	if (err == MS_OK) {
		pc = g_new0(ms_postconf, 1);
		pc->main_cf = g_hash_table_new_full(g_str_hash, g_str_equal,
		    g_free, g_free);
		pc->overrides = g_hash_table_new_full(g_str_hash,
		    g_str_equal, g_free, g_free);
		pc->services = g_ptr_array_new_with_free_func(service_free);
		read_table(text[0], pc->main_cf);
		read_table(text[1], pc->overrides);
		read_services(text[2], pc->services);
		*out = pc;
	}
	for (size_t i = 0; i < 3; i++)
		if (text[i] != NULL)
			g_string_free(text[i], TRUE);
	return err;
}

const char *
postconf_param(const ms_postconf *pc, const postconf_service *s,
    const char *name)
{
	const char *value = NULL;

	if (s != NULL) {
		char *key = g_strdup_printf("%s/%s/%s", s->name, s->type,
		    name);

		value = g_hash_table_lookup(pc->overrides, key);
		g_free(key);
	}
	return value != NULL ? value : g_hash_table_lookup(pc->main_cf,
	    name);
}

size_t
postconf_services(const ms_postconf *pc)
{
	return pc->services->len;
}

const postconf_service *
postconf_service_at(const ms_postconf *pc, size_t index)
{
	if (index >= pc->services->len)
		diag_fatal(EXIT_TEMPFAIL, "internal error: "
		    "postconf_service_at past the end");
	return g_ptr_array_index(pc->services, index);
}

const postconf_service *
postconf_find(const ms_postconf *pc, const char *name, const char *type)
{
	for (guint i = 0; i < pc->services->len; i++) {
		const postconf_service *s = g_ptr_array_index(pc->services, i);

		if (strcmp(s->name, name) == 0 && strcmp(s->type, type) == 0)
			return s;
	}
	return NULL;
}

bool
postconf_seconds(const char *value, unsigned long long *out)
{
	static const struct { char suffix; unsigned long long unit; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 7 * 86400 }
	};
	size_t len = strlen(value);
	unsigned long long unit = 1;
	char *digits;
	bool ok;

	if (len == 0)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
		if (value[len - 1] == units[i].suffix) {
			unit = units[i].unit;
			len--;
			break;
		}
	digits = g_strndup(value, len);
	ok = parse_decimal(digits, ULLONG_MAX / unit, out);
	g_free(digits);
	if (ok)
		*out *= unit;
	return ok;
}
